"""Scoring on hand-made gold/pred records of real corpus sentences; every number below is worked out by hand."""
from __future__ import annotations

import json

import pytest

from evaluation.scoring import ERROR_KINDS, score

S1 = "益阳市生态环境沅江分局牵头,市应急局、市消防救援大队、市公安局、市市监局等配合。"
S2 = "2015年,7个县市的城镇化率均低于全市49.2%这一平均水平,最低的只有36.2%。"
S3 = "2018年,城市建成区基本实现高效一体化供热;"


def span(text: str, piece: str, label: str) -> dict:
    start = text.index(piece)
    return {"start": start, "end": start + len(piece), "label": label, "text": piece}


def record(rid: str, text: str, spans: list[dict]) -> dict:
    return {"id": rid, "doc_id": "d", "text": text, "spans": spans}


GOLD = [
    record("s1", S1, [span(S1, "益阳市生态环境沅江分局", "AGENCY"), span(S1, "市应急局", "AGENCY"),
                      span(S1, "市消防救援大队", "AGENCY"), span(S1, "市公安局", "AGENCY"), span(S1, "市市监局", "AGENCY")]),
    record("s2", S2, [span(S2, "2015年", "DATE"), span(S2, "7个", "AMOUNT"), span(S2, "城镇化率", "INDICATOR"),
                      span(S2, "49.2%", "AMOUNT"), span(S2, "36.2%", "AMOUNT")]),
]
PRED = [
    record("s1", S1, [
        span(S1, "益阳市", "LOCATION"),  # wrong label and boundary
        span(S1, "市应急局", "AGENCY"),  # correct
        span(S1, "消防救援大队", "AGENCY"),  # wrong boundary
        span(S1, "市公安局", "LOCATION"),  # wrong label
    ]),  # 市市监局 missed
    record("s2", S2, [span(S2, "2015年", "DATE"), span(S2, "7个", "AMOUNT"), span(S2, "城镇化率", "INDICATOR"),
                      span(S2, "全市", "LOCATION"),  # spurious
                      span(S2, "49.2%", "AMOUNT"), span(S2, "36.2%", "AMOUNT")]),
]


@pytest.fixture(scope="module")
def result() -> dict:
    return score(GOLD, PRED)


def test_seqeval_per_label_and_averages(result):
    per_label = result["per_label"]
    assert list(per_label) == ["AGENCY", "INDICATOR", "AMOUNT", "DATE", "LOCATION"]  # POLICY occurs nowhere
    agency = per_label["AGENCY"]  # 1 correct of 2 predicted, 5 gold
    assert (agency["precision"], agency["recall"], agency["support"]) == (0.5, 0.2, 5)
    assert agency["f1"] == pytest.approx(2 * 0.5 * 0.2 / 0.7)
    assert per_label["AMOUNT"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 3}
    assert per_label["LOCATION"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert result["micro"] == {"precision": 0.6, "recall": 0.6, "f1": pytest.approx(0.6), "support": 10}
    assert result["macro"]["precision"] == pytest.approx((0.5 + 1 + 1 + 1 + 0) / 5)
    assert result["macro"]["recall"] == pytest.approx((0.2 + 1 + 1 + 1 + 0) / 5)
    assert result["spans"] == {"gold": 10, "predicted": 10, "correct": 6}


def test_each_error_kind_is_found_with_its_example(result):
    assert result["errors"] == {kind: 1 for kind in ERROR_KINDS}
    examples = {kind: result["error_examples"][kind][0] for kind in ERROR_KINDS}
    assert examples["missed"]["gold"]["text"] == "市市监局" and examples["missed"]["pred"] is None
    assert examples["spurious"]["pred"]["text"] == "全市" and examples["spurious"]["gold"] is None
    assert (examples["wrong_boundary"]["gold"]["text"], examples["wrong_boundary"]["pred"]["text"]) == (
        "市消防救援大队", "消防救援大队")
    assert (examples["wrong_label"]["gold"]["label"], examples["wrong_label"]["pred"]["label"]) == ("AGENCY", "LOCATION")
    assert examples["wrong_label_boundary"]["pred"]["text"] == "益阳市"
    assert examples["spurious"]["id"] == "s2" and examples["spurious"]["text"] == S2


def test_confusion_matrix_rows_gold_columns_pred(result):
    axis, matrix = result["confusion"]["labels"], result["confusion"]["matrix"]

    def cell(gold: str, pred: str) -> int:
        return matrix[axis.index(gold)][axis.index(pred)]

    assert cell("AGENCY", "AGENCY") == 2  # 市应急局 exact + 市消防救援大队 boundary
    assert cell("AGENCY", "LOCATION") == 2  # 益阳市…分局 and 市公安局
    assert cell("AGENCY", "O") == 1  # 市市监局 missed
    assert cell("O", "LOCATION") == 1  # 全市 spurious
    assert cell("AMOUNT", "AMOUNT") == 3
    assert sum(map(sum, matrix)) == 2 + 2 + 1 + 1 + 3 + 1 + 1  # + DATE and INDICATOR diagonals


def test_result_is_json_serialisable(result):
    assert json.loads(json.dumps(result)) == result


def test_pairing_prefers_same_label_over_larger_overlap():
    gold = [record("s1", S1, [span(S1, "市消防救援大队", "AGENCY")])]
    pred = [record("s1", S1, [span(S1, "市消防救援", "LOCATION"), span(S1, "大队", "AGENCY")])]
    result = score(gold, pred)
    assert result["errors"]["wrong_boundary"] == 1 and result["errors"]["spurious"] == 1
    assert result["error_examples"]["spurious"][0]["pred"]["text"] == "市消防救援"


def test_missing_and_extra_predictions():
    gold = [*GOLD, record("s3", S3, [span(S3, "2018年", "DATE"), span(S3, "城市建成区", "LOCATION")])]
    pred = [*PRED, record("elsewhere", S3, [span(S3, "2018年", "DATE")])]
    result = score(gold, pred)
    assert result["missing_predictions"] == ["s3"] and result["extra_predictions"] == 1
    assert result["errors"]["missed"] == 3
    assert result["per_label"]["DATE"]["recall"] == 0.5


def test_bad_predictions_are_refused_with_the_sentence_id():
    overlapping = [record("s3", S3, [span(S3, "2018年", "DATE"), span(S3, "2018", "AMOUNT")])]
    with pytest.raises(ValueError, match=r"prediction s3: .*overlaps"):
        score([record("s3", S3, [])], overlapping)
    with pytest.raises(ValueError, match="s3: the prediction's text differs"):
        score([record("s3", S3, [])], [record("s3", S3 + "。", [])])

"""Agreement numbers on real corpus sentences, checked against counts worked out by hand."""
from __future__ import annotations

import argparse
import json

import pytest

from annotation import agreement as agreement_module
from annotation.agreement import agreement, character_kappa, match_spans
from annotation.labels import Span

S1 = "益阳市生态环境沅江分局牵头,市应急局、市消防救援大队、市公安局、市市监局等配合。"
S2 = "2015年,7个县市的城镇化率均低于全市49.2%这一平均水平,最低的只有36.2%。"
S3 = "2018年,城市建成区基本实现高效一体化供热;"


def span(text: str, piece: str, label: str, occurrence: int = 0) -> dict:
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(piece, start + 1)
    return {"start": start, "end": start + len(piece), "label": label, "text": piece}


def record(rid: str, text: str, spans: list[dict]) -> dict:
    return {"id": rid, "doc_id": "d", "text": text, "spans": spans, "source": "test", "annotator": "t", "spec_version": "1.2"}


A = [
    record("s1", S1, [span(S1, "益阳市生态环境沅江分局", "AGENCY"), span(S1, "市应急局", "AGENCY"),
                      span(S1, "市消防救援大队", "AGENCY"), span(S1, "市公安局", "AGENCY")]),
    record("s2", S2, [span(S2, "2015年", "DATE"), span(S2, "7个", "AMOUNT"), span(S2, "城镇化率", "INDICATOR"),
                      span(S2, "49.2%", "AMOUNT"), span(S2, "36.2%", "AMOUNT")]),
    record("only-a", S3, []),
]
B = [
    record("s2", S2, [span(S2, "2015年", "DATE"), span(S2, "7个县市", "AMOUNT"), span(S2, "城镇化率", "INDICATOR"),
                      span(S2, "49.2%", "AMOUNT")]),
    record("s1", S1, [span(S1, "益阳市", "LOCATION"), span(S1, "市应急局", "AGENCY"), span(S1, "消防救援大队", "AGENCY"),
                      span(S1, "市公安局", "AGENCY"), span(S1, "市市监局", "AGENCY")]),
    record("only-b", S3, []),
]


def test_exact_and_overlap_numbers():
    result = agreement(A, B)
    assert result.sentences == 2
    assert result.only_in_a == ["only-a"] and result.only_in_b == ["only-b"]
    # exact: 市应急局, 市公安局, 2015年, 城镇化率, 49.2% of 9 spans on each side
    micro = result.exact["micro"]
    assert (micro.matched, micro.in_a, micro.in_b) == (5, 9, 9)
    assert micro.f1 == pytest.approx(5 / 9)
    # overlap adds 市消防救援大队~消防救援大队 and 7个~7个县市; 益阳市 LOCATION never matches an AGENCY
    over = result.overlap["micro"]
    assert (over.matched, over.precision, over.recall) == (7, pytest.approx(7 / 9), pytest.approx(7 / 9))
    assert (result.exact["AGENCY"].precision, result.overlap["AGENCY"].recall) == (0.5, 0.75)
    amount = result.exact["AMOUNT"]
    assert (amount.precision, amount.recall, amount.f1) == (0.5, pytest.approx(1 / 3), pytest.approx(0.4))
    assert result.overlap["AMOUNT"].f1 == pytest.approx(0.8)
    location = result.exact["LOCATION"]
    assert (location.in_a, location.in_b, location.f1) == (0, 1, 0.0)


def test_overlap_counts_each_gold_span_once():
    a = [record("s1", S1, [span(S1, "市消防救援大队", "AGENCY")])]
    b = [record("s1", S1, [span(S1, "市消防", "AGENCY"), span(S1, "救援大队", "AGENCY")])]
    over = agreement(a, b).overlap["AGENCY"]
    assert (over.matched, over.precision, over.recall) == (1, 0.5, 1.0)


def test_match_spans_finds_the_largest_matching():
    # Greedy pairing by overlap would take a2~b1 (4 shared characters) and leave a1 and b2 alone.
    a = [Span(0, 4, "AGENCY"), Span(4, 10, "AGENCY")]
    b = [Span(3, 8, "AGENCY"), Span(8, 9, "AGENCY")]
    assert sorted(match_spans(a, b)) == [(0, 0), (1, 1)]


def test_character_kappa_matches_hand_computation():
    # S3 has 23 characters. A: 2018年 DATE. B: 2018 DATE, 城市建成区 LOCATION.
    a = [record("s3", S3, [span(S3, "2018年", "DATE")])]
    b = [record("s3", S3, [span(S3, "2018", "DATE"), span(S3, "城市建成区", "LOCATION")])]
    result = agreement(a, b)
    assert result.characters == 23
    # labels: po = 17/23, pe = (5*4 + 18*14)/23^2 = 272/529 -> kappa = 119/257
    assert result.kappa_label == pytest.approx(119 / 257)
    # IOB2: pe = (1*1 + 4*3 + 18*14)/529 = 265/529 -> kappa = 126/264
    assert result.kappa_iob2 == pytest.approx(126 / 264)


def test_kappa_is_undefined_when_nobody_labels_anything():
    assert agreement([record("s3", S3, [])], [record("s3", S3, [])]).kappa_label is None
    assert character_kappa([], []) is None


def test_different_texts_for_one_id_are_refused():
    with pytest.raises(ValueError, match="s1: the two sets hold different texts"):
        agreement([record("s1", S1, [])], [record("s1", S1[:-1], [])])


def test_cli_prints_table_and_writes_json(tmp_path, capsys):
    paths = []
    for name, records in (("a.jsonl", A), ("b.jsonl", B)):
        paths.append(tmp_path / name)
        paths[-1].write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    parser = argparse.ArgumentParser()
    agreement_module.register(parser.add_subparsers())
    out = tmp_path / "agreement.json"
    args = parser.parse_args(["agreement", str(paths[0]), str(paths[1]), "--json", str(out)])
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert "micro" in printed and "only-a" in printed
    numbers = json.loads(out.read_text(encoding="utf-8"))
    assert numbers["overlap"]["micro"]["matched"] == 7
    assert numbers["exact"]["AMOUNT"]["f1"] == pytest.approx(0.4)

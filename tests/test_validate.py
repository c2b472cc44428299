"""The gold validator names each kind of problem in one line ``file:line: id: problem``."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from annotation import validate
from annotation.validate import load_sentences, validate_files, validate_records
from corpus.records import Sentence

ROOT = Path(__file__).resolve().parents[1]
S1 = "益阳市生态环境沅江分局牵头,市应急局、市消防救援大队、市公安局、市市监局等配合。"
S2 = "2015年,7个县市的城镇化率均低于全市49.2%这一平均水平,最低的只有36.2%。"
SENTENCES = {
    "004-d06-s0159": Sentence("004-d06-s0159", "004-d06", 0, len(S1), S1),
    "003-d02-s0056": Sentence("003-d02-s0056", "003-d02", 0, len(S2), S2),
}


def span(text: str, piece: str, label: str) -> dict:
    start = text.index(piece)
    return {"start": start, "end": start + len(piece), "label": label, "text": piece}


def good(rid: str = "004-d06-s0159") -> dict:
    sentence = SENTENCES[rid]
    spans = [span(S1, "市应急局", "AGENCY"), span(S1, "市公安局", "AGENCY")] if sentence.text == S1 else []
    return {"id": rid, "doc_id": sentence.doc_id, "text": sentence.text, "spans": spans,
            "source": "rules+review", "annotator": "claude-annotator-1", "spec_version": "1.2"}


def problems_of(record: dict) -> list[str]:
    return validate_records([record], SENTENCES)


def test_good_records_pass():
    assert validate_records([good(), good("003-d02-s0056")], SENTENCES) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.pop("annotator"), "record 1: 004-d06-s0159: missing key(s) annotator"),
        (lambda r: r.update(id="004-d06-s9999"), "record 1: 004-d06-s9999: id not found in the corpus sentences"),
        (lambda r: r.update(doc_id="004-d05"), "doc_id '004-d05' != corpus doc_id '004-d06'"),
        (lambda r: r.update(text=S1.replace("配合", "配台")),
         "text differs from the corpus sentence at character 38: '台。' vs '合。'"),
        (lambda r: r.update(spec_version="1.1"), "spec_version '1.1' is not the current '1.2'"),
        (lambda r: r["spans"].append({"start": 38, "end": 41, "label": "AGENCY", "text": "配合。"}),
         "span 2 [38,41) AGENCY: offsets outside 0 <= start < end <= 40"),
        (lambda r: r["spans"].append({"start": 5, "end": 5, "label": "AGENCY", "text": ""}),
         "span 2 [5,5) AGENCY: offsets outside"),
        (lambda r: r["spans"][0].update(text="市应急"),
         "span 0 [14,18) AGENCY: span text '市应急' != text[14:18] '市应急局'"),
        (lambda r: r["spans"][1].update(label="ORG"), "span 1 [27,31) ORG: unknown label 'ORG'"),
        (lambda r: r["spans"].append(span(S1, "应急局、市", "AGENCY")), "span 0 [14,18) overlaps span 2 [15,20)"),
        (lambda r: r["spans"][0].update(start="14"), "span 0: start/end must be integers, got '14'/18"),
        (lambda r: r["spans"][0].pop("text"), "span 0: missing key(s) text"),
    ],
)
def test_each_problem_is_named(change, message):
    record = good()
    change(record)
    problems = problems_of(record)
    assert len(problems) == 1, problems
    assert message in problems[0]
    assert problems[0].startswith(f"record 1: {record['id']}: ")


def test_files_report_lines_duplicates_across_files_and_malformed_json(tmp_path):
    train, test = tmp_path / "train.jsonl", tmp_path / "test.jsonl"
    train.write_text(json.dumps(good(), ensure_ascii=False) + "\n\n" + json.dumps(good("003-d02-s0056"), ensure_ascii=False) + "\n",
                     encoding="utf-8")
    test.write_text(json.dumps(good(), ensure_ascii=False) + '\n{"id": "broken"\n[1, 2]\n', encoding="utf-8")
    assert validate_files([train, test], SENTENCES) == [
        f"{test}:1: 004-d06-s0159: duplicate id (first at {train}:1)",
        f"{test}:2: malformed JSON (Expecting ',' delimiter)",
        f"{test}:3: expected a JSON object, got list",
    ]


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    validate.register(parser.add_subparsers())
    args = parser.parse_args(["validate", *argv])
    return args.func(args)


def test_cli_exit_code_and_printed_lines(tmp_path, capsys):
    sentences = tmp_path / "sentences.jsonl"
    sentences.write_text("".join(json.dumps(s.to_json(), ensure_ascii=False) + "\n" for s in SENTENCES.values()),
                         encoding="utf-8")
    gold = tmp_path / "dev.jsonl"
    gold.write_text(json.dumps(good(), ensure_ascii=False) + "\n", encoding="utf-8")
    assert _run([str(gold), "--sentences", str(sentences)]) == 0
    bad = good()
    bad["spans"][0]["label"] = "PERSON"
    gold.write_text(json.dumps(bad, ensure_ascii=False) + "\n", encoding="utf-8")
    assert _run([str(gold), "--sentences", str(sentences)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{gold}:1: 004-d06-s0159: span 0 [14,18) PERSON: unknown label 'PERSON' "
                   "(expected one of AGENCY, INDICATOR, AMOUNT, DATE, LOCATION, POLICY)"]
    assert _run([str(gold), "--sentences", str(tmp_path / "missing.jsonl")]) == 1
    assert "missing.jsonl: file not found" in capsys.readouterr().err


CORPUS_SENTENCES = ROOT / "corpus/processed/sentences.jsonl"


@pytest.mark.skipif(not CORPUS_SENTENCES.is_file(), reason="corpus/processed/sentences.jsonl not built yet")
def test_real_corpus_sentences():
    sentences = load_sentences(CORPUS_SENTENCES)
    sentence = next(s for s in sentences.values() if len(s.text) > 10)
    record = {"id": sentence.id, "doc_id": sentence.doc_id, "text": sentence.text,
              "spans": [{"start": 0, "end": 2, "label": "LOCATION", "text": sentence.text[:2]}],
              "source": "test", "annotator": "t", "spec_version": "1.2"}
    assert validate_records([record], sentences) == []
    record["text"] = sentence.text[:-1]
    assert validate_records([record], sentences) == [
        f"record 1: {sentence.id}: text differs from the corpus sentence at character {len(sentence.text) - 1}: "
        f"'' vs {sentence.text[-1:]!r}"
    ]

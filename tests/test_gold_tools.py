"""Compact annotation compiling, batch merging and the consistency listing."""
from __future__ import annotations

import pytest

from annotation.compact import compile_records, resolve
from annotation.consistency import inconsistencies
from annotation.merge import merge_batches

TEXT = "(牵头单位:市环境保护局;责任单位:市财政局、市环境保护局。完成时限:2015年底)"


def test_resolve_finds_the_named_occurrence():
    spans = resolve(TEXT, [["AGENCY", "市环境保护局", 2], ["AGENCY", "市环境保护局"], ["DATE", "2015年底"]])
    assert [(s.start, s.end) for s in spans] == [(6, 12), (23, 29), (35, 41)]
    assert all(TEXT[s.start:s.end] == s.text for s in spans)


@pytest.mark.parametrize("items, message", [
    ([["AGENCY", "市教育局"]], "not found"),
    ([["AGENCY", "市环境保护局", 3]], "occurrence 3"),
    ([["AGENCY", "市环境保护局"], ["LOCATION", "环境"]], "overlapping"),
    ([["ORG", "市财政局"]], "unknown label"),
])
def test_resolve_rejects_bad_items(items, message):
    with pytest.raises(ValueError, match=message):
        resolve(TEXT, items)


def test_compile_records_names_the_sentence():
    sentences = {"x-s1": {"id": "x-s1", "doc_id": "x", "text": TEXT}}
    record = compile_records([{"id": "x-s1", "spans": [["AGENCY", "市财政局"]]}], sentences, "manual", "ann-1")[0]
    assert record["spans"] == [{"start": 18, "end": 22, "label": "AGENCY", "text": "市财政局"}]
    assert (record["source"], record["annotator"], record["spec_version"]) == ("manual", "ann-1", "1.2")
    with pytest.raises(ValueError, match="x-s1: 'PM10' "):
        compile_records([{"id": "x-s1", "spans": [["INDICATOR", "PM10"]]}], sentences, "manual", "ann-1")


def _record(sid: str, annotator: str, spans=()) -> dict:
    return {"id": sid, "doc_id": sid.split("-s")[0], "text": "t", "spans": list(spans), "annotator": annotator}


def test_merge_orders_by_corpus_and_splits_by_document():
    split_of = {"a": "train", "b": "test"}
    order = {"b-s1": 0, "a-s1": 1, "a-s2": 2}
    merged = merge_batches([[_record("a-s2", "x"), _record("b-s1", "x")], [_record("a-s1", "y")]], split_of, order)
    assert {k: [r["id"] for r in v] for k, v in merged.items()} == {"test": ["b-s1"], "train": ["a-s1", "a-s2"]}


def test_merge_refuses_double_annotation_unless_one_reading_is_preferred():
    split_of, order = {"a": "test"}, {"a-s1": 0}
    batches = [[_record("a-s1", "x")], [_record("a-s1", "adjudicated")]]
    with pytest.raises(ValueError, match="annotated by both x and adjudicated"):
        merge_batches(batches, split_of, order)
    assert merge_batches(batches, split_of, order, prefer="adjudicated")["test"][0]["annotator"] == "adjudicated"


def test_consistency_lists_mixed_readings():
    records = [
        {"id": "1", "text": "市财政局负责", "spans": [{"start": 0, "end": 4, "label": "AGENCY", "text": "市财政局"}]},
        {"id": "2", "text": "由市财政局牵头", "spans": []},
        {"id": "3", "text": "2015年底", "spans": [{"start": 0, "end": 7, "label": "DATE", "text": "2015年底"}]},
    ]
    findings = {f["text"]: f for f in inconsistencies(records)}
    assert findings["市财政局"]["unlabelled"] == 1 and findings["市财政局"]["unlabelled_in"] == ["2"]
    assert "2015年底" not in findings

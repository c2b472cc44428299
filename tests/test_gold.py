"""The committed gold corpus: valid against the corpus and the spec, complete, with provenance."""
from __future__ import annotations

import json
from pathlib import Path

from annotation.validate import load_sentences, validate_files
from corpus.jsonl import read_jsonl

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "annotation" / "gold"


def test_gold_files_validate():
    sentences = load_sentences(ROOT / "corpus" / "processed" / "sentences.jsonl")
    assert validate_files(sorted(GOLD.glob("*.jsonl")), sentences) == []


def test_gold_covers_the_splits_with_provenance():
    splits = json.loads((ROOT / "corpus" / "processed" / "splits.json").read_text(encoding="utf-8"))
    sentences = list(read_jsonl(ROOT / "corpus" / "processed" / "sentences.jsonl"))
    total = 0
    for split, doc_ids in splits.items():
        records = list(read_jsonl(GOLD / f"{split}.jsonl"))
        total += len(records)
        assert {r["doc_id"] for r in records} <= set(doc_ids), split
        if split in ("dev", "test"):  # every sentence of the dev and test documents
            assert {r["id"] for r in records} == {s["id"] for s in sentences if s["doc_id"] in doc_ids}
        assert all(r["source"].startswith("manual") and r["annotator"] for r in records), split
    assert total >= 2500


def test_blind_annotation_is_a_test_subset():
    test_ids = {r["id"] for r in read_jsonl(GOLD / "test.jsonl")}
    blind = list(read_jsonl(ROOT / "annotation" / "blind" / "test-blind-200.jsonl"))
    assert len(blind) == 200 and {r["id"] for r in blind} <= test_ids
    assert {r["annotator"] for r in blind} == {"claude-annotator-blind"}

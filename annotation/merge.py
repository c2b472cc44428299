"""`gazette-ner annotate merge`: gather annotated batches into the per-split gold files.

Batches arrive per annotator (compiled compact files, Label Studio pulls); the gold corpus is one
file per split, in corpus order, each sentence once. A sentence annotated twice is an error unless
``--prefer`` names the annotator whose reading wins (after adjudication).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from annotation.validate import load_sentences, validate_records
from corpus.jsonl import RecordError, read_jsonl, write_jsonl


def merge_batches(batches: list[list[dict]], split_of: dict[str, str], order: dict[str, int],
                  prefer: str | None = None) -> dict[str, list[dict]]:
    """Records by split, sorted in corpus order; duplicates resolved by ``prefer`` or rejected."""
    chosen: dict[str, dict] = {}
    for batch in batches:
        for record in batch:
            earlier = chosen.get(record["id"])
            if earlier is not None and earlier["annotator"] != prefer and record["annotator"] != prefer:
                raise ValueError(f"{record['id']}: annotated by both {earlier['annotator']} and {record['annotator']}")
            if earlier is None or record["annotator"] == prefer:
                chosen[record["id"]] = record
    by_split: dict[str, list[dict]] = {}
    for record in sorted(chosen.values(), key=lambda r: order[r["id"]]):
        by_split.setdefault(split_of[record["doc_id"]], []).append(record)
    return by_split


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("merge", help="annotated batches -> annotation/gold/{train,dev,test}.jsonl")
    parser.add_argument("batches", nargs="+", type=Path, help="gold-record JSONL files")
    parser.add_argument("--out-dir", type=Path, default=Path("annotation/gold"))
    parser.add_argument("--sentences", type=Path, default=Path("corpus/processed/sentences.jsonl"))
    parser.add_argument("--splits", type=Path, default=Path("corpus/processed/splits.json"))
    parser.add_argument("--prefer", default=None, help="annotator whose record wins where two exist")
    parser.set_defaults(func=_merge)


def _merge(args: argparse.Namespace) -> int:
    try:
        sentences = load_sentences(args.sentences)
        splits = json.loads(args.splits.read_text(encoding="utf-8"))
        batches = [list(read_jsonl(path)) for path in args.batches]
        split_of = {doc_id: name for name, ids in splits.items() for doc_id in ids}
        order = {sentence_id: n for n, sentence_id in enumerate(sentences)}
        by_split = merge_batches(batches, split_of, order, args.prefer)
    except (RecordError, ValueError, OSError, KeyError) as exc:
        print(f"merge: {exc}", file=sys.stderr)
        return 1
    problems = validate_records([r for records in by_split.values() for r in records], sentences)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    for name, records in sorted(by_split.items()):
        write_jsonl(args.out_dir / f"{name}.jsonl", records)
        print(f"{args.out_dir / name}.jsonl: {len(records)} sentences, {sum(len(r['spans']) for r in records)} spans")
    return 0

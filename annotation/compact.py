"""Compact annotation: write spans as (label, text[, occurrence]) and get offsets computed.

Annotators who read sentences as plain text (a spreadsheet, an editor, an LLM reviewer) name each
entity by its text; typing offsets by hand is where annotation errors come from. ``resolve`` finds
the n-th occurrence of the span text in the sentence and rejects overlaps, so the gold file only
ever holds offsets that were computed, never typed.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from annotation.labels import LABELS, SPEC_VERSION, Span
from corpus.jsonl import RecordError, read_jsonl, write_jsonl


def resolve(text: str, items: list[list]) -> list[Span]:
    """``items``: [label, span_text] or [label, span_text, occurrence (1-based)] in any order."""
    spans = []
    for item in items:
        if len(item) not in (2, 3):
            raise ValueError(f"expected [label, text] or [label, text, occurrence], got {item!r}")
        label, surface = item[0], item[1]
        occurrence = int(item[2]) if len(item) == 3 else 1
        if label not in LABELS:
            raise ValueError(f"unknown label {label!r}")
        start = -1
        for _ in range(occurrence):
            start = text.find(surface, start + 1)
            if start < 0:
                raise ValueError(f"{surface!r} (occurrence {occurrence}) not found in the sentence")
        spans.append(Span(start, start + len(surface), label, surface))
    spans.sort()
    for a, b in zip(spans, spans[1:]):
        if b.start < a.end:
            raise ValueError(f"overlapping spans {a.text!r} and {b.text!r}")
    return spans


def compile_records(compact: list[dict], sentences: dict[str, dict], source: str, annotator: str) -> list[dict]:
    """Gold records from compact ones; errors name the sentence id."""
    records = []
    for record in compact:
        sentence = sentences.get(record.get("id"))
        if sentence is None:
            raise ValueError(f"{record.get('id')}: not a sentence id of corpus/processed/sentences.jsonl")
        try:
            spans = resolve(sentence["text"], record.get("spans", []))
        except ValueError as exc:
            raise ValueError(f"{record['id']}: {exc}") from None
        records.append({
            "id": sentence["id"], "doc_id": sentence["doc_id"], "text": sentence["text"],
            "spans": [{"start": s.start, "end": s.end, "label": s.label, "text": s.text} for s in spans],
            "source": record.get("source", source), "annotator": record.get("annotator", annotator),
            "spec_version": SPEC_VERSION,
        })
    return records


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("compile", help="compact (label, text) annotations -> gold records with offsets")
    parser.add_argument("input", type=Path, help='JSONL of {"id", "spans": [[label, text(, occurrence)]...]}')
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--sentences", type=Path, default=Path("corpus/processed/sentences.jsonl"))
    parser.add_argument("--source", default="manual", help="how the spans were made, e.g. rules+review")
    parser.add_argument("--annotator", required=True, help="who read and corrected the sentences")
    parser.set_defaults(func=_compile)


def _compile(args: argparse.Namespace) -> int:
    try:
        sentences = {r["id"]: r for r in read_jsonl(args.sentences)}
        records = compile_records(list(read_jsonl(args.input)), sentences, args.source, args.annotator)
    except (RecordError, ValueError, OSError) as exc:
        print(f"{args.input}: {exc}", file=sys.stderr)
        return 1
    write_jsonl(args.output, records)
    print(f"{args.output}: {len(records)} sentences, {sum(len(r['spans']) for r in records)} spans")
    return 0

"""`gazette-ner annotate stats`: what the annotation files hold, per split, before training on them.

The split is the file stem (train.jsonl -> train). Span lengths are in characters.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from annotation.labels import LABELS
from annotation.validate import DEFAULT_GOLD_GLOB, record_spans
from corpus.jsonl import RecordError, read_jsonl, write_text_atomic

TOTAL = "total"


def _split_counts(records: Sequence[dict], name: str) -> tuple[dict, dict[str, list[int]]]:
    entities: Counter = Counter()
    lengths: dict[str, list[int]] = {label: [] for label in LABELS}
    with_entities = characters = 0
    for record in records:
        try:
            spans = record_spans(record)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
        entities.update(s.label for s in spans)
        for span in spans:
            lengths[span.label].append(span.end - span.start)
        with_entities += bool(spans)
        characters += len(record["text"])
    counts = {
        "sentences": len(records),
        "sentences_with_entities": with_entities,
        "characters": characters,
        "entities": {**{label: entities[label] for label in LABELS}, TOTAL: sum(entities.values())},
    }
    return counts, lengths


def length_summary(lengths: Sequence[int]) -> dict:
    """Count, median, 90th percentile and maximum of span lengths (None where there are no spans)."""
    if not lengths:
        return {"count": 0, "median": None, "p90": None, "max": None}
    values = np.asarray(lengths)
    return {
        "count": int(values.size),
        "median": float(np.median(values)),
        "p90": float(np.percentile(values, 90)),
        "max": int(values.max()),
    }


def annotation_stats(files: Mapping[str, Sequence[dict]]) -> dict:
    """Statistics of annotation records grouped by split name (JSON-serialisable)."""
    splits: dict[str, dict] = {}
    all_lengths: dict[str, list[int]] = {label: [] for label in LABELS}
    for name, records in files.items():
        splits[name], lengths = _split_counts(records, name)
        for label in LABELS:
            all_lengths[label] += lengths[label]
    every = [r for records in files.values() for r in records]
    total = {
        key: sum(s[key] for s in splits.values()) for key in ("sentences", "sentences_with_entities", "characters")
    }
    total["entities"] = {key: sum(s["entities"][key] for s in splits.values()) for key in (*LABELS, TOTAL)}

    def tally(key: str) -> dict[str, int]:
        return dict(Counter(str(r.get(key)) for r in every).most_common())

    return {
        "splits": splits,
        TOTAL: total,
        "sources": tally("source"),
        "annotators": tally("annotator"),
        "spec_versions": tally("spec_version"),
        "span_length": {label: length_summary(all_lengths[label]) for label in LABELS},
    }


def render(stats: dict) -> list[Table]:
    """Rich tables: counts per split, provenance, span lengths."""
    names = [*stats["splits"], TOTAL]
    columns = [*(stats["splits"][n] for n in stats["splits"]), stats[TOTAL]]
    counts = Table(title="Sentences and entities per split")
    counts.add_column("")
    for name in names:
        counts.add_column(name, justify="right")
    for key in ("sentences", "sentences_with_entities", "characters"):
        counts.add_row(key, *(str(c[key]) for c in columns), end_section=key == "characters")
    for label in (*LABELS, TOTAL):
        counts.add_row(label, *(str(c["entities"][label]) for c in columns))

    provenance = Table(title="Provenance")
    for column in ("field", "value", "sentences"):
        provenance.add_column(column, justify="right" if column == "sentences" else "left")
    for field in ("sources", "annotators", "spec_versions"):
        for i, (value, n) in enumerate(stats[field].items()):
            provenance.add_row(field if i == 0 else "", value, str(n))
        provenance.add_section()

    lengths = Table(title="Span length in characters")
    for column in ("label", "count", "median", "p90", "max"):
        lengths.add_column(column, justify="left" if column == "label" else "right")
    for label in LABELS:
        row = stats["span_length"][label]
        lengths.add_row(label, *("-" if row[k] is None else f"{row[k]:g}" for k in ("count", "median", "p90", "max")))
    return [counts, provenance, lengths]


def run(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.files] or sorted(Path().glob(DEFAULT_GOLD_GLOB))
    if not paths:
        print(f"error: no annotation files given and none match {DEFAULT_GOLD_GLOB}", file=sys.stderr)
        return 1
    if len({p.stem for p in paths}) != len(paths):
        print("error: two files share a stem, so their splits cannot be told apart", file=sys.stderr)
        return 1
    try:
        stats = annotation_stats({p.stem: list(read_jsonl(p)) for p in paths})
    except FileNotFoundError as exc:
        print(f"error: {exc.filename}: file not found", file=sys.stderr)
        return 1
    except (RecordError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    console = Console()
    for table in render(stats):
        console.print(table)
    if args.json:
        write_text_atomic(args.json, json.dumps(stats, ensure_ascii=False, indent=2) + "\n")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("stats", help="sentences, entities and span lengths per split")
    parser.add_argument("files", nargs="*", help=f"annotation files (default: {DEFAULT_GOLD_GLOB})")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the statistics as JSON")
    parser.set_defaults(func=run)

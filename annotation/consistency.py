"""`gazette-ner annotate consistency`: the same string annotated differently in different sentences.

Annotators working in parallel drift apart on cases the spec leaves to judgement. A string that is
one label here, another label there, or labelled in one sentence and left bare where it stands
alone in another is where to look; each finding is a place to adjudicate, not a verdict.
"""
from __future__ import annotations

import argparse
import re
from collections import Counter, defaultdict
from pathlib import Path

from corpus.jsonl import read_jsonl

CJK = re.compile(r"[\u4e00-\u9fff]")


def inconsistencies(records: list[dict], min_length: int = 2) -> list[dict]:
    """Per span string: label counts, and how often it stands unlabelled as a whole-word occurrence."""
    labels: dict[str, Counter] = defaultdict(Counter)
    where: dict[str, list[str]] = defaultdict(list)
    for record in records:
        for span in record["spans"]:
            labels[span["text"]][span["label"]] += 1
            where[span["text"]].append(record["id"])
    findings = []
    for surface, counts in labels.items():
        if len(surface) < min_length or not CJK.search(surface):
            continue
        bare = []
        for record in records:
            covered = [(s["start"], s["end"]) for s in record["spans"]]
            for match in re.finditer(re.escape(surface), record["text"]):
                if not any(a <= match.start() and match.end() <= b for a, b in covered):
                    bare.append(record["id"])
        if len(counts) > 1 or bare:
            findings.append({"text": surface, "labels": dict(counts), "unlabelled": len(bare),
                             "labelled_in": sorted(set(where[surface]))[:5], "unlabelled_in": sorted(set(bare))[:5]})
    return sorted(findings, key=lambda f: -(sum(f["labels"].values()) + f["unlabelled"]))


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("consistency", help="strings annotated differently across sentences")
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=50)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    records = [r for path in args.files for r in read_jsonl(path)]
    for f in inconsistencies(records)[: args.top]:
        print(f"{f['text']}\t{f['labels']}\tunlabelled {f['unlabelled']}\te.g. {', '.join(f['unlabelled_in'][:3])}")
    return 0

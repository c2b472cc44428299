"""Scoring the responsibility table against hand-checked clauses.

Each clause contributes (sentence, role, unit) triples for lead and co-responsible units and a
(sentence, deadline) pair; precision and recall are counted over those, plus clause detection.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from corpus.jsonl import RecordError, read_jsonl


def _prf(predicted: set, reference: set) -> dict:
    correct = len(predicted & reference)
    p = correct / len(predicted) if predicted else 0.0
    r = correct / len(reference) if reference else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
            "predicted": len(predicted), "reference": len(reference), "correct": correct}


def score_responsibilities(predicted: list[dict], reference: list[dict]) -> dict:
    """``predicted``: Responsibility rows (sentence_id, lead, co, deadline); ``reference``: {id, lead, co, deadline}."""
    pred = {row["sentence_id"]: row for row in predicted}
    ref = {row["id"]: row for row in reference}

    def triples(rows: dict, role: str) -> set:
        return {(sid, unit) for sid, row in rows.items() for unit in row.get(role) or []}

    def deadlines(rows: dict) -> set:
        return {(sid, row["deadline"]) for sid, row in rows.items() if row.get("deadline")}

    return {
        "clauses": _prf(set(pred), set(ref)),
        "lead": _prf(triples(pred, "lead"), triples(ref, "lead")),
        "co": _prf(triples(pred, "co"), triples(ref, "co")),
        "deadline": _prf(deadlines(pred), deadlines(ref)),
        "all_roles": _prf({(s, u, "lead") for s, u in triples(pred, "lead")} | {(s, u, "co") for s, u in triples(pred, "co")},
                          {(s, u, "lead") for s, u in triples(ref, "lead")} | {(s, u, "co") for s, u in triples(ref, "co")}),
    }


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("evaluate-tables", help="score a responsibilities.json against hand-checked clauses")
    parser.add_argument("--pred", type=Path, required=True, help="responsibilities.json from `gazette-ner tables`")
    parser.add_argument("--reference", type=Path, default=Path("annotation/tables/responsibilities-test.jsonl"))
    parser.add_argument("--json", type=Path, default=None, help="write the scores here")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        predicted = json.loads(args.pred.read_text(encoding="utf-8"))
        reference = list(read_jsonl(args.reference))
    except (RecordError, OSError, json.JSONDecodeError) as exc:
        print(f"{args.pred}: {exc}", file=sys.stderr)
        return 1
    scores = score_responsibilities(predicted, reference)
    for name, row in scores.items():
        print(f"{name:10s} P {row['precision']:.3f}  R {row['recall']:.3f}  F1 {row['f1']:.3f}  "
              f"(predicted {row['predicted']}, reference {row['reference']}, correct {row['correct']})")
    if args.json:
        args.json.write_text(json.dumps(scores, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0

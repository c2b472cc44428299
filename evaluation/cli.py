"""`gazette-ner evaluate`: score a predictions file, or a model on a gold split, against gold.

Both ways end in the same ``evaluation.scoring.score`` call, so rules and models are measured alike.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from annotation.labels import Span
from corpus.jsonl import RecordError, read_jsonl, write_jsonl
from evaluation.scoring import ERROR_KINDS, score

GOLD_DIR = Path("annotation/gold")


def tag_records(model_dir: Path, gold_records: Sequence[dict], engine: str = "torch") -> list[dict]:
    """Prediction records for the gold sentences, tagged by the model in ``model_dir``.

    ``models.predict`` is imported here, not at module level, so scoring files works without it.
    """
    from models.predict import Tagger

    tagged: list[list[Span]] = Tagger.load(model_dir, engine=engine).tag([r["text"] for r in gold_records])
    return [
        {"id": r["id"], "doc_id": r.get("doc_id"), "text": r["text"], "spans": [s.to_json() for s in spans]}
        for r, spans in zip(gold_records, tagged, strict=True)
    ]


def summary_table(result: dict) -> Table:
    """Per-label and averaged scores plus error counts, for the terminal."""
    table = Table(title=f"{result['sentences']} sentences, {result['spans']['gold']} gold spans, "
                        f"{result['spans']['predicted']} predicted, {result['spans']['correct']} correct")
    for column in ("", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="right" if column else "left")
    rows = [*result["per_label"].items(), *((name, result[name]) for name in ("micro", "macro", "weighted"))]
    for name, m in rows:
        table.add_row(name, *("-" if m[k] is None else f"{m[k]:.3f}" for k in ("precision", "recall", "f1")),
                      str(m["support"]), end_section=name == next(reversed(result["per_label"]), None))
    table.add_section()
    for kind in ERROR_KINDS:
        table.add_row(kind.replace("_", " "), "", "", "", str(result["errors"][kind]))
    return table


def run(args: argparse.Namespace) -> int:
    if (args.pred is None) == (args.model is None):
        print("error: give exactly one of --pred FILE or --model DIR", file=sys.stderr)
        return 2
    gold_path = args.gold or (GOLD_DIR / f"{args.split}.jsonl" if args.split else None)
    if gold_path is None:
        print("error: give --gold FILE or --split NAME", file=sys.stderr)
        return 2
    inputs = {"gold": str(gold_path)}
    try:
        gold = list(read_jsonl(gold_path))
        if args.pred is not None:
            inputs["predictions"] = str(args.pred)
            preds = list(read_jsonl(args.pred))
        else:
            inputs["model"] = str(args.model)
            inputs["engine"] = args.engine
            try:
                preds = tag_records(args.model, gold, args.engine)
            except ModuleNotFoundError as exc:
                if exc.name not in ("models.predict", "models"):
                    raise
                print("error: models.predict is not available yet, so --model cannot tag; score a file with --pred",
                      file=sys.stderr)
                return 1
        result = score(gold, preds)
    except FileNotFoundError as exc:
        print(f"error: {exc.filename}: file not found", file=sys.stderr)
        return 1
    except (RecordError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    console = Console()
    console.print(summary_table(result))
    if result["missing_predictions"]:
        console.print(f"[yellow]{len(result['missing_predictions'])} gold sentence(s) have no prediction "
                      f"and count as predicted empty[/yellow]")
    if args.output:
        from evaluation.report import write_report  # matplotlib: only when a report is written

        if args.model is not None:
            write_jsonl(args.output / "predictions.jsonl", preds)
        paths = write_report(result, args.output, inputs, title=f"Evaluation: {args.model or args.pred}")
        console.print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="score predictions (--pred) or a model (--model) against gold",
        description="Score --pred FILE against --gold FILE, or tag the gold split's texts with --model DIR and score that.",
    )
    parser.add_argument("--gold", type=Path, help="gold annotations (default with --split: annotation/gold/SPLIT.jsonl)")
    parser.add_argument("--split", help="gold split name, e.g. test")
    parser.add_argument("--pred", type=Path, help="predictions in the gold record shape (JSONL)")
    parser.add_argument("--model", type=Path, help="model directory for models.predict.Tagger")
    parser.add_argument("--engine", choices=("torch", "onnx"), default="torch", help="with --model: how it runs")
    parser.add_argument("-o", "--output", type=Path, metavar="DIR",
                        help="write metrics.json, report.md, report.html (and predictions.jsonl with --model) here")
    parser.set_defaults(func=run)

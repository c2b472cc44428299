"""`gazette-ner corpus …`: build the processed corpus from corpus/raw, or ingest new gazettes."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("corpus", help="build the processed corpus; ingest new gazettes")
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    build = sub.add_parser("build", help="raw files -> documents.jsonl, sentences.jsonl, splits.json, stats.json")
    build.add_argument("--raw-dir", type=Path, default=None, help="folder with MANIFEST.yaml (default corpus/raw)")
    build.add_argument("--out-dir", type=Path, default=None, help="output folder (default corpus/processed)")
    build.add_argument("--check", action="store_true", help="fail if the committed files differ from a fresh build")
    build.set_defaults(func=_build)

    ingest = sub.add_parser("ingest", help="read new gazettes (txt in any Chinese encoding, html, docx, pdf) to JSONL")
    ingest.add_argument("paths", nargs="+", help="files, directories or globs")
    ingest.add_argument("-o", "--output", type=Path, required=True, help="JSONL file to write")
    ingest.add_argument("--max-bytes", type=int, default=None, help="refuse files larger than this (default 50 MiB)")
    ingest.set_defaults(func=_ingest)


def _build(args: argparse.Namespace) -> int:
    from corpus.build import PROCESSED_DIR, RAW_DIR, build_corpus, write_corpus

    out_dir = args.out_dir or PROCESSED_DIR
    corpus = build_corpus(args.raw_dir or RAW_DIR)
    if args.check:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            write_corpus(corpus, Path(tmp))
            changed = [p.name for p in sorted(Path(tmp).iterdir())
                       if not (out_dir / p.name).exists() or (out_dir / p.name).read_bytes() != p.read_bytes()]
        if changed:
            print(f"{out_dir}: out of date with a fresh build: {', '.join(changed)}", file=sys.stderr)
            return 1
    stats = write_corpus(corpus, out_dir) if not args.check else None
    print_stats(stats or json.loads((out_dir / "stats.json").read_text(encoding="utf-8")))
    return 0


def print_stats(stats: dict) -> None:
    console = Console()
    files = Table(title="Documents per source file")
    for column in ("file", "documents", "sentences", "characters"):
        files.add_column(column, justify="left" if column == "file" else "right")
    for name, row in stats["per_file"].items():
        files.add_row(name, str(row["documents"]), str(row["sentences"]), str(row["characters"]))
    console.print(files)
    length = stats["sentence_length"]
    console.print(f"{stats['documents']} documents, {stats['sentences']} sentences ({stats['headings']} headings), "
                  f"{stats['characters']} characters")
    console.print(f"sentence length (non-heading): median {length['median']}, p90 {length['p90']}, "
                  f"max {length['max']}, over 256: {length['over_256']}")
    splits = Table(title="Splits (whole documents)")
    for column in ("split", "documents", "sentences", "characters"):
        splits.add_column(column, justify="left" if column == "split" else "right")
    for name, row in stats["splits"].items():
        splits.add_row(name, str(row["documents"]), str(row["sentences"]), str(row["characters"]))
    console.print(splits)


def _ingest(args: argparse.Namespace) -> int:
    from corpus.ingest import DEFAULT_MAX_BYTES, ingest_command

    return ingest_command(args.paths, args.output, args.max_bytes or DEFAULT_MAX_BYTES)

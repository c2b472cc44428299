"""`gazette-ner predict`: tag new gazettes with the released (or any) model."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tqdm.auto import tqdm

FORMATS = ("jsonl", "conll", "labelstudio", "html")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("predict", help="tag gazettes: txt (any Chinese encoding), html, docx, pdf, JSONL, stdin")
    parser.add_argument("inputs", nargs="+", help='files, directories, globs, JSONL of {"id","text"}, or - for stdin')
    parser.add_argument("--model", default=None, help="model folder or hub name (default: the model in models/release/)")
    parser.add_argument("-o", "--output", type=Path, default=None, help="output file (default: stdout)")
    parser.add_argument("--format", choices=FORMATS, default="jsonl")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=None, help="model window in tokens (default: as trained)")
    parser.add_argument("--stride", type=int, default=None, help="tokens shared by consecutive windows (default: as trained)")
    parser.add_argument("--tables", type=Path, default=None, help="also write responsibility and target tables here")
    parser.add_argument("--engine", choices=("torch", "onnx", "ray"), default="torch",
                        help="torch (default); onnx: ONNX Runtime, int8 weights; ray: a Ray Data actor pool")
    parser.add_argument("--workers", type=int, default=2, help="Ray actors (--engine ray)")
    parser.set_defaults(func=_predict)

    tables = subparsers.add_parser("tables", help="responsibility and target tables from sentence records with spans")
    tables.add_argument("input", type=Path, help="gold or prediction JSONL of {id, text, spans}")
    tables.add_argument("-o", "--out-dir", type=Path, required=True)
    tables.set_defaults(func=_tables)


def _documents(inputs: list[str]) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(id, source, text) for every readable input, and one line per input that failed."""
    from corpus.ingest import ingest_many, record_ids
    from corpus.jsonl import RecordError, read_jsonl

    docs, failures, files = [], [], []
    for item in inputs:
        if item == "-":
            docs.append(("stdin", "<stdin>", sys.stdin.read()))
        elif item.endswith(".jsonl"):
            try:
                for n, record in enumerate(read_jsonl(item), 1):
                    if not isinstance(record.get("text"), str) or "id" not in record:
                        failures.append(f"{item}: record {n} has no string 'text' or no 'id'")
                        continue
                    docs.append((str(record["id"]), item, record["text"]))
            except (RecordError, OSError) as exc:
                failures.append(str(exc) if isinstance(exc, RecordError) else f"{item}: {exc.strerror or exc}")
        else:
            files.append(item)
    if files:
        good, bad = ingest_many(files)
        docs.extend((doc_id, t.path, t.text) for doc_id, t in zip(record_ids(good), good))
        failures.extend(str(e) for e in bad)
    return docs, failures


def _finished_ids(path: Path) -> set[str]:
    """Ids already written by an earlier, interrupted run; a torn last line is dropped."""
    from corpus.jsonl import write_text_atomic

    if not path.exists():
        return set()
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept, ids = [], set()
    for line in lines:
        try:
            ids.add(json.loads(line)["id"])
            kept.append(line if line.endswith("\n") else line + "\n")
        except (json.JSONDecodeError, KeyError, TypeError):
            continue
    if len(kept) != len(lines):
        write_text_atomic(path, "".join(kept))
    return ids


def _predict(args: argparse.Namespace) -> int:
    from corpus.jsonl import dumps, write_text_atomic
    from models import engines
    from models.formats import to_conll, to_html, to_label_studio_task, write_tables
    from models.tables import sentence_records, tables_from_records

    docs, failures = _documents(args.inputs)
    resumable = args.format == "jsonl" and args.output is not None
    done = _finished_ids(args.output) if resumable else set()
    todo = [d for d in docs if d[0] not in done]
    options = {"path": args.model, "batch_size": args.batch_size, "max_length": args.max_length, "stride": args.stride,
               "engine": "torch" if args.engine == "ray" else args.engine}
    try:  # loaded up front even for Ray: a bad --model is one line before any work starts
        from models.predict import Tagger

        tagger = Tagger.load(**options)
    except (OSError, ValueError) as exc:
        print(f"{args.model or 'models/release'}: cannot load the model ({exc})", file=sys.stderr)
        return 1
    model_version = Path(str(args.model or tagger.model.name_or_path)).name
    tagged_docs = (engines.ray(todo, options, workers=args.workers) if args.engine == "ray"
                   else engines.local(todo, tagger))
    records = []
    table_rows: list[dict] = []
    sink = args.output.open("a", encoding="utf-8") if resumable else None
    try:
        for _doc, record, error in tqdm(tagged_docs, total=len(todo), desc="predict", unit="doc", disable=None):
            if error:
                failures.append(error)
                continue
            if args.tables:
                table_rows.extend(sentence_records(record))
            if sink:
                sink.write(dumps(record) + "\n")
                sink.flush()
            else:
                records.append(record)
    finally:
        if sink:
            sink.close()
    if not resumable:
        if args.format == "jsonl":
            rendered = "".join(dumps(r) + "\n" for r in records)
        elif args.format == "conll":
            rendered = "\n".join(to_conll(r) for r in records)
        elif args.format == "labelstudio":
            rendered = json.dumps([to_label_studio_task(r, model_version) for r in records], ensure_ascii=False, indent=1)
        else:
            rendered = to_html(records, title=f"gazette-ner · {model_version}")
        if args.output:
            write_text_atomic(args.output, rendered)
        else:
            sys.stdout.write(rendered)
    if args.tables:
        for path in write_tables(args.tables, *tables_from_records(table_rows)):
            print(f"wrote {path}", file=sys.stderr)
    for line in failures:
        print(line, file=sys.stderr)
    tagged = len(todo) - sum(1 for f in failures if "tagging failed" in f)
    print(f"tagged {tagged} document(s), skipped {len(docs) - len(todo)} already done, {len(failures)} failed",
          file=sys.stderr)
    return 1 if failures else 0


def _tables(args: argparse.Namespace) -> int:
    from corpus.jsonl import RecordError, read_jsonl
    from models.formats import write_tables
    from models.tables import tables_from_records

    try:
        records = list(read_jsonl(args.input))
    except (RecordError, OSError) as exc:
        print(str(exc) if isinstance(exc, RecordError) else f"{args.input}: {exc}", file=sys.stderr)
        return 1
    duties, goals = tables_from_records(records)
    for path in write_tables(args.out_dir, duties, goals):
        print(f"wrote {path}")
    print(f"{len(duties)} responsibility clauses, {len(goals)} targets from {len(records)} sentences")
    return 0

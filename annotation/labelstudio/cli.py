"""`gazette-ner ls server | init | push | pull`: the annotators' round trip through Label Studio.

URL and token come from LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY; every failure is one line.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from annotation.labelstudio.client import DEFAULT_URL, LabelStudioError

REPO_ROOT = Path(__file__).resolve().parents[2]
PROCESSED = REPO_ROOT / "corpus" / "processed"
DEFAULT_PROJECT = "gazette-ner"


def register(subparsers: argparse._SubParsersAction) -> None:
    server = subparsers.add_parser("server", help="start Label Studio on 127.0.0.1 (SQLite, a default user)")
    server.add_argument("--data-dir", type=Path, help="Label Studio data folder (default .labelstudio/)")
    server.add_argument("--port", type=int, default=8080)
    server.set_defaults(func=_server)

    init = subparsers.add_parser("init", help="create or update the project and its labeling config")
    _project_arg(init)
    init.set_defaults(func=_init)

    push = subparsers.add_parser("push", help="import sentences or documents as tasks, with pre-annotations")
    _project_arg(push)
    push.add_argument("input", nargs="?", type=Path,
                      help="JSONL of {id, text} records (default: the corpus sentences, or documents with --documents)")
    push.add_argument("--documents", action="store_true", help="whole documents as tasks instead of sentences")
    push.add_argument("--split", choices=("train", "dev", "test"), help="only this split's documents (corpus input)")
    push.add_argument("--limit", type=int, help="push at most this many records")
    pre = push.add_mutually_exclusive_group()
    pre.add_argument("--rules", action="store_true", help="pre-annotate with the rule annotator")
    pre.add_argument("--predictions", type=Path,
                     help="JSONL with spans or entities per id (from `gazette-ner predict` or `annotate rules`)")
    push.add_argument("--model-version", help="model_version of the predictions (default: rules-spec-<v> or the file name)")
    push.add_argument("--batch-size", type=int, default=500)
    push.set_defaults(func=_push)

    pull = subparsers.add_parser("pull", help="export annotations into gold JSONL, one file per annotator")
    _project_arg(pull)
    pull.add_argument("-o", "--output", type=Path, required=True, help="folder for <annotator>.jsonl and summary.json")
    pull.set_defaults(func=_pull)


def _project_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", default=DEFAULT_PROJECT, help=f"project title (default {DEFAULT_PROJECT})")


def guarded(command):
    """Run a command so that Label Studio, SDK and input errors end as one line and exit code 1."""
    def run(args: argparse.Namespace) -> int:
        from label_studio_sdk.core.api_error import ApiError

        from annotation.labelstudio.client import api_error_line
        from annotation.labelstudio.interface import ResultError
        from corpus.jsonl import RecordError
        try:
            return command(args)
        except (LabelStudioError, RecordError, ResultError, OSError) as exc:
            print(f"error: {exc}", file=sys.stderr)
        except ApiError as exc:  # status and detail, never the token
            print(f"error: {api_error_line(exc, args.ls_command)}", file=sys.stderr)
        return 1
    return run


@guarded
def _server(args: argparse.Namespace) -> int:
    from annotation.labelstudio.server import DEFAULT_DATA_DIR, DEFAULT_USERNAME, LabelStudioServer

    server = LabelStudioServer(args.data_dir or DEFAULT_DATA_DIR, args.port,
                               username=os.environ.get("LABEL_STUDIO_USERNAME", DEFAULT_USERNAME),
                               password=os.environ.get("LABEL_STUDIO_PASSWORD"),
                               legacy_token=os.environ.get("LABEL_STUDIO_USER_TOKEN"))
    print(f"starting Label Studio on {server.url} (data {server.data_dir}, log {server.log_path}) ...", file=sys.stderr)
    with server:
        print(f"Label Studio is up: {server.url}  user {server.username}; Ctrl-C stops it", file=sys.stderr)
        try:
            server.process.wait()
        except KeyboardInterrupt:
            pass
    return 0


@guarded
def _init(args: argparse.Namespace) -> int:
    from annotation.labelstudio.client import connect
    from annotation.labelstudio.project import ensure_project

    project, created = ensure_project(connect(), args.project)
    print(f"{'created' if created else 'updated'} project {args.project!r} (id {project}) on "
          f"{os.environ.get('LABEL_STUDIO_URL', DEFAULT_URL)}", file=sys.stderr)
    return 0


@guarded
def _push(args: argparse.Namespace) -> int:
    from annotation.labelstudio.client import connect
    from annotation.labelstudio.interface import prediction, to_task
    from annotation.labelstudio.project import ensure_project, push_tasks

    records = _records(args)
    predictions, version = _pre_annotations(args, records)
    tasks = []
    for record in records:
        spans = predictions.get(record["id"]) if predictions is not None else None
        tasks.append(to_task(record, [prediction(record["text"], spans, version)] if spans is not None else None))
    client = connect()
    project, _ = ensure_project(client, args.project)
    result = push_tasks(client, project, tasks, batch_size=args.batch_size)
    print(f"project {project}: {result['imported']} task(s) imported, {result['already_there']} already there"
          + (f", pre-annotated by {version}" if predictions is not None else ""), file=sys.stderr)
    return 0


def read_records(path: Path, split: str | None = None) -> list[dict]:
    """The {id, text, …} records of a JSONL file (sentences or documents), only those of the corpus
    split ``split`` when given; a record without a string id and text is an error naming it."""
    from corpus.jsonl import RecordError, read_jsonl

    records = list(read_jsonl(path))
    for n, record in enumerate(records, 1):
        if not isinstance(record.get("id"), str) or not isinstance(record.get("text"), str):
            raise RecordError(f"{path}: record {n} needs string 'id' and 'text'")
    if split:
        keep = set(json.loads((PROCESSED / "splits.json").read_text(encoding="utf-8"))[split])
        records = [r for r in records if r.get("doc_id", r["id"]) in keep]
    return records


def _records(args: argparse.Namespace) -> list[dict]:
    path = args.input or PROCESSED / ("documents.jsonl" if args.documents else "sentences.jsonl")
    records = read_records(path, args.split)
    return records[: args.limit] if args.limit else records


def _pre_annotations(args: argparse.Namespace, records: list[dict]) -> tuple[dict | None, str]:
    """Spans per record id from the rules or a predictions file, and their model_version."""
    from annotation.labels import SPEC_VERSION
    from annotation.validate import span_problems
    from corpus.jsonl import RecordError, read_jsonl

    if args.rules:
        from annotation.rules import annotate

        return ({r["id"]: annotate(r["text"], heading=bool(r.get("is_heading"))) for r in records},
                args.model_version or f"rules-spec-{SPEC_VERSION}")
    if not args.predictions:
        return None, ""
    texts = {r["id"]: r["text"] for r in records}
    found: dict[str, list[dict]] = {}
    for n, record in enumerate(read_jsonl(args.predictions), 1):
        if record.get("id") not in texts:
            continue
        spans = record.get("spans", record.get("entities"))
        problems = (["text differs from the task text"] if record.get("text", texts[record["id"]]) != texts[record["id"]]
                    else span_problems(texts[record["id"]], spans, require_text=False))
        if problems:
            raise RecordError(f"{args.predictions}:{n}: {record['id']}: {problems[0]}")
        found[record["id"]] = spans
    return found, args.model_version or args.predictions.stem


@guarded
def _pull(args: argparse.Namespace) -> int:
    from annotation.labelstudio.client import connect
    from annotation.labelstudio.interface import gold_records
    from annotation.labelstudio.project import export_tasks, find_project
    from annotation.validate import load_sentences, validate_records
    from corpus.jsonl import write_jsonl, write_text_atomic

    client = connect()
    project = find_project(client, args.project)
    if project is None:
        raise LabelStudioError(f"no project titled {args.project!r}: run `gazette-ner ls init` and `ls push` first")
    users = {u.id: u.email for u in client.users.list()}
    per_annotator, summary = gold_records(export_tasks(client, project), project, users)
    sentences = load_sentences(PROCESSED / "sentences.jsonl")
    problems = []
    for who, records in sorted(per_annotator.items()):
        path = args.output / f"{who.replace(':', '-').replace('@', '_at_')}.jsonl"
        problems += validate_records(records, sentences, [f"{path.name}:{n}" for n in range(1, len(records) + 1)],
                                     require_in_corpus=False)
        write_jsonl(path, records)
        summary.setdefault("files", {})[who] = str(path)
    summary["problems"] = problems
    write_text_atomic(args.output / "summary.json", json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    for line in problems:
        print(line, file=sys.stderr)
    print(f"project {project}: {summary['annotations']} annotation(s) from {len(per_annotator)} annotator(s), "
          f"{len(summary['skipped'])} skipped, {len(summary['unannotated'])} task(s) unannotated -> {args.output}"
          + ("; `gazette-ner annotate agreement A B` compares two annotators" if len(per_annotator) > 1 else ""),
          file=sys.stderr)
    return 1 if problems else 0

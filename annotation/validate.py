"""`gazette-ner annotate validate`: check gold files against the corpus and the spec before anyone trains on them.

Every problem is one line ``file:line: id: problem`` so a reviewer can jump straight to it.
The checks are plain functions over records, so the Label Studio pull and the tests reuse them.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from annotation.labels import LABELS, SPEC_VERSION, Span
from corpus.jsonl import RecordError, read_jsonl
from corpus.records import Sentence

REQUIRED_KEYS = ("id", "doc_id", "text", "spans", "source", "annotator", "spec_version")
SPAN_KEYS = ("start", "end", "label", "text")
DEFAULT_GOLD_GLOB = "annotation/gold/*.jsonl"
DEFAULT_SENTENCES = "corpus/processed/sentences.jsonl"


def span_problems(text: str, spans: object, require_text: bool = True) -> list[str]:
    """Problems with one record's spans: shape, offsets, text, label, overlaps (empty list = fine).

    Prediction files may leave out span ``text``; gold files must carry it (``require_text``)
    so that an offset shift is caught rather than silently moving an entity.
    """
    if not isinstance(spans, list):
        return [f"spans must be a list, got {type(spans).__name__}"]
    problems: list[str] = []
    good: list[tuple[int, int, int]] = []
    for n, span in enumerate(spans):
        where = f"span {n}"
        if not isinstance(span, dict):
            problems.append(f"{where}: expected an object, got {type(span).__name__}")
            continue
        needed = SPAN_KEYS if require_text else SPAN_KEYS[:3]
        missing = [key for key in needed if key not in span]
        if missing:
            problems.append(f"{where}: missing key(s) {', '.join(missing)}")
            continue
        start, end, label = span["start"], span["end"], span["label"]
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
            problems.append(f"{where}: start/end must be integers, got {start!r}/{end!r}")
            continue
        where = f"span {n} [{start},{end}) {label}"
        if label not in LABELS:
            problems.append(f"{where}: unknown label {label!r} (expected one of {', '.join(LABELS)})")
        if not 0 <= start < end <= len(text):
            problems.append(f"{where}: offsets outside 0 <= start < end <= {len(text)}")
            continue
        if "text" in span and text[start:end] != span["text"]:
            problems.append(f"{where}: span text {span['text']!r} != text[{start}:{end}] {text[start:end]!r}")
        good.append((start, end, n))
    good.sort()
    for (s1, e1, n1), (s2, e2, n2) in zip(good, good[1:]):
        if s2 < e1:
            problems.append(f"span {n1} [{s1},{e1}) overlaps span {n2} [{s2},{e2})")
    return problems


def record_spans(record: dict, require_text: bool = False) -> list[Span]:
    """The record's spans as sorted ``Span`` objects; raises ``ValueError`` naming the first problem.

    Scoring and agreement need well-formed spans (IOB2 cannot hold overlaps), so they refuse bad input.
    """
    text = record.get("text")
    if not isinstance(text, str):
        raise ValueError(f"{record.get('id')}: text must be a string")
    problems = span_problems(text, record.get("spans", []), require_text=require_text)
    if problems:
        raise ValueError(f"{record.get('id')}: {problems[0]}")
    return sorted(
        Span(s["start"], s["end"], s["label"], text[s["start"] : s["end"]], s.get("score"))
        for s in record.get("spans", [])
    )


def record_problems(record: dict, sentences_by_id: Mapping[str, Sentence], require_in_corpus: bool = True) -> list[str]:
    """Problems with one record on its own (keys, corpus match, spans).

    ``require_in_corpus=False`` accepts text from outside the corpus (Label Studio tasks of new gazettes)
    and still checks corpus sentences against the corpus."""
    missing = [key for key in REQUIRED_KEYS if key not in record]
    if missing:
        return [f"missing key(s) {', '.join(missing)}"]
    not_strings = [key for key in ("id", "doc_id", "text") if not isinstance(record[key], str)]
    if not_strings:
        return [f"{', '.join(not_strings)} must be string(s)"]
    text = record["text"]
    problems: list[str] = []
    sentence = sentences_by_id.get(record["id"])
    if sentence is None:
        if require_in_corpus:
            problems.append("id not found in the corpus sentences")
    else:
        if record["doc_id"] != sentence.doc_id:
            problems.append(f"doc_id {record['doc_id']!r} != corpus doc_id {sentence.doc_id!r}")
        if text != sentence.text:
            i = _first_difference(text, sentence.text)
            problems.append(
                f"text differs from the corpus sentence at character {i}: {text[i:i + 10]!r} vs {sentence.text[i:i + 10]!r}"
            )
    for key in ("source", "annotator"):
        if not isinstance(record[key], str) or not record[key].strip():
            problems.append(f"{key} must be a non-empty string")
    if record["spec_version"] != SPEC_VERSION:
        problems.append(f"spec_version {record['spec_version']!r} is not the current {SPEC_VERSION!r}")
    problems.extend(span_problems(text, record["spans"]))
    return problems


def validate_records(
    records: Sequence[dict],
    sentences_by_id: Mapping[str, Sentence],
    locations: Sequence[str] | None = None,
    require_in_corpus: bool = True,
) -> list[str]:
    """All problems in a set of records, one line each: ``location: id: problem``.

    ``locations`` (e.g. ``"train.jsonl:12"``) default to ``record N``; ids must be unique across
    the whole set, so pass every gold file's records together.
    """
    if locations is None:
        locations = [f"record {n}" for n in range(1, len(records) + 1)]
    problems: list[str] = []
    first_seen: dict[str, str] = {}
    for record, where in zip(records, locations, strict=True):
        rid = record.get("id")
        for problem in record_problems(record, sentences_by_id, require_in_corpus):
            problems.append(f"{where}: {rid if isinstance(rid, str) else '?'}: {problem}")
        if isinstance(rid, str):
            if rid in first_seen:
                problems.append(f"{where}: {rid}: duplicate id (first at {first_seen[rid]})")
            else:
                first_seen[rid] = where
    return problems


def load_sentences(path: str | Path) -> dict[str, Sentence]:
    """The corpus sentences by id."""
    return {s.id: s for s in (Sentence.from_json(r) for r in read_jsonl(path))}


def read_records_with_locations(paths: Sequence[Path]) -> tuple[list[dict], list[str], list[str]]:
    """Records and their ``file:line`` locations; malformed lines become problems instead of stopping.

    ``read_jsonl`` stops at the first bad line, which would hide every later problem, so lines are
    parsed one by one here with the same wording.
    """
    records: list[dict] = []
    locations: list[str] = []
    problems: list[str] = []
    for path in paths:
        with path.open(encoding="utf-8") as handle:
            for lineno, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    problems.append(f"{path}:{lineno}: malformed JSON ({exc.msg})")
                    continue
                if not isinstance(record, dict):
                    problems.append(f"{path}:{lineno}: expected a JSON object, got {type(record).__name__}")
                    continue
                records.append(record)
                locations.append(f"{path}:{lineno}")
    return records, locations, problems


def validate_files(paths: Sequence[Path], sentences_by_id: Mapping[str, Sentence]) -> list[str]:
    """Problems across gold files in file and line order (duplicate ids are checked across all files)."""
    records, locations, problems = read_records_with_locations(paths)
    order = {str(path): n for n, path in enumerate(paths)}

    def position(problem: str) -> tuple[int, int]:
        path, _, line = problem.split(": ", 1)[0].rpartition(":")
        return order[path], int(line)

    return sorted(problems + validate_records(records, sentences_by_id, locations), key=position)


def _first_difference(a: str, b: str) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def run(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.files] or sorted(Path().glob(DEFAULT_GOLD_GLOB))
    if not paths:
        print(f"error: no gold files given and none match {DEFAULT_GOLD_GLOB}", file=sys.stderr)
        return 1
    for path in [*paths, Path(args.sentences)]:
        if not path.is_file():
            print(f"error: {path}: file not found", file=sys.stderr)
            return 1
    try:
        sentences = load_sentences(args.sentences)
    except (RecordError, TypeError) as exc:
        print(f"error: {args.sentences}: {exc}", file=sys.stderr)
        return 1
    problems = validate_files(paths, sentences)
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problem(s) in {len(paths)} file(s)", file=sys.stderr)
    return 1 if problems else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("validate", help="check gold files against the corpus and the spec")
    parser.add_argument("files", nargs="*", help=f"annotation files (default: {DEFAULT_GOLD_GLOB})")
    parser.add_argument("--sentences", default=DEFAULT_SENTENCES, help="corpus sentences (default: %(default)s)")
    parser.set_defaults(func=run)

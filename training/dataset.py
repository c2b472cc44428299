"""`gazette-ner dataset build`: gold and silver sentence records -> a `datasets.DatasetDict` on disk.

One row per sentence with its characters as ``tokens`` and one IOB2 tag per character, so the
dataset reads like any Hugging Face NER set; the original spans and provenance stay alongside.
The dataset card (README.md) records the label set, per-split figures and where the labels came from.
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from datasets import ClassLabel, Dataset, DatasetDict, Features, List, Value

from annotation.labels import IOB2_TAGS, LABELS, SPEC_VERSION, spans_to_iob2
from annotation.validate import record_spans
from corpus.jsonl import RecordError, read_jsonl, write_text_atomic
from training.config import REPO_ROOT

GOLD_SPLITS = ("train", "dev", "test")
SILVER_NOTE = (
    "The `silver` split is labelled automatically: train on it as extra data only, never evaluate on it. "
    "It leaves out the documents of dev and test ({dropped} sentences)."
)

FEATURES = Features(
    {
        "id": Value("string"),
        "doc_id": Value("string"),
        "tokens": List(Value("string")),
        "ner_tags": List(ClassLabel(names=list(IOB2_TAGS))),
        "spans": List(
            {"start": Value("int32"), "end": Value("int32"), "label": Value("string"), "text": Value("string")}
        ),
        "source": Value("string"),
        "annotator": Value("string"),
    }
)


def record_row(record: dict, where: str) -> dict:
    """One dataset row from a gold/silver sentence record; bad records raise naming ``where``."""
    for key in ("id", "doc_id", "text", "spans"):
        if key not in record:
            raise RecordError(f"{where}: missing key {key!r}")
    try:
        spans = record_spans(record, require_text=True)
    except ValueError as exc:
        raise RecordError(f"{where}: {exc}") from None
    text = record["text"]
    tag_index = {tag: i for i, tag in enumerate(IOB2_TAGS)}
    return {
        "id": str(record["id"]),
        "doc_id": str(record["doc_id"]),
        "tokens": list(text),
        "ner_tags": [tag_index[t] for t in spans_to_iob2(len(text), spans)],
        "spans": [{"start": s.start, "end": s.end, "label": s.label, "text": s.text} for s in spans],
        "source": str(record.get("source", "")),
        "annotator": str(record.get("annotator", "")),
    }


def read_rows(path: Path) -> list[dict]:
    rows = []
    for lineno, record in enumerate(read_jsonl(path), 1):
        rows.append(record_row(record, f"{path}:{lineno}"))
    return rows


def check_disjoint(splits: dict[str, list[dict]]) -> None:
    """A document in two gold splits would leak test sentences into training."""
    owner: dict[str, str] = {}
    for name, rows in splits.items():
        if name == "silver":
            continue
        for row in rows:
            previous = owner.setdefault(row["doc_id"], name)
            if previous != name:
                raise RecordError(f"document {row['doc_id']} appears in both {previous} and {name}")


def split_statistics(rows: list[dict]) -> dict:
    labels = Counter(span["label"] for row in rows for span in row["spans"])
    return {
        "sentences": len(rows),
        "documents": len({row["doc_id"] for row in rows}),
        "characters": sum(len(row["tokens"]) for row in rows),
        "entities": sum(labels.values()),
        "labels": {label: labels.get(label, 0) for label in LABELS},
        "sources": dict(Counter(row["source"] for row in rows).most_common()),
        "annotators": dict(Counter(row["annotator"] for row in rows).most_common()),
    }


def dataset_card(splits: dict[str, list[dict]], inputs: dict[str, list[Path]], silver_dropped: int = 0) -> str:
    """README.md of the dataset: what the labels are, how much of each, and who made them."""
    stats = {name: split_statistics(rows) for name, rows in splits.items()}
    names = list(splits)
    header = "| | " + " | ".join(names) + " |\n|---|" + "---:|" * len(names)
    rows = [
        f"| {key} | " + " | ".join(str(stats[n][key]) for n in names) + " |"
        for key in ("documents", "sentences", "characters", "entities")
    ]
    rows += [f"| {label} | " + " | ".join(str(stats[n]["labels"][label]) for n in names) + " |" for label in LABELS]
    provenance = []
    for name in names:
        sources = ", ".join(f"{k or '(none)'}: {v}" for k, v in stats[name]["sources"].items())
        annotators = ", ".join(f"{k or '(none)'}: {v}" for k, v in stats[name]["annotators"].items())
        files = ", ".join(f"`{p.relative_to(REPO_ROOT) if p.is_relative_to(REPO_ROOT) else p}`" for p in inputs[name])
        provenance.append(f"- **{name}** (from {files}): sources {sources or '-'}; annotators {annotators or '-'}")
    return f"""---
language: zh
task_categories: [token-classification]
task_ids: [named-entity-recognition]
pretty_name: gazette-ner
---

# gazette-ner: entities in Chinese government gazettes

Sentences from Chinese government gazettes and work plans with character-level entity labels
following annotation spec v{SPEC_VERSION} (`../shared/ANNOTATION_SPEC.md`). Built with
`gazette-ner dataset build`; load with `datasets.load_from_disk`.

## Labels

{", ".join(LABELS)}, tagged IOB2 per character: `ner_tags` uses {len(IOB2_TAGS)} classes
({", ".join(IOB2_TAGS)}).

## Columns

- `id`, `doc_id`: sentence and document ids of the processed corpus
- `tokens`: the sentence's characters (code points; spaces kept, so `"".join(tokens)` is the text)
- `ner_tags`: one IOB2 class per character
- `spans`: the entity spans, character offsets, end exclusive
- `source`, `annotator`: how the labels were made and by whom

Gold splits are split by document (no document is in two of train, dev, test).
{SILVER_NOTE.format(dropped=silver_dropped) if "silver" in splits else ""}

## Statistics

{header}
{chr(10).join(rows)}

## Provenance

{chr(10).join(provenance)}
"""


def build_dataset(gold_dir: Path, silver_dir: Path | None) -> tuple[DatasetDict, str]:
    """The DatasetDict of the gold splits (and silver, if any) and its dataset card."""
    splits: dict[str, list[dict]] = {}
    inputs: dict[str, list[Path]] = {}
    for name in GOLD_SPLITS:
        path = gold_dir / f"{name}.jsonl"
        if not path.is_file():
            raise RecordError(f"{path}: gold split file not found")
        splits[name], inputs[name] = read_rows(path), [path]
    check_disjoint(splits)
    silver_files = sorted(silver_dir.glob("*.jsonl")) if silver_dir and silver_dir.is_dir() else []
    dropped = 0
    if silver_files:
        # silver text of dev/test documents would leak evaluation sentences into training
        held_out = {row["doc_id"] for name in ("dev", "test") for row in splits[name]}
        silver = [row for path in silver_files for row in read_rows(path)]
        splits["silver"] = [row for row in silver if row["doc_id"] not in held_out]
        dropped = len(silver) - len(splits["silver"])
        inputs["silver"] = silver_files
    dataset = DatasetDict({name: Dataset.from_list(rows, features=FEATURES) for name, rows in splits.items()})
    return dataset, dataset_card(splits, inputs, dropped)


def run(args: argparse.Namespace) -> int:
    try:
        dataset, card = build_dataset(args.gold.resolve(), args.silver.resolve() if args.silver else None)
    except RecordError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    output = args.output.resolve()
    dataset.save_to_disk(str(output))
    write_text_atomic(output / "README.md", card)
    sizes = ", ".join(f"{name} {len(split)}" for name, split in dataset.items())
    print(f"wrote {output} ({sizes} sentences)")
    return 0


if __name__ == "__main__":
    from training.cli import main_for

    sys.exit(main_for("dataset build"))

"""`gazette-ner release`: publish a fine-tuned tagger to models/release/<name>/.

A release is what `predict` loads by default: fp16 safetensors (small enough to commit), tokenizer,
label map, the training config and metrics, and a model card with the test scores and the commands
that reproduced them. A release replaces the previous one only if its test micro-F1 is higher.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from corpus.jsonl import write_text_atomic

ROOT = Path(__file__).resolve().parent.parent
RELEASE_ROOT = ROOT / "models" / "release"
MAX_MB = 25
COPIED = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "labels.json",
          "train_config.yaml", "metrics.json")


def _table(per_label: dict) -> str:
    rows = ["| label | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
    for label, row in per_label.items():
        rows.append(f"| {label} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | {row['support']} |")
    return "\n".join(rows)


def model_card(
    name: str, scores: dict, train_metrics: dict, commands: list[str], size_mb: float, rule_features: bool = False,
    normalisation: int = 1,
) -> str:
    micro = scores["micro"]
    mapped = "full-width forms to ASCII" + (", letters lower-cased, curly quotes and long dashes to ASCII"
                                            if normalisation >= 2 else "")
    features = ("\nIt also reads the rule pre-annotator's tag of every token (`annotation/rules.py`, whose lexicons hold no\n"
                "name known only from dev/test documents); `Tagger` runs the rules on each sentence before tagging.")
    return f"""---
language: zh
license: apache-2.0
library_name: transformers
pipeline_tag: token-classification
tags: [ner, chinese, government-documents, gazette-ner]
---

# {name}

Entity tagger for Chinese government gazettes and work plans: AGENCY, INDICATOR, AMOUNT, DATE,
LOCATION, POLICY (annotation spec v1.2, character-level IOB2). A small BERT (`models/base/gazette-bert-small`,
pretrained here with masked LM on public government text) fine-tuned on the project's gold corpus.{features if rule_features else ""}
{size_mb:.1f} MB of fp16 weights; load with `models.predict.Tagger.load(path)` or `gazette-ner predict --model`.

## Data

Gold splits {' + '.join(train_metrics.get('train_splits', ['train']))} of the project corpus (every sentence read and
annotated against the spec, then reviewed: `annotation/gold/provenance/`); the number of epochs was chosen
by early stopping on dev. Scores below are on the test split (732 sentences, 8 documents never seen in
training or pretraining).

## Test scores (seqeval strict IOB2, entity level)

micro P {micro['precision']:.3f} R {micro['recall']:.3f} **F1 {micro['f1']:.3f}**; macro F1 {scores['macro']['f1']:.3f}.

{_table(scores['per_label'])}

Dev F1 at the selected checkpoint: {train_metrics.get('dev', {}).get('f1', float('nan')):.4f}
(not held out when dev is among the training splits).

## Reproduce

```bash
{chr(10).join(commands)}
```

## Limits

Trained on five sources (六盘水, 2022 anonymised work plans, 本溪, 衡阳, 沅江) and their styles; rare labels
(INDICATOR, LOCATION) have few examples and the lowest scores. Before tagging, text is normalised one
character for one (`corpus/normalise.py` version {normalisation}: {mapped}), so offsets still point into the
original text.
"""


def release(model_dir: Path, name: str, scores: dict, commands: list[str], force: bool = False) -> Path:
    import torch  # here, not at module level: `gazette-ner --help` registers this module

    from training.modeling import load_token_classifier

    target = RELEASE_ROOT / name
    previous = target / "release.json"
    if previous.exists() and not force:
        best = json.loads(previous.read_text(encoding="utf-8"))["test_micro_f1"]
        if scores["micro"]["f1"] <= best:
            raise ValueError(f"test micro-F1 {scores['micro']['f1']:.4f} does not improve on the release's {best:.4f}")
    model = load_token_classifier(str(model_dir)).to(torch.float16)
    staging = RELEASE_ROOT / f".{name}.staging"
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging, safe_serialization=True)
    for file in COPIED:
        if (model_dir / file).exists():
            shutil.copy2(model_dir / file, staging / file)
    size_mb = (staging / "model.safetensors").stat().st_size / 2**20
    if size_mb > MAX_MB:
        shutil.rmtree(staging)
        raise ValueError(f"{model_dir}: {size_mb:.1f} MB of weights, over the {MAX_MB} MB release limit")
    train_metrics = json.loads((model_dir / "metrics.json").read_text(encoding="utf-8")) \
        if (model_dir / "metrics.json").exists() else {}
    write_text_atomic(staging / "README.md", model_card(
        name, scores, train_metrics, commands, size_mb, getattr(model.config, "rule_features", False),
        getattr(model.config, "text_normalisation", 1)))
    write_text_atomic(staging / "release.json", json.dumps(
        {"name": name, "test_micro_f1": scores["micro"]["f1"],
         "test": {key: scores[key] for key in ("micro", "macro", "per_label") if key in scores}, "commands": commands},
        ensure_ascii=False, indent=1) + "\n")
    for path in staging.iterdir():
        path.chmod(0o644)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("release", help="publish a fine-tuned tagger to models/release/NAME (fp16)")
    parser.add_argument("model", type=Path, help="fine-tuned model folder (gazette-ner train output)")
    parser.add_argument("--name", required=True)
    parser.add_argument("--metrics", type=Path, required=True, help="metrics.json of `gazette-ner evaluate --split test`")
    parser.add_argument("--command", action="append", default=[], help="a command that reproduces it (repeatable)")
    parser.add_argument("--force", action="store_true", help="replace the release even without a better test F1")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        scores = json.loads(args.metrics.read_text(encoding="utf-8"))
        target = release(args.model, args.name, scores, args.command, args.force)
    except (OSError, ValueError, KeyError) as exc:
        print(f"release: {exc}", file=sys.stderr)
        return 1
    print(f"released {target}")
    return 0

"""`gazette-ner ls suggest` and `ls simulate`: which sentences annotators should label next.

Uncertainty is the least confident token's CRF marginal (``Tagger.confidences``); a diversity guard
skips a candidate whose character-bigram TF-IDF cosine to an already chosen one exceeds a threshold,
so a batch is not ten copies of the same boilerplate clause.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

from annotation.labelstudio.cli import PROCESSED, REPO_ROOT, guarded, read_records


def select(texts: list[str], confidences: list[float], k: int, max_similarity: float = 0.7) -> list[int]:
    """Indices of up to ``k`` texts, least confident first, none too similar to an earlier pick."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    order = sorted(range(len(texts)), key=lambda i: (confidences[i], i))
    if not order:
        return []
    vectors = TfidfVectorizer(analyzer="char", ngram_range=(2, 2)).fit_transform(texts)
    chosen: list[int] = []
    for i in order:
        if len(chosen) == k:
            break
        if chosen and (vectors[chosen] @ vectors[i].T).max() > max_similarity:
            continue
        chosen.append(i)
    return chosen


def register(subparsers: argparse._SubParsersAction) -> None:
    suggest = subparsers.add_parser("suggest", help="push the N sentences the model is least sure of, with its pre-labels")
    suggest.add_argument("--k", type=int, default=50, help="batch size (default 50)")
    suggest.add_argument("--model", help="tagger folder (default: the released model)")
    suggest.add_argument("--pool", type=Path, default=PROCESSED / "sentences.jsonl",
                         help="JSONL of {id, text} candidates (default: the corpus sentences)")
    suggest.add_argument("--split", choices=("train", "dev", "test"), help="only this split's documents")
    suggest.add_argument("--max-similarity", type=float, default=0.7, help="diversity guard (TF-IDF cosine)")
    suggest.add_argument("--project", default="gazette-ner")
    suggest.add_argument("--dry-run", action="store_true", help="print the batch instead of pushing it")
    suggest.set_defaults(func=_suggest)

    simulate = subparsers.add_parser("simulate", help="learning curves on gold data: uncertainty vs random selection")
    simulate.add_argument("--config", type=Path, default=REPO_ROOT / "configs" / "ner-small.yaml")
    simulate.add_argument("--seed-size", type=int, default=200)
    simulate.add_argument("--step", type=int, default=200)
    simulate.add_argument("--rounds", type=int, default=4)
    simulate.add_argument("--epochs", type=float, default=8)
    simulate.add_argument("--output", type=Path, default=REPO_ROOT / "evaluation" / "results" / "active-learning")
    simulate.set_defaults(func=_simulate)


@guarded
def _suggest(args: argparse.Namespace) -> int:
    from annotation.labelstudio.client import connect
    from annotation.labelstudio.interface import prediction, to_task
    from annotation.labelstudio.project import ensure_project, existing_ref_ids, push_tasks
    from models.predict import Tagger

    pool = read_records(args.pool, args.split)
    client = None
    if not args.dry_run:
        client = connect()
        project, _ = ensure_project(client, args.project)
        have = existing_ref_ids(client, project)
        pool = [r for r in pool if r["id"] not in have]  # already a task: labelled or queued
    tagger = Tagger.load(args.model)
    texts = [r["text"] for r in pool]
    picked = select(texts, tagger.confidences(texts), args.k, args.max_similarity)
    batch = [pool[i] for i in picked]
    version = Path(str(args.model or tagger.model.name_or_path)).name
    spans = tagger.tag_segments([r["text"] for r in batch])
    tasks = [to_task(r, [prediction(r["text"], s, version)]) for r, s in zip(batch, spans)]
    if args.dry_run:
        for task in tasks:
            print(f"{task['predictions'][0]['score']:.3f}\t{task['data']['ref_id']}\t{task['data']['text'][:60]}")
        return 0
    result = push_tasks(client, project, tasks)
    print(f"project {project}: pushed {result['imported']} least-confident task(s) of {len(pool)} candidates",
          file=sys.stderr)
    return 0


def simulate(config_path: Path, seed_size: int, step: int, rounds: int, epochs: float, work: Path,
             dataset: Path | None = None) -> dict:
    """Learning curves: fine-tune on growing subsets of the gold train split, chosen at random or by
    uncertainty (the model of the previous round ranks the rest), scored on the dev split.
    ``dataset`` replaces the config's dataset folder."""
    from datasets import load_from_disk

    from models.predict import Tagger
    from training.config import FinetuneConfig, load_config
    from training.finetune import finetune

    config = load_config(config_path, FinetuneConfig)
    data = load_from_disk(str(dataset or config.dataset))
    train = data["train"]
    texts = ["".join(tokens) for tokens in train["tokens"]]
    rng = random.Random(13)
    seed = rng.sample(range(len(texts)), seed_size)
    curves: dict[str, list[dict]] = {"random": [], "uncertainty": []}
    labelled = {name: list(seed) for name in curves}
    for round_ in range(rounds + 1):
        for strategy in curves:
            if round_ == 0 and strategy == "uncertainty":  # both curves start from the same seed model
                model_dir = work / "random-0" / "model"
                curves[strategy].append(dict(curves["random"][0]))
            else:
                subset = work / f"{strategy}-{round_}"
                model_dir = subset / "model"
                type(data)({"train": train.select(labelled[strategy]), "dev": data["dev"]}).save_to_disk(str(subset / "dataset"))
                metrics = finetune(load_config(config_path, FinetuneConfig, {
                    "dataset": str(subset / "dataset"), "train_splits": ["train"], "eval_split": "dev",
                    "training.num_train_epochs": epochs, "training.output_dir": str(subset / "run"),
                    "training.model_dir": str(model_dir), "training.save_total_limit": 1}))
                curves[strategy].append({"sentences": len(labelled[strategy]), "dev_f1": metrics["eval_f1"]})
            print(f"{strategy:12s} {len(labelled[strategy]):5d} sentences  dev F1 {curves[strategy][-1]['dev_f1']:.4f}",
                  file=sys.stderr)
            if round_ == rounds:
                continue
            taken = set(labelled[strategy])
            rest = [i for i in range(len(texts)) if i not in taken]
            if strategy == "random":
                labelled[strategy] += rng.sample(rest, step)
            else:
                candidates = [texts[i] for i in rest]
                picked = select(candidates, Tagger.load(model_dir).confidences(candidates), step)
                labelled[strategy] += [rest[i] for i in picked]
    return {"config": str(config_path), "seed_size": seed_size, "step": step, "epochs": epochs, "curves": curves}


def _simulate(args: argparse.Namespace) -> int:
    import logging

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from corpus.jsonl import write_text_atomic

    logging.basicConfig(level=logging.WARNING)
    result = simulate(args.config, args.seed_size, args.step, args.rounds, args.epochs, REPO_ROOT / "runs" / "active-learning")
    args.output.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.output / "curves.json", json.dumps(result, indent=2) + "\n")
    fig, ax = plt.subplots(figsize=(6, 4))
    for strategy, points in result["curves"].items():
        ax.plot([p["sentences"] for p in points], [p["dev_f1"] for p in points], marker="o", label=strategy)
    ax.set_xlabel("annotated sentences (gold train split)")
    ax.set_ylabel("dev entity F1 (seqeval strict)")
    ax.set_title("Active learning: least-confident + diversity vs random")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.output / "learning-curve.png", dpi=120)
    print(f"wrote {args.output / 'curves.json'} and learning-curve.png", file=sys.stderr)
    return 0

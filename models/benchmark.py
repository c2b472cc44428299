"""`gazette-ner benchmark`: our tagger against transformers' token-classification pipeline.

Both tag the same documents with the same model, each in its own process so that peak memory
(max RSS) is measured cleanly; the report gives characters per second, the ratio and peak memory.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEXTS = ROOT.parent / "shared" / "corpus" / "unlabeled" / "documents.jsonl"


def load_texts(path: Path, min_chars: int) -> list[str]:
    """Whole documents, in file order, until at least ``min_chars`` characters."""
    texts, total = [], 0
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            text = json.loads(line)["text"]
            texts.append(text)
            total += len(text)
            if total >= min_chars:
                break
    return texts


ENGINES = ("ours", "ours-onnx", "pipeline")


def run_engine(engine: str, model: str, texts: list[str], batch_size: int, threads: int) -> dict:
    import torch

    torch.set_num_threads(threads)
    start = time.perf_counter()
    if engine in ("ours", "ours-onnx"):
        from models.predict import Tagger

        tagger = Tagger.load(model, batch_size=batch_size, engine="onnx" if engine == "ours-onnx" else "torch")
        loaded = time.perf_counter()
        entities = sum(len(spans) for spans in tagger.tag(texts))
    else:
        from transformers import AutoModelForTokenClassification, AutoTokenizer, pipeline

        from models.predict import trained_window

        recipe = trained_window(model)  # the same window and stride as ours
        tokenizer = AutoTokenizer.from_pretrained(model, model_max_length=recipe["max_length"])
        tagger = pipeline("token-classification", model=AutoModelForTokenClassification.from_pretrained(model),
                          tokenizer=tokenizer, aggregation_strategy="simple", stride=recipe["stride"], device=-1)
        loaded = time.perf_counter()
        entities = sum(len(found) for found in tagger(texts, batch_size=batch_size))
    elapsed = time.perf_counter() - loaded
    characters = sum(len(t) for t in texts)
    return {"engine": engine, "documents": len(texts), "characters": characters, "entities": entities,
            "seconds": round(elapsed, 2), "load_seconds": round(loaded - start, 2),
            "chars_per_second": round(characters / elapsed, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("benchmark", help="throughput and peak memory: ours vs the transformers pipeline")
    parser.add_argument("--model", default=None, help="model folder (default: the released model)")
    parser.add_argument("--texts", type=Path, default=DEFAULT_TEXTS, help="JSONL with a 'text' field per document")
    parser.add_argument("--min-chars", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--engine", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from models.predict import default_model_dir

    model = str(args.model or default_model_dir())
    texts = load_texts(args.texts, args.min_chars)
    if args.engine:  # one engine, in this process (called by the parent below)
        print(json.dumps(run_engine(args.engine, model, texts, args.batch_size, args.threads)))
        return 0
    results = []
    for engine in ENGINES:
        command = [sys.executable, "-m", "gazette_ner", "benchmark", "--engine", engine, "--model", model,
                   "--texts", str(args.texts), "--min-chars", str(args.min_chars),
                   "--batch-size", str(args.batch_size), "--threads", str(args.threads)]
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        if done.returncode != 0:
            print(f"benchmark: the {engine} run failed: {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
            return 1
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    by_engine = {run["engine"]: run for run in results}
    pipe = by_engine["pipeline"]["chars_per_second"]
    summary = {"model": model, "runs": results,
               "speedup": round(by_engine["ours"]["chars_per_second"] / pipe, 2),
               "speedup_onnx": round(by_engine["ours-onnx"]["chars_per_second"] / pipe, 2)}
    for run in results:
        print(f"{run['engine']:9s} {run['characters']} chars in {run['seconds']} s: {run['chars_per_second']} chars/s, "
              f"peak RSS {run['peak_rss_mb']} MB, {run['entities']} entities")
    print(f"speed-up over the pipeline: {summary['speedup']}x (torch), {summary['speedup_onnx']}x (ONNX int8)")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return 0

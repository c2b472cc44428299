"""Masked-LM pretraining of a small Chinese BERT on government text.

    PYTHONPATH=. python3 -m training.pretrain --config configs/pretrain-small.yaml
    gazette-ner pretrain --config configs/pretrain-small.yaml [--max-steps N] [--output-dir DIR]

Runs resume from the last checkpoint in the output directory. At the end the model is
saved in fp16 with its tokenizer and a model card in the release directory.
"""
from __future__ import annotations

import argparse
import importlib.util
import logging
import math
import sys
from datetime import datetime, timezone
from pathlib import Path

import torch
from transformers import AutoTokenizer, BertConfig, Trainer, TrainingArguments, set_seed
from transformers.trainer_utils import get_last_checkpoint

from corpus.jsonl import RecordError, write_text_atomic
from training.config import REPO_ROOT, ConfigError, PretrainConfig, dump_config, load_config
from training.data import (
    PretrainCorpus,
    TextDocument,
    build_collator,
    build_corpus,
    read_text_documents,
    train_split_documents,
)
from training.modeling import MaskedPositionsBertForMaskedLM, plain_masked_lm

log = logging.getLogger(__name__)


def collect_documents(config: PretrainConfig) -> list[TextDocument]:
    """All pretraining documents: the unlabelled sources plus the train split of the project corpus."""
    data = config.data
    documents = []
    for path in data.unlabeled:
        documents += read_text_documents(path, data.max_documents)
    if not data.unlabeled_only:
        documents += train_split_documents(data.processed_documents, data.splits)[: data.max_documents]
    return documents


def mixed_precision(choice: str) -> dict[str, bool]:
    """bf16 where the GPU has it, fp16 on older GPUs, fp32 on CPU."""
    if choice == "auto":
        if not torch.cuda.is_available():
            choice = "fp32"
        else:
            choice = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return {"bf16": choice == "bf16", "fp16": choice == "fp16"}


def build_model(config: PretrainConfig, vocab_size: int, pad_token_id: int) -> MaskedPositionsBertForMaskedLM:
    bert_config = BertConfig(vocab_size=vocab_size, pad_token_id=pad_token_id, **config.model.model_dump())
    return MaskedPositionsBertForMaskedLM(bert_config)


def training_arguments(config: PretrainConfig) -> TrainingArguments:
    t = config.training
    return TrainingArguments(
        output_dir=str(t.output_dir),
        max_steps=t.max_steps,
        per_device_train_batch_size=t.per_device_batch_size,
        per_device_eval_batch_size=t.per_device_batch_size,
        gradient_accumulation_steps=t.gradient_accumulation_steps,
        learning_rate=t.learning_rate,
        weight_decay=t.weight_decay,
        warmup_steps=t.warmup_steps,
        lr_scheduler_type=t.lr_scheduler_type,
        max_grad_norm=t.max_grad_norm,
        seed=t.seed,
        logging_steps=t.logging_steps,
        eval_strategy="steps",
        eval_steps=t.eval_steps,
        save_strategy="steps",
        save_steps=t.save_steps,
        save_total_limit=t.save_total_limit,
        prediction_loss_only=True,
        dataloader_num_workers=t.dataloader_num_workers,
        dataloader_pin_memory=torch.cuda.is_available(),
        torch_compile=t.torch_compile,
        report_to=["tensorboard"] if importlib.util.find_spec("tensorboard") else [],
        **mixed_precision(t.precision),
    )


def model_card(config: PretrainConfig, stats: dict, metrics: dict, steps: int, parameters: int) -> str:
    """README.md of the released model: what it is, what it saw, how well it predicts masked text."""
    m, t, d = config.model, config.training, config.data
    loss = metrics["eval_loss"]
    where = t.release_dir.relative_to(REPO_ROOT) if t.release_dir.is_relative_to(REPO_ROOT) else t.release_dir.name
    rows = "\n".join(f"| {key} | {value} |" for key, value in stats.items())
    return f"""---
language: zh
license: apache-2.0
library_name: transformers
pipeline_tag: fill-mask
tags: [bert, chinese, government-documents, gazette-ner]
---

# {config.name}

A small Chinese BERT ({m.num_hidden_layers} layers, hidden {m.hidden_size}, {m.num_attention_heads} heads,
intermediate {m.intermediate_size}; {parameters / 1e6:.1f}M parameters) pretrained from random initialisation
with masked language modelling on Chinese government text, as the base encoder for the
gazette-ner entity tagger. Vocabulary: bert-base-chinese (21,128 entries), so the model is
interchangeable with bert-base-chinese in every gazette-ner config.

## Training

- Objective: masked LM, {d.mlm_probability:.0%} of tokens selected (80% [MASK], 10% random, 10% kept);
  loss computed only at the selected positions.
- Data: `../shared/corpus/unlabeled` (public government documents and web-page excerpts)
  {"only" if d.unlabeled_only else "plus the train split of the project corpus (dev and test documents excluded)"};
  documents cut at sentence ends into blocks of at most {d.seq_len} tokens.
  {d.holdout_fraction:.0%} of the documents were held out for evaluation.
- Optimisation: AdamW, learning rate {t.learning_rate:g}, {t.warmup_steps} warm-up steps, {t.lr_scheduler_type} decay,
  weight decay {t.weight_decay:g}, batch size {t.per_device_batch_size} x {t.gradient_accumulation_steps} accumulation
  per device, seed {t.seed}, {steps} optimisation steps.
- Finished {datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}; weights stored in float16.

| data | value |
|---|---|
{rows}

## Evaluation

Held-out masked-LM loss (masks drawn once with the seed, same positions at every evaluation):
**{loss:.4f}**, perplexity **{math.exp(loss):.2f}**.

## Use

```python
from transformers import AutoModelForTokenClassification, AutoTokenizer
tokenizer = AutoTokenizer.from_pretrained("{where}")
model = AutoModelForTokenClassification.from_pretrained("{where}", num_labels=13, dtype="float32")
```

Made with `gazette-ner pretrain --config <config>`; the resolved config is `pretrain_config.yaml`.
The text is official documents of Chinese state organs and public web pages; the model has
seen no annotations.
"""


def release(trainer: Trainer, tokenizer, config: PretrainConfig, corpus: PretrainCorpus, metrics: dict) -> Path:
    """Save the final model as a stock fp16 BertForMaskedLM with tokenizer, config and model card."""
    target = config.training.release_dir
    target.mkdir(parents=True, exist_ok=True)
    model = plain_masked_lm(trainer.model).to(torch.float16)
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)
    parameters = sum(p.numel() for p in model.parameters())
    write_text_atomic(target / "pretrain_config.yaml", dump_config(config))
    write_text_atomic(
        target / "README.md", model_card(config, corpus.stats, metrics, trainer.state.global_step, parameters)
    )
    return target


def pretrain(config: PretrainConfig) -> dict:
    """Train (or resume), evaluate on the held-out blocks, release; returns the final metrics."""
    set_seed(config.training.seed)
    tokenizer = AutoTokenizer.from_pretrained(str(config.tokenizer))
    documents = collect_documents(config)
    corpus = build_corpus(
        documents,
        tokenizer,
        config.data.seq_len,
        config.data.holdout_fraction,
        config.data.mlm_probability,
        config.training.seed,
    )
    log.info("pretraining data: %s", corpus.stats)
    model = build_model(config, len(tokenizer), tokenizer.pad_token_id)
    trainer = Trainer(
        model=model,
        args=training_arguments(config),
        data_collator=build_collator(tokenizer, config.data.mlm_probability),
        train_dataset=corpus.train,
        eval_dataset=corpus.holdout,
        processing_class=tokenizer,
    )
    output_dir = config.training.output_dir
    last = get_last_checkpoint(str(output_dir)) if output_dir.is_dir() else None
    if last:
        log.info("resuming from %s", last)
    trainer.train(resume_from_checkpoint=last)
    metrics = trainer.evaluate()
    metrics["perplexity"] = math.exp(metrics["eval_loss"])
    trainer.log_metrics("eval", metrics)
    if trainer.is_world_process_zero():
        trainer.save_state()
        target = release(trainer, tokenizer, config, corpus, metrics)
        log.info("released %s (held-out loss %.4f, perplexity %.2f)",
                 target, metrics["eval_loss"], metrics["perplexity"])
    return metrics


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # paths given on the command line are relative to the working directory, not the repository
    output_dir = args.output_dir.resolve() if args.output_dir else None
    release_dir = args.release_dir.resolve() if args.release_dir else None
    if output_dir and not release_dir:
        release_dir = output_dir / "final"
    overrides = {
        "training.max_steps": args.max_steps,
        "training.output_dir": str(output_dir) if output_dir else None,
        "training.release_dir": str(release_dir) if release_dir else None,
    }
    try:
        config = load_config(args.config, PretrainConfig, overrides)
        pretrain(config)
    except (ConfigError, RecordError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    from training.cli import main_for

    sys.exit(main_for("pretrain"))

"""Fine-tune a BERT tagger on the gold dataset: `gazette-ner train --config configs/ner-small.yaml`.

Labels are aligned to subword tokens through the tokenizer's offsets (training.alignment);
long sentences become overlapping windows. Dev entity F1 is measured the way the evaluation
stage measures it: on characters, after windows are merged back into sentences, with seqeval
in strict IOB2 mode; training stops early when it stops improving, and the best checkpoint is
kept. The model folder holds model, tokenizer, label map, resolved config and dev metrics.
Multi-process runs work through torchrun (gloo on CPU, NCCL on GPUs).
"""
from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import logging
import sys
from dataclasses import dataclass

import torch
from datasets import load_from_disk
from seqeval.metrics import classification_report
from seqeval.scheme import IOB2
from transformers import (
    AutoConfig,
    AutoModelForTokenClassification,
    AutoTokenizer,
    BertConfig,
    BertForTokenClassification,
    DataCollatorForTokenClassification,
    EarlyStoppingCallback,
    EvalPrediction,
    PreTrainedTokenizerFast,
    Trainer,
    TrainingArguments,
    set_seed,
)

from annotation.labels import IOB2_TAGS, LABELS
from corpus.jsonl import RecordError, write_text_atomic
from corpus.normalise import NORMALISATION_VERSION
from training.alignment import Window, encode_windows, merge_windows
from training.config import ConfigError, FinetuneConfig, dump_config, load_config
from training.modeling import BertCrfForTokenClassification
from training.pretrain import mixed_precision
from training.rule_features import rule_tag_ids

log = logging.getLogger(__name__)

ID2LABEL = dict(enumerate(IOB2_TAGS))
LABEL2ID = {tag: i for i, tag in ID2LABEL.items()}


@dataclass
class EncodedSplit:
    """Model inputs of one split plus what is needed to map predictions back to characters."""

    texts: list[str]
    gold: list[list[str]]  # character IOB2 tags per sentence
    windows: list[Window]

    def features(self) -> list[dict[str, list[int]]]:
        return [
            {"input_ids": w.input_ids, "attention_mask": [1] * len(w.input_ids), "labels": w.labels}
            | ({"rule_ids": w.rule_ids} if w.rule_ids is not None else {})
            for w in self.windows
        ]


class RuleFeatureCollator(DataCollatorForTokenClassification):
    """DataCollatorForTokenClassification that also pads ``rule_ids`` (with O) to the batch width."""

    def torch_call(self, features: list[dict]) -> dict[str, torch.Tensor]:
        if "rule_ids" not in features[0]:
            return super().torch_call(features)
        batch = super().torch_call([{k: v for k, v in f.items() if k != "rule_ids"} for f in features])
        width = batch["input_ids"].shape[1]
        batch["rule_ids"] = torch.tensor([f["rule_ids"] + [0] * (width - len(f["rule_ids"])) for f in features])
        return batch


class WindowDataset(torch.utils.data.Dataset):
    def __init__(self, features: list[dict[str, list[int]]]):
        self.items = features

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, list[int]]:
        return self.items[index]


def encode_rows(
    rows: list[dict], tokenizer: PreTrainedTokenizerFast, max_length: int, stride: int, rule_features: bool = False
) -> EncodedSplit:
    """Dataset rows (``tokens`` = characters, ``ner_tags`` = class ids) -> windows with token labels
    (and the rules' tags when the model takes them as a feature)."""
    texts = ["".join(row["tokens"]) for row in rows]
    char_labels = [list(row["ner_tags"]) for row in rows]
    rules = rule_tag_ids(texts) if rule_features else None
    windows = encode_windows(texts, tokenizer, max_length, stride, char_labels, rules)
    gold = [[ID2LABEL[i] for i in labels] for labels in char_labels]
    return EncodedSplit(texts, gold, windows)


def entity_scores(gold: list[list[str]], predicted: list[list[str]]) -> dict[str, float]:
    """Strict IOB2 entity precision/recall/F1 (micro) and F1 per label."""
    report = classification_report(gold, predicted, mode="strict", scheme=IOB2, output_dict=True, zero_division=0)
    micro = report["micro avg"]
    scores = {"precision": micro["precision"], "recall": micro["recall"], "f1": micro["f1-score"]}
    for label in LABELS:
        scores[f"f1_{label}"] = report.get(label, {}).get("f1-score", 0.0)
    return {key: float(value) for key, value in scores.items()}


def predicted_tag_ids(logits: torch.Tensor | tuple, labels: torch.Tensor) -> torch.Tensor:
    """Keep only tag ids between evaluation batches: the CRF's Viterbi path, else the argmax."""
    if isinstance(logits, tuple):  # CrfTokenClassifierOutput: (emissions, tags)
        return logits[1]
    return logits.argmax(-1)


def metrics_function(split: EncodedSplit):
    """compute_metrics for the Trainer: merge window predictions into character tags and score them."""
    lengths = [len(text) for text in split.texts]

    def compute(prediction: EvalPrediction) -> dict[str, float]:
        ids = prediction.predictions
        token_tags = [
            [ID2LABEL.get(int(i), "O") for i in ids[k][: len(window.input_ids)]]
            for k, window in enumerate(split.windows)
        ]
        return entity_scores(split.gold, merge_windows(lengths, split.windows, token_tags))

    return compute


def build_model(config: FinetuneConfig, tokenizer: PreTrainedTokenizerFast) -> torch.nn.Module:
    """The base encoder with a fresh tagging head (softmax or CRF)."""
    head = {"num_labels": len(IOB2_TAGS), "id2label": ID2LABEL, "label2id": LABEL2ID}
    if config.classifier_dropout is not None:
        head["classifier_dropout"] = config.classifier_dropout
    random = config.base_model == "random"
    if random:
        bert = BertConfig(
            vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, **config.random_model.model_dump(), **head
        )
    else:
        bert = AutoConfig.from_pretrained(config.base_path, **head)
    bert.rule_features = config.rule_features  # read by the CRF model's constructor
    bert.text_normalisation = NORMALISATION_VERSION  # read by the Tagger, so old models keep their input
    if config.crf:
        model_class = BertCrfForTokenClassification
    else:
        model_class = BertForTokenClassification if random else AutoModelForTokenClassification
    # float32 explicitly: a base released in fp16 would otherwise be trained in fp16
    model = model_class(bert) if random else model_class.from_pretrained(config.base_path, config=bert, dtype=torch.float32)
    model.config.use_crf = config.crf
    return model


def training_arguments(config: FinetuneConfig) -> TrainingArguments:
    t = config.training
    return TrainingArguments(
        output_dir=str(t.output_dir),
        num_train_epochs=t.num_train_epochs,
        max_steps=t.max_steps,
        per_device_train_batch_size=t.per_device_train_batch_size,
        per_device_eval_batch_size=t.per_device_eval_batch_size,
        gradient_accumulation_steps=t.gradient_accumulation_steps,
        learning_rate=t.learning_rate,
        weight_decay=t.weight_decay,
        warmup_steps=t.warmup_ratio,  # a float below 1 is a fraction of the total steps
        lr_scheduler_type=t.lr_scheduler_type,
        max_grad_norm=t.max_grad_norm,
        seed=t.seed,
        data_seed=t.seed,
        eval_strategy=t.eval_strategy,
        eval_steps=t.eval_steps,
        save_strategy=t.eval_strategy if t.checks_dev else "epoch",
        save_steps=t.eval_steps,
        save_total_limit=t.save_total_limit,
        load_best_model_at_end=t.checks_dev,
        metric_for_best_model="f1" if t.checks_dev else None,
        greater_is_better=True,
        logging_steps=t.logging_steps,
        dataloader_num_workers=t.dataloader_num_workers,
        dataloader_pin_memory=torch.cuda.is_available(),
        report_to=["tensorboard"] if importlib.util.find_spec("tensorboard") else [],
        use_cpu=not torch.cuda.is_available(),  # lets torchrun run several CPU processes over gloo
        **_length_grouping(),
        **mixed_precision(t.precision),
    )


class SentenceOrderTrainer(Trainer):
    """Length-grouped batches for training only: the dev metrics read predictions back by window
    index, and recent transformers releases group evaluation batches by length too."""

    def _get_eval_sampler(self, eval_dataset):
        return torch.utils.data.SequentialSampler(eval_dataset)


def _length_grouping() -> dict:
    """Batch sentences of similar length (most are short): far less padding. The argument's name
    changed across transformers releases."""
    if "train_sampling_strategy" in inspect.signature(TrainingArguments).parameters:
        return {"train_sampling_strategy": "group_by_length"}
    return {"group_by_length": True}


def finetune(config: FinetuneConfig) -> dict[str, float]:
    """Train, keep the best dev checkpoint, save the tagger folder; returns its dev metrics."""
    set_seed(config.training.seed)
    tokenizer = AutoTokenizer.from_pretrained(str(config.tokenizer or config.base_path))
    if not tokenizer.is_fast:
        raise ConfigError(f"{config.tokenizer or config.base_path}: a fast tokenizer is needed for offsets")
    if not (config.dataset / "dataset_dict.json").is_file():
        raise ConfigError(f"{config.dataset}: no dataset here; build it with `gazette-ner dataset build`")
    dataset = load_from_disk(str(config.dataset))
    for name in [*config.train_splits, config.eval_split]:
        if name not in dataset:
            raise ConfigError(f"{config.dataset}: no split {name!r} (has {', '.join(dataset)})")
    train_rows = [row for name in config.train_splits for row in dataset[name]]
    train = encode_rows(train_rows, tokenizer, config.max_length, config.stride, config.rule_features)
    dev = encode_rows(list(dataset[config.eval_split]), tokenizer, config.max_length, config.stride, config.rule_features)
    log.info("train: %d sentences in %d windows; %s: %d sentences in %d windows",
             len(train.texts), len(train.windows), config.eval_split, len(dev.texts), len(dev.windows))
    trainer = SentenceOrderTrainer(
        model=build_model(config, tokenizer),
        args=training_arguments(config),
        data_collator=RuleFeatureCollator(tokenizer, pad_to_multiple_of=8),
        train_dataset=WindowDataset(train.features()),
        eval_dataset=WindowDataset(dev.features()),
        processing_class=tokenizer,
        compute_metrics=metrics_function(dev),
        preprocess_logits_for_metrics=predicted_tag_ids,
        callbacks=[EarlyStoppingCallback(early_stopping_patience=config.training.early_stopping_patience)]
        if config.training.checks_dev else [],
    )
    result = trainer.train()
    metrics = trainer.evaluate()
    target = config.training.model_dir
    trainer.save_model(str(target))
    if trainer.is_world_process_zero():
        summary = {
            "eval_split": config.eval_split,
            "train_splits": config.train_splits,
            "best_checkpoint": trainer.state.best_model_checkpoint,
            "global_step": trainer.state.global_step,
            "epochs": trainer.state.epoch,
            "train_loss": result.training_loss,
            "dev": {key.removeprefix("eval_"): value for key, value in metrics.items()},
        }
        write_text_atomic(target / "metrics.json", json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
        write_text_atomic(target / "labels.json", json.dumps(ID2LABEL, ensure_ascii=False, indent=2) + "\n")
        write_text_atomic(target / "train_config.yaml", dump_config(config))
        log.info("saved %s (dev entity F1 %.4f)", target, metrics["eval_f1"])
    return metrics



def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    output_dir = args.output_dir.resolve() if args.output_dir else None
    overrides = {
        "training.output_dir": str(output_dir) if output_dir else None,
        "training.model_dir": str(output_dir / "final") if output_dir else None,
        "training.max_steps": args.max_steps,
        "training.seed": args.seed,
        "training.num_train_epochs": args.epochs,
        "training.learning_rate": args.learning_rate,
    }
    try:
        finetune(load_config(args.config, FinetuneConfig, overrides))
    except (ConfigError, RecordError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    from training.cli import main_for

    sys.exit(main_for("train"))

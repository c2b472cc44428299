"""Masked-LM pretraining: the masked-only loss, block packing, and a tiny run that resumes."""
from __future__ import annotations

import json
import math

import pytest
import torch
from transformers import AutoModelForTokenClassification, AutoTokenizer, BertConfig, BertForMaskedLM

from training.config import REPO_ROOT, PretrainConfig, load_config
from training.data import (
    TextDocument,
    build_collator,
    build_corpus,
    holdout_split,
    pack_sentences,
    split_sentences,
    train_split_documents,
)
from training.modeling import MaskedPositionsBertForMaskedLM
from training.pretrain import pretrain

TINY_CONFIG = REPO_ROOT / "configs" / "pretrain-tiny-test.yaml"


@pytest.fixture(scope="module")
def tokenizer():
    return AutoTokenizer.from_pretrained(str(load_config(TINY_CONFIG, PretrainConfig).tokenizer))


def test_masked_only_loss_equals_full_logits_loss(tokenizer):
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    model = MaskedPositionsBertForMaskedLM(config).eval()
    texts = ["六盘水市人民政府关于印发大气污染防治行动计划的通知。", "2015年底前,全市PM10浓度下降16.7%以上。"]
    features = [{"input_ids": ids} for ids in tokenizer(texts)["input_ids"]]
    batch = build_collator(tokenizer, 0.3)(features)
    assert (batch["labels"] != -100).sum() > 0
    with torch.no_grad():
        masked_only = model(**batch)
        full = BertForMaskedLM.forward(model, **batch)
    assert masked_only.logits.shape[0] == int((batch["labels"] != -100).sum())
    assert full.logits.shape[:2] == batch["input_ids"].shape
    assert torch.isclose(masked_only.loss, full.loss, rtol=1e-5, atol=1e-6)


def test_masked_only_loss_without_masked_tokens_is_zero(tokenizer):
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64)
    model = MaskedPositionsBertForMaskedLM(config)
    ids = torch.tensor([tokenizer("国务院")["input_ids"]])
    out = model(input_ids=ids, labels=torch.full_like(ids, -100))
    assert out.loss.item() == 0.0


def test_pack_sentences_keeps_order_and_bounds():
    sentences = [[1] * 3, [2] * 4, [3] * 9, [4] * 2]
    blocks = pack_sentences(sentences, 5)
    assert all(len(b) <= 5 for b in blocks)
    assert [t for b in blocks for t in b] == [t for s in sentences for t in s]
    assert blocks[0] == [1, 1, 1]  # the second sentence does not fit after the first


def test_split_sentences_keeps_every_character():
    text = "一、总体要求\n到2017年底,全市空气质量明显好转;重污染天气大幅减少。其他"
    pieces = split_sentences(text)
    assert "".join(pieces) == text
    assert pieces[1].endswith(";") and pieces[2].endswith("。")


def test_holdout_is_deterministic_and_nonempty():
    assert holdout_split(100, 0.1, 42) == holdout_split(100, 0.1, 42)
    assert len(holdout_split(100, 0.1, 42)) == 10
    assert len(holdout_split(3, 0.01, 1)) == 1


def test_train_split_excludes_dev_and_test(tmp_path):
    docs = tmp_path / "documents.jsonl"
    docs.write_text("".join(json.dumps({"id": i, "text": f"文本{i}"}) + "\n" for i in ("a", "b", "c")), "utf-8")
    splits = tmp_path / "splits.json"
    splits.write_text(json.dumps({"train": ["a"], "dev": ["b"], "test": ["c"]}), "utf-8")
    assert [d.id for d in train_split_documents(docs, splits)] == ["a"]
    splits.write_text(json.dumps({"train": ["a", "b"], "dev": ["b"], "test": []}), "utf-8")
    with pytest.raises(ValueError, match="splits.json: documents in train and another split"):
        train_split_documents(docs, splits)


def test_holdout_masks_are_fixed(tokenizer):
    documents = [TextDocument(f"d{i}", "x", "本溪市人民政府办公室关于印发实施方案的通知。" * 5) for i in range(10)]
    first = build_corpus(documents, tokenizer, 32, 0.2, 0.15, seed=7)
    second = build_corpus(documents, tokenizer, 32, 0.2, 0.15, seed=7)
    assert first.holdout.features == second.holdout.features
    assert all(len(f["input_ids"]) <= 32 for f in first.train.features)
    assert first.stats["holdout_documents"] == 2


def test_tiny_pretraining_resumes_and_releases(tmp_path):
    overrides = {"training.output_dir": str(tmp_path / "run"), "training.max_steps": 2}
    metrics = pretrain(load_config(TINY_CONFIG, PretrainConfig, overrides))
    assert math.isfinite(metrics["eval_loss"])
    assert (tmp_path / "run" / "checkpoint-2").is_dir()

    overrides["training.max_steps"] = 4
    metrics = pretrain(load_config(TINY_CONFIG, PretrainConfig, overrides))
    state = json.loads((tmp_path / "run" / "trainer_state.json").read_text("utf-8"))
    assert state["global_step"] == 4
    # the resumed run logged only steps 3 and 4: steps 1 and 2 came from the checkpoint
    train_steps = [e["step"] for e in state["log_history"] if "loss" in e]
    assert train_steps == [1, 2, 3, 4]
    assert all(math.isfinite(e["loss"]) for e in state["log_history"] if "loss" in e)
    assert math.isfinite(metrics["eval_loss"])

    final = tmp_path / "run" / "final"
    card = (final / "README.md").read_text("utf-8")
    assert f"**{metrics['eval_loss']:.4f}**" in card and "4 optimisation steps" in card
    model = AutoModelForTokenClassification.from_pretrained(str(final), num_labels=13, dtype=torch.float32)
    assert model.config.num_hidden_layers == 2
    assert json.loads((final / "config.json").read_text("utf-8"))["architectures"] == ["BertForMaskedLM"]
    assert AutoTokenizer.from_pretrained(str(final)).vocab_size == 21128

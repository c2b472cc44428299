"""Fine-tuning: dataset build, label alignment, windows, the CRF, and tiny training runs."""
from __future__ import annotations

import itertools
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from datasets import load_from_disk
from transformers import AutoTokenizer

from annotation.labels import IOB2_TAGS, Span, spans_to_iob2
from corpus.jsonl import RecordError, write_jsonl
from corpus.normalise import NORMALISATION_VERSION
from training.alignment import IGNORE, encode_windows, merge_windows
from training.config import REPO_ROOT, FinetuneConfig, load_config
from training.dataset import build_dataset
from models.onnx_engine import OnnxTokenClassifier
from training.finetune import build_model, encode_rows, entity_scores, finetune
from training.modeling import IOB2CRF, BertCrfForTokenClassification, load_token_classifier
from training.rule_features import rule_tag_ids

TOKENIZER = REPO_ROOT.parent / "shared" / "models" / "bert-base-chinese-tokenizer"
TINY_CONFIG = REPO_ROOT / "configs" / "ner-tiny-test.yaml"
TAG_ID = {tag: i for i, tag in enumerate(IOB2_TAGS)}

# Real sentences of ../shared/corpus/raw (files 000, 002, 004) with spans written by hand per the spec.
GOLD = {
    "train": [
        ("000-d01", "(六盘水府发〔2015〕7号)", [("六盘水府发〔2015〕7号", "POLICY")]),
        ("000-d01", "2015年.市中心城区环境空气中可吸入颗粒物(PM1O)浓度在2014年平均浓度72微克/立方米基准值的基础上,"
                    "削减16.7%以上,不高于60微克/立方米;",
         [("2015年", "DATE"), ("可吸入颗粒物(PM1O)浓度", "INDICATOR"), ("2014年", "DATE"), ("72微克/立方米", "AMOUNT"),
          ("16.7%以上", "AMOUNT"), ("60微克/立方米", "AMOUNT")]),
        ("000-d01", "为贯彻落实《国务院关于印发大气污染防治行动计划的通知》(国发〔2013〕37号)",
         [("国务院关于印发大气污染防治行动计划的通知", "POLICY"), ("国发〔2013〕37号", "POLICY")]),
        ("004-d05", "市城管 执法局 沅江 供电公司 |", [("市城管 执法局", "AGENCY"), ("沅江 供电公司", "AGENCY")]),
        ("004-d05", "市商务局、市民政局、市教育局、市卫健局、市文旅广体局、市林业局、益阳生态环境局沅江分局、市交通运输局等相关单位 |",
         [(name, "AGENCY") for name in ("市商务局", "市民政局", "市教育局", "市卫健局", "市文旅广体局", "市林业局",
                                         "益阳生态环境局沅江分局", "市交通运输局")]),
    ],
    "dev": [
        ("002-d01", "本政发〔2019〕3号", [("本政发〔2019〕3号", "POLICY")]),
        ("002-d01", "各自治县、区人民政府,本钢,市政府各委办局:", [("各自治县、区人民政府", "AGENCY"), ("本钢", "AGENCY")]),
        ("002-d01", "现将《本溪市打赢蓝天保卫战三年行动方案(2018—2020年)》印发给你们,请结合实际认真组织实施。",
         [("本溪市打赢蓝天保卫战三年行动方案(2018—2020年)", "POLICY")]),
    ],
    "test": [
        ("002-d02", "本溪市人民政府办公室文件", [("本溪市人民政府办公室", "AGENCY")]),
    ],
}


def gold_record(doc_id: str, n: int, text: str, entities: list[tuple[str, str]]) -> dict:
    spans, cursor = [], 0
    for surface, label in entities:
        start = text.index(surface, cursor)
        spans.append({"start": start, "end": start + len(surface), "label": label, "text": surface})
        cursor = start + len(surface)
    return {"id": f"{doc_id}-s{n:04d}", "doc_id": doc_id, "text": text, "spans": spans,
            "source": "rules+review", "annotator": "test-annotator", "spec_version": "1.2"}


@pytest.fixture(scope="module")
def gold_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("gold")
    for split, sentences in GOLD.items():
        write_jsonl(folder / f"{split}.jsonl",
                    [gold_record(doc, n, text, ents) for n, (doc, text, ents) in enumerate(sentences, 1)])
    return folder


@pytest.fixture(scope="module")
def dataset_dir(gold_dir, tmp_path_factory) -> Path:
    silver = tmp_path_factory.mktemp("silver")
    silver_records = [gold_record("004-d05", 9, "市科工局 |", [("市科工局", "AGENCY")]),
                      gold_record("002-d01", 9, "本溪市人民政府", [("本溪市人民政府", "AGENCY")])]  # a dev document
    write_jsonl(silver / "rules.jsonl", [{**r, "source": "rules", "annotator": "annotation.rules"} for r in silver_records])
    dataset, card = build_dataset(gold_dir, silver)
    target = tmp_path_factory.mktemp("dataset") / "gazette-ner"
    dataset.save_to_disk(str(target))
    (target / "README.md").write_text(card, encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def tokenizer():
    return AutoTokenizer.from_pretrained(str(TOKENIZER))


def tiny_config(dataset_dir: Path, output_dir: Path, **changes) -> FinetuneConfig:
    overrides = {"dataset": str(dataset_dir), "training.output_dir": str(output_dir),
                 "training.model_dir": str(output_dir / "final"), **changes}
    return load_config(TINY_CONFIG, FinetuneConfig, overrides)


# --- dataset build ---------------------------------------------------------------------------

def test_dataset_has_characters_tags_and_provenance(dataset_dir):
    dataset = load_from_disk(str(dataset_dir))
    assert set(dataset) == {"train", "dev", "test", "silver"}
    assert dataset["train"].features["ner_tags"].feature.names == list(IOB2_TAGS)
    row = dataset["train"][3]
    assert row["tokens"][3] == " " and "".join(row["tokens"]) == GOLD["train"][3][1]
    tags = [IOB2_TAGS[i] for i in row["ner_tags"]]
    assert tags[:8] == ["B-AGENCY", *["I-AGENCY"] * 6, "O"]  # the space inside 市城管 执法局 stays inside
    assert row["spans"][1] == {"start": 8, "end": 15, "label": "AGENCY", "text": "沅江 供电公司"}
    card = (dataset_dir / "README.md").read_text("utf-8")
    assert "| sentences | 5 | 3 | 1 | 1 |" in card
    assert "| AGENCY | 10 | 2 | 1 | 1 |" in card
    assert "annotation.rules: 1" in card and "test-annotator: 5" in card
    assert dataset["silver"]["doc_id"] == ["004-d05"]  # silver of a dev document is left out
    assert "(1 sentences)" in card


def test_dataset_build_names_file_and_line_of_a_bad_record(gold_dir, tmp_path):
    for split in ("train", "dev", "test"):
        shutil.copy(gold_dir / f"{split}.jsonl", tmp_path / f"{split}.jsonl")
    bad = gold_record("002-d09", 1, "本溪市人民政府", [("本溪市人民政府", "AGENCY")])
    bad["spans"][0]["end"] = 99
    with (tmp_path / "dev.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(bad, ensure_ascii=False) + "\n")
    with pytest.raises(RecordError, match=r"dev\.jsonl:4: .*offsets outside"):
        build_dataset(tmp_path, None)


def test_dataset_build_refuses_a_document_in_two_splits(gold_dir, tmp_path):
    for split in ("train", "dev", "test"):
        shutil.copy(gold_dir / f"{split}.jsonl", tmp_path / f"{split}.jsonl")
    write_jsonl(tmp_path / "test.jsonl", [gold_record("000-d01", 1, "本溪市", [("本溪市", "LOCATION")])])
    with pytest.raises(RecordError, match="000-d01 appears in both train and test"):
        build_dataset(tmp_path, None)


# --- alignment ---------------------------------------------------------------------------------

ALIGN_TEXT = "市城管 执法局于2015年6月30日前完成😀任务，削减16.7%以上。囧𠀀犇"
ALIGN_SPANS = [Span(0, 7, "AGENCY"), Span(8, 19, "DATE"), Span(27, 34, "AMOUNT")]


def test_labels_round_trip_through_tokens(tokenizer):
    tags = spans_to_iob2(len(ALIGN_TEXT), ALIGN_SPANS)
    windows = encode_windows([ALIGN_TEXT], tokenizer, 128, 16, [[TAG_ID[t] for t in tags]])
    assert len(windows) == 1
    tokens = tokenizer.convert_ids_to_tokens(windows[0].input_ids)
    assert tokens.count("[UNK]") >= 2  # the emoji and the rare character: offsets still point at them
    assert "，" in ALIGN_TEXT and "," in tokens  # full-width comma tokenised through the 1:1 normalisation
    assert windows[0].labels[0] == IGNORE and windows[0].labels[-1] == IGNORE
    token_tags = [IOB2_TAGS[i] if i != IGNORE else "O" for i in windows[0].labels]
    assert merge_windows([len(ALIGN_TEXT)], windows, [token_tags]) == [tags]


def test_uncovered_space_is_o_outside_entities_and_inside_continues(tokenizer):
    text = "市城管 执法局 沅江 供电公司"
    tags = spans_to_iob2(len(text), [Span(0, 7, "AGENCY"), Span(8, 15, "AGENCY")])
    windows = encode_windows([text], tokenizer, 64, 0, [[TAG_ID[t] for t in tags]])
    token_tags = [IOB2_TAGS[i] if i != IGNORE else "O" for i in windows[0].labels]
    merged = merge_windows([len(text)], windows, [token_tags])[0]
    assert merged == tags
    assert merged[3] == "I-AGENCY" and merged[7] == "O"


def test_long_sentence_windows_overlap_and_merge_back(tokenizer):
    text = GOLD["train"][4][1] * 3
    spans, cursor = [], 0
    for name in ["市商务局", "益阳生态环境局沅江分局", "市交通运输局"] * 3:
        start = text.index(name, cursor)
        spans.append(Span(start, start + len(name), "AGENCY"))
        cursor = start + len(name)
    tags = spans_to_iob2(len(text), spans)
    windows = encode_windows([text], tokenizer, 24, 6, [[TAG_ID[t] for t in tags]])
    assert len(windows) > 5 and all(len(w.input_ids) <= 24 for w in windows)
    owned = [w.owned for w in windows]
    assert owned[0][0] == 0 and owned[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in zip(owned, owned[1:]))  # the owned ranges tile the sentence
    for left, right in zip(windows, windows[1:]):  # consecutive windows share `stride` tokens
        assert left.input_ids[-7:-1] == right.input_ids[1:7]
    token_tags = [[IOB2_TAGS[i] if i != IGNORE else "O" for i in w.labels] for w in windows]
    assert merge_windows([len(text)], windows, token_tags) == [tags]
    starts_inside = [tags[w.offsets[1][0]].startswith("I-") for w in windows]
    assert any(starts_inside)  # some windows start inside an entity, and label it B- there
    assert all(token_tags[k][1].startswith("B-") for k, inside in enumerate(starts_inside) if inside)


def test_entity_scores_are_strict_iob2():
    gold = [["B-DATE", "I-DATE", "O", "B-AGENCY"]]
    assert entity_scores(gold, gold)["f1"] == 1.0
    stray = entity_scores(gold, [["I-DATE", "I-DATE", "O", "B-AGENCY"]])  # a span without B- does not count
    assert (stray["precision"], stray["recall"], stray["f1_DATE"]) == (1.0, 0.5, 0.0)


# --- CRF -----------------------------------------------------------------------------------------

def test_crf_matches_brute_force_and_respects_iob2():
    tags = ["O", "B-A", "I-A"]
    crf = IOB2CRF(tags)
    torch.manual_seed(3)
    with torch.no_grad():
        crf.transitions.normal_()
    emissions = torch.randn(2, 4, 3)
    emissions[:, :, 2] += 3  # emissions favour I-A everywhere; only valid paths may come out
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]])
    gold = torch.tensor([[0, 1, 2, 0], [0, 1, 2, 0]])
    trans, first = crf._scores(), crf._first(emissions)

    def score(b, path):
        total = first[b, path[0]]
        for t in range(1, len(path)):
            total = total + trans[path[t - 1], path[t]] + emissions[b, t, path[t]]
        return total

    expected, best = 0, []
    for b, length in ((0, 4), (1, 3)):
        paths = list(itertools.product(range(3), repeat=length))
        scores = torch.stack([score(b, p) for p in paths])
        expected += torch.logsumexp(scores, 0) - score(b, gold[b, :length].tolist())
        best.append(list(paths[int(scores.argmax())]))
    assert torch.isclose(crf.neg_log_likelihood(emissions, gold, mask), expected / 2, atol=1e-4)
    decoded = crf.decode(emissions, mask)
    assert decoded[0].tolist() == best[0] and decoded[1, :3].tolist() == best[1]
    for path in decoded.tolist():
        assert path[0] == 0
        assert all(not (b == 2 and a == 0) for a, b in zip(path, path[1:]))


# --- training --------------------------------------------------------------------------------------

def test_tiny_finetune_saves_everything_and_is_deterministic(dataset_dir, tmp_path):
    metrics = finetune(tiny_config(dataset_dir, tmp_path / "a"))
    final = tmp_path / "a" / "final"
    for name in ("model.safetensors", "config.json", "tokenizer.json", "labels.json", "train_config.yaml", "metrics.json"):
        assert (final / name).is_file(), name
    summary = json.loads((final / "metrics.json").read_text("utf-8"))
    assert summary["dev"]["f1"] == metrics["eval_f1"] and 0.0 <= metrics["eval_f1"] <= 1.0
    assert {f"f1_{label}" for label in ("AGENCY", "POLICY")} <= set(summary["dev"])
    assert json.loads((final / "labels.json").read_text("utf-8"))["1"] == IOB2_TAGS[1]
    assert yaml.safe_load((final / "train_config.yaml").read_text("utf-8"))["crf"] is True
    model = load_token_classifier(str(final))
    assert isinstance(model, BertCrfForTokenClassification)
    assert model.config.id2label[0] == "O" and model.config.use_crf
    assert model.config.text_normalisation == NORMALISATION_VERSION  # the Tagger reads the model's own version

    finetune(tiny_config(dataset_dir, tmp_path / "b"))
    again = load_token_classifier(str(tmp_path / "b" / "final"))
    for (name, a), (_, b) in zip(model.state_dict().items(), again.state_dict().items()):
        assert torch.equal(a, b), name


def test_without_dev_checks_the_whole_schedule_runs_and_the_last_weights_are_kept(dataset_dir, tokenizer, tmp_path):
    config = tiny_config(dataset_dir, tmp_path, **{"training.eval_strategy": "no", "training.num_train_epochs": 3})
    finetune(config)
    summary = json.loads((tmp_path / "final" / "metrics.json").read_text("utf-8"))
    windows = encode_rows(list(load_from_disk(str(dataset_dir))["train"]), tokenizer, config.max_length, config.stride).windows
    assert summary["global_step"] == 3 * math.ceil(len(windows) / config.training.per_device_train_batch_size)
    assert summary["best_checkpoint"] is None and "f1" in summary["dev"]  # dev is still scored once, at the end


def test_softmax_head_trains_from_silver_too(dataset_dir, tmp_path):
    config = tiny_config(dataset_dir, tmp_path, crf=False, train_splits=["train", "silver"])
    metrics = finetune(config)
    assert "eval_f1" in metrics
    model = load_token_classifier(str(tmp_path / "final"))
    assert type(model).__name__ == "BertForTokenClassification"


def test_train_command_runs_in_two_processes(dataset_dir, tokenizer, tmp_path):
    config = yaml.safe_load(TINY_CONFIG.read_text("utf-8"))
    config["dataset"] = str(dataset_dir)
    config["training"]["num_train_epochs"] = 1
    config_path = tmp_path / "ner-ddp.yaml"
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    torchrun = Path(sys.executable).with_name("torchrun")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [str(torchrun), "--standalone", "--nproc_per_node", "2", "-m", "training.finetune",
         "--config", str(config_path), "--output-dir", str(tmp_path / "run")],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((tmp_path / "run" / "final" / "metrics.json").read_text("utf-8"))
    # one epoch over the windows, each step taking a batch from each of the two processes
    train = encode_rows(list(load_from_disk(str(dataset_dir))["train"]), tokenizer, config["max_length"], config["stride"])
    per_step = 2 * config["training"]["per_device_train_batch_size"]
    assert summary["global_step"] == math.ceil(len(train.windows) / per_step) < len(train.windows) / 4
    assert (tmp_path / "run" / "final" / "model.safetensors").is_file()


def test_crf_marginals_equal_brute_force_path_sums():
    tags = list(IOB2_TAGS[:5])
    crf = IOB2CRF(tags)
    torch.manual_seed(0)
    with torch.no_grad():
        crf.transitions.copy_(torch.randn(5, 5))
    emissions, mask = torch.randn(1, 4, 5), torch.tensor([[1, 1, 1, 0]]).bool()
    marginals = crf.marginals(emissions, mask)
    trans, first = crf._scores().detach(), crf._first(emissions)[0]
    scores = {path: first[path[0]] + sum(trans[path[i - 1], path[i]] + emissions[0, i, path[i]] for i in range(1, 3))
              for path in itertools.product(range(5), repeat=3)}
    log_z = torch.logsumexp(torch.stack(list(scores.values())), 0)
    for t in range(3):
        expected = [sum(math.exp(float(s - log_z)) for p, s in scores.items() if p[t] == k) for k in range(5)]
        assert marginals[0, t].tolist() == pytest.approx(expected, abs=1e-5)


# --- rule features ---------------------------------------------------------------------------------

RULE_TEXT = "到2020年,全市新增城镇人口20万人以上,市环保局负责。"


def test_rule_tags_reach_the_tokens_they_start_at(tokenizer):
    (rules,) = rule_tag_ids([RULE_TEXT])
    char_tags = [IOB2_TAGS[i] for i in rules]
    assert "B-DATE" in char_tags and "B-AMOUNT" in char_tags  # the rules see 2020年 and 20万人以上
    windows = encode_windows([RULE_TEXT], tokenizer, 12, 4, char_rules=[rules])
    assert len(windows) > 1
    for window in windows:
        assert window.labels is None and len(window.rule_ids) == len(window.input_ids)
        for k, ((a, b), rule) in enumerate(zip(window.offsets, window.rule_ids)):
            expected = "O" if b == a else char_tags[a]
            if k == 1 and expected.startswith("I-"):
                expected = "B-" + expected[2:]  # a window starting inside an entity starts it
            assert IOB2_TAGS[rule] == expected


def test_rule_features_start_from_the_base_and_are_required(dataset_dir, tokenizer, tmp_path):
    model = build_model(tiny_config(dataset_dir, tmp_path, rule_features=True), tokenizer).eval()
    encoded = tokenizer([RULE_TEXT], return_tensors="pt")
    ids, mask = encoded["input_ids"], encoded["attention_mask"]
    assert not model.rule_embeddings.weight.any()
    with torch.no_grad():
        plain = model.emissions(ids, mask, torch.zeros_like(ids))
        assert torch.equal(plain, model.emissions(ids, mask, torch.randint(0, len(IOB2_TAGS), ids.shape)))
    with pytest.raises(ValueError, match="pass rule_ids"):
        model(input_ids=ids, attention_mask=mask)


def test_rule_feature_tagger_trains_and_both_engines_use_the_feature(dataset_dir, tokenizer, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    finetune(tiny_config(dataset_dir, tmp_path, rule_features=True))
    final = tmp_path / "final"
    model = load_token_classifier(str(final))
    assert model.config.rule_features and model.rule_embeddings.weight.any()
    assert yaml.safe_load((final / "train_config.yaml").read_text("utf-8"))["rule_features"] is True
    encoded = tokenizer([RULE_TEXT], return_tensors="pt")
    ids, mask = encoded["input_ids"], encoded["attention_mask"]
    window = encode_windows([RULE_TEXT], tokenizer, 64, 0, char_rules=rule_tag_ids([RULE_TEXT]))[0]
    rules = torch.tensor([window.rule_ids])
    onnx = OnnxTokenClassifier.from_model(model, final)
    with torch.no_grad():
        for given in (rules, torch.zeros_like(rules)):
            reference = model.emissions(ids, mask, given)
            assert torch.allclose(onnx(ids, mask, given).logits, reference, atol=0.05 * float(reference.abs().max()))
        assert not torch.equal(model.emissions(ids, mask, rules), model.emissions(ids, mask, torch.zeros_like(rules)))

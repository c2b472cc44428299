"""Run configs: every shipped config loads, and each kind of mistake gives one line naming file and key."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from training.config import REPO_ROOT, ConfigError, FinetuneConfig, PretrainConfig, load_config

CONFIGS = REPO_ROOT / "configs"


def write(tmp_path: Path, config: dict, name: str = "run.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def tiny_pretrain() -> dict:
    return yaml.safe_load((CONFIGS / "pretrain-tiny-test.yaml").read_text("utf-8"))


def tiny_ner() -> dict:
    return yaml.safe_load((CONFIGS / "ner-tiny-test.yaml").read_text("utf-8"))


@pytest.mark.parametrize("name", ["pretrain-tiny-test.yaml", "pretrain-small.yaml"])
def test_shipped_pretrain_configs_load(name):
    if name == "pretrain-small.yaml" and not (REPO_ROOT / "corpus" / "processed" / "splits.json").exists():
        pytest.skip("pretrain-small.yaml uses the processed corpus, which is not built here")
    config = load_config(CONFIGS / name, PretrainConfig)
    assert config.tokenizer.is_absolute() and (config.tokenizer / "vocab.txt").is_file()
    assert config.training.release_dir is not None


@pytest.mark.parametrize("name", ["ner-tiny-test.yaml", "ner-small.yaml", "ner-small-traindev.yaml", "ner-bert-base-chinese.yaml"])
def test_shipped_ner_configs_load(name):
    config = load_config(CONFIGS / name, FinetuneConfig)
    assert config.training.model_dir is not None and config.dataset.is_absolute()


def test_small_pretrain_defaults_match_the_plan():
    model = yaml.safe_load((CONFIGS / "pretrain-small.yaml").read_text("utf-8"))["model"]
    assert (model["num_hidden_layers"], model["hidden_size"], model["num_attention_heads"]) == (4, 256, 4)


def test_relative_paths_resolve_against_the_repository(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config(CONFIGS / "pretrain-tiny-test.yaml", PretrainConfig)
    assert config.training.output_dir == REPO_ROOT / "runs" / "pretrain-tiny-test"
    assert config.training.release_dir == REPO_ROOT / "runs" / "pretrain-tiny-test" / "final"


def test_unknown_key(tmp_path):
    config = tiny_pretrain()
    config["training"]["learning_rte"] = 0.1
    path = write(tmp_path, config)
    with pytest.raises(ConfigError) as error:
        load_config(path, PretrainConfig)
    assert str(error.value) == f"{path}: training.learning_rte: unknown key"


def test_wrong_type(tmp_path):
    config = tiny_ner()
    config["training"]["per_device_train_batch_size"] = "eight"
    path = write(tmp_path, config)
    with pytest.raises(ConfigError, match=r"run\.yaml: training\.per_device_train_batch_size: Input should be a valid integer"):
        load_config(path, FinetuneConfig)


def test_missing_file(tmp_path):
    config = tiny_pretrain()
    config["data"]["unlabeled"] = [str(tmp_path / "nowhere.jsonl")]
    path = write(tmp_path, config)
    with pytest.raises(ConfigError) as error:
        load_config(path, PretrainConfig)
    message = str(error.value)
    assert message.startswith(f"{path}: data.unlabeled.0: file or directory not found") and "\n" not in message


def test_missing_splits_fails_unless_unlabeled_only(tmp_path):
    config = tiny_pretrain()
    config["data"].update(unlabeled_only=False, splits=str(tmp_path / "splits.json"))
    path = write(tmp_path, config)
    with pytest.raises(ConfigError, match=r"data: splits: .*splits\.json not found .*unlabeled_only: true"):
        load_config(path, PretrainConfig)
    config["data"]["unlabeled_only"] = True
    assert load_config(write(tmp_path, config), PretrainConfig).data.unlabeled_only


def test_missing_required_key_and_inconsistent_values(tmp_path):
    config = tiny_ner()
    del config["base_model"]
    with pytest.raises(ConfigError, match="base_model: required key missing"):
        load_config(write(tmp_path, config), FinetuneConfig)
    config = tiny_ner()
    config["stride"] = 40
    with pytest.raises(ConfigError, match="stride: 40 must be smaller than max_length - 2"):
        load_config(write(tmp_path, config), FinetuneConfig)
    config = tiny_ner()
    config.update(crf=False, rule_features=True)
    with pytest.raises(ConfigError, match="rule_features: needs crf: true"):
        load_config(write(tmp_path, config), FinetuneConfig)
    config = tiny_pretrain()
    config["model"]["num_attention_heads"] = 3
    with pytest.raises(ConfigError, match="model: .*not divisible by num_attention_heads 3"):
        load_config(write(tmp_path, config), PretrainConfig)


def test_malformed_and_absent_config_files(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("training: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.yaml: malformed YAML"):
        load_config(bad, PretrainConfig)
    with pytest.raises(ConfigError, match=r"absent\.yaml: config file not found"):
        load_config(tmp_path / "absent.yaml", PretrainConfig)


def test_overrides_are_validated_like_file_values(tmp_path):
    config = load_config(CONFIGS / "pretrain-tiny-test.yaml", PretrainConfig,
                         {"training.max_steps": 7, "training.output_dir": str(tmp_path)})
    assert config.training.max_steps == 7 and config.training.release_dir == tmp_path / "final"
    with pytest.raises(ConfigError, match="training.max_steps: Input should be greater than or equal to 1"):
        load_config(CONFIGS / "pretrain-tiny-test.yaml", PretrainConfig, {"training.max_steps": 0})

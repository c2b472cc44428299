"""YAML run configs for pretraining and fine-tuning, validated on load.

A typo in a config should stop a GPU run before it starts, not after an hour, so every
section forbids unknown keys and every input file is checked when the config is read.
Relative paths are resolved against the repository root, so a config means the same
thing from any working directory.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, TypeVar

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TOKENIZER = "../shared/models/bert-base-chinese-tokenizer"


class ConfigError(ValueError):
    """An invalid config: the message names the file and the offending key."""


def resolve_path(value: Path) -> Path:
    """Anchor a relative path at the repository root."""
    value = Path(value).expanduser()
    return value if value.is_absolute() else (REPO_ROOT / value).resolve()


def _existing(value: Path) -> Path:
    path = resolve_path(value)
    if not path.exists():
        raise ValueError(f"file or directory not found: {path}")
    return path


RepoPath = Annotated[Path, AfterValidator(resolve_path)]
ExistingPath = Annotated[Path, AfterValidator(_existing)]
Precision = Literal["auto", "bf16", "fp16", "fp32"]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class BertSize(Section):
    """Shape of a freshly initialised BERT encoder (vocabulary comes from the tokenizer)."""

    num_hidden_layers: int = Field(4, ge=1)
    hidden_size: int = Field(256, ge=8)
    num_attention_heads: int = Field(4, ge=1)
    intermediate_size: int = Field(1024, ge=8)
    max_position_embeddings: int = Field(512, ge=16)
    hidden_dropout_prob: float = Field(0.1, ge=0, lt=1)
    attention_probs_dropout_prob: float = Field(0.1, ge=0, lt=1)

    @model_validator(mode="after")
    def _heads_divide_hidden(self) -> "BertSize":
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(
                f"hidden_size {self.hidden_size} is not divisible by num_attention_heads {self.num_attention_heads}"
            )
        return self


class PretrainData(Section):
    """Where pretraining text comes from; dev/test documents of the gold corpus never enter it."""

    unlabeled: list[ExistingPath] = Field(
        default_factory=lambda: [
            Path("../shared/corpus/unlabeled/documents.jsonl"),
            Path("../shared/corpus/unlabeled/pages.jsonl"),
        ]
    )
    processed_documents: RepoPath = Path("corpus/processed/documents.jsonl")
    splits: RepoPath = Path("corpus/processed/splits.json")
    unlabeled_only: bool = False  # True: skip the project's own train documents (e.g. before splits exist)
    seq_len: int = Field(128, ge=8)
    holdout_fraction: float = Field(0.02, gt=0, lt=0.5)
    mlm_probability: float = Field(0.15, gt=0, lt=1)
    max_documents: int | None = Field(None, ge=2)  # cap per source, for smoke tests

    @model_validator(mode="after")
    def _splits_present(self) -> "PretrainData":
        if not self.unlabeled_only:
            for key in ("processed_documents", "splits"):
                if not getattr(self, key).exists():
                    raise ValueError(
                        f"{key}: {getattr(self, key)} not found (build the corpus first, "
                        "or set data.unlabeled_only: true)"
                    )
        return self


class PretrainTraining(Section):
    output_dir: RepoPath = Path("runs/pretrain")  # Trainer checkpoints and TensorBoard logs
    release_dir: RepoPath | None = None  # final fp16 model; default <output_dir>/final
    max_steps: int = Field(10000, ge=1)
    per_device_batch_size: int = Field(128, ge=1)
    gradient_accumulation_steps: int = Field(1, ge=1)
    learning_rate: float = Field(5e-4, gt=0)
    weight_decay: float = Field(0.01, ge=0)
    warmup_steps: int = Field(500, ge=0)
    lr_scheduler_type: str = "linear"
    max_grad_norm: float = Field(1.0, gt=0)
    seed: int = 42
    logging_steps: int = Field(50, ge=1)
    eval_steps: int = Field(500, ge=1)
    save_steps: int = Field(500, ge=1)
    save_total_limit: int = Field(2, ge=1)
    precision: Precision = "auto"
    dataloader_num_workers: int = Field(2, ge=0)
    torch_compile: bool = False

    @model_validator(mode="after")
    def _default_release(self) -> "PretrainTraining":
        if self.release_dir is None:
            self.release_dir = self.output_dir / "final"
        return self


class PretrainConfig(Section):
    """configs/pretrain-*.yaml"""

    name: str = "gazette-bert"
    tokenizer: ExistingPath = Path(DEFAULT_TOKENIZER)
    model: BertSize = Field(default_factory=BertSize)
    data: PretrainData = Field(default_factory=PretrainData)
    training: PretrainTraining = Field(default_factory=PretrainTraining)

    @model_validator(mode="after")
    def _seq_fits(self) -> "PretrainConfig":
        if self.data.seq_len > self.model.max_position_embeddings:
            raise ValueError(
                f"data.seq_len {self.data.seq_len} exceeds model.max_position_embeddings "
                f"{self.model.max_position_embeddings}"
            )
        return self


class FinetuneTraining(Section):
    output_dir: RepoPath = Path("runs/ner")  # checkpoints and TensorBoard logs
    model_dir: RepoPath | None = None  # the trained tagger; default <output_dir>/final
    num_train_epochs: float = Field(20, gt=0)
    max_steps: int = -1  # > 0 overrides num_train_epochs (smoke runs)
    per_device_train_batch_size: int = Field(32, ge=1)
    per_device_eval_batch_size: int = Field(64, ge=1)
    gradient_accumulation_steps: int = Field(1, ge=1)
    learning_rate: float = Field(5e-5, gt=0)
    weight_decay: float = Field(0.01, ge=0)
    warmup_ratio: float = Field(0.1, ge=0, lt=1)
    lr_scheduler_type: str = "linear"
    max_grad_norm: float = Field(1.0, gt=0)
    seed: int = 42
    # "no": train the whole schedule without dev checks and keep the last weights (for train+dev recipes,
    # whose dev split is not held out, so checking it would only cost time)
    eval_strategy: Literal["epoch", "steps", "no"] = "epoch"
    eval_steps: int | None = Field(None, ge=1)  # with eval_strategy: steps
    logging_steps: int = Field(10, ge=1)
    early_stopping_patience: int = Field(5, ge=1)  # evaluations without a better dev entity F1
    save_total_limit: int = Field(2, ge=1)
    precision: Precision = "auto"
    dataloader_num_workers: int = Field(0, ge=0)

    @property
    def checks_dev(self) -> bool:
        """Whether dev is scored during training (checkpoint selection, early stopping)."""
        return self.eval_strategy != "no"

    @model_validator(mode="after")
    def _defaults(self) -> "FinetuneTraining":
        if self.model_dir is None:
            self.model_dir = self.output_dir / "final"
        if self.eval_strategy == "steps" and self.eval_steps is None:
            raise ValueError("eval_steps: required when eval_strategy is steps")
        return self


class FinetuneConfig(Section):
    """configs/ner-*.yaml"""

    name: str = "gazette-ner"
    # A local model folder (relative to the repository root), a Hub id such as bert-base-chinese,
    # or "random" for a freshly initialised BERT of shape ``random_model`` (tests, baselines).
    base_model: str
    tokenizer: ExistingPath | None = None  # default: the base model's own tokenizer
    random_model: BertSize = Field(default_factory=BertSize)
    dataset: RepoPath = Path("annotation/dataset")  # built by `gazette-ner dataset build`
    train_splits: list[str] = Field(default_factory=lambda: ["train"], min_length=1)
    eval_split: str = "dev"
    max_length: int = Field(128, ge=8, le=512)
    stride: int = Field(32, ge=0)
    crf: bool = False
    rule_features: bool = False  # the rule pre-annotator's tags as an input feature (training.rule_features)
    classifier_dropout: float | None = Field(None, ge=0, lt=1)
    training: FinetuneTraining = Field(default_factory=FinetuneTraining)

    @model_validator(mode="after")
    def _consistent(self) -> "FinetuneConfig":
        if self.stride >= self.max_length - 2:
            raise ValueError(f"stride: {self.stride} must be smaller than max_length - 2 ({self.max_length - 2})")
        if self.rule_features and not self.crf:
            raise ValueError("rule_features: needs crf: true (the feature is part of the CRF tagger)")
        if self.base_model == "random" and self.tokenizer is None:
            raise ValueError("tokenizer: required when base_model is random")
        return self

    @property
    def base_path(self) -> str:
        """What ``from_pretrained`` gets: the local folder if it exists, else the Hub id as written."""
        local = resolve_path(Path(self.base_model))
        return str(local) if local.exists() else self.base_model


C = TypeVar("C", bound=BaseModel)


def _format_errors(path: Path, exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        elif error["type"] == "missing":
            message = "required key missing"
        problems.append(f"{key}: {message}")
    return f"{path}: " + "; ".join(problems)


def load_config(path: str | Path, schema: type[C], overrides: dict | None = None) -> C:
    """Read a YAML config and validate it against ``schema``.

    ``overrides`` maps dotted keys (``training.max_steps``) to values from the command line;
    they are validated like the file's own values.
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: malformed YAML ({exc})".replace("\n", " ")) from None
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(raw).__name__}")
    for dotted, value in (overrides or {}).items():
        if value is None:
            continue
        *parents, leaf = dotted.split(".")
        node = raw
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    try:
        return schema.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_errors(path, exc)) from None


def dump_config(config: BaseModel) -> str:
    """The resolved config as YAML, saved next to every model so a run can be repeated."""
    return yaml.safe_dump(config.model_dump(mode="json"), allow_unicode=True, sort_keys=False)

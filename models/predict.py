"""Batch tagging of new gazettes with a token-classification model.

``Tagger.load(path).tag(texts)`` returns, per text, entity spans with character offsets into that
text and a confidence score. Texts are cut into sentences (the corpus splitter) so predictions never
cross a sentence; a sentence longer than the model's window is tagged in overlapping windows, and
each overlap is handed over at its middle so no entity is cut or doubled. Windows are sorted by
length and batched, under ``torch.inference_mode``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import torch
import yaml
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from annotation.labels import Span
from corpus.sentences import split_paragraph
from training.alignment import Window, encode_windows, merge_windows
from training.modeling import load_token_classifier
from training.rule_features import rule_tag_ids

ROOT = Path(__file__).resolve().parent.parent
RELEASE_DIR = ROOT / "models" / "release"


def default_model_dir() -> Path:
    """The released model: the only (or newest) folder under models/release/."""
    candidates = sorted((p for p in RELEASE_DIR.glob("*/config.json")), key=lambda p: p.stat().st_mtime)
    if not candidates:
        raise FileNotFoundError(f"{RELEASE_DIR}: no released model found (expected <name>/config.json)")
    return candidates[-1].parent


def trained_window(source: str | Path) -> dict[str, int]:
    """max_length and stride the model was fine-tuned with (its train_config.yaml), else the tagger's
    defaults: positions beyond the trained window were never trained, so a longer window tags worse."""
    trained = Path(source) / "train_config.yaml"
    recipe = yaml.safe_load(trained.read_text(encoding="utf-8")) if trained.exists() else {}
    return {"max_length": recipe.get("max_length") or Tagger.max_length, "stride": recipe.get("stride") or Tagger.stride}


def sentence_bounds(text: str) -> list[tuple[int, int]]:
    """Sentence (start, end) offsets of a whole text: the corpus splitter, line by line."""
    bounds, offset = [], 0
    for line in text.split("\n"):
        bounds.extend(split_paragraph(line, offset))
        offset += len(line) + 1
    return bounds


def _spans(text: str, tags: list[str], token_probs: dict[int, float]) -> list[Span]:
    """Spans from character tags; the score is the mean probability of the tokens that start inside."""
    spans, start, label = [], None, None
    for i, tag in enumerate(tags + ["O"]):
        if start is not None and not (tag.startswith("I-") and tag[2:] == label):
            scores = [p for at, p in token_probs.items() if start <= at < i]
            spans.append(Span(start, i, label, text[start:i], round(sum(scores) / len(scores), 4) if scores else None))
            start = None
        if tag != "O" and start is None:
            start, label = i, tag[2:]
    return spans


@dataclass
class Tagger:
    model: torch.nn.Module
    tokenizer: PreTrainedTokenizerFast
    max_length: int = 256
    stride: int = 64
    batch_size: int = 32
    id2label: dict[int, str] = field(init=False)

    def __post_init__(self) -> None:
        self.id2label = {int(k): v for k, v in self.model.config.id2label.items()}
        self.model.eval()

    @classmethod
    def load(cls, path: str | Path | None = None, device: str = "cpu", engine: str = "torch", **options) -> "Tagger":
        """A local model folder, or a hub name (e.g. a fine-tuned bert-base-chinese) where a hub is reachable.

        ``engine="onnx"`` runs BERT in ONNX Runtime with int8 weights (exported once, then cached).

        The window defaults to the one the model was fine-tuned with (``trained_window``). Options given
        as None are ignored."""
        source = str(path) if path else str(default_model_dir())
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = load_token_classifier(source).to(device)
        if engine == "onnx":
            from models.onnx_engine import OnnxTokenClassifier

            model = OnnxTokenClassifier.from_model(model, Path(source))
        elif engine != "torch":
            raise ValueError(f"unknown engine {engine!r} (torch or onnx)")
        options = {**trained_window(source), **{k: v for k, v in options.items() if v is not None}}
        return cls(model=model, tokenizer=tokenizer, **options)

    @torch.inference_mode()
    def _predict(self, windows: list[Window]) -> list[list[tuple[str, float]]]:
        """(tag, probability) per token of every window; a CRF head decodes valid IOB2 paths and its
        probabilities are the CRF marginals."""
        order = sorted(range(len(windows)), key=lambda i: len(windows[i].input_ids))
        results: list[list[tuple[str, float]]] = [[] for _ in windows]
        pad = self.tokenizer.pad_token_id
        device = next(self.model.parameters()).device
        for b in range(0, len(order), self.batch_size):
            batch = [windows[i] for i in order[b:b + self.batch_size]]
            width = max(len(w.input_ids) for w in batch)
            ids = torch.full((len(batch), width), pad, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            rules = torch.zeros((len(batch), width), dtype=torch.long) if batch[0].rule_ids is not None else None
            for row, w in enumerate(batch):
                ids[row, :len(w.input_ids)] = torch.tensor(w.input_ids)
                mask[row, :len(w.input_ids)] = 1
                if rules is not None:
                    rules[row, :len(w.rule_ids)] = torch.tensor(w.rule_ids)
            inputs = {"input_ids": ids.to(device), "attention_mask": mask.to(device)}
            if rules is not None:
                inputs["rule_ids"] = rules.to(device)
            output = self.model(**inputs)
            crf = getattr(self.model, "crf", None)
            probs = output.logits.float().softmax(-1) if crf is None else crf.marginals(output.logits, mask.to(device))
            best = getattr(output, "tags", None)
            best = probs.argmax(-1) if best is None else best
            chosen = probs.gather(-1, best.unsqueeze(-1)).squeeze(-1)
            for row, w in enumerate(batch):
                results[order[b + row]] = [(self.id2label[int(best[row, t])], float(chosen[row, t]))
                                           for t in range(len(w.input_ids))]
        return results

    def _decode(self, segments: Sequence[str]) -> tuple[list[list[str]], list[dict[int, float]]]:
        """Character tags per segment, and the probability of the chosen tag per token start."""
        rules = rule_tag_ids(segments) if getattr(self.model.config, "rule_features", False) else None
        normalisation = getattr(self.model.config, "text_normalisation", 1)  # older models: version 1
        windows = encode_windows(
            list(segments), self.tokenizer, self.max_length, self.stride, char_rules=rules, normalisation=normalisation
        )
        predictions = self._predict(windows)
        char_tags = merge_windows([len(s) for s in segments], windows, [[t for t, _ in p] for p in predictions])
        token_probs: list[dict[int, float]] = [{} for _ in segments]
        for window, labels in zip(windows, predictions):
            lo, hi = window.owned
            for (a, b), (_, prob) in zip(window.offsets, labels):
                if b > a and lo <= a < hi:
                    token_probs[window.sentence][a] = prob
        return char_tags, token_probs

    def tag_segments(self, segments: Sequence[str]) -> list[list[Span]]:
        """Spans per segment (a sentence or any text without line structure), offsets into it."""
        char_tags, token_probs = self._decode(segments)
        return [_spans(segment, tags, probs) for segment, tags, probs in zip(segments, char_tags, token_probs)]

    def confidences(self, segments: Sequence[str]) -> list[float]:
        """Per segment, the least confident token's probability: low means the model is unsure
        somewhere in the sentence (what active learning asks annotators to look at first)."""
        return [min(probs.values(), default=1.0) for probs in self._decode(segments)[1]]

    def tag(self, texts: Sequence[str]) -> list[list[Span]]:
        """Spans per text, offsets into that text; each text is cut into sentences first."""
        segments, owners = [], []
        for index, text in enumerate(texts):
            for start, end in sentence_bounds(text):
                segments.append(text[start:end])
                owners.append((index, start))
        results: list[list[Span]] = [[] for _ in texts]
        for (index, start), spans in zip(owners, self.tag_segments(segments)):
            results[index].extend(Span(s.start + start, s.end + start, s.label, s.text, s.score) for s in spans)
        return results

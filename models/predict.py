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
from typing import Iterable, Sequence

import torch
from transformers import AutoModelForTokenClassification, AutoTokenizer, PreTrainedTokenizerFast

from annotation.labels import Span
from corpus.normalise import normalise_for_model
from corpus.sentences import split_paragraph

ROOT = Path(__file__).resolve().parent.parent
RELEASE_DIR = ROOT / "models" / "release"


def default_model_dir() -> Path:
    """The released model: the only (or newest) folder under models/release/."""
    candidates = sorted((p for p in RELEASE_DIR.glob("*/config.json")), key=lambda p: p.stat().st_mtime)
    if not candidates:
        raise FileNotFoundError(f"{RELEASE_DIR}: no released model found (expected <name>/config.json)")
    return candidates[-1].parent


def sentence_bounds(text: str) -> list[tuple[int, int]]:
    """Sentence (start, end) offsets of a whole text: the corpus splitter, line by line."""
    bounds, offset = [], 0
    for line in text.split("\n"):
        bounds.extend(split_paragraph(line, offset))
        offset += len(line) + 1
    return bounds


@dataclass
class _Window:
    segment: int  # index into the list of segments
    input_ids: list[int]
    offsets: list[tuple[int, int]]  # per token, in segment coordinates; (0, 0) for special tokens
    owned: tuple[int, int] = (0, 0)  # the segment characters this window decides


def _char_tags(length: int, tokens: Iterable[tuple[int, int, str, float]]) -> tuple[list[str], list[float]]:
    """Per-character IOB2 tags from per-token (start, end, tag, prob); uncovered characters inside an
    entity (spaces the tokenizer skipped) continue it, others are O."""
    tags, probs = ["O"] * length, [0.0] * length
    covered = [False] * length
    for start, end, tag, prob in tokens:
        for i in range(start, end):
            tags[i] = tag if i == start or tag == "O" else "I-" + tag[2:]
            probs[i], covered[i] = prob, True
    for i in range(length):
        if covered[i]:
            continue
        prev = next((tags[j] for j in range(i - 1, -1, -1) if covered[j]), "O")
        nxt = next((tags[j] for j in range(i + 1, length) if covered[j]), "O")
        if prev != "O" and nxt.startswith("I-") and prev[2:] == nxt[2:]:
            tags[i] = nxt
    return tags, probs


def _spans(text: str, tags: list[str], probs: list[float], offset: int) -> list[Span]:
    spans, start = [], None
    for i, tag in enumerate(tags + ["O"]):
        if start is not None and not (tag.startswith("I-") and tag[2:] == label):
            scores = [probs[j] for j in range(start, i) if probs[j] > 0]
            spans.append(Span(offset + start, offset + i, label, text[start:i],
                              round(sum(scores) / len(scores), 4) if scores else None))
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
    def load(cls, path: str | Path | None = None, device: str = "cpu", **options) -> "Tagger":
        """A local model folder, or a hub name (e.g. a fine-tuned bert-base-chinese) where a hub is reachable."""
        source = str(path) if path else str(default_model_dir())
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForTokenClassification.from_pretrained(source, dtype=torch.float32).to(device)
        return cls(model=model, tokenizer=tokenizer, **options)

    def _windows(self, segments: Sequence[str]) -> list[_Window]:
        encoded = self.tokenizer(
            [normalise_for_model(s) for s in segments], truncation=True, max_length=self.max_length,
            stride=self.stride, return_overflowing_tokens=True, return_offsets_mapping=True,
        )
        windows = [
            _Window(segment, ids, [tuple(o) for o in offsets])
            for segment, ids, offsets in zip(encoded["overflow_to_sample_mapping"], encoded["input_ids"],
                                             encoded["offset_mapping"])
        ]
        by_segment: dict[int, list[_Window]] = {}
        for window in windows:
            by_segment.setdefault(window.segment, []).append(window)
        for segment, group in by_segment.items():
            spans = [(min(a for a, b in w.offsets if b > a), max(b for a, b in w.offsets if b > a))
                     if any(b > a for a, b in w.offsets) else (0, 0) for w in group]
            cuts = [0] + [(spans[k + 1][0] + spans[k][1]) // 2 for k in range(len(group) - 1)] + [len(segments[segment])]
            for k, window in enumerate(group):
                window.owned = (cuts[k], cuts[k + 1])
        return windows

    @torch.inference_mode()
    def _predict(self, windows: list[_Window]) -> list[list[tuple[str, float]]]:
        order = sorted(range(len(windows)), key=lambda i: len(windows[i].input_ids))
        results: list[list[tuple[str, float]]] = [[] for _ in windows]
        pad = self.tokenizer.pad_token_id
        for b in range(0, len(order), self.batch_size):
            batch = [windows[i] for i in order[b:b + self.batch_size]]
            width = max(len(w.input_ids) for w in batch)
            ids = torch.full((len(batch), width), pad, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, w in enumerate(batch):
                ids[row, :len(w.input_ids)] = torch.tensor(w.input_ids)
                mask[row, :len(w.input_ids)] = 1
            device = next(self.model.parameters()).device
            logits = self.model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
            probs, best = logits.float().softmax(-1).max(-1)
            for row, w in enumerate(batch):
                results[order[b + row]] = [(self.id2label[int(best[row, t])], float(probs[row, t]))
                                           for t in range(len(w.input_ids))]
        return results

    def tag_segments(self, segments: Sequence[str]) -> list[list[Span]]:
        """Spans per segment (a sentence or any text without line structure), offsets into it."""
        windows = self._windows(segments)
        predictions = self._predict(windows)
        tokens: list[list[tuple[int, int, str, float]]] = [[] for _ in segments]
        for window, labels in zip(windows, predictions):
            lo, hi = window.owned
            for (a, b), (tag, prob) in zip(window.offsets, labels):
                if b > a and lo <= a < hi:
                    tokens[window.segment].append((a, b, tag, prob))
        out = []
        for segment, toks in zip(segments, tokens):
            tags, probs = _char_tags(len(segment), toks)
            out.append(_spans(segment, tags, probs, 0))
        return out

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

"""Character labels <-> subword-token labels, and long sentences as overlapping windows.

Gold labels live on characters; BERT sees tokens. The fast tokenizer's offset mapping is the
only link between them: a token takes the label of the character at its offset start, so
spaces (no token), emoji and unknown characters ([UNK] covering one or more characters) and
full-width punctuation never shift a label. Going back, a token's label covers its characters;
a character without a token (a space) is O unless it sits inside one entity, where it continues it.
A sentence longer than the window is cut into windows that overlap by ``stride`` tokens; each
overlap is decided by the window whose centre is nearer (the hand-over is the overlap's middle).
A window that starts inside an entity labels its first token B-, so every window's labels are
valid IOB2 (a CRF could not score them otherwise).
"""
from __future__ import annotations

from dataclasses import dataclass

from transformers import PreTrainedTokenizerFast

from annotation.labels import IOB2_TAGS
from corpus.normalise import NORMALISATION_VERSION, normalise_for_model

IGNORE = -100  # label of special and padding tokens, skipped by the loss
TAG_ID = {tag: i for i, tag in enumerate(IOB2_TAGS)}


@dataclass(frozen=True)
class Window:
    """One model input: a slice of one sentence's tokens."""

    sentence: int  # index of the sentence in the encoded batch
    input_ids: list[int]
    offsets: list[tuple[int, int]]  # per token, character offsets in the sentence; (0, 0) for specials
    owned: tuple[int, int]  # the characters [start, end) whose labels this window decides
    labels: list[int] | None = None  # per token tag id; IGNORE on special tokens
    rule_ids: list[int] | None = None  # per token tag id of the rule pre-annotation; O on special tokens


def _owned_ranges(windows_offsets: list[list[tuple[int, int]]], length: int) -> list[tuple[int, int]]:
    """Cut the sentence between consecutive windows in the middle of their overlap."""
    extents = []
    for offsets in windows_offsets:
        real = [(a, b) for a, b in offsets if b > a]
        extents.append((real[0][0], real[-1][1]) if real else (0, 0))
    cuts = [0] + [(extents[k + 1][0] + extents[k][1]) // 2 for k in range(len(extents) - 1)] + [length]
    return [(cuts[k], cuts[k + 1]) for k in range(len(extents))]


def valid_iob2(labels: list[int]) -> list[int]:
    """Token labels with every I-X that does not continue an X entity turned into B-X."""
    fixed, previous = [], "O"
    for label in labels:
        if label != IGNORE:
            tag = IOB2_TAGS[label]
            if tag.startswith("I-") and previous[2:] != tag[2:]:
                tag = "B-" + tag[2:]
                label = TAG_ID[tag]
            previous = tag
        fixed.append(label)
    return fixed


def _at_token_starts(char_tags: list[int], offsets: list[tuple[int, int]], special: int) -> list[int]:
    return [char_tags[a] if b > a else special for a, b in offsets]


def encode_windows(
    texts: list[str],
    tokenizer: PreTrainedTokenizerFast,
    max_length: int,
    stride: int,
    char_labels: list[list[int]] | None = None,
    char_rules: list[list[int]] | None = None,
    normalisation: int = NORMALISATION_VERSION,
) -> list[Window]:
    """Tokenise sentences into windows of at most ``max_length`` tokens; with ``char_labels``
    (one tag id per character) every window carries token labels taken at each offset start, and
    with ``char_rules`` the rule tags the same way (training.rule_features). ``normalisation`` is the
    version of corpus.normalise the model was trained with."""
    encoded = tokenizer(
        [normalise_for_model(text, normalisation) for text in texts],
        truncation=True,
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    by_sentence: dict[int, list[int]] = {}
    for row, sentence in enumerate(encoded["overflow_to_sample_mapping"]):
        by_sentence.setdefault(sentence, []).append(row)
    windows: list[Window] = []
    for sentence, rows in sorted(by_sentence.items()):
        all_offsets = [[tuple(o) for o in encoded["offset_mapping"][row]] for row in rows]
        owned = _owned_ranges(all_offsets, len(texts[sentence]))
        for row, offsets, span in zip(rows, all_offsets, owned):
            labels = rules = None
            if char_labels is not None:
                labels = valid_iob2(_at_token_starts(char_labels[sentence], offsets, IGNORE))
            if char_rules is not None:
                rules = valid_iob2(_at_token_starts(char_rules[sentence], offsets, TAG_ID["O"]))
            windows.append(Window(sentence, encoded["input_ids"][row], offsets, span, labels, rules))
    return windows


def token_to_char_tags(length: int, tokens: list[tuple[int, int, str]]) -> list[str]:
    """Per-character IOB2 tags of one sentence from (start, end, tag) of its decided tokens."""
    tags = ["O"] * length
    covered = [False] * length
    for start, end, tag in tokens:
        for i in range(start, end):
            tags[i] = tag if i == start or tag == "O" else "I-" + tag[2:]
            covered[i] = True
    for i in range(length):
        if covered[i]:
            continue
        before = next((tags[j] for j in range(i - 1, -1, -1) if covered[j]), "O")
        after = next((tags[j] for j in range(i + 1, length) if covered[j]), "O")
        if before != "O" and after.startswith("I-") and before[2:] == after[2:]:
            tags[i] = after
    return tags


def merge_windows(
    lengths: list[int], windows: list[Window], token_tags: list[list[str]]
) -> list[list[str]]:
    """Character tags per sentence from per-window token tags; each window decides only the
    tokens that start inside its owned range."""
    decided: list[list[tuple[int, int, str]]] = [[] for _ in lengths]
    for window, tags in zip(windows, token_tags):
        lo, hi = window.owned
        for (a, b), tag in zip(window.offsets, tags):
            if b > a and lo <= a < hi:
                decided[window.sentence].append((a, b, tag))
    return [token_to_char_tags(length, tokens) for length, tokens in zip(lengths, decided)]

"""Sentence segmentation of cleaned documents, with offsets into the document text.

Splits after 。！？!?；; and at paragraph breaks, never inside matched brackets or quotation marks and
never on '.', which the corpus uses both as a decimal point and as a broken full stop. A trailing
responsibility clause `(牵头单位:…)` stays with its task, and enumerations longer than
``MAX_LEN`` are split again at their (1)/① markers.
"""
from __future__ import annotations

import re

from corpus.cleaning import HEADING_MARKER, PAD
from corpus.records import Document, Sentence

TERMINATORS = set("。！？!?；;")
PAIRS = {"(": ")", "（": "）", "〔": "〕", "[": "]", "【": "】", "《": "》", "〈": "〉", "<": ">", "“": "”", "‘": "’", "「": "」"}
CLOSERS = {v: k for k, v in PAIRS.items()}
CLAUSE = re.compile(r"牵头|责任单位|配合|负责|完成时限|完成时间|责任科室|总牵头")
ENUM_MARKER = re.compile(r"[\(（]\d{1,2}[\)）]|[①-⑳]")
MAX_LEN = 256


def protected_ranges(text: str) -> list[tuple[int, int]]:
    """(open, close) index pairs of matched brackets and quotes; unmatched marks protect nothing."""
    stack: list[tuple[str, int]] = []
    pairs = []
    quote_positions = [i for i, ch in enumerate(text) if ch == '"']
    straight = list(zip(quote_positions[::2], quote_positions[1::2])) if len(quote_positions) % 2 == 0 else []
    for i, ch in enumerate(text):
        if ch in PAIRS:
            stack.append((ch, i))
        elif ch in CLOSERS:
            for depth in range(len(stack) - 1, -1, -1):
                if stack[depth][0] == CLOSERS[ch]:
                    pairs.append((stack[depth][1], i))
                    del stack[depth:]
                    break
    return pairs + straight


def _cut_points(text: str) -> list[int]:
    inside = [False] * len(text)
    for open_, close in protected_ranges(text):
        for i in range(open_ + 1, close):
            inside[i] = True
    cuts = []
    for i, ch in enumerate(text):
        if ch in TERMINATORS and not inside[i]:
            cuts.append(i + 1)
        elif ch in "”’」\"" and i > 0 and text[i - 1] in TERMINATORS and not inside[i]:
            cuts.append(i + 1)
    return cuts


def _is_clause(piece: str) -> bool:
    """A bracketed responsibility clause, or table cells (`| 市住建局 |`), that belongs to the task before it."""
    piece = piece.strip(PAD)
    if piece.startswith("|"):
        return True
    if piece[:1] not in "(（〔[" or not CLAUSE.search(piece[:40]):
        return False
    closing = {"(": ")", "（": "）", "〔": "〕", "[": "]"}[piece[0]]
    return piece.rstrip("。;；.").endswith((closing, "|")) or piece.rstrip("。;；.").endswith(")")


def _split_enumeration(start: int, end: int, text: str) -> list[tuple[int, int]]:
    """Split a long enumeration before its inline (1)/① markers."""
    if end - start <= MAX_LEN:
        return [(start, end)]
    marks = [m.start() for m in ENUM_MARKER.finditer(text, start + 1, end)]
    bounds = [start] + marks + [end]
    return [(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in PAD + "\n":
        start += 1
    while end > start and text[end - 1] in PAD + "\n":
        end -= 1
    return start, end


def is_heading(text: str) -> bool:
    """A heading stands alone: numbered (一、, (三), 附件2) or a short line with no sentence punctuation."""
    stripped = text.strip(PAD)
    if stripped.endswith((";", "；", ",", ":", "：")) or len(stripped) > 40:
        return False
    body = stripped[:-1] if stripped.endswith("。") else stripped
    if any(ch in TERMINATORS for ch in body):
        return False
    marker = HEADING_MARKER.match(stripped)
    if marker:
        top_level = marker.group(1).endswith("、") or marker.group(1).startswith("第")
        return top_level or "," not in body
    return body == stripped and ":" not in stripped


def split_paragraph(text: str, offset: int) -> list[tuple[int, int]]:
    """Sentence bounds (absolute) of one paragraph that starts at ``offset`` in the document."""
    bounds = [0] + _cut_points(text) + [len(text)]
    pieces = [(a, b) for a, b in zip(bounds, bounds[1:]) if text[a:b].strip(PAD)]
    merged: list[tuple[int, int]] = []
    for a, b in pieces:
        if merged and _is_clause(text[a:b]):
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    out = []
    for a, b in merged:
        for s, e in _split_enumeration(a, b, text):
            s, e = _trim(text, s, e)
            if e > s:
                out.append((offset + s, offset + e))
    return out


def split_sentences(doc: Document) -> list[Sentence]:
    sentences = []
    offset = 0
    for paragraph in doc.text.split("\n"):
        for start, end in split_paragraph(paragraph, offset):
            text = doc.text[start:end]
            sentences.append(Sentence(
                id=f"{doc.id}-s{len(sentences) + 1:04d}", doc_id=doc.id, start=start, end=end,
                text=text, is_heading=is_heading(text),
            ))
        offset += len(paragraph) + 1
    return sentences

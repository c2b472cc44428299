"""Cleaning that keeps provenance: build a document's text from slices of its source.

Cleaning only ever *drops* source characters (boilerplate lines, indentation, line breaks inside a
sentence, PDF wrap spaces); every kept character is copied from the source and recorded in a
``source_map`` of runs, so any offset in the cleaned text maps back to the raw file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# Whitespace that pads lines in the raw files: ASCII space, NBSP, ideographic space, tab.
PAD = " \u00a0\u3000\t"
HEADING_MARKER = re.compile(
    r"^\s*(第[一二三四五六七八九十百]+[章节条]|[一二三四五六七八九十]+、|—、|"
    r"[\(（][一二三四五六七八九十]+[\)）]|[\(（]\d+[\)）]|\d+\s?[\.、．]|[①-⑳]|附件\s?\d*|附表)"
)
SENTENCE_END = "。!?！？;；:：)）”\"〕》」"


@dataclass(frozen=True)
class Line:
    no: int  # 1-based line number in the source file
    start: int  # offset of the first character in the source text
    end: int  # offset after the last character (the newline excluded)
    text: str


def split_lines(source: str) -> list[Line]:
    lines, pos = [], 0
    for no, text in enumerate(source.split("\n"), 1):
        lines.append(Line(no, pos, pos + len(text), text))
        pos += len(text) + 1
    return lines


def is_blank(line: Line) -> bool:
    return not line.text.strip(PAD)


def is_heading_line(text: str, max_len: int = 40) -> bool:
    """A numbered heading that stands on its own line (一、总体要求, (三)…, 附件2)."""
    stripped = text.strip(PAD)
    return bool(HEADING_MARKER.match(stripped)) and len(stripped) <= max_len and "。" not in stripped


class TextBuilder:
    """Accumulates slices of ``source`` into a cleaned text plus its source map."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._chunks: list[str] = []
        self._runs: list[list[int]] = []
        self._length = 0

    def copy(self, start: int, end: int) -> None:
        if end <= start:
            return
        if self._runs and self._runs[-1][1] + self._runs[-1][2] == start:
            self._runs[-1][2] += end - start
        else:
            self._runs.append([self._length, start, end - start])
        self._chunks.append(self.source[start:end])
        self._length += end - start

    def copy_stripped(self, start: int, end: int, drop_spaces_between_cjk: bool = False) -> None:
        """Copy a line without its padding; optionally without spaces that PDF wrapping put inside words."""
        text = self.source[start:end]
        left = len(text) - len(text.lstrip(PAD))
        right = len(text.rstrip(PAD))
        start, end = start + left, start + right
        if not drop_spaces_between_cjk:
            self.copy(start, end)
            return
        pos = start
        for match in WRAP_SPACE.finditer(self.source, start, end):
            self.copy(pos, match.start())
            pos = match.end()
        self.copy(pos, end)

    def newline(self, after: int) -> None:
        """End a paragraph with the source's own line break found at or after ``after``."""
        at = self.source.find("\n", after)
        if at < 0:
            raise ValueError("no line break left in the source to end a paragraph with")
        self.copy(at, at + 1)

    @property
    def length(self) -> int:
        return self._length

    def build(self) -> tuple[str, list[list[int]]]:
        text = "".join(self._chunks)
        if text.endswith("\n"):
            text = text[:-1]
            last = self._runs[-1]
            last[2] -= 1
            if last[2] == 0:
                self._runs.pop()
        return text, [list(run) for run in self._runs]


# A single space between two CJK characters or CJK punctuation marks: left by PDF line wrapping.
WRAP_SPACE = re.compile(r"(?<=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef“”《》,;:()]) (?=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef“”《》,;:()])")


def paragraphs_text(builder: TextBuilder, paragraphs: list[list[Line]], wrap_space_lines: range | None = None) -> None:
    """Write paragraphs (each a list of source lines joined without a break) separated by line breaks."""
    for index, paragraph in enumerate(paragraphs):
        for line in paragraph:
            builder.copy_stripped(
                line.start, line.end, drop_spaces_between_cjk=bool(wrap_space_lines and line.no in wrap_space_lines)
            )
        if index < len(paragraphs) - 1:
            builder.newline(paragraph[-1].end)

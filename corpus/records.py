"""Records that flow through the pipeline, and their JSONL form.

Every record carries offsets: a sentence into its document's text, a document into its raw
source file (``source_map``), so any span can be traced back to the bytes it came from.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Document:
    id: str
    source: str  # raw file name under corpus/raw (or the ingested path)
    title: str
    text: str  # cleaned text; all sentence offsets point into it
    line_start: int  # 1-based, inclusive, in the source file
    line_end: int  # 1-based, inclusive
    doc_number: str | None = None  # 文号
    date: str | None = None
    group: str | None = None  # documents that must share a split (e.g. a notice and its attachments)
    # runs [doc_offset, source_offset, length]: text[d:d+n] == source_text[s:s+n]
    source_map: list[list[int]] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, record: dict) -> "Document":
        return cls(**record)

    def source_offset(self, doc_offset: int) -> int:
        """Map an offset in ``text`` to an offset in the raw source text."""
        for d, s, n in self.source_map:
            if d <= doc_offset < d + n:
                return s + doc_offset - d
        raise ValueError(f"offset {doc_offset} of {self.id} was inserted by cleaning and has no source")


@dataclass(frozen=True)
class Sentence:
    id: str
    doc_id: str
    start: int
    end: int
    text: str
    is_heading: bool = False

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, record: dict) -> "Sentence":
        return cls(**record)

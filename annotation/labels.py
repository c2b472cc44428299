"""The label set of ../shared/ANNOTATION_SPEC.md (v1.2) and the span type every stage exchanges."""
from __future__ import annotations

from dataclasses import asdict, dataclass

SPEC_VERSION = "1.2"
LABELS: tuple[str, ...] = ("AGENCY", "INDICATOR", "AMOUNT", "DATE", "LOCATION", "POLICY")
IOB2_TAGS: tuple[str, ...] = ("O",) + tuple(f"{p}-{label}" for label in LABELS for p in ("B", "I"))


@dataclass(frozen=True, order=True)
class Span:
    start: int  # character offset, inclusive
    end: int  # character offset, exclusive
    label: str
    text: str = ""
    score: float | None = None

    def to_json(self) -> dict:
        record = asdict(self)
        if record["score"] is None:
            del record["score"]
        return record


def spans_to_iob2(length: int, spans: list[Span]) -> list[str]:
    """One IOB2 tag per character."""
    tags = ["O"] * length
    for span in spans:
        tags[span.start] = f"B-{span.label}"
        for i in range(span.start + 1, span.end):
            tags[i] = f"I-{span.label}"
    return tags


def iob2_to_spans(tags: list[str], text: str) -> list[Span]:
    """Decode character tags; a stray I- starts a new span (seqeval's lenient reading)."""
    spans: list[Span] = []
    start, label = None, None
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, _, kind = tag.partition("-")
        if start is not None and (prefix != "I" or kind != label):
            spans.append(Span(start, i, label, text[start:i]))
            start, label = None, None
        if prefix == "B" or (prefix == "I" and start is None):
            start, label = i, kind
    return spans

# One colour per label, shared by the Label Studio config and the HTML views.
LABEL_COLOURS: dict[str, str] = {
    "AGENCY": "#4e79a7",
    "INDICATOR": "#f28e2b",
    "AMOUNT": "#59a14f",
    "DATE": "#e15759",
    "LOCATION": "#76b7b2",
    "POLICY": "#b07aa1",
}

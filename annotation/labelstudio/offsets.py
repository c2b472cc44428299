"""Offsets across the Label Studio boundary.

Python counts code points; the browser that Label Studio runs in counts UTF-16 code units, and its
text node holds ``\\r\\n`` as a single ``\\n``. A character outside the BMP (emoji, CJK Extension B)
is two units there and one here; ``\\r\\n`` is one there and two here. Every offset crossing the
boundary goes through :class:`OffsetMap`, in both directions.
"""
from __future__ import annotations

from bisect import bisect_left


class OffsetMap:
    """Maps code-point offsets of ``text`` to Label Studio offsets and back.

    ``_ls[i]`` is the Label Studio offset of code point ``i`` (``i`` may be ``len(text)``).
    """

    def __init__(self, text: str) -> None:
        self.text = text
        ls, pos = [], 0
        for i, char in enumerate(text):
            ls.append(pos)
            if char == "\r" and text[i + 1:i + 2] == "\n":
                continue  # the browser keeps only the \n of \r\n
            pos += 2 if ord(char) > 0xFFFF else 1
        ls.append(pos)
        self._ls = ls

    def to_ls(self, offset: int) -> int:
        return self._ls[offset]

    def from_ls(self, offset: int) -> int:
        """The code-point offset of a Label Studio offset; raises ValueError for one that falls
        inside a surrogate pair or past the text (a span that no character boundary explains).

        ``\r`` and ``\n`` of a pair share one Label Studio offset; the earlier wins, so a span
        never starts or ends between them."""
        i = bisect_left(self._ls, offset)
        if i == len(self._ls) or self._ls[i] != offset:
            raise ValueError(f"Label Studio offset {offset} is not on a character boundary of the text")
        return i

    def span_to_ls(self, start: int, end: int) -> tuple[int, int]:
        return self.to_ls(start), self.to_ls(end)

    def span_from_ls(self, start: int, end: int) -> tuple[int, int]:
        return self.from_ls(start), self.from_ls(end)

    def ls_text(self) -> str:
        """The text as the browser holds it (what Label Studio puts in a result's ``value.text``)."""
        return self.text.replace("\r\n", "\n")

"""One-to-one character normalisation for models.

Our training text uses ASCII `, : ; ( ) !` where most new gazettes print full-width `，：；（）！`.
Mapping full-width ASCII-range forms to ASCII one character for one character lets a model see
one form while every offset still points into the original text.

Version 2 adds what the bert-base-chinese tokenizer cannot read: it is case-sensitive
(``do_lower_case: false``) over a lower-case vocabulary and has no entry for curly quotes or long
dashes, so ``PM2.5``, ``GDP``, masked ``XX``, every “…” and the dash of ``2015—2017年`` reached the
model as [UNK]. Letters are lower-cased and those marks mapped to their ASCII forms, still one
character for one character. A model records the version it was trained with
(``config.text_normalisation``; models without it were trained with version 1).
"""
from __future__ import annotations

FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
FULL_WIDTH[0x3000] = 0x20  # ideographic space

_MARKS = (
    {ord(quote): ord('"') for quote in "“”„‟〝〞"}
    | {ord(quote): ord("'") for quote in "‘’‚‛"}
    | {ord(dash): ord("-") for dash in "‐‑‒–—―−"}
)
_LETTERS = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)}
CASE_AND_MARKS = {code: ord(chr(target).lower()) for code, target in (FULL_WIDTH | _MARKS).items()} | _LETTERS

TABLES = {1: FULL_WIDTH, 2: CASE_AND_MARKS}
NORMALISATION_VERSION = 2  # what new models are trained with


def normalise_for_model(text: str, version: int = NORMALISATION_VERSION) -> str:
    """Same length as ``text``; character i of the result stands for character i of the input."""
    return text.translate(TABLES[version])

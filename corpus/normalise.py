"""One-to-one character normalisation for models.

Our training text uses ASCII `, : ; ( ) !` where most new gazettes print full-width `，：；（）！`.
Mapping full-width ASCII-range forms to ASCII one character for one character lets a model see
one form while every offset still points into the original text.
"""
from __future__ import annotations

FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
FULL_WIDTH[0x3000] = 0x20  # ideographic space


def normalise_for_model(text: str) -> str:
    """Same length as ``text``; character i of the result stands for character i of the input."""
    return text.translate(FULL_WIDTH)

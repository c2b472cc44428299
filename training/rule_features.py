"""The rule pre-annotator's tags as an input feature of the tagger.

The rules (annotation.rules) are precise on patterned spans (amounts, document numbers, titles in
《》, dates) that a small model learns slowly from a few thousand sentences; the gold was corrected
from the same rules, so the model can also learn where they go wrong. Each token gets the rule tag of
the character it starts at, embedded and added to its word embedding. Training and prediction run
the same rules on the same text (sentence by sentence, no document heading flag), so the feature
means the same thing in both.
"""
from __future__ import annotations

from typing import Sequence

from annotation.labels import spans_to_iob2
from annotation.rules import annotate
from training.alignment import TAG_ID


def rule_tag_ids(texts: Sequence[str]) -> list[list[int]]:
    """One IOB2 tag id per character of each text, from the rule pre-annotator."""
    return [[TAG_ID[tag] for tag in spans_to_iob2(len(text), annotate(text))] for text in texts]

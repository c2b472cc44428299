"""`gazette-ner annotate …`: each annotation tool registers its own sub-subcommand."""
from __future__ import annotations

import argparse

from gazette_ner import register_modules

TOOLS = ("annotation.rules", "annotation.compact", "annotation.merge", "annotation.validate", "annotation.agreement", "annotation.stats", "annotation.consistency")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("annotate", help="rule pre-annotation, gold validation, agreement, statistics")
    register_modules(parser.add_subparsers(dest="tool", required=True, metavar="TOOL"), TOOLS)

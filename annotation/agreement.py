"""`gazette-ner annotate agreement A B`: how far two annotators (or an annotator and the rules) agree.

Span-level P/R/F1 treat A as the reference; F1 is symmetric, so the order only swaps P and R.
Exact matching asks for the same start, end and label; overlap matching for the same label and any
shared character, pairing spans one to one. Cohen's kappa is computed per character, once on the
label of each character and once on its IOB2 tag (which also counts a split of one span into two).
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from annotation.labels import LABELS, Span, spans_to_iob2
from annotation.validate import record_spans
from corpus.jsonl import RecordError, read_jsonl, write_text_atomic

MICRO = "micro"


def overlap(a: Span, b: Span) -> int:
    """Characters the two spans share."""
    return max(0, min(a.end, b.end) - max(a.start, b.start))


def iou(a: Span, b: Span) -> float:
    """Shared characters over covered characters: how closely two overlapping spans agree."""
    shared = overlap(a, b)
    return shared / (max(a.end, b.end) - min(a.start, b.start)) if shared else 0.0


def match_spans(
    gold: Sequence[Span],
    pred: Sequence[Span],
    allowed: Callable[[Span, Span], bool] = lambda g, p: True,
    preference: Callable[[Span, Span], float] = iou,
) -> list[tuple[int, int]]:
    """Pair overlapping spans one to one: as many pairs as possible, then the most preferred ones.

    Returns (gold index, pred index) pairs. ``allowed`` filters candidate pairs; ``preference``
    (in [0, 1]) only breaks ties between matchings of the same size. Solved as an assignment
    problem, since greedy pairing by overlap can leave a matchable span unmatched.
    """
    if not gold or not pred:
        return []
    from scipy.optimize import linear_sum_assignment  # here: scipy costs the CLI's start-up half a second

    # Each extra preference term is scaled so that all of them together stay below one pair.
    scale = 1.0 / (min(len(gold), len(pred)) + 1)
    weights = np.zeros((len(gold), len(pred)))
    for i, g in enumerate(gold):
        for j, p in enumerate(pred):
            if overlap(g, p) and allowed(g, p):
                weights[i, j] = 1.0 + scale * preference(g, p)
    rows, cols = linear_sum_assignment(weights, maximize=True)
    return [(int(i), int(j)) for i, j in zip(rows, cols) if weights[i, j] > 0]


@dataclass(frozen=True)
class PRF:
    """Matched spans against the spans in A (reference) and B."""

    matched: int
    in_a: int
    in_b: int

    @property
    def precision(self) -> float:
        return self.matched / self.in_b if self.in_b else 0.0

    @property
    def recall(self) -> float:
        return self.matched / self.in_a if self.in_a else 0.0

    @property
    def f1(self) -> float:
        return 2 * self.matched / (self.in_a + self.in_b) if self.in_a + self.in_b else 0.0

    def to_json(self) -> dict:
        return {**asdict(self), "precision": self.precision, "recall": self.recall, "f1": self.f1}


@dataclass
class Agreement:
    sentences: int  # sentences in both sets (the only ones compared)
    characters: int
    only_in_a: list[str] = field(default_factory=list)
    only_in_b: list[str] = field(default_factory=list)
    exact: dict[str, PRF] = field(default_factory=dict)  # per label, plus "micro"
    overlap: dict[str, PRF] = field(default_factory=dict)
    kappa_label: float | None = None  # None where kappa is undefined (one class only)
    kappa_iob2: float | None = None

    def to_json(self) -> dict:
        record = asdict(self)
        record["exact"] = {k: v.to_json() for k, v in self.exact.items()}
        record["overlap"] = {k: v.to_json() for k, v in self.overlap.items()}
        return record


def _by_id(records: Sequence[dict], name: str) -> dict[str, dict]:
    by_id: dict[str, dict] = {}
    for n, record in enumerate(records, 1):
        if not isinstance(record.get("id"), str):
            raise ValueError(f"{name}: record {n} has no string id")
        if record["id"] in by_id:
            raise ValueError(f"{name}: duplicate id {record['id']}")
        by_id[record["id"]] = record
    return by_id


def join_records(a_records: Sequence[dict], b_records: Sequence[dict]) -> tuple[list[tuple[str, dict, dict]], list[str], list[str]]:
    """Records of A and B paired by sentence id (texts must agree), and the ids found in one set only."""
    a, b = _by_id(a_records, "A"), _by_id(b_records, "B")
    pairs = []
    for rid in a.keys() & b.keys():
        if a[rid].get("text") != b[rid].get("text"):
            raise ValueError(f"{rid}: the two sets hold different texts for this sentence")
        pairs.append((rid, a[rid], b[rid]))
    pairs.sort(key=lambda pair: pair[0])
    return pairs, sorted(a.keys() - b.keys()), sorted(b.keys() - a.keys())


def character_kappa(a_tags: Sequence[str], b_tags: Sequence[str]) -> float | None:
    """Cohen's kappa over per-character tags; None when undefined (both sides use a single tag)."""
    if not a_tags:
        return None
    from sklearn.metrics import cohen_kappa_score  # here: sklearn costs the CLI's start-up 1.5 s

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kappa = cohen_kappa_score(list(a_tags), list(b_tags))
    return None if np.isnan(kappa) else float(kappa)


def agreement(a_records: Sequence[dict], b_records: Sequence[dict]) -> Agreement:
    """Span and character agreement between two annotation sets of the same sentences."""
    pairs, only_a, only_b = join_records(a_records, b_records)
    exact, over, in_a, in_b = Counter(), Counter(), Counter(), Counter()
    a_iob, b_iob = [], []
    for _rid, a_record, b_record in pairs:
        a_spans, b_spans = record_spans(a_record), record_spans(b_record)
        in_a.update(s.label for s in a_spans)
        in_b.update(s.label for s in b_spans)
        b_keys = {(s.start, s.end, s.label) for s in b_spans}
        exact.update(s.label for s in a_spans if (s.start, s.end, s.label) in b_keys)
        same_label = match_spans(a_spans, b_spans, allowed=lambda g, p: g.label == p.label)
        over.update(a_spans[i].label for i, _ in same_label)
        a_iob += spans_to_iob2(len(a_record["text"]), a_spans)
        b_iob += spans_to_iob2(len(b_record["text"]), b_spans)

    def table(matched: Counter) -> dict[str, PRF]:
        rows = {label: PRF(matched[label], in_a[label], in_b[label]) for label in LABELS}
        rows[MICRO] = PRF(sum(matched.values()), sum(in_a.values()), sum(in_b.values()))
        return rows

    def label_of(tag: str) -> str:
        return tag.partition("-")[2] or tag

    return Agreement(
        sentences=len(pairs),
        characters=len(a_iob),
        only_in_a=only_a,
        only_in_b=only_b,
        exact=table(exact),
        overlap=table(over),
        kappa_label=character_kappa([label_of(t) for t in a_iob], [label_of(t) for t in b_iob]),
        kappa_iob2=character_kappa(a_iob, b_iob),
    )


def render(result: Agreement, a_name: str, b_name: str) -> Table:
    """The agreement as a rich table, one row per label plus micro."""
    table = Table(title=f"Agreement: A={a_name}  B={b_name}  ({result.sentences} sentences)",
                  caption="P R F1: exact match;  oP oR oF1: same label, any overlap, one to one")
    for column in ("label", "A", "B", "P", "R", "F1", "oP", "oR", "oF1"):
        table.add_column(column, justify="left" if column == "label" else "right", no_wrap=column == "label")
    for label in (*LABELS, MICRO):
        e, o = result.exact[label], result.overlap[label]
        table.add_row(
            label, str(e.in_a), str(e.in_b),
            *(f"{v:.3f}" for v in (e.precision, e.recall, e.f1, o.precision, o.recall, o.f1)),
            end_section=label == LABELS[-1],
        )
    return table


def _kappa_text(kappa: float | None) -> str:
    return "undefined" if kappa is None else f"{kappa:.3f}"


def run(args: argparse.Namespace) -> int:
    try:
        a_records, b_records = list(read_jsonl(args.a)), list(read_jsonl(args.b))
        result = agreement(a_records, b_records)
    except FileNotFoundError as exc:
        print(f"error: {exc.filename}: file not found", file=sys.stderr)
        return 1
    except (RecordError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    console = Console()
    console.print(render(result, args.a, args.b))
    console.print(
        f"character kappa: label {_kappa_text(result.kappa_label)}, IOB2 {_kappa_text(result.kappa_iob2)} "
        f"over {result.characters} characters"
    )
    for name, ids in ((args.a, result.only_in_a), (args.b, result.only_in_b)):
        if ids:
            shown = ", ".join(ids[:10]) + (" …" if len(ids) > 10 else "")
            console.print(f"[yellow]{len(ids)} id(s) only in {name}[/yellow]: {shown}")
    if args.json:
        write_text_atomic(args.json, json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("agreement", help="span P/R/F1 and character kappa between two annotation sets")
    parser.add_argument("a", type=Path, help="reference annotations (JSONL)")
    parser.add_argument("b", type=Path, help="annotations compared against A (JSONL)")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the numbers as JSON")
    parser.set_defaults(func=run)

"""Score a predictions file against a gold file: the one scoring path for rules and models alike.

Entity P/R/F1 come from seqeval (strict IOB2 over characters), so a prediction counts only with the
exact start, end and label. The error breakdown pairs the remaining gold and predicted spans one to
one by overlap and names what went wrong with each pair, which is what a reader needs to fix rules
or data.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from annotation.agreement import iou, match_spans
from annotation.labels import LABELS, Span, spans_to_iob2
from annotation.validate import record_spans

OUTSIDE = "O"
# Span-level error kinds, in the order a pair is preferred when spans could be paired several ways.
WRONG_LABEL = "wrong_label"  # same extent, different label
WRONG_BOUNDARY = "wrong_boundary"  # same label, overlapping, different extent
WRONG_LABEL_BOUNDARY = "wrong_label_boundary"  # overlapping, different label and extent
MISSED = "missed"  # gold span that no prediction overlaps (after pairing)
SPURIOUS = "spurious"  # predicted span that no gold span overlaps (after pairing)
ERROR_KINDS = (MISSED, SPURIOUS, WRONG_BOUNDARY, WRONG_LABEL, WRONG_LABEL_BOUNDARY)
_PAIR_KINDS = (WRONG_LABEL, WRONG_BOUNDARY, WRONG_LABEL_BOUNDARY)


def pair_kind(gold: Span, pred: Span) -> str:
    """What is wrong with an overlapping gold/pred pair that is not an exact match."""
    if (gold.start, gold.end) == (pred.start, pred.end):
        return WRONG_LABEL
    return WRONG_BOUNDARY if gold.label == pred.label else WRONG_LABEL_BOUNDARY


def _pair_preference(gold: Span, pred: Span) -> float:
    """Prefer pairs in _PAIR_KINDS order, then by how much they overlap (result in [0, 1])."""
    rank = _PAIR_KINDS.index(pair_kind(gold, pred))
    return (len(_PAIR_KINDS) - 1 - rank + iou(gold, pred)) / len(_PAIR_KINDS)


def span_errors(gold: Sequence[Span], pred: Sequence[Span]) -> tuple[list[tuple[Span, Span]], list[tuple[str, Span | None, Span | None]]]:
    """Exact matches and errors of one sentence.

    Every gold and predicted span appears exactly once: in an exact match, in an overlapping error
    pair, or alone as missed/spurious. So missed + paired errors = gold - correct, and
    spurious + paired errors = predicted - correct.
    """
    pred_keys = {(p.start, p.end, p.label): p for p in pred}
    correct = [(g, pred_keys[(g.start, g.end, g.label)]) for g in gold if (g.start, g.end, g.label) in pred_keys]
    matched = {id(span) for pair in correct for span in pair}
    rest_gold = [g for g in gold if id(g) not in matched]
    rest_pred = [p for p in pred if id(p) not in matched]
    errors: list[tuple[str, Span | None, Span | None]] = []
    pairs = match_spans(rest_gold, rest_pred, preference=_pair_preference)
    for i, j in pairs:
        errors.append((pair_kind(rest_gold[i], rest_pred[j]), rest_gold[i], rest_pred[j]))
    paired_gold, paired_pred = {i for i, _ in pairs}, {j for _, j in pairs}
    errors += [(MISSED, g, None) for i, g in enumerate(rest_gold) if i not in paired_gold]
    errors += [(SPURIOUS, None, p) for j, p in enumerate(rest_pred) if j not in paired_pred]
    errors.sort(key=lambda e: (e[1] or e[2]).start)
    return correct, errors


def _number(value: float) -> float | None:
    """A JSON-safe float: seqeval leaves NaN where an average has nothing to average."""
    value = float(value)
    return None if math.isnan(value) else value


def _metrics(row: dict) -> dict:
    return {
        "precision": _number(row["precision"]),
        "recall": _number(row["recall"]),
        "f1": _number(row["f1-score"]),
        "support": int(row["support"]),
    }


def _join(gold_records: Sequence[dict], pred_records: Sequence[dict]) -> tuple[list[tuple[dict, dict | None]], list[str], int]:
    """Gold records with their prediction (None where missing), missing ids, and the count of extra ids."""
    preds: dict[str, dict] = {}
    for n, record in enumerate(pred_records, 1):
        if not isinstance(record.get("id"), str):
            raise ValueError(f"prediction record {n} has no string id")
        if record["id"] in preds:
            raise ValueError(f"{record['id']}: duplicate id in the predictions")
        preds[record["id"]] = record
    joined, missing, seen = [], [], set()
    for n, record in enumerate(gold_records, 1):
        rid = record.get("id")
        if not isinstance(rid, str):
            raise ValueError(f"gold record {n} has no string id")
        if rid in seen:
            raise ValueError(f"{rid}: duplicate id in the gold records")
        seen.add(rid)
        pred = preds.get(rid)
        if pred is None:
            missing.append(rid)
        elif pred.get("text") != record.get("text"):
            raise ValueError(f"{rid}: the prediction's text differs from the gold text")
        joined.append((record, pred))
    return joined, missing, len(preds.keys() - seen)


def _spans(record: dict, side: str) -> list[Span]:
    try:
        return record_spans(record)
    except ValueError as exc:
        raise ValueError(f"{side} {exc}") from None


def score(gold_records: Sequence[dict], pred_records: Sequence[dict]) -> dict:
    """Entity metrics, error breakdown and label confusion of predictions against gold (JSON-serialisable).

    A gold sentence with no prediction record counts as predicted empty (and is listed);
    predictions for sentences outside the gold set are ignored (and counted).
    """
    joined, missing, extra = _join(gold_records, pred_records)
    y_true, y_pred = [], []
    examples: dict[str, list[dict]] = {kind: [] for kind in ERROR_KINDS}
    axis = [*LABELS, OUTSIDE]
    confusion = [[0] * len(axis) for _ in axis]
    n_gold = n_pred = n_correct = 0
    for gold_record, pred_record in joined:
        gold = _spans(gold_record, "gold")
        pred = _spans(pred_record, "prediction") if pred_record else []
        text = gold_record["text"]
        y_true.append(spans_to_iob2(len(text), gold))
        y_pred.append(spans_to_iob2(len(text), pred))
        correct, errors = span_errors(gold, pred)
        n_gold, n_pred, n_correct = n_gold + len(gold), n_pred + len(pred), n_correct + len(correct)
        for g, p in correct:
            confusion[axis.index(g.label)][axis.index(p.label)] += 1
        for kind, g, p in errors:
            confusion[axis.index(g.label if g else OUTSIDE)][axis.index(p.label if p else OUTSIDE)] += 1
            examples[kind].append({
                "id": gold_record["id"],
                "text": text,
                "gold": g.to_json() if g else None,
                "pred": p.to_json() if p else None,
            })
    from seqeval.metrics import classification_report  # here: seqeval loads sklearn, 1.5 s of CLI start-up
    from seqeval.scheme import IOB2

    report = classification_report(y_true, y_pred, mode="strict", scheme=IOB2, output_dict=True, zero_division=0)
    return {
        "sentences": len(joined),
        "missing_predictions": missing,
        "extra_predictions": extra,
        "spans": {"gold": n_gold, "predicted": n_pred, "correct": n_correct},
        "micro": _metrics(report["micro avg"]),
        "macro": _metrics(report["macro avg"]),
        "weighted": _metrics(report["weighted avg"]),
        "per_label": {label: _metrics(report[label]) for label in LABELS if label in report},
        "errors": {kind: len(examples[kind]) for kind in ERROR_KINDS},
        "error_examples": examples,
        "confusion": {"labels": axis, "rows": "gold", "columns": "predicted", "matrix": confusion},
    }

"""Deterministic document-level train/dev/test assignment.

Whole documents (or groups that must stay together) are assigned, never sentences; each source file
is split on its own so every file appears in each split where it has enough documents; near-duplicate
documents are grouped first so no repeated text crosses splits.
"""
from __future__ import annotations

import hashlib

from corpus.records import Document

TARGETS = {"train": 0.70, "dev": 0.15, "test": 0.15}
SHINGLE = 10
NEAR_DUPLICATE = 0.3  # share of a document's 10-character shingles found in another document


def shingles(text: str, n: int = SHINGLE) -> set[str]:
    compact = "".join(text.split())
    return {compact[i:i + n] for i in range(max(len(compact) - n + 1, 0))}


def containment(a: set[str], b: set[str]) -> float:
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def units(documents: list[Document]) -> list[list[Document]]:
    """Documents that must share a split: an explicit group, or near-duplicate text (union-find)."""
    parent = list(range(len(documents)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    grams = [shingles(d.text) for d in documents]
    for i in range(len(documents)):
        for j in range(i + 1, len(documents)):
            same_group = documents[i].group is not None and documents[i].group == documents[j].group
            if same_group or containment(grams[i], grams[j]) >= NEAR_DUPLICATE:
                parent[find(j)] = find(i)
    groups: dict[int, list[Document]] = {}
    for i, doc in enumerate(documents):
        groups.setdefault(find(i), []).append(doc)
    return list(groups.values())


def _key(unit: list[Document]) -> str:
    return hashlib.sha256("|".join(d.id for d in unit).encode()).hexdigest()


def assign_splits(documents: list[Document]) -> dict[str, list[str]]:
    """Per source: largest units first, each to the split furthest below its character target."""
    assignment: dict[str, list[str]] = {name: [] for name in TARGETS}
    sources = sorted({d.source for d in documents})
    all_units = units(documents)
    for source in sources:
        mine = [u for u in all_units if u[0].source == source]
        total = sum(len(d.text) for u in mine for d in u)
        filled = {name: 0 for name in TARGETS}
        if len(mine) < 3:  # too few to spread: keep together for training
            order = {"train": mine}
        else:
            order = {}
            for unit in sorted(mine, key=lambda u: (-sum(len(d.text) for d in u), _key(u))):
                size = sum(len(d.text) for d in unit)
                name = max(TARGETS, key=lambda n: (TARGETS[n] * total - filled[n]) / (TARGETS[n] * total))
                filled[name] += size
                order.setdefault(name, []).append(unit)
        for name, assigned in order.items():
            assignment[name].extend(d.id for u in assigned for d in u)
    return {name: sorted(ids) for name, ids in assignment.items()}

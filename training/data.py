"""Pretraining text: which documents go in, and how they become fixed-length token blocks.

Held-out evaluation blocks get their masks drawn once, so the reported perplexity is
measured on the same masked positions at every evaluation and in the model card.
"""
from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm
from transformers import (
    DataCollatorForLanguageModeling,
    DataCollatorForTokenClassification,
    PreTrainedTokenizerBase,
)

from corpus.jsonl import RecordError, read_jsonl

# A sentence ends after these; blocks are packed from whole sentences where they fit.
SENTENCE_END = re.compile(r"(?<=[。！？!?；;\n])")


@dataclass(frozen=True)
class TextDocument:
    id: str
    source: str  # the file it came from
    text: str


def read_text_documents(path: Path, limit: int | None = None) -> list[TextDocument]:
    """Documents of a JSONL file with ``id`` and ``text`` fields (unlabelled or processed corpus)."""
    documents = []
    for lineno, record in enumerate(read_jsonl(path), 1):
        if not isinstance(record.get("text"), str) or "id" not in record:
            raise RecordError(f"{path}:{lineno}: record lacks a string 'text' or an 'id'")
        documents.append(TextDocument(str(record["id"]), f"{path.parent.name}/{path.name}", record["text"]))
        if limit is not None and len(documents) >= limit:
            break
    return documents


def train_split_documents(documents_path: Path, splits_path: Path) -> list[TextDocument]:
    """The project's own documents that belong to the train split; dev and test never pretrain."""
    try:
        splits = json.loads(splits_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RecordError(f"{splits_path}: malformed JSON ({exc.msg})") from None
    if not isinstance(splits, dict) or not isinstance(splits.get("train"), list):
        raise RecordError(f"{splits_path}: expected an object with a 'train' list of document ids")
    train_ids = set(splits["train"])
    held_ids = {doc_id for name, ids in splits.items() if name != "train" for doc_id in ids}
    overlap = train_ids & held_ids
    if overlap:
        raise RecordError(f"{splits_path}: documents in train and another split: {sorted(overlap)[:5]}")
    return [doc for doc in read_text_documents(documents_path) if doc.id in train_ids]


def split_sentences(text: str) -> list[str]:
    return [piece for piece in SENTENCE_END.split(text) if piece.strip()]


def pack_sentences(sentences: list[list[int]], block: int) -> list[list[int]]:
    """Greedily join consecutive tokenised sentences into blocks of at most ``block`` tokens.

    A sentence longer than a block is cut into block-sized pieces.
    """
    blocks: list[list[int]] = []
    current: list[int] = []
    for ids in sentences:
        if len(current) + len(ids) > block and current:
            blocks.append(current)
            current = []
        while len(ids) > block:
            blocks.append(ids[:block])
            ids = ids[block:]
        current = current + ids
    if current:
        blocks.append(current)
    return blocks


def tokenize_blocks(
    documents: list[TextDocument], tokenizer: PreTrainedTokenizerBase, seq_len: int
) -> list[list[list[int]]]:
    """Per document, its token blocks of at most ``seq_len`` ids including [CLS] and [SEP]."""
    result = []
    for doc in tqdm(documents, desc="tokenizing", unit="doc", mininterval=2):
        sentences = split_sentences(doc.text)
        if not sentences:
            result.append([])
            continue
        ids = tokenizer(sentences, add_special_tokens=False)["input_ids"]
        blocks = pack_sentences([s for s in ids if s], seq_len - 2)
        result.append([[tokenizer.cls_token_id, *b, tokenizer.sep_token_id] for b in blocks])
    return result


def holdout_split(n_documents: int, fraction: float, seed: int) -> set[int]:
    """Indices of held-out documents: whole documents, so no held-out text leaks into training."""
    order = list(range(n_documents))
    random.Random(seed).shuffle(order)
    return set(order[: max(1, round(n_documents * fraction))])


class BlockDataset(torch.utils.data.Dataset):
    """Token blocks as the feature dicts that the collators expect."""

    def __init__(self, features: list[dict[str, list[int]]]):
        self.features = features

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, index: int) -> dict[str, list[int]]:
        return self.features[index]


@dataclass
class MlmCollator:
    """Draws fresh masks for training batches; batches that already carry labels are only padded."""

    masker: DataCollatorForLanguageModeling
    padder: DataCollatorForTokenClassification

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        if "labels" in features[0]:
            return self.padder(features)
        return self.masker(features)


def build_collator(tokenizer: PreTrainedTokenizerBase, mlm_probability: float) -> MlmCollator:
    return MlmCollator(
        DataCollatorForLanguageModeling(tokenizer, mlm_probability=mlm_probability, pad_to_multiple_of=8),
        DataCollatorForTokenClassification(tokenizer, pad_to_multiple_of=8),
    )


def fix_masks(
    blocks: list[list[int]], tokenizer: PreTrainedTokenizerBase, mlm_probability: float, seed: int
) -> list[dict[str, list[int]]]:
    """Mask held-out blocks once with a seeded generator, so evaluations are comparable."""
    masker = DataCollatorForLanguageModeling(tokenizer, mlm_probability=mlm_probability, seed=seed)
    features = []
    for start in range(0, len(blocks), 256):
        chunk = blocks[start : start + 256]
        batch = masker([{"input_ids": ids} for ids in chunk])
        for row, ids in enumerate(chunk):
            n = len(ids)
            features.append(
                {
                    "input_ids": batch["input_ids"][row, :n].tolist(),
                    "labels": batch["labels"][row, :n].tolist(),
                }
            )
    return features


@dataclass
class PretrainCorpus:
    train: BlockDataset
    holdout: BlockDataset
    stats: dict[str, int | float | str]


def build_corpus(
    documents: list[TextDocument],
    tokenizer: PreTrainedTokenizerBase,
    seq_len: int,
    holdout_fraction: float,
    mlm_probability: float,
    seed: int,
) -> PretrainCorpus:
    """Tokenise, pack and split documents into training blocks and fixed-mask held-out blocks."""
    if len(documents) < 2:
        raise ValueError(f"pretraining needs at least 2 documents, got {len(documents)}")
    per_document = tokenize_blocks(documents, tokenizer, seq_len)
    held = holdout_split(len(documents), holdout_fraction, seed)
    train_blocks = [b for i, blocks in enumerate(per_document) if i not in held for b in blocks]
    held_blocks = [b for i, blocks in enumerate(per_document) if i in held for b in blocks]
    if not train_blocks or not held_blocks:
        raise ValueError("pretraining text is empty after tokenisation")
    sources: dict[str, int] = {}
    for doc in documents:
        sources[doc.source] = sources.get(doc.source, 0) + 1
    stats = {
        "documents": len(documents),
        "documents_by_source": ", ".join(f"{name}: {n}" for name, n in sorted(sources.items())),
        "characters": sum(len(doc.text) for doc in documents),
        "train_blocks": len(train_blocks),
        "train_tokens": sum(len(b) for b in train_blocks),
        "holdout_documents": len(held),
        "holdout_blocks": len(held_blocks),
        "holdout_tokens": sum(len(b) for b in held_blocks),
    }
    return PretrainCorpus(
        train=BlockDataset([{"input_ids": b} for b in train_blocks]),
        holdout=BlockDataset(fix_masks(held_blocks, tokenizer, mlm_probability, seed)),
        stats=stats,
    )

"""`gazette-ner corpus build`: raw files -> documents -> sentences -> splits, with statistics."""
from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path

import yaml

from corpus.cleaning import TextBuilder, paragraphs_text, split_lines
from corpus.jsonl import write_jsonl, write_text_atomic
from corpus.layouts import LAYOUTS, LayoutOptions
from corpus.records import Document, Sentence
from corpus.sentences import split_sentences
from corpus.splits import assign_splits

ROOT = Path(__file__).resolve().parent.parent
RAW_DIR = ROOT / "corpus" / "raw"
PROCESSED_DIR = ROOT / "corpus" / "processed"


@dataclass(frozen=True)
class Corpus:
    documents: list[Document]
    sentences: list[Sentence]
    splits: dict[str, list[str]]


def load_manifest(raw_dir: Path = RAW_DIR) -> list[dict]:
    return yaml.safe_load((raw_dir / "MANIFEST.yaml").read_text(encoding="utf-8"))["files"]


def documents_from_source(name: str, source: str, layout: str, options: dict) -> list[Document]:
    """Split one raw file into cleaned documents whose text maps back to ``source``."""
    prefix = name.split("_", 1)[0]
    documents = []
    for index, part in enumerate(LAYOUTS[layout](split_lines(source), LayoutOptions(**options)), 1):
        builder = TextBuilder(source)
        paragraphs_text(builder, part.paragraphs, part.wrap_space_lines)
        text, source_map = builder.build()
        documents.append(Document(
            id=f"{prefix}-d{index:02d}", source=name, title=part.title, text=text,
            line_start=part.line_start, line_end=part.line_end, doc_number=part.doc_number,
            date=part.date, group=part.group, source_map=source_map,
        ))
    return documents


def build_corpus(raw_dir: Path = RAW_DIR) -> Corpus:
    documents: list[Document] = []
    for entry in load_manifest(raw_dir):
        source = (raw_dir / entry["file"]).read_text(encoding="utf-8")
        documents.extend(documents_from_source(entry["file"], source, entry["layout"], entry.get("options") or {}))
    sentences = [s for doc in documents for s in split_sentences(doc)]
    return Corpus(documents, sentences, assign_splits(documents))


def corpus_stats(corpus: Corpus) -> dict:
    by_doc = {doc.id: doc for doc in corpus.documents}
    lengths = sorted(len(s.text) for s in corpus.sentences if not s.is_heading)
    split_of = {doc_id: split for split, ids in corpus.splits.items() for doc_id in ids}
    per_file: dict[str, dict] = {}
    for doc in corpus.documents:
        row = per_file.setdefault(doc.source, {"documents": 0, "sentences": 0, "characters": 0})
        row["documents"] += 1
        row["characters"] += len(doc.text)
    for s in corpus.sentences:
        per_file[by_doc[s.doc_id].source]["sentences"] += 1
    splits = {}
    for split, ids in corpus.splits.items():
        sents = [s for s in corpus.sentences if split_of[s.doc_id] == split]
        splits[split] = {"documents": len(ids), "sentences": len(sents),
                         "characters": sum(len(by_doc[i].text) for i in ids)}
    return {
        "documents": len(corpus.documents),
        "sentences": len(corpus.sentences),
        "headings": sum(s.is_heading for s in corpus.sentences),
        "characters": sum(len(d.text) for d in corpus.documents),
        "sentence_length": {
            "median": statistics.median(lengths),
            "p90": lengths[int(0.9 * (len(lengths) - 1))],
            "max": lengths[-1],
            "over_256": sum(n > 256 for n in lengths),
        },
        "per_file": per_file,
        "splits": splits,
    }


def write_corpus(corpus: Corpus, out_dir: Path = PROCESSED_DIR) -> dict:
    write_jsonl(out_dir / "documents.jsonl", (d.to_json() for d in corpus.documents))
    write_jsonl(out_dir / "sentences.jsonl", (s.to_json() for s in corpus.sentences))
    write_text_atomic(out_dir / "splits.json", json.dumps(corpus.splits, ensure_ascii=False, indent=1) + "\n")
    stats = corpus_stats(corpus)
    write_text_atomic(out_dir / "stats.json", json.dumps(stats, ensure_ascii=False, indent=1) + "\n")
    return stats

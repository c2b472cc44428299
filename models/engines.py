"""Where the tagging runs: in this process, or as a Ray Data pipeline for users who outgrow one machine.

Both take (id, source, text) documents and yield (document, record or error) in input order, so the
predict command writes the same output whichever engine tagged it.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence

from models.formats import document_record
from models.predict import Tagger, sentence_bounds

Document = tuple[str, str, str]  # id, source, text


def tag_document(tagger: Tagger, doc: Document) -> tuple[dict | None, str | None]:
    """The JSONL record of one document, or the one-line reason it failed (a bad document never stops a run)."""
    doc_id, source, text = doc
    try:
        spans = tagger.tag([text])[0]
    except Exception as exc:
        return None, f"{source}: {doc_id}: tagging failed ({type(exc).__name__}: {exc})"
    return document_record(doc_id, source, text, sentence_bounds(text), spans), None


def local(docs: Sequence[Document], tagger: Tagger) -> Iterator[tuple[Document, dict | None, str | None]]:
    for doc in docs:
        yield (doc, *tag_document(tagger, doc))


class _TaggerActor:
    """One tagger per Ray actor, loaded once and reused for every batch it is given."""

    def __init__(self, tagger_options: dict) -> None:
        import torch

        torch.set_num_threads(1)  # one core per actor: the pool, not each actor, spreads the work
        self.tagger = Tagger.load(**tagger_options)

    def __call__(self, batch: dict) -> dict:
        import json

        records, errors = [], []
        for doc_id, source, text in zip(batch["id"], batch["source"], batch["text"]):
            record, error = tag_document(self.tagger, (str(doc_id), str(source), str(text)))
            records.append(json.dumps(record, ensure_ascii=False) if record else "")
            errors.append(error or "")
        return {"index": batch["index"], "record": records, "error": errors}


def ray(docs: Sequence[Document], tagger_options: dict, workers: int = 2,
        batch_size: int = 4) -> Iterator[tuple[Document, dict | None, str | None]]:
    """``map_batches`` over an actor pool of ``workers`` taggers on the Ray cluster in reach
    (``ray.init()`` starts a local one when there is none)."""
    import json

    import ray as ray_lib

    if not ray_lib.is_initialized():
        ray_lib.init(num_cpus=max(workers, 1), include_dashboard=False, log_to_driver=False)
    items = [{"index": i, "id": d[0], "source": d[1], "text": d[2]} for i, d in enumerate(docs)]
    if not items:
        return
    dataset = ray_lib.data.from_items(items).map_batches(
        _TaggerActor, fn_constructor_kwargs={"tagger_options": tagger_options}, concurrency=workers,
        batch_size=batch_size, num_cpus=1, batch_format="numpy")
    done = {}
    for row in dataset.iter_rows():
        done[int(row["index"])] = (json.loads(row["record"]) if row["record"] else None, row["error"] or None)
    for i, doc in enumerate(docs):
        yield (doc, *done[i])

"""Output formats for tagged documents: JSONL records, CoNLL/BIO, Label Studio tasks, an HTML view."""
from __future__ import annotations

import html

from annotation.labels import LABEL_COLOURS, Span, spans_to_iob2
from annotation.labelstudio.interface import prediction, to_task


def document_record(doc_id: str, source: str, text: str, sentences: list[tuple[int, int]], spans: list[Span]) -> dict:
    return {
        "id": doc_id,
        "source": source,
        "text": text,
        "sentences": [{"start": s, "end": e} for s, e in sentences],
        "entities": [span.to_json() for span in spans],
    }


def to_conll(record: dict) -> str:
    """One character per line with its IOB2 tag, a blank line after each sentence; whitespace skipped."""
    text = record["text"]
    tags = spans_to_iob2(len(text), [Span(e["start"], e["end"], e["label"]) for e in record["entities"]])
    lines = [f"# id = {record['id']}"]
    for sentence in record["sentences"]:
        for i in range(sentence["start"], sentence["end"]):
            if not text[i].isspace():
                lines.append(f"{text[i]}\t{tags[i]}")
        lines.append("")
    return "\n".join(lines) + "\n"


def to_label_studio_task(record: dict, model_version: str) -> dict:
    """A Label Studio task (importable in its UI) whose entities arrive as a prediction, offsets
    converted to the browser's UTF-16 units by the same code as `gazette-ner ls push`."""
    return to_task(record, [prediction(record["text"], record["entities"], model_version)])


def to_html(records: list[dict], title: str) -> str:
    """A page a person can read: each document with entities highlighted by label, a legend on top."""
    legend = " ".join(f'<span class="ent" style="background:{c}">{label}</span>' for label, c in LABEL_COLOURS.items())
    parts = []
    for record in records:
        text, pos, out = record["text"], 0, []
        for e in sorted(record["entities"], key=lambda e: e["start"]):
            out.append(html.escape(text[pos:e["start"]]))
            score = f' title="{e["label"]} {e["score"]:.2f}"' if e.get("score") is not None else f' title="{e["label"]}"'
            out.append(f'<span class="ent" style="background:{LABEL_COLOURS[e["label"]]}"{score}>'
                       f'{html.escape(text[e["start"]:e["end"]])}<sub>{e["label"]}</sub></span>')
            pos = e["end"]
        out.append(html.escape(text[pos:]))
        parts.append(f'<section><h2>{html.escape(record["id"])}</h2><p class="src">{html.escape(record["source"])}'
                     f' · {len(record["entities"])} entities</p><div class="doc">{"".join(out)}</div></section>')
    return f"""<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body{{font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",sans-serif;max-width:60em;margin:2em auto;line-height:1.9}}
.doc{{white-space:pre-wrap}} .ent{{color:#fff;border-radius:3px;padding:0 2px}} .ent sub{{font-size:60%;margin-left:2px}}
.src{{color:#666}}
</style></head><body><h1>{html.escape(title)}</h1><p>{legend}</p>{"".join(parts)}</body></html>
"""


def write_tables(out_dir, duties: list, goals: list) -> list:
    """responsibilities.{csv,json} and targets.{csv,json}; list cells joined with '；' in the CSV."""
    import csv
    import io
    import json
    from pathlib import Path

    from corpus.jsonl import write_text_atomic

    written = []
    for name, rows in (("responsibilities", [d.to_json() for d in duties]), ("targets", [g.to_json() for g in goals])):
        fields = list(rows[0]) if rows else []
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "；".join(v) if isinstance(v, list) else v for k, v in row.items()})
        for suffix, text in ((".csv", "\ufeff" + buffer.getvalue()),
                             (".json", json.dumps(rows, ensure_ascii=False, indent=1) + "\n")):
            path = Path(out_dir) / f"{name}{suffix}"
            write_text_atomic(path, text)
            written.append(path)
    return written

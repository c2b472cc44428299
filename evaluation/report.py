"""Write an evaluation as metrics.json, report.md and a self-contained report.html.

The HTML embeds its plots as base64 PNG so that one file can be mailed or attached to a release.
Plots carry only ASCII label names; the Chinese example sentences are HTML text, which any browser
renders with its own CJK fonts, so no font has to be found for matplotlib.
"""
from __future__ import annotations

import base64
import io
import json
import random
from pathlib import Path

import jinja2
from matplotlib.figure import Figure

from corpus.jsonl import write_text_atomic
from evaluation.scoring import ERROR_KINDS

CONTEXT_CHARS = 20
# Brackets that Chinese government text does not use, so they cannot be mistaken for the text's own.
GOLD_MARKS, PRED_MARKS = ("⟦", "⟧"), ("⟨", "⟩")
ERROR_TITLES = {
    "missed": "Missed (gold span, nothing predicted over it)",
    "spurious": "Spurious (predicted span over no gold span)",
    "wrong_boundary": "Wrong boundary (same label, different extent)",
    "wrong_label": "Wrong label (same extent)",
    "wrong_label_boundary": "Wrong label and boundary",
}


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def plot_per_label(result: dict) -> str:
    """Grouped precision/recall/F1 bars per label, as base64 PNG."""
    labels = list(result["per_label"])
    fig = Figure(figsize=(1.4 * len(labels) + 2, 3.6))
    ax = fig.subplots()
    width = 0.27
    for k, metric in enumerate(("precision", "recall", "f1")):
        values = [result["per_label"][label][metric] or 0.0 for label in labels]
        bars = ax.bar([i + (k - 1) * width for i in range(len(labels))], values, width, label=metric)
        if metric == "f1":
            ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.set_xticks(range(len(labels)), [f"{label}\nn={result['per_label'][label]['support']}" for label in labels])
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("score")
    ax.set_title(f"Per-label scores (micro F1 {result['micro']['f1'] or 0:.3f})")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return _png(fig)


def plot_confusion(result: dict) -> str:
    """Heatmap of gold label (rows) against predicted label (columns), counts in the cells."""
    axis, matrix = result["confusion"]["labels"], result["confusion"]["matrix"]
    fig = Figure(figsize=(6.4, 5.2))
    ax = fig.subplots()
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax, shrink=0.8)
    ax.set_xticks(range(len(axis)), axis, rotation=45, ha="right")
    ax.set_yticks(range(len(axis)), axis)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title("Span label confusion (O = no span)")
    peak = max(max(row) for row in matrix) or 1
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            if count:
                ax.text(j, i, str(count), ha="center", va="center", fontsize=8,
                        color="white" if count > peak / 2 else "black")
    return _png(fig)


def context_segments(example: dict, width: int = CONTEXT_CHARS) -> list[dict]:
    """The example's text around its spans, cut into runs marked as in gold, in prediction, or both."""
    spans = [s for s in (example["gold"], example["pred"]) if s]
    text = example["text"]
    lo, hi = max(0, min(s["start"] for s in spans) - width), min(len(text), max(s["end"] for s in spans) + width)

    def inside(span: dict | None, i: int) -> bool:
        return bool(span) and span["start"] <= i < span["end"]

    segments: list[dict] = []
    for i in range(lo, hi):
        flags = (inside(example["gold"], i), inside(example["pred"], i))
        if segments and (segments[-1]["gold"], segments[-1]["pred"]) == flags:
            segments[-1]["text"] += text[i]
        else:
            segments.append({"text": text[i], "gold": flags[0], "pred": flags[1]})
    if lo > 0:
        segments.insert(0, {"text": "…", "gold": False, "pred": False})
    if hi < len(text):
        segments.append({"text": "…", "gold": False, "pred": False})
    return segments


def _md_escape(text: str) -> str:
    for char in "\\|*_`<":
        text = text.replace(char, "\\" + char)
    return text


def markdown_context(example: dict, width: int = CONTEXT_CHARS) -> str:
    """Context with the gold span in ⟦ ⟧ and the predicted span in ⟨ ⟩."""
    parts: list[str] = []
    previous = (False, False)
    for segment in context_segments(example, width):
        flags = (segment["gold"], segment["pred"])
        # Close before open so that marks nest or cross visibly at the right characters.
        if previous[1] and not flags[1]:
            parts.append(PRED_MARKS[1])
        if previous[0] and not flags[0]:
            parts.append(GOLD_MARKS[1])
        if flags[0] and not previous[0]:
            parts.append(GOLD_MARKS[0])
        if flags[1] and not previous[1]:
            parts.append(PRED_MARKS[0])
        parts.append(_md_escape(segment["text"]))
        previous = flags
    if previous[1]:
        parts.append(PRED_MARKS[1])
    if previous[0]:
        parts.append(GOLD_MARKS[1])
    return "".join(parts)


def sample_errors(result: dict, per_kind: int, seed: int = 0) -> dict[str, list[dict]]:
    """A reproducible sample of each kind of error, kept in file order."""
    rng = random.Random(seed)
    sample = {}
    for kind in ERROR_KINDS:
        examples = result["error_examples"][kind]
        chosen = sorted(rng.sample(range(len(examples)), min(per_kind, len(examples))))
        sample[kind] = [examples[i] for i in chosen]
    return sample


MARKDOWN = """\
# {{ title }}

{% for key, value in inputs.items() %}- {{ key }}: `{{ value }}`
{% endfor %}- sentences scored: {{ r.sentences }}; gold spans: {{ r.spans.gold }}; predicted: {{ r.spans.predicted }}; correct: {{ r.spans.correct }}
{% if r.missing_predictions %}- **{{ r.missing_predictions | length }} gold sentence(s) had no prediction** and count as predicted empty
{% endif %}{% if r.extra_predictions %}- {{ r.extra_predictions }} predicted sentence(s) are not in the gold file and were ignored
{% endif %}
Entity-level scores (seqeval, strict IOB2 over characters: start, end and label must all match).

| average | precision | recall | F1 | support |
|---|---:|---:|---:|---:|
{% for name in ("micro", "macro", "weighted") %}| {{ name }} | {{ f(r[name].precision) }} | {{ f(r[name].recall) }} | {{ f(r[name].f1) }} | {{ r[name].support }} |
{% endfor %}
| label | precision | recall | F1 | support |
|---|---:|---:|---:|---:|
{% for label, m in r.per_label.items() %}| {{ label }} | {{ f(m.precision) }} | {{ f(m.recall) }} | {{ f(m.f1) }} | {{ m.support }} |
{% endfor %}
## Errors

| kind | count |
|---|---:|
{% for kind in kinds %}| {{ titles[kind] }} | {{ r.errors[kind] }} |
{% endfor %}
## Label confusion (rows gold, columns predicted; O = no span)

| gold / predicted | {{ r.confusion.labels | join(" | ") }} |
|---|{% for _ in r.confusion.labels %}---:|{% endfor %}
{% for row in r.confusion.matrix %}| {{ r.confusion.labels[loop.index0] }} | {{ row | join(" | ") }} |
{% endfor %}
## Sample errors

Context marks the gold span with ⟦ ⟧ and the predicted span with ⟨ ⟩.
{% for kind in kinds %}{% if samples[kind] %}
### {{ titles[kind] }} ({{ samples[kind] | length }} of {{ r.errors[kind] }})

| id | gold | predicted | context |
|---|---|---|---|
{% for e in samples[kind] %}| {{ e.id }} | {{ span(e.gold) }} | {{ span(e.pred) }} | {{ context(e) }} |
{% endfor %}{% endif %}{% endfor %}"""

HTML = """\
<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{{ title }}</title>
<style>
body { font-family: system-ui, "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.g { text-decoration: underline 2px #1a7f37; }
.p { background: #ffe08a; }
.legend span { padding: 0 0.3em; }
img { max-width: 100%; }
</style>
</head>
<body>
<h1>{{ title }}</h1>
<ul>
{% for key, value in inputs.items() %}<li>{{ key }}: <code>{{ value }}</code></li>
{% endfor %}<li>sentences scored: {{ r.sentences }}; gold spans: {{ r.spans.gold }}; predicted: {{ r.spans.predicted }}; correct: {{ r.spans.correct }}</li>
{% if r.missing_predictions %}<li><strong>{{ r.missing_predictions | length }} gold sentence(s) had no prediction</strong> and count as predicted empty</li>{% endif %}
{% if r.extra_predictions %}<li>{{ r.extra_predictions }} predicted sentence(s) are not in the gold file and were ignored</li>{% endif %}
</ul>
<h2>Scores</h2>
<p>Entity level (seqeval, strict IOB2 over characters: start, end and label must all match).</p>
<table>
<tr><th>average</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>
{% for name in ("micro", "macro", "weighted") %}<tr><td>{{ name }}</td><td class="n">{{ f(r[name].precision) }}</td><td class="n">{{ f(r[name].recall) }}</td><td class="n">{{ f(r[name].f1) }}</td><td class="n">{{ r[name].support }}</td></tr>
{% endfor %}</table>
<table>
<tr><th>label</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>
{% for label, m in r.per_label.items() %}<tr><td>{{ label }}</td><td class="n">{{ f(m.precision) }}</td><td class="n">{{ f(m.recall) }}</td><td class="n">{{ f(m.f1) }}</td><td class="n">{{ m.support }}</td></tr>
{% endfor %}</table>
<img id="plot-per-label" alt="per-label precision, recall and F1" src="data:image/png;base64,{{ plots.per_label }}">
<h2>Errors</h2>
<table>
<tr><th>kind</th><th>count</th></tr>
{% for kind in kinds %}<tr><td>{{ titles[kind] }}</td><td class="n">{{ r.errors[kind] }}</td></tr>
{% endfor %}</table>
<h2>Label confusion</h2>
<img id="plot-confusion" alt="label confusion heatmap" src="data:image/png;base64,{{ plots.confusion }}">
<h2>Sample errors</h2>
<p class="legend">Context: <span class="g">gold span</span> <span class="p">predicted span</span></p>
{% for kind in kinds %}{% if samples[kind] %}
<h3>{{ titles[kind] }} ({{ samples[kind] | length }} of {{ r.errors[kind] }})</h3>
<table>
<tr><th>id</th><th>gold</th><th>predicted</th><th>context</th></tr>
{% for e in samples[kind] %}<tr><td><code>{{ e.id }}</code></td><td>{{ span(e.gold) }}</td><td>{{ span(e.pred) }}</td><td>{% for s in segments(e) %}{% if s.gold or s.pred %}<span class="{{ 'g' if s.gold else '' }}{{ ' ' if s.gold and s.pred else '' }}{{ 'p' if s.pred else '' }}">{{ s.text }}</span>{% else %}{{ s.text }}{% endif %}{% endfor %}</td></tr>
{% endfor %}</table>
{% endif %}{% endfor %}
</body>
</html>
"""


def _format(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _span_text(span: dict | None) -> str:
    return "-" if span is None else f"{span['label']} {span['text']}"


def render_markdown(result: dict, inputs: dict[str, str], samples: dict[str, list[dict]], title: str) -> str:
    template = jinja2.Environment(autoescape=False, keep_trailing_newline=True).from_string(MARKDOWN)
    return template.render(
        title=title, inputs=inputs, r=result, samples=samples, kinds=ERROR_KINDS, titles=ERROR_TITLES,
        f=_format, span=lambda s: _md_escape(_span_text(s)), context=markdown_context,
    )


def render_html(result: dict, inputs: dict[str, str], samples: dict[str, list[dict]], title: str) -> str:
    template = jinja2.Environment(autoescape=True).from_string(HTML)
    plots = {"per_label": plot_per_label(result), "confusion": plot_confusion(result)}
    return template.render(
        title=title, inputs=inputs, r=result, samples=samples, kinds=ERROR_KINDS, titles=ERROR_TITLES,
        plots=plots, f=_format, span=_span_text, segments=context_segments,
    )


def write_report(
    result: dict,
    out_dir: str | Path,
    inputs: dict[str, str],
    title: str = "Evaluation report",
    examples_per_kind: int = 10,
    seed: int = 0,
) -> dict[str, Path]:
    """Write metrics.json (inputs + every number and error), report.md and report.html into ``out_dir``."""
    out_dir = Path(out_dir)
    samples = sample_errors(result, examples_per_kind, seed)
    paths = {name: out_dir / name for name in ("metrics.json", "report.md", "report.html")}
    write_text_atomic(paths["metrics.json"], json.dumps({"inputs": inputs, **result}, ensure_ascii=False, indent=2) + "\n")
    write_text_atomic(paths["report.md"], render_markdown(result, inputs, samples, title))
    write_text_atomic(paths["report.html"], render_html(result, inputs, samples, title))
    return paths

"""What crosses into Label Studio and back: the labeling config, tasks with predictions, and
annotations read back as gold records. Offsets are converted here and nowhere else."""
from __future__ import annotations

from collections.abc import Iterable
from html import escape

from annotation.labels import LABEL_COLOURS, LABELS, SPEC_VERSION, Span
from annotation.labelstudio.offsets import OffsetMap

FROM_NAME, TO_NAME = "label", "text"
GUIDELINES_URL = "https://github.com/gazette-ner/gazette-ner/blob/main/annotation/guidelines.md"
HOTKEYS = {"AGENCY": "a", "INDICATOR": "i", "AMOUNT": "m", "DATE": "d", "LOCATION": "l", "POLICY": "p"}
HINTS = {
    "AGENCY": "机构：政府、党委、部门、领导小组、管委会，或作为责任单位的企事业单位",
    "INDICATOR": "指标：目标或统计所指的可度量量名，如 地区生产总值",
    "AMOUNT": "数量：带单位或量词的数字、百分比、金额",
    "DATE": "日期：日期、年份、期限、时段，如 2015年6月30日前",
    "LOCATION": "地点：具名的地理或行政区域",
    "POLICY": "政策：法规、规划、通知等文件标题（不含书名号）及文号",
}


def labeling_config() -> str:
    """Span labels on text, one colour and hotkey per label of the spec, text large enough for Chinese."""
    labels = "\n".join(
        f'    <Label value="{label}" background="{LABEL_COLOURS[label]}" hotkey="{HOTKEYS[label]}" hint="{escape(HINTS[label])}"/>'
        for label in LABELS
    )
    return f"""<View>
  <Header value="$ref_id"/>
  <Labels name="{FROM_NAME}" toName="{TO_NAME}" showInline="true">
{labels}
  </Labels>
  <View style="font-size: 20px; line-height: 2.2; font-family: 'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif; white-space: pre-wrap">
    <Text name="{TO_NAME}" value="$text" granularity="symbol"/>
  </View>
</View>"""


def instructions() -> str:
    rows = "".join(f"<li><b>{label}</b> ({HOTKEYS[label]}): {escape(HINTS[label])}</li>" for label in LABELS)
    return (f"<p>Mark every entity of annotation spec v{SPEC_VERSION}; read the "
            f'<a href="{GUIDELINES_URL}" target="_blank">annotation guidelines</a> first '
            f"(boundaries: no 《》, no trailing 等, keep qualifiers such as 以上/左右 inside AMOUNT).</p><ul>{rows}</ul>")


def span_results(text: str, spans: Iterable[Span | dict]) -> list[dict]:
    """Spans (code points) as Label Studio ``labels`` results (UTF-16 units, browser newlines)."""
    offsets = OffsetMap(text)
    browser_text = offsets.ls_text()
    results = []
    for n, span in enumerate(spans):
        span = span if isinstance(span, Span) else Span(span["start"], span["end"], span["label"], score=span.get("score"))
        start, end = offsets.span_to_ls(span.start, span.end)
        result = {
            "id": f"s{n}", "from_name": FROM_NAME, "to_name": TO_NAME, "type": "labels",
            "value": {"start": start, "end": end, "text": _utf16_slice(browser_text, start, end), "labels": [span.label]},
        }
        if span.score is not None:
            result["score"] = round(float(span.score), 4)
        results.append(result)
    return results


def to_task(record: dict, predictions: list[dict] | None = None) -> dict:
    """A task for one sentence or document record ({id, text, …}); ``ref_id`` keeps our id so a
    re-push can recognise it."""
    data = {"text": record["text"], "ref_id": record["id"]}
    for key in ("doc_id", "source"):
        if key in record:
            data[key] = record[key]
    task = {"data": data}
    if predictions:
        task["predictions"] = predictions
    return task


def prediction(text: str, spans: list[Span | dict], model_version: str) -> dict:
    """A prediction with per-span scores; the task score is the least confident span's (what
    Label Studio sorts by when an annotator looks for the tasks the model is unsure of)."""
    results = span_results(text, spans)
    scores = [r["score"] for r in results if "score" in r]
    return {"model_version": model_version, "result": results, "score": min(scores) if scores else 1.0}


class ResultError(ValueError):
    """A Label Studio result that does not fit its task's text."""


def result_spans(text: str, results: list[dict], where: str) -> list[Span]:
    """Label Studio results back to code-point spans; a span whose text does not match the task text
    raises ResultError naming ``where`` (task and annotation), never a silently moved entity."""
    offsets = OffsetMap(text)
    spans = []
    for result in results:
        if result.get("type") != "labels" or result.get("from_name") != FROM_NAME:
            continue
        value = result["value"]
        try:
            start, end = offsets.span_from_ls(int(value["start"]), int(value["end"]))
        except ValueError as exc:
            raise ResultError(f"{where}: {exc}") from None
        label = value["labels"][0]
        expected = value.get("text")
        found = text[start:end].replace("\r\n", "\n")
        if expected is not None and expected != found:
            raise ResultError(f"{where}: span [{value['start']},{value['end']}) {label} says {expected!r} "
                              f"but the task text there is {found!r}")
        spans.append(Span(start, end, label, text[start:end]))
    return sorted(spans)


def _utf16_slice(text: str, start: int, end: int) -> str:
    return text.encode("utf-16-le")[2 * start:2 * end].decode("utf-16-le")


def annotator_name(annotation: dict, users: dict[int, str] | None = None) -> str:
    """A stable annotator id for file names and provenance: ``ls:<email>`` (``ls:user-<id>`` when unknown)."""
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        who = who.get("email") or who.get("id")
    if isinstance(who, int):
        who = (users or {}).get(who) or f"user-{who}"
    return f"ls:{who}"


def gold_records(tasks: list[dict], project: int, users: dict[int, str] | None = None) -> tuple[dict[str, list[dict]], dict]:
    """Exported tasks → gold records per annotator (the latest annotation of each annotator on each
    task), and a summary: tasks without annotations, skipped/cancelled ones, annotators per task.

    Raises ResultError naming the task when a span does not match the task text.
    """
    per_annotator: dict[str, list[dict]] = {}
    summary = {"tasks": len(tasks), "unannotated": [], "skipped": [], "annotations": 0, "multi_annotator_tasks": 0}
    for task in tasks:
        data = task["data"]
        latest: dict[str, dict] = {}
        for annotation in task.get("annotations") or []:
            who = annotator_name(annotation, users)
            if who not in latest or _stamp(annotation) >= _stamp(latest[who]):
                latest[who] = annotation
        if not latest:
            summary["unannotated"].append(data.get("ref_id", task["id"]))
        if len(latest) > 1:
            summary["multi_annotator_tasks"] += 1
        for who, annotation in sorted(latest.items()):
            where = f"task {task['id']} ({data.get('ref_id')}) annotation {annotation.get('id')}"
            if annotation.get("was_cancelled"):
                summary["skipped"].append({"ref_id": data.get("ref_id"), "task": task["id"], "annotator": who})
                continue
            text = data["text"]
            spans = result_spans(text, annotation.get("result") or [], where)
            per_annotator.setdefault(who, []).append({
                "id": data.get("ref_id", f"ls-task-{task['id']}"),
                "doc_id": data.get("doc_id", data.get("ref_id", f"ls-task-{task['id']}")),
                "text": text,
                "spans": [span.to_json() for span in spans],
                "source": f"label-studio:project-{project}",
                "annotator": who,
                "spec_version": SPEC_VERSION,
                "label_studio": {"task": task["id"], "annotation": annotation.get("id"),
                                 "updated_at": annotation.get("updated_at") or annotation.get("created_at")},
            })
            summary["annotations"] += 1
    return per_annotator, summary


def _stamp(annotation: dict) -> tuple[str, int]:
    return (annotation.get("updated_at") or annotation.get("created_at") or "", annotation.get("id") or 0)

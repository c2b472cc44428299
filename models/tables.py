"""Structured tables from tagged sentences: who leads, who helps, by when; which target, how much.

The tables sit on top of entity spans (from the model or from gold), so they only ever list named
units and real values: generic references (有关部门, 各相关单位) never enter them.

- responsibilities: the clause markers of Chinese work plans — keyed (`牵头单位:` `责任单位:`
  `配合单位:` `完成时限:`), verbal (`A牵头,B配合`, `由A负责`) and table rows (`task |lead |units |`).
- targets: INDICATOR → comparator → AMOUNT, with the sentence's date; `分别` pairs lists in order.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from annotation.labels import Span
from models.normalise import normalise_amount, normalise_date

LEAD_KEY = re.compile(r"(?:总)?牵头(?:单位|部门|科室)\s*[:：]")
CO_KEY = re.compile(r"(?:责任|配合|协办|参与|协助)(?:单位|部门|科室)\s*[:：]")
DEADLINE_KEY = re.compile(r"完成(?:时限|时间)\s*[:：]")
LEAD_VERB = re.compile(r"牵头(?!单位|部门|科室)|(?<=[\u4e00-\u9fff)）])负责")
CO_VERB = re.compile(r"配合|协助|参与|按职责分工负责|共同负责")
CHUNK_BREAK = re.compile(r"[,，;；。(（〔)）〕]")
COMPARATORS = ("不高于", "不低于", "不超过", "不少于", "不大于", "不小于", "低于", "高于", "超过", "控制在", "保持在",
               "稳定在", "提高到", "提高至", "提升到", "提升至", "下降到", "下降至", "降低到", "降至", "降低", "达到", "达",
               "增长", "年均增长", "下降", "削减", "减少", "增加", "提高", "提升", "突破", "实现", "为", "占")


@dataclass
class Responsibility:
    sentence_id: str
    task: str
    lead: list[str] = field(default_factory=list)
    co: list[str] = field(default_factory=list)
    deadline: str | None = None
    deadline_iso: str | None = None
    deadline_qualifier: str | None = None

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Target:
    sentence_id: str
    indicator: str
    comparator: str | None
    amount: str
    value: float | None
    min: float | None
    max: float | None
    unit: str | None
    qualifier: str | None
    date: str | None
    date_iso: str | None

    def to_json(self) -> dict:
        return asdict(self)


def _inside(spans: list[Span], label: str, start: int, end: int) -> list[Span]:
    return [s for s in spans if s.label == label and start <= s.start and s.end <= end]


def _clause_end(text: str, start: int, stop: int) -> int:
    """Where the bracket that holds the clause closes: brackets inside names (各县〔特区、区〕政府) nest."""
    depth = 0
    for i in range(start, stop):
        if text[i] in "(（〔[":
            depth += 1
        elif text[i] in ")）〕]":
            depth -= 1
            if depth < 0:
                return i
    return stop


def _with_deadline(item: Responsibility, deadline: Span | None) -> Responsibility:
    if deadline:
        norm = normalise_date(deadline.text)
        item.deadline, item.deadline_iso, item.deadline_qualifier = deadline.text, norm["iso"], norm["qualifier"]
    return item


def _keyed(sentence_id: str, text: str, spans: list[Span]) -> Responsibility | None:
    markers = sorted([(m.start(), m.end(), "lead") for m in LEAD_KEY.finditer(text)]
                     + [(m.start(), m.end(), "co") for m in CO_KEY.finditer(text)]
                     + [(m.start(), m.end(), "deadline") for m in DEADLINE_KEY.finditer(text)])
    if not markers or all(kind == "deadline" for _, _, kind in markers):
        return None
    item = Responsibility(sentence_id, text[: markers[0][0]].rstrip("(（〔[ ").strip())
    deadline = None
    for k, (start, end, kind) in enumerate(markers):
        stop = markers[k + 1][0] if k + 1 < len(markers) else len(text)
        stop = _clause_end(text, end, stop)
        if kind == "deadline":
            deadline = deadline or next(iter(_inside(spans, "DATE", end, stop)), None)
            continue
        agencies = _inside(spans, "AGENCY", end, stop)
        if kind == "co" and not any(m[2] == "lead" for m in markers) and len(agencies) > 1 \
                and text[agencies[0].end:agencies[0].end + 1] in ",，" and "、" in text[agencies[0].end:stop]:
            item.lead.append(agencies[0].text)  # `责任单位:A,B、C` — the unit before the comma leads
            agencies = agencies[1:]
        getattr(item, kind).extend(a.text for a in agencies)
    return _with_deadline(item, deadline)


def _verbal(sentence_id: str, text: str, spans: list[Span]) -> Responsibility | None:
    agencies = [s for s in spans if s.label == "AGENCY"]
    lead, co = [], []
    for pattern, bucket in ((LEAD_VERB, lead), (CO_VERB, co)):
        for match in pattern.finditer(text):
            breaks = [m.end() for m in CHUNK_BREAK.finditer(text, 0, match.start())]
            chunk_start = max(breaks + [0, *[m.end() for m in LEAD_VERB.finditer(text, 0, match.start())]])
            named = [a for a in agencies if chunk_start <= a.start and a.end <= match.start()
                     and not text[a.end:match.start()].strip("等和及与、 ")[:6].count("要")]
            if bucket is lead and match.group(0) == "负责" and (not named or match.start() - named[-1].end > 1):
                continue
            bucket.extend(a.text for a in named if a.text not in bucket)
    if not lead and not co:
        return None
    bracket = re.search(r"[(（〔][^()（）〔〕]*(?:牵头|负责|配合)[^()（）〔〕]*[)）〕]", text)
    task = text[: bracket.start()].strip() if bracket else text
    deadline = next((s for s in spans if s.label == "DATE"), None) if bracket is None else None
    return _with_deadline(Responsibility(sentence_id, task, lead, [c for c in co if c not in lead]), deadline)


def _table_row(sentence_id: str, text: str, spans: list[Span]) -> Responsibility | None:
    cells = text.split("|")
    if len(cells) < 4 or cells[-1].strip():
        return None
    lead_start = len(cells[0]) + 1
    co_start = lead_start + len(cells[1]) + 1
    lead = _inside(spans, "AGENCY", lead_start, co_start)
    co = _inside(spans, "AGENCY", co_start, co_start + len(cells[2]))
    if not lead and not co:
        return None
    return Responsibility(sentence_id, cells[0].strip(), [a.text for a in lead], [a.text for a in co])


def responsibilities(sentence_id: str, text: str, spans: list[Span]) -> list[Responsibility]:
    """The responsibility clause of one sentence (at most one), read from its AGENCY and DATE spans."""
    for reader in (_table_row, _keyed, _verbal):
        item = reader(sentence_id, text, spans)
        if item is not None:
            return [item]
    return []


def _comparator(between: str) -> str | None:
    found = [(between.rfind(c) + len(c), len(c), c) for c in COMPARATORS if c in between]
    return max(found)[2] if found else None


def _pairs(text: str, indicators: list[Span], amounts: list[Span]) -> list[tuple[Span, Span]]:
    """Indicator–amount pairs: a `分别` list pairs in order; otherwise each indicator takes the first amount
    after it, plus amounts chained to that one by a comparator (削减16.7%以上,不高于60微克/立方米)."""
    at = text.find("分别")
    if at >= 0:
        group = [i for i in indicators if i.end <= at]
        after = [a for a in amounts if a.start > at]
        if group and len(group) == len(after):
            return list(zip(group, after))
    pairs = []
    for k, indicator in enumerate(indicators):
        limit = indicators[k + 1].start if k + 1 < len(indicators) else len(text)
        mine = [a for a in amounts if indicator.end <= a.start < limit]
        chained = mine[:1] + [b for a, b in zip(mine, mine[1:])
                              if len(text[a.end:b.start]) <= 6 and _comparator(text[a.end:b.start])]
        pairs.extend((indicator, amount) for amount in chained)
    return pairs


def targets(sentence_id: str, text: str, spans: list[Span]) -> list[Target]:
    """Indicator–amount pairs of one sentence; the date is the nearest DATE before the indicator."""
    ordered = sorted(spans)
    indicators = [s for s in ordered if s.label == "INDICATOR"]
    amounts = [s for s in ordered if s.label == "AMOUNT"]
    out = []
    for indicator, amount in _pairs(text, indicators, amounts):
        dates = [s for s in ordered if s.label == "DATE" and s.end <= indicator.start]
        date = dates[-1] if dates else next((s for s in ordered if s.label == "DATE"), None)
        value = normalise_amount(amount.text)
        between = text[indicator.end:amount.start]
        previous = [a for a in amounts if indicator.end <= a.end <= amount.start]
        if previous:
            between = text[previous[-1].end:amount.start]
        out.append(Target(sentence_id, indicator.text, _comparator(between), amount.text,
                          value.get("value"), value.get("min"), value.get("max"), value["unit"],
                          value["qualifier"], date.text if date else None,
                          normalise_date(date.text)["iso"] if date else None))
    return out


def tables_from_records(records: list[dict]) -> tuple[list[Responsibility], list[Target]]:
    """Both tables from sentence records {id, text, spans} (gold files or per-sentence predictions)."""
    duties, goals = [], []
    for record in records:
        spans = [Span(s["start"], s["end"], s["label"], s.get("text") or record["text"][s["start"]:s["end"]])
                 for s in record["spans"]]
        duties.extend(responsibilities(record["id"], record["text"], spans))
        goals.extend(targets(record["id"], record["text"], spans))
    return duties, goals


def sentence_records(document: dict) -> list[dict]:
    """A predicted document record cut back into sentence records with sentence-relative spans."""
    out = []
    for n, sentence in enumerate(document["sentences"], 1):
        start, end = sentence["start"], sentence["end"]
        spans = [{**e, "start": e["start"] - start, "end": e["end"] - start}
                 for e in document["entities"] if start <= e["start"] and e["end"] <= end]
        out.append({"id": f"{document['id']}-s{n:04d}", "text": document["text"][start:end], "spans": spans})
    return out

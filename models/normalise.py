"""Normalised values for the structured tables: ISO dates and ranges, amounts as number + unit + qualifier.

Chinese numerals are converted with cn2an first (二〇一五年 -> 2015年, 一百万元 -> 1000000元), so one
set of patterns reads both. A value that cannot be normalised keeps its text and gets ``None``.
"""
from __future__ import annotations

import calendar
import re
import warnings

import cn2an

DATE_QUALIFIERS = {"以前": "before", "前": "before", "以来": "since", "起": "from", "以后": "after", "后": "after",
                   "内": "within", "期间": "during"}
AMOUNT_QUALIFIERS = ("以上", "以下", "左右", "以内", "之内", "多", "余", "内")
MULTIPLIERS = {"万亿": 1e12, "亿": 1e8, "千万": 1e7, "百万": 1e6, "万": 1e4, "千": 1e3}
RANGE = r"\s*(?:—|-|–|~|至|到)\s*"


def _arabic(text: str) -> str:
    if re.search(r"[〇零一二两三四五六七八九十百千万亿]", text):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return cn2an.transform(text, "cn2an")
            except (ValueError, KeyError):
                return text
    return text


def _point(year: int, month: int | None, day: int | None, edge: str | None) -> str:
    """One calendar point; ``edge`` 'end' or 'start' resolves 底/末/初 to a day."""
    if month is None:
        if edge == "end":
            return f"{year:04d}-12-31"
        if edge == "start":
            return f"{year:04d}-01-01"
        return f"{year:04d}"
    if day is None:
        if edge == "end":
            return f"{year:04d}-{month:02d}-{calendar.monthrange(year, month)[1]:02d}"
        if edge == "start":
            return f"{year:04d}-{month:02d}-01"
        return f"{year:04d}-{month:02d}"
    return f"{year:04d}-{month:02d}-{day:02d}"


POINT = re.compile(r"(?P<y>\d{4})年(?:(?P<m>\d{1,2})月(?:(?P<d>\d{1,2})日)?)?(?P<edge>底|末|初|上半年|下半年)?")


def _read_point(match: re.Match, year: int | None = None) -> tuple[str, str] | None:
    y = int(match.group("y")) if match.group("y") else year
    if y is None:
        return None
    m = int(match.group("m")) if match.group("m") else None
    d = int(match.group("d")) if match.group("d") else None
    edge = match.group("edge")
    if edge == "上半年":
        return f"{y:04d}-01", f"{y:04d}-06"
    if edge == "下半年":
        return f"{y:04d}-07", f"{y:04d}-12"
    kind = {"底": "end", "末": "end", "初": "start"}.get(edge or "")
    point = _point(y, m, d, kind)
    return point, point


def normalise_date(text: str) -> dict:
    """{'text', 'iso', 'qualifier'}: '2015-06-30' before, '2015/2017', '2017-12-31'; iso None if relative."""
    value = _arabic(text.strip())
    qualifier = None
    for suffix, name in DATE_QUALIFIERS.items():
        if value.endswith(suffix):
            qualifier, value = name, value[: -len(suffix)]
            break
    points = list(POINT.finditer(value))
    iso = None
    if len(points) == 1 and re.fullmatch(r"\d{4}" + RANGE + r"\d{4}年", value):
        first, last = re.findall(r"\d{4}", value)
        iso = f"{first}/{last}"
    elif len(points) == 1 and points[0].group(0) == value:
        start, end = _read_point(points[0])
        iso = start if start == end else f"{start}/{end}"
    elif len(points) == 2 and points[0].start() == 0 and points[1].end() == len(value) \
            and re.fullmatch(RANGE, value[points[0].end():points[1].start()]):
        iso = f"{_read_point(points[0])[0]}/{_read_point(points[1])[1]}"
    return {"text": text, "iso": iso, "qualifier": qualifier}


NUMBER = r"\d+(?:\.\d+)?(?:/\d+)?"
AMOUNT = re.compile(rf"^(?P<low>{NUMBER})(?:(?P<low_unit>[^\d—\-–~至到]*?){RANGE}(?P<high>{NUMBER}))?(?P<unit>.*?)$")


def _number(text: str) -> float:
    if "/" in text:
        top, bottom = text.split("/")
        return float(top) / float(bottom)
    return float(text)


def normalise_amount(text: str) -> dict:
    """{'text', 'value' or 'min'/'max', 'unit', 'qualifier'}; 万/亿 folded into the value (50万吨 -> 500000 吨)."""
    value = _arabic(text.strip()).replace(",", "")
    bounds = re.fullmatch(r"(.+?)以上(.+?)以下", value)
    if bounds:
        low, high = normalise_amount(bounds.group(1)), normalise_amount(bounds.group(2))
        return {"text": text, "min": low.get("value"), "max": high.get("value"), "unit": high["unit"] or low["unit"],
                "qualifier": None}
    qualifier = next((q for q in AMOUNT_QUALIFIERS if value.endswith(q)), None)
    if qualifier:
        value = value[: -len(qualifier)]
    inner = re.match(rf"^({NUMBER})(余|多)(.*)$", value)
    if inner:
        qualifier, value = inner.group(2), inner.group(1) + inner.group(3)
    match = AMOUNT.match(value)
    if not match:
        return {"text": text, "value": None, "unit": None, "qualifier": qualifier}
    unit = match.group("unit").strip()
    scale = 1.0
    for prefix, factor in MULTIPLIERS.items():
        if unit.startswith(prefix) and unit != prefix + "分点":
            scale, unit = factor, unit[len(prefix):] or prefix
            if unit == prefix:
                scale = factor
                unit = ""
            break
    low = _number(match.group("low")) * scale
    result: dict = {"text": text, "unit": unit or None, "qualifier": qualifier}
    if match.group("high"):
        result.update({"min": low, "max": _number(match.group("high")) * scale})
    else:
        result["value"] = low
    return result

"""Rule pre-annotator for the six labels of ../shared/ANNOTATION_SPEC.md (v1.2).

Its output is the first layer that human and LLM annotators correct into gold, and it is the
baseline row of the results table, so it aims at precision and recall alike. Each component
(POLICY, DATE, AMOUNT, LOCATION, AGENCY, INDICATOR) proposes candidate spans from patterns and
lexicons (``annotation/lexicons/``); :func:`resolve` then keeps one non-overlapping set in which
the longest span wins (the spec's outer-span rule) and a fixed label priority breaks ties.
"""
from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

import cn2an
from tqdm import tqdm

from annotation.labels import LABELS, SPEC_VERSION, Span
from corpus.jsonl import RecordError, read_jsonl, write_jsonl, write_text_atomic

LEXICON_DIR = Path(__file__).with_name("lexicons")
MINED_AGENCIES = LEXICON_DIR / "agencies_mined.tsv"
SOURCE, ANNOTATOR = "rules", "rules-v1"

# Equal extents: the label listed first wins. POLICY before AGENCY keeps a heading such as
# 本溪市人民政府关于…的通知 whole; DATE before AMOUNT makes 3个月 a duration.
PRIORITY = {label: rank for rank, label in enumerate(("POLICY", "AGENCY", "DATE", "AMOUNT", "INDICATOR", "LOCATION"))}
assert set(PRIORITY) == set(LABELS)

HAN = "\u4e00-\u9fff"
Cand = tuple[int, int, str]  # start, end, label

# --------------------------------------------------------------------------- lexicons


class Gazetteer:
    """Longest-match lookup over a fixed list of names, indexed by first and last character."""

    def __init__(self, names: Iterable[str]):
        self.names = frozenset(n for n in names if n)
        starts: dict[str, set[int]] = defaultdict(set)
        ends: dict[str, set[int]] = defaultdict(set)
        for name in self.names:
            starts[name[0]].add(len(name))
            ends[name[-1]].add(len(name))
        self._starts = {c: sorted(v, reverse=True) for c, v in starts.items()}
        self._ends = {c: sorted(v, reverse=True) for c, v in ends.items()}

    def match_at(self, text: str, i: int) -> int:
        """Length of the longest name that starts at ``i`` (0 if none)."""
        for n in self._starts.get(text[i], ()) if i < len(text) else ():
            if i + n <= len(text) and text[i:i + n] in self.names:
                return n
        return 0

    def match_ending_at(self, text: str, j: int) -> int:
        """Length of the longest name that ends just before ``j`` (0 if none)."""
        for n in self._ends.get(text[j - 1], ()) if j > 0 else ():
            if n <= j and text[j - n:j] in self.names:
                return n
        return 0

    def finditer(self, text: str) -> Iterator[tuple[int, int]]:
        """Leftmost-longest, non-overlapping matches."""
        i = 0
        while i < len(text):
            n = self.match_at(text, i)
            if n:
                yield i, i + n
                i += n
            else:
                i += 1


def _read_names(path: Path) -> list[str]:
    """Non-comment lines; the first tab-separated column is the name."""
    with path.open(encoding="utf-8") as handle:
        return [line.split("\t")[0].strip() for line in handle if line.strip() and not line.startswith("#")]


DIVISION_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市", "地区", "盟")
# Short forms of prefecture names that are ordinary words in running text.
AMBIGUOUS_SHORT = {"长治", "大同", "来宾", "白银", "新乡", "安康", "中山", "黄山", "阿里", "吉林", "江门", "鹤壁",
                   "三明", "金昌", "太原", "临沧", "昌都", "永州", "泰安", "宜春", "和田", "海南", "海北", "海东",
                   "保定", "兴安", "新城", "城中", "城东", "城西", "城南", "城北", "新华", "和平", "长安", "开平"}


@lru_cache(maxsize=1)
def lexicons() -> dict[str, Gazetteer]:
    """Load every lexicon once: places, zone prefixes, agency stems, indicator names."""
    division_rows = []
    with (LEXICON_DIR / "divisions.tsv").open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip() and not line.startswith("#"):
                name, level, _ = line.rstrip("\n").split("\t")
                division_rows.append((name, level))
    curated = _read_names(LEXICON_DIR / "places.txt")
    removed = {n[1:] for n in curated if n.startswith("-")}
    places = {n for n in curated if not n.startswith("-")}
    county_short = set()
    for name, level in division_rows:
        if name in removed:
            continue
        places.add(name)
        short = _strip_division_suffix(name, level)
        if short and len(short) >= 2 and short not in AMBIGUOUS_SHORT:
            # Province and prefecture short forms stand alone (贵州, 衡阳); county short forms
            # only open a zone or body name (钟山经济开发区, 沅江分局).
            (places if level in ("province", "prefecture") else county_short).add(short)
    agencies = set(_read_names(LEXICON_DIR / "agencies_curated.txt"))
    if MINED_AGENCIES.exists():
        agencies.update(_read_names(MINED_AGENCIES))
    place_gaz = Gazetteer(places)
    stems = set(WEAK_STEMS)
    for name in agencies:
        stems.add(name)
        stem = name[_prefix_length(name, place_gaz):]
        if len(stem) >= 3 and stem[0] not in "委" and stem not in GENERIC_STEMS:
            stems.add(stem)
    return {
        "places": place_gaz,
        "zone_prefixes": Gazetteer(places | county_short),
        "agency_stems": Gazetteer(stems),
        "indicators": Gazetteer(_read_names(LEXICON_DIR / "indicators.txt")),
    }


def _strip_division_suffix(name: str, level: str) -> str:
    if level == "county":
        for suffix in ("自治县", "特区", "县", "区", "市", "旗"):
            if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                return name[: -len(suffix)]
        return ""
    for suffix in DIVISION_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return ""


def _prefix_length(name: str, prefix_gaz: Gazetteer) -> int:
    """How many leading characters of an agency name are place or level prefixes (六盘水市, 市, 中共)."""
    i = 0
    while i < len(name):
        n = prefix_gaz.match_at(name, i)
        if n and i + n < len(name):
            i += n
        elif name.startswith(("中共", "国家", "XX"), i) and i + 2 < len(name):
            i += 2
        elif name[i] in LEVEL_CHARS and i + 1 < len(name):
            return i + 1
        else:
            break
    return i


# --------------------------------------------------------------------------- shared helpers

QUOTE_RE = re.compile(r"[“\"「『‘][^“”\"「」『』‘’\n]{1,30}[”\"」』’]")
FIVE_YEAR_RE = re.compile(r"[“\"]?十[一二三四五]五[”\"]?(?:规划)?(?:时期|期间|末期?|初期?|中期|以来|前期|后期)")


def _inside(regions: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(s <= start and end <= e for s, e in regions)


def _is_cn_number(s: str) -> bool:
    """A well-formed Chinese numeral (三, 十一, 一百万), not 十四五 or 千万 as an adverb."""
    try:
        cn2an.cn2an(s, "normal")
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- POLICY

DOC_TYPES = (r"(?:实施意见|指导意见|实施方案|工作方案|行动方案|行动计划|实施细则|管理办法|暂行办法|工作要点|"
             r"通知|通报|方案|意见|办法|规定|规划|计划|要点|决定|细则|规则|条例|纲要|批复|通告|公告|决议|"
             r"指引|清单|目录|措施|须知|规范|章程|报告|函)")
DOC_SUFFIX = r"(?:[(（](?:试行|暂行|修订|草案|征求意见稿|(?:19|20)\d{2}\s?[—–\-~至]\s?(?:19|20)\d{2}年|(?:19|20)\d{2}年本?)[)）])?"
DOCNO_RE = re.compile(
    rf"(?P<issuer>[{HAN}]{{1,14}}(?:[(（][{HAN}]{{1,8}}[)）])?)\s?[〔﹝【\[［(（]\s?(?:19|20)[0-9lO]{{2}}\s?"
    rf"[〕﹞】\]］)）]\s?[0-9lO]{{1,4}}\s?号?〕?")
LAWNO_RE = re.compile(rf"(?P<issuer>[{HAN}]{{1,8}})(?:令第\s?\d+\s?号|第\s?\d+\s?号令)")
STANDARD_RE = re.compile(r"(?<![A-Za-z])(?:GB|GBZ|HJ|DB\d{0,2}|JGJ|CJJ|CJ)(?:\s?/\s?T)?\s?\d{2,6}(?:\.\d+)?\s?[-—–]\s?\d{4}")
ISSUER_STOP_RE = re.compile(r"根据|按照|依据|依照|参照|执行|落实|贯彻|印发|转发|关于|通知|意见|文件|精神|要求|规定|的|和|及|与|是|以|为|经|见|按|据|由|将|对|于|在")
TITLE_LEAD_RE = re.compile(r"为贯彻落实|为贯彻|为落实|贯彻落实|根据|按照|依据|依照|参照|执行|对照|结合|转发|现将")
UNBRACKETED_TITLE_RE = re.compile(rf"[^。；;：:，,、\n《》()（）]{{4,80}}?{DOC_TYPES}{DOC_SUFFIX}$")
# A heading line names a document only with a document-like type; 保障措施 or 工作制度 alone is a section.
HEADING_TYPES = r"(?:通知|通报|方案|意见|办法|规定|规划|计划|要点|决定|细则|规则|条例|纲要|批复|通告|公告|决议|指引|(?:若干|政策)措施)"
HEADING_RE = re.compile(rf"^\s*(?:附件\d*|附表\d*)?[:：]?\s*(?P<title>[^\s:：|>].{{4,120}}?{HEADING_TYPES}{DOC_SUFFIX})"
                        rf"\s*(?:[(（][^()（）]+[)）])?\s*$")


SECTION_MARKER_RE = re.compile(r"^\s*(?:[(（]?[一二三四五六七八九十\d]+[)）、.．]|第[一二三四五六七八九十]+[章条节])")


def _trim_issuer(m: re.Match) -> int:
    """Start of a 文号 or 令号: the issuer abbreviation after the last non-issuer word."""
    start = m.start("issuer")
    issuer = m.group("issuer")
    cut = 0
    for stop in ISSUER_STOP_RE.finditer(issuer):
        cut = stop.end()
    return start + cut


def document_numbers(text: str) -> list[tuple[int, int]]:
    """文号 (黔府发 [2015]16号, 湛自然资(执法监督)〔2022〕89号), 令号 (国令第722号) and standards."""
    found = []
    for regex in (DOCNO_RE, LAWNO_RE):
        for m in regex.finditer(text):
            start = _trim_issuer(m)
            if start < m.end():
                found.append((start, m.end()))
    found.extend(m.span() for m in STANDARD_RE.finditer(text))
    return found


def _closes_soon(text: str, j: int) -> bool:
    """An OCR'd 。 just before the closer, as in 《…(201。年本)》, stays inside the title."""
    close = text.find("》", j, j + 12)
    return close >= 0 and text.find("《", j, close) < 0


def bracketed_titles(text: str, numbers: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Inner extent of each 《…》; nested 〈〉/《》 stay inside, an unclosed title ends before its 文号."""
    spans = []
    number_starts = sorted(s for s, _ in numbers)
    i = text.find("《")
    while i >= 0:
        depth, j, end = 0, i + 1, None
        while j < len(text):
            ch = text[j]
            if ch == "《":
                depth += 1
            elif ch == "》":
                if depth == 0:
                    end = j
                    break
                depth -= 1
            elif ch == "\n" or ch == "。" and not _closes_soon(text, j):
                break
            j += 1
        if end is None:  # broken bracket: stop at the 文号 or the sentence end, dropping an OCR'd closer
            stop = next((s for s in number_starts if i < s <= j), j)
            end = stop
            while end > i + 1 and text[end - 1] in ">〉)）":
                end -= 1
        start, stop = i + 1, end
        while start < stop and text[start].isspace():
            start += 1
        while stop > start and text[stop - 1].isspace():
            stop -= 1
        if stop - start >= 2:
            spans.append((start, stop))
        i = text.find("《", max(end, i + 1))
    return spans


def unbracketed_titles(text: str, numbers: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A document name without 《》 directly followed by its (文号) (rules 7 and 15)."""
    spans = []
    for s, _ in numbers:
        k = s
        while k > 0 and text[k - 1] in " (（":
            k -= 1
        if k == s or k == 0:
            continue
        m = UNBRACKETED_TITLE_RE.search(text, max(0, k - 90), k)
        if not m:
            continue
        start = m.start()
        for lead in TITLE_LEAD_RE.finditer(text, start, k):
            start = lead.end()
        if "关于" in text[start:k]:
            spans.append((start, k))
    return spans


def heading_title(text: str) -> list[tuple[int, int]]:
    """A document's own heading line is one POLICY span, its trailing (文号) aside (rules 12 and 26)."""
    m = HEADING_RE.match(text)
    if not m or re.search(r"[:：|>]", m.group("title")) or SECTION_MARKER_RE.match(text):
        return []
    return [m.span("title")]


def policies(text: str, heading: bool) -> list[tuple[int, int]]:
    numbers = document_numbers(text)
    spans = numbers + bracketed_titles(text, numbers) + unbracketed_titles(text, numbers)
    if heading:
        spans += heading_title(text)
    return spans


# --------------------------------------------------------------------------- DATE

_Y = r"(?:(?:19|20)[0-9]{2}|20XX|20xx|[一二][〇○零一二三四五六七八九]{3})"
_M = r"(?:1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])"
_D = r"(?:3[01l]|[12][0-9l]|0?[1-9]|[一二]?十[一二三四五六七八九]?|三十一?|[一二三四五六七八九])"
_YEAR = _Y + r"年(?!代)"
_YEAR_PART = (r"(?:上半年|下半年|前三季度|第?[一二三四1-4]季度|[前后][一二三四五六七八九十\d]{1,2}个月|"
              r"冬春季|秋冬季|春季|夏季|秋季|冬季|年底|年末|年初|年中|底|末|初|度)")
_MONTH_DAY = _M + r"月(?:份|" + _D + r"[日号])?(?:[上中下]旬)?"
_CLOCK = r"(?:\s?(?:上午|下午|晚上|早上)?\d{1,2}[:：]\d{2}|\s?\d{1,2}时(?:\d{1,2}分)?)"
_POINT = (rf"(?:{_YEAR}(?:{_MONTH_DAY}|{_YEAR_PART})?|{_MONTH_DAY}|"
          r"(?:19|20)\d{2}[-./](?:1[0-2]|0?[1-9])[-./](?:3[01]|[12]\d|0?[1-9])(?!\d))")
_CONN = r"\s?(?:[—–\-~～至到]|一(?=\d))\s?(?:次年)?"
_BARE = rf"(?:{_Y}|{_M}|{_D}[日号]?)"  # left end of a range (2015—2017年, 6—12月, 5月6日—8日)
_SUFFIX = r"(?:以前|之前|以来|以后|之后|期间|前后|至今|底前|末前|前(?![期夕提])|起(?!草)|内(?![容部涵])|止)?"
_RELATIVE = (r"(?:上年同期|上年度|上一年度|今年|明年|去年|前年|当年|本年度|本年|全年|上年|次年|年底|年末|年初|年内|年中|"
             r"上半年|下半年|本月|当月|上月|下月|次月|本季度|上季度|第[一二三四]季度|[一二三四]季度|"
             r"[一二两三四五六七八九十\d]{1,2}年来|近[一二两三四五六七八九十\d]{1,2}年)")
_SEASON = r"(?:冬春季|秋冬季|春季|夏季|秋季|冬季|春节|国庆节|元旦|中秋节|端午节|清明节|汛期|采暖期|供暖期|采暖季)"
_DURATION = (r"(?:\d{1,3}|[一二两三四五六七八九十半]{1,3})(?:多|余)?(?:个(?:工作日|自然日|月|多月|星期)|工作日|"
             r"年(?![代度级])|周(?![年岁])|天|日|小时|分钟)(?:内|以内|之内|左右|以上|来)?")
DATE_RE = re.compile(
    rf"(?:(?:{_POINT}|{_BARE}){_CONN}(?:{_POINT}(?:{_CLOCK})?|{_D}[日号]|至今)|{_POINT}(?:{_CLOCK})?){_SUFFIX}"
    rf"|{_RELATIVE}{_SUFFIX}|{_SEASON}(?:期间|前后|前|后)?|{_DURATION}"
)
ISSUE_NUMBER_RE = re.compile(r"第\s?\d+\s?[号期]")
FREQUENCY_BEFORE = set("每逐")


def dates(text: str) -> list[tuple[int, int]]:
    """Calendar points, ranges, relative periods, seasons and durations (rules 5, 19, 23)."""
    spans = [m.span() for m in FIVE_YEAR_RE.finditer(text)]
    for m in DATE_RE.finditer(text):
        s, e = m.span()
        if s > 0 and text[s - 1] in FREQUENCY_BEFORE:
            continue
        if s > 0 and (text[s - 1].isdigit() or text[s - 1] in "第."):
            continue
        if ISSUE_NUMBER_RE.match(text, e):  # 2019年第3号 is an issue number
            continue
        spans.append((s, e))
    return _merge_glosses(sorted(spans), text)


def _merge_glosses(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """冬春季(11月-次年2月): a bracketed gloss of the same period joins its date (rule 23)."""
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and text[merged[-1][1]:s] in ("(", "（") and e < len(text) and text[e] in ")）":
            merged[-1] = (merged[-1][0], e + 1)
        else:
            merged.append((s, e))
    return merged


# --------------------------------------------------------------------------- AMOUNT

_UNITS = sorted(set("""
亿元 万元 千元 百元 元 亿美元 万美元 美元 亿 万 角
万吨标准煤 吨标准煤 吨标煤 万吨 吨 千克 公斤 克 毫克 微克 蒸吨
万千瓦时 亿千瓦时 千瓦时 万千瓦 千瓦 兆瓦 瓦 MWH MWh MW KW kW kWh GW kV 千伏 伏 度
平方公里 平方千米 万平方米 平方米 ㎡ m² m2 公里 千米 米 厘米 毫米 万亩 亩 公顷 万立方米 立方米 m³ 升 毫升
万人次 人次 万人 周岁 岁 人 名 万户 户 个 家 项 条 座 台(套) 台（套） 台 辆 所 处 次 件 张 套 栋 间 张床 床 块 支 只 头 株 棵
盏 份 篇 场 部 位 种 宗 笔 起 例 架 艘 组 队 枚 册 本 眼 口 根 层 倍 成 分 类 批 个百分点 百分点 % ％ ‰
""".split()), key=len, reverse=True)
_UNIT = "(?:" + "|".join(re.escape(u) for u in _UNITS) + ")"
_UNITX = rf"{_UNIT}(?:[/∕·](?:{_UNIT}|月|年|日|天|小时|次))*"
_NUMA = r"\d+(?:,\d{3})*(?:\.\d+)?"
_QUAL = r"(?:及以上|及以下|以上|以下|左右|以内|之内|上下|多|余)?"
_AR_TAIL = rf"(?:多|余)?(?:[万亿](?:{_UNITX})?|{_UNITX}){_QUAL}"
AMOUNT_AR_RE = re.compile(
    rf"(?<![A-Za-z0-9.\-])(?:{_NUMA}(?:多|余)?(?:[万亿]?{_UNITX})?{_CONN}{_NUMA}|{_NUMA}(?:\s?[、和及与]\s?{_NUMA})*)"
    rf"{_AR_TAIL}(?![A-Za-z])"
    rf"|(?<![A-Za-z0-9.:：])\d+(?:\.\d+)?(?:[:：]\d+(?:\.\d+)?)+(?![\d:：])"
)
_CN = "[零〇一二两三四五六七八九十百千万亿]+"
_CN_UNITS = ("个百分点 百分点 亿元 万元 万吨 吨 万亩 亩 公里 平方米 米 个 条 项 家 名 户 次 所 座 台 辆 位 种 "
             "支 套 层 成 倍 人 两级").split()
AMOUNT_CN_RE = re.compile(
    rf"(?P<frac>(?P<den>[一二三四五六七八九十百]+)分之(?P<num>[一二三四五六七八九十百零]+)|百分之[\d.]+|一半){_QUAL}"
    rf"|(?P<cn>{_CN})(?:多|余)?(?:{'|'.join(sorted(_CN_UNITS, key=len, reverse=True))})(?!性|龙|体|样|般|律|致|线)"
    rf"{_QUAL}"
)
CN_BEFORE_EXCLUDED = set("第每进统唯单同逐之万专均划任")
AMOUNT_BEFORE_EXCLUDED = set("第届总")


def amounts(text: str) -> list[tuple[int, int]]:
    """Numbers with units, percentages, ranges, ratios and Chinese-numeral counts (rules 4, 18, 25)."""
    spans = []
    for m in AMOUNT_AR_RE.finditer(text):
        s, e = m.span()
        if s > 0 and text[s - 1] in AMOUNT_BEFORE_EXCLUDED:
            continue
        if s > 1 and text[s - 2:s] in ("上午", "下午"):
            continue
        spans.append((s, e))
    for m in AMOUNT_CN_RE.finditer(text):
        s, e = m.span()
        if s > 0 and text[s - 1] in CN_BEFORE_EXCLUDED:
            continue
        if m.group("cn") and (m.group("cn") == "二" or not _is_cn_number(m.group("cn"))):  # 二次污染: ordinal
            continue
        if m.group("den") and not (_is_cn_number(m.group("den")) and _is_cn_number(m.group("num"))):
            continue
        spans.append((s, e))
    return _merge_bounds(sorted(spans), text)


def _merge_bounds(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """3000万元以上5000万元以下: mixed bounds are one range (rule 18)."""
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and merged[-1][1] == s and text[merged[-1][0]:merged[-1][1]].endswith(("以上", "以下")):
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


# --------------------------------------------------------------------------- LOCATION

MASKED_PLACE_RE = re.compile(r"XX(?:自治区|自治州|街道|社区|省|市|县|区|镇|乡|村|岛)")
ZONE_RE = re.compile(r"(?:经济技术开发区|高新技术产业开发区|经济开发区|高新区|开发区|工业园区|新区)")
ADDRESS_RE = re.compile(rf"[{HAN}]{{1,6}}?(?:路|街|大道|大街|巷)\d+号")
PLACE_FOLLOW_EXCLUDED = ("式", "梦", "化")


def places(text: str) -> list[tuple[int, int]]:
    """Administrative divisions, zones, lakes and rivers, masked places and street addresses (rules 9, 11, 16)."""
    lex = lexicons()
    spans = []
    for s, e in lex["places"].finditer(text):
        if e - s == 2 and text[s:e][-1] in "县区市" and s > 0 and re.match(f"[{HAN}]", text[s - 1]):
            continue  # 2-character county names (盘县) only after a boundary: 模范县, 示范县
        if text.startswith(PLACE_FOLLOW_EXCLUDED, e) or text[s:e] == "中国" and text.startswith("特色", e):
            continue  # 中国特色社会主义, 中国梦: part of a slogan or theory name (rule 13)
        spans.append((s, e))
    spans += [m.span() for m in MASKED_PLACE_RE.finditer(text)]
    # A zone after a place prefix (瓯海经济开发区, 本溪高新区) is a place.
    for m in ZONE_RE.finditer(text):
        n = lex["zone_prefixes"].match_ending_at(text, m.start())
        if n:
            spans.append((m.start() - n, m.end()))
    spans.sort(key=lambda se: (se[0], -se[1]))
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:  # adjacent or nested: 贵州省六盘水市 is one place
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    result = []
    for s, e in merged:
        m = ADDRESS_RE.match(text, e)
        result.append((s, m.end() if m else e))
    return result


# --------------------------------------------------------------------------- AGENCY

LEVEL_CHARS = set("省市县区镇乡州")
# 市/县/省 open a body name unless the character before makes a word with them (城市, 全县, 本省);
# the rarer 区/镇/乡/州 only after one of LEVEL_LEFT_OK (由区财政局), a non-Chinese character or a place.
LEVEL_WORD_BEFORE = set("城全我本该都超上门股楼夜闹副各级辖强大名范点集开省市县区镇乡村州")
LEVEL_LEFT_OK = set("由向对经请将和与及或报的在从把被为交给送按据同至到以督助协会于并即已需应须要均是责头合年月日、")
WEAK_STEMS = ("人民政府办公室", "人民政府办公厅", "人民政府", "政府办公室", "政府办公厅", "政府办", "政府", "管理委员会",
              "管委会", "党委", "党工委", "人大常委会", "人大", "政协", "纪委监委", "纪委", "监委", "人民法院",
              "人民检察院", "法院", "检察院", "委员会", "办公室", "办公厅", "领导小组", "指挥部", "工作专班", "专班",
              "街道办事处", "办事处", "派出所", "卫生院", "供电公司", "分局", "公安局", "财政局")
STRONG_HEADS = ("人民政府办公室", "人民政府办公厅", "人民政府", "政府办公室", "政府办公厅", "政府", "管理委员会", "管委会",
                "党工委", "党委", "领导小组办公室", "领导小组", "指挥部", "工作专班", "专班", "人大常委会", "人大", "政协",
                "人民法院", "人民检察院", "纪委监委", "委员会", "街道办事处", "办事处")
_STOP_BODY = "的在对由向将要与及或等各为是把按从到了于以并但而就都也所其之级两和有关相负责我你他被来去让给"
_STOP_BODY_RE = re.escape(_STOP_BODY)
BODILESS_HEADS = ("人民政府办公室", "人民政府办公厅", "人民政府", "政府办公室", "政府办公厅", "政府", "管理委员会", "管委会",
                  "党工委", "党委", "人大常委会", "人大", "政协", "人民法院", "人民检察院", "纪委监委", "街道办事处", "办事处")
GENERIC_STEMS = {"银行", "公司", "集团", "分局", "分行", "支行", "分公司", "办公室", "委员会"}
CENTRAL_NEXT_OK = set("和与及、的关有赋指对现要部决精")
COMPANY_LEAD_RE = re.compile(r"^(?:增加|隶属于?|支持|鼓励|引导|推动|督促|要求|指导|协调|依托|通过|由|对|与|和|向|将|把|在|为)")
MASKED_END_RE = re.compile(r"XX(?:自治区|自治州|街道|社区|省|市|县|区|镇|乡|村|岛)$")
WEAK_HEAD_RE = re.compile(rf"(?P<body>(?![委{_STOP_BODY_RE}])[{HAN}]{{2,8}}?(?<![格布结当大开创举督主协代帮包通承经]))(?:局|委|办|厅)"
                          r"(?![理法公托员面长室事])")
CENTRE_RE = re.compile(rf"(?P<body>(?![{_STOP_BODY_RE}])[{HAN}]{{2,10}}?)中心(?![城区镇村组点])")
ALIAS_RE = re.compile(rf"[(（〔](?P<alias>(?![{_STOP_BODY_RE}])[{HAN}]{{2,14}}?(?:局|委|办|厅|委员会|中心|联合会|商会|总商会|工商联))[)）〕]")
STRONG_RE = re.compile(rf"[{HAN}]{{0,12}}?(?:{'|'.join(STRONG_HEADS)})")
ELLIPSIS_RE = re.compile(
    r"(?:各|相关)(?P<levels>(?:自治县|县级市|县市区|县区|县|市|区|特区|镇|乡|街道|旗)"
    r"(?:[、,，](?:自治县|县级市|县|市|区|特区|镇|乡|街道|旗))*"
    r"(?:[(（〔](?:自治县|县级市|县|市|区|特区|镇|乡|街道|旗)(?:[、,，](?:县|市|区|特区|镇|乡|街道|旗))*[)）〕])?)"
    r"(?:[(（〔]人民[)）〕])?(?:人民政府办公室|人民政府|政府办公室|政府|党委|党工委|人大|政协)"
    r"(?:[、和](?:人民政府|政府|党委|街道办事处|办事处))?"
)
COMPANY_RE = re.compile(rf"(?:(?<=^)|(?<=[\s,，、;；:：(（|]))[{HAN}]{{2,16}}?(?:[(（](?:集团|控股)[)）])?(?:股份)?有限(?:责任)?公司")
BANK_RE = re.compile(rf"(?:中国人民银行|人民银行|人行|农业发展银行|农发行)[{HAN}]{{1,6}}?(?:中心支行|支行|分行|营业管理部)")
BRANCH_RE = re.compile(r"(?:分局|支队|大队|中队|分行|支行|分公司|分中心|中心支行|派出所)")
CARRIER_RE = re.compile(rf"(?:电信|移动|联通|铁塔|广电网络|烟草|邮政)[{HAN}]{{2,5}}?分公司")
MEETING_AFTER_RE = re.compile(rf"[{HAN}]{{0,8}}?(?:会议|全会|大会|两会)")
GENERIC_AGENCY_RE = re.compile(r"^(?:有关|相关|各|其他|其它|所属|上级|下级|本级|同级)")


def _level_char_ok(text: str, i: int, prefix_gaz: Gazetteer) -> bool:
    """Can the level character at ``i`` open a body name (市财政局), or is it inside a word (城市, 全市)?"""
    if i == 0:
        return True
    prev = text[i - 1]
    if not re.match(f"[{HAN}]", prev) or prefix_gaz.match_ending_at(text, i):
        return True
    if text[i] in "市县省":  # common prefixes: refuse only inside a word (城市, 全县, 本省)
        return prev not in LEVEL_WORD_BEFORE
    return prev in LEVEL_LEFT_OK


def _extend_left(text: str, s: int, prefix_gaz: Gazetteer) -> int:
    """Join place and level prefixes before a body name: 贵州省 + 发展改革委, 中共 + 六盘水 + 市委."""
    while s > 0:
        n = prefix_gaz.match_ending_at(text, s)
        if n:
            s -= n
        elif text[s - 2:s] in ("中共", "国家", "XX") and s >= 2:
            s -= 2
        elif MASKED_END_RE.search(text, max(0, s - 5), s):
            s = MASKED_END_RE.search(text, max(0, s - 5), s).start()
        elif text[s - 1] in LEVEL_CHARS and _level_char_ok(text, s - 1, prefix_gaz):
            s -= 1
        else:
            break
    return s


def _plain_body(body: str) -> bool:
    """A body name between a level prefix and its head: no function word or second level, except a
    和 joining two words (经济和信息化局) and 市场 (市场监管局)."""
    body = re.sub(rf"(?<=[{HAN}]{{2}})和(?=[{HAN}]{{2}})", "", body).replace("市场", "")
    return not any(c in _STOP_BODY or c in LEVEL_CHARS for c in body)


def agencies(text: str) -> list[tuple[int, int]]:
    """Named bodies: mined and curated names, prefix + head patterns, coordinated ellipsis (rules 1, 3, 10, 16, 17, 21, 22)."""
    lex = lexicons()
    prefix_gaz, stems = lex["places"], lex["agency_stems"]
    spans = [m.span() for m in ELLIPSIS_RE.finditer(text)]
    spans += [m.span() for m in BANK_RE.finditer(text)]
    spans += [m.span() for m in CARRIER_RE.finditer(text)]
    for m in COMPANY_RE.finditer(text):
        lead = COMPANY_LEAD_RE.match(m.group())
        start = m.start() + (lead.end() if lead else 0)
        if m.end() - start >= 6 and not GENERIC_AGENCY_RE.match(text, start) and "上市" not in text[start:m.end()]:
            spans.append((start, m.end()))
    for s, e in stems.finditer(text):
        stem = text[s:e]
        if stem[0] in LEVEL_CHARS and not _level_char_ok(text, s, prefix_gaz):
            continue
        start = _extend_left(text, s, prefix_gaz)
        if start == s and stem in WEAK_STEMS:
            continue  # a bare head (政府, 管委会) names no body
        if start > 0 and text[start - 1] == "各" and stem in WEAK_STEMS:
            continue  # 各管委会 (rule 22)
        if text.startswith(("门", "分", "署", "位"), e) and stem[-1] in "部委":
            continue  # 财政部门, 人力资源社会保障部门 are generic references
        if stem == "中央" and start == s and (e < len(text) and re.match(f"[{HAN}]", text[e])
                                              and text[e] not in CENTRAL_NEXT_OK or MEETING_AFTER_RE.match(text, e)):
            continue  # 中央财政, 中央预算内投资, 中央经济工作会议 (rule 27) name no acting body
        spans.append((start, e))
    # Prefix + free body + strong head: XX镇人民政府, 沅江市打好…工作专班, 钟山经济开发区管委会.
    anchors = {e for _, e in lex["places"].finditer(text)}
    anchors |= {m.end() for m in MASKED_PLACE_RE.finditer(text)}
    anchors |= {i + 1 for i, ch in enumerate(text) if ch in LEVEL_CHARS and _level_char_ok(text, i, prefix_gaz)}
    for p in anchors:
        for weak in (WEAK_HEAD_RE.match(text, p), CENTRE_RE.match(text, p)):
            if weak and _plain_body(weak.group("body")):
                spans.append((_extend_left(text, p, prefix_gaz), weak.end()))  # 六盘水市中小企业局, 市政务服务中心
        m = STRONG_RE.match(text, p)
        if not m:
            continue
        body = text[p:m.end()]
        if any(c in _STOP_BODY for c in body[:-2]) or (body[:1] in LEVEL_CHARS and text[p - 1] in LEVEL_CHARS):
            continue
        if body not in BODILESS_HEADS and body.endswith(BODILESS_HEADS):
            continue  # a government or court takes its name from the place alone: not 市长…主持召开市政府
        spans.append((_extend_left(text, p, prefix_gaz), m.end()))
    spans = [(s, e) for s, e in spans if not text.startswith(("市直", "县直", "区直"), s)]
    spans = _extend_branches(_keep_outer(spans), text, lex["zone_prefixes"])
    # A body's alternative name in brackets is its own span (rule 10): 六盘水市中小企业局(民营经济发展局).
    spans += [m.span("alias") for _, e in spans if (m := ALIAS_RE.match(text, e))]
    return spans


def _extend_branches(spans: list[tuple[int, int]], text: str, prefix_gaz: Gazetteer) -> list[tuple[int, int]]:
    """益阳市生态环境局 + 沅江分局: a branch named after a place stays inside its parent's span."""
    result = []
    for s, e in spans:
        n = prefix_gaz.match_at(text, e)
        if n:
            m = BRANCH_RE.match(text, e + n)
            if m:
                e = m.end()
        result.append((s, e))
    return result


def _keep_outer(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Drop spans nested in a longer one of the same label."""
    kept: list[tuple[int, int]] = []
    for s, e in sorted(set(spans), key=lambda se: (se[0], -se[1])):
        if kept and s >= kept[-1][0] and e <= kept[-1][1]:
            continue
        kept.append((s, e))
    return kept


# --------------------------------------------------------------------------- INDICATOR

INDICATOR_HEADS = ("综合利用率", "覆盖率", "达标率", "利用率", "处理率", "合格率", "参保率", "城镇化率", "失业率", "普及率",
                   "浓度", "生产总值", "总产值", "产值", "总值", "零售总额", "进出口总额", "总额", "余额", "比重", "比例",
                   "占比", "增加值", "收入", "支出", "产量", "能耗", "指数", "人次", "排放总量", "排放量", "消费总量",
                   "消费量", "使用量", "总量", "税收", "天数", "人数", "床位数", "交易额", "销售额",
                   "成交额", "营业额", "利润", "密度", "强度", "药占比", "水质", "率")
# Heads that name no statistic without a modifier of at least two characters.
GENERIC_HEADS = {"率", "比例", "比重", "占比", "总额", "总量", "余额", "收入", "支出", "人数", "产值",
                 "总值", "利润", "密度", "强度", "指数", "产量", "天数", "税收", "增加值", "能耗", "人次", "浓度"}
INDICATOR_HEAD_RE = re.compile("|".join(sorted(INDICATOR_HEADS, key=len, reverse=True)))
NOT_INDICATOR = ("效率", "利率", "频率", "概率", "比率", "汇率", "税率", "功率", "费率", "坡率")
# Left-trimming: verbs, scope and place words before the statistic's own name (rule 6).
INDICATOR_CUT_RE = re.compile(
    r"全市|全省|全国|全县|全区|本市|我市|市本级|市中心城区|中心城区|主要道路|各相关市|相关市|各单位|其中|实现|完成|确保|力争|争取|做到|"
    r"不超过|超过|不低于|低于|不高于|高于|增长|下降|以上|以下|"
    r"提高|提升|降低|减少|增加|扩大|加大|推动|推进|促进|保持|控制|达到|按照|全面|努力|进一步|逐步|逐年|大幅|明显|切实|重点|"
    r"使|让|将|把|对(?![象外接口比])|在(?![线建])|以(?![上下内])|按(?!揭)|并|且|的|与|及|和|或|为|是|有(?!效|机|色)|了|等|"
    r"其(?!他)|每"
)
QUANTIFIED_RE = re.compile(r"(?:达到|达|为|保持在|稳定在|控制在|提高到|提升到|降到|降至)?(?:[ⅠⅡⅢⅣⅤIV]+类|[一二三四五]类|国家[一二三]级标准|优良)"
                           r"|(?:排名|排位|位居|位列|居)(?:第|前)")
INDICATOR_MAX_MODIFIER = 12


def indicators(text: str, barriers: list[tuple[int, int]], amount_spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Metric names that the sentence quantifies (rules 6, 20, 24): a lexicon name, or a head with its own modifiers.

    ``barriers`` (dates, amounts, places, agencies) bound a name on the left; ``amount_spans`` are its possible values.
    """
    lex = lexicons()
    amount_starts = sorted(s for s, _ in amount_spans)
    barrier_ends = {e for _, e in barriers}
    covered = [False] * (len(text) + 1)
    for s, e in barriers:
        for k in range(s, e):
            covered[k] = True
    spans = []

    def quantified(end: int) -> bool:
        window = re.split(r"[。；;！？\n,，]", text[end:end + 30], maxsplit=1)[0]
        limit = end + len(window)
        return any(end <= a < limit for a in amount_starts) or bool(QUANTIFIED_RE.search(window))

    lexicon_ends = set()
    for s, e in lex["indicators"].finditer(text):
        if not any(covered[s:e]) and quantified(e):
            spans.append((s, e))
            lexicon_ends.add(e)
    for m in INDICATOR_HEAD_RE.finditer(text):
        h, e = m.span()
        if covered[h] or text[max(0, h - 1):e] in NOT_INDICATOR or not quantified(e):
            continue
        if m.group() == "率" and text[e:e + 1] in ("队", "领", "先"):
            continue  # 率队: the verb "lead"
        s = h
        while s > 0 and h - s < INDICATOR_MAX_MODIFIER and not covered[s - 1] and s not in barrier_ends:
            ch = text[s - 1]
            if re.match(rf"[{HAN}A-Za-z0-9.&]", ch):
                s -= 1
            elif ch in ")）" and re.search(r"[(（][A-Za-z0-9.]{1,8}[)）]$", text[max(0, s - 10):s]):
                s = text.rfind("(" if ch == ")" else "（", 0, s)
            else:
                break
        # Cut before the last verb/scope word; a bare generic head is no name.
        last = None
        for cut in INDICATOR_CUT_RE.finditer(text[:h], s):
            last = cut
        if last:
            s = last.end()
        if s < h and (text[s] == "占" or text[s] in "市县省区" and text[s + 1:s + 2] not in ("场", "级")):
            s += 1  # 占GDP比重, 市规模以上工业增加值: the share verb and the scope level stay outside
        while s < h and not re.match(rf"[{HAN}A-Za-z(（]", text[s]):
            s += 1
        if e in lexicon_ends and h - s >= INDICATOR_MAX_MODIFIER:
            continue  # the window cut a long name short: the lexicon name ending here is the better guess
        name = text[s:e]
        head = m.group()
        if head in GENERIC_HEADS and len(name) - len(head) < 2:
            continue
        spans.append((s, e))
    return _keep_outer(spans)


# --------------------------------------------------------------------------- merging


def resolve(candidates: Iterable[Cand]) -> list[Cand]:
    """One non-overlapping set: longer spans first (the outer span wins), then label priority, then position."""
    order = sorted(set(candidates), key=lambda c: (-(c[1] - c[0]), PRIORITY[c[2]], c[0]))
    taken = bytearray(max((c[1] for c in order), default=0))
    kept = []
    for s, e, label in order:
        if e <= s or any(taken[s:e]):
            continue
        taken[s:e] = b"\x01" * (e - s)
        kept.append((s, e, label))
    return sorted(kept)


def annotate(text: str, heading: bool = False) -> list[Span]:
    """Label one sentence; ``heading`` marks a document's own heading line (rule 12: one POLICY span)."""
    quoted = [m.span() for m in QUOTE_RE.finditer(text)]
    five_year = [m.span() for m in FIVE_YEAR_RE.finditer(text)]
    cands: list[Cand] = [(s, e, "POLICY") for s, e in policies(text, heading)]
    found = {
        "DATE": dates(text),
        "AMOUNT": amounts(text),
        "LOCATION": places(text),
        "AGENCY": agencies(text),
    }
    barriers = [se for label in ("DATE", "AMOUNT", "LOCATION", "AGENCY") for se in found[label]]
    found["INDICATOR"] = indicators(text, barriers, found["AMOUNT"])
    for label, spans in found.items():
        for s, e in spans:
            if _inside(quoted, s, e) and (s, e) not in five_year:
                continue  # programmes and slogans in quotes are not annotated (rules 13, 18)
            cands.append((s, e, label))
    return [Span(s, e, label, text[s:e]) for s, e, label in resolve(cands)]


# --------------------------------------------------------------------------- lexicon mining

CLAUSE_RE = re.compile(
    r"(?:总?牵头单位|责任单位|配合单位|协办单位|责任部门|牵头部门|配合部门|实施单位|参与单位)\s*[:：]\s*(?P<list>[^;；。\n]+)"
)
PAREN_CLAUSE_RE = re.compile(r"[(（](?P<list>[^()（）]{2,200}?)(?:牵头|负责|配合|按职责分工负责|按职责分工落实|参与)[)）]")
AGENCY_END_RE = re.compile(r"(?:局|委|办|厅|部|院|中心|会|公司|行|组|队|所|站|社|处|室|班|联|署|馆|团|政府|党委|工委)$")
ITEM_TAIL_RE = re.compile(r"(?:等相关单位|等有关单位|等相关部门|等有关部门|等单位|等部门|按职责分工负责|按职责分工落实|按职责负责|"
                          r"分别牵头|牵头|配合|负责|参与|完成时限.*)$")


def _split_items(segment: str) -> Iterator[str]:
    """Split a list of agencies at 、,; and spaces, keeping 县(市、区) together; bracketed aliases are items too."""
    depth, item = 0, ""
    for ch in segment + "、":
        if ch in "(（〔[":
            depth += 1
        elif ch in ")）〕]":
            depth -= 1
        if depth <= 0 and ch in "、,，;；.． \u3000\xa0":
            depth = 0
            if item:
                yield item
            item = ""
        else:
            item += ch


def mine_agencies(texts: Iterable[str]) -> Counter[str]:
    """Agency names listed in responsibility clauses ((牵头单位:A;责任单位:B、C), (A牵头,B配合), task tables)."""
    found: Counter[str] = Counter()
    for text in texts:
        segments = [m.group("list") for m in CLAUSE_RE.finditer(text)]
        segments += [m.group("list") for m in PAREN_CLAUSE_RE.finditer(text)]
        for line in text.split("\n"):  # task-table cells: `市住建局、市发改局 |`
            cell = line.strip()
            cell = cell.rstrip("| ")
            if line.rstrip().endswith("|") and 2 < len(cell) < 120 and not re.search(r"[\d\s。]", cell):
                segments.append(cell)
        for segment in segments:
            # 各县、特区、区人民政府 is one name: keep its conjuncts out of the list split.
            for raw in _split_items(ELLIPSIS_RE.sub("、", segment)):
                for item in _aliases(raw):
                    item = ITEM_TAIL_RE.sub("", item.strip()).strip()
                    if (3 <= len(item) <= 25 and AGENCY_END_RE.search(item) and not GENERIC_AGENCY_RE.match(item)
                            and item not in WEAK_STEMS and item[0] not in "局村"
                            and not re.search(r"[\d|:：“”\"《》]|市直|县直|成员单位|各[^县市区镇乡]", item)):
                        found[item] += 1
    return found


def _aliases(item: str) -> list[str]:
    """市发展改革委〔市铁建办〕 -> both names; 各县(市、区)人民政府 stays one item."""
    m = re.fullmatch(r"(?P<name>[^(（〔]+)[(（〔](?P<alias>[^)）〕]+)[)）〕]", item)
    if m and AGENCY_END_RE.search(m.group("name")) and AGENCY_END_RE.search(m.group("alias")):
        return [m.group("name"), m.group("alias")]
    return [item]


def write_mined_agencies(counts: Counter[str], sources: list[str]) -> None:
    header = ("# Agency names mined from responsibility clauses and task tables by annotation.rules.mine_agencies.\n"
              f"# Sources: {', '.join(sources)}\n# Regenerate: gazette-ner annotate rules --mine-agencies PATH...\n"
              "# Names attested only in dev/test documents are removed after mining (tests/test_rules.py checks it).\n"
              "# name\tcount\n")
    body = "".join(f"{name}\t{n}\n" for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    write_text_atomic(MINED_AGENCIES, header + body)
    lexicons.cache_clear()


def _texts_from(path: Path) -> Iterator[str]:
    """Texts of a .txt file (whole) or of a JSONL file's records (field ``text``)."""
    if path.suffix == ".jsonl":
        for n, record in enumerate(read_jsonl(path), 1):
            if not isinstance(record.get("text"), str):
                raise RecordError(f"{path}: record {n}: missing string field 'text'")
            yield record["text"]
    else:
        yield path.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- command line


def annotate_records(records: Iterable[dict], path: Path) -> Iterator[dict]:
    """Gold-shaped silver records, one per sentence record ({id, doc_id, text, is_heading})."""
    for n, record in enumerate(records, 1):
        for key in ("id", "text"):
            if not isinstance(record.get(key), str):
                raise RecordError(f"{path}: record {n}: missing string field '{key}'")
        spans = annotate(record["text"], heading=bool(record.get("is_heading")))
        yield {
            "id": record["id"],
            "doc_id": record.get("doc_id"),
            "text": record["text"],
            "spans": [{"start": s.start, "end": s.end, "label": s.label, "text": s.text} for s in spans],
            "source": SOURCE,
            "annotator": ANNOTATOR,
            "spec_version": SPEC_VERSION,
        }


def run(args: argparse.Namespace) -> int:
    try:
        if args.mine_agencies:
            paths = [Path(p) for p in args.mine_agencies]
            counts = mine_agencies(t for p in paths for t in _texts_from(p))
            write_mined_agencies(counts, [p.name for p in paths])
            print(f"mined {len(counts)} agency names -> {MINED_AGENCIES}")
        path = Path(args.input)
        if not path.exists():
            print(f"{path}: no such file (build it with `gazette-ner corpus ...` first)", file=sys.stderr)
            return 1
        records = list(read_jsonl(path))
        out = list(annotate_records(tqdm(records, desc="rules", unit="sent"), path))
    except (RecordError, OSError) as exc:
        print(exc, file=sys.stderr)
        return 1
    write_jsonl(args.output, out)
    counts = Counter(span["label"] for record in out for span in record["spans"])
    print(f"{len(out)} sentences -> {args.output}")
    for label in LABELS:
        print(f"  {label:<10} {counts[label]}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("rules", help="rule pre-annotation of every sentence (spec labels, silver)")
    parser.add_argument("--input", default="corpus/processed/sentences.jsonl", help="sentence JSONL")
    parser.add_argument("-o", "--output", default="annotation/silver/rules.jsonl", help="silver JSONL to write")
    parser.add_argument("--mine-agencies", nargs="+", metavar="PATH",
                        help="first re-mine lexicons/agencies_mined.tsv from these .txt or .jsonl files")
    parser.set_defaults(func=run)

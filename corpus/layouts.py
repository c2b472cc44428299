"""Splitting each kind of source file into documents.

A layout reads the lines of one raw file and returns its documents as paragraphs of source lines;
``corpus.build`` turns those into cleaned text with offsets. Which layout a raw file uses, and the
few line-level decisions taken by reading it (see corpus/raw/MANIFEST.yaml), come from the manifest.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from corpus.cleaning import HEADING_MARKER, PAD, SENTENCE_END, Line, is_blank, is_heading_line

DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,12}\s?[〔\[﹝【(]\s?(?:\d{4}|20XX)\s?[〕\]﹞】)]\s?\d+号?")
DATE_LINE = re.compile(r"^[0-9()]{4,6}年\d{1,2}月\d{1,2}日")


@dataclass
class DocPart:
    title: str
    paragraphs: list[list[Line]]
    doc_number: str | None = None
    date: str | None = None
    group: str | None = None
    title_paragraphs: int = 1  # how many leading paragraphs form the heading block
    wrap_space_lines: range | None = None

    @property
    def line_start(self) -> int:
        return self.paragraphs[0][0].no

    @property
    def line_end(self) -> int:
        return self.paragraphs[-1][-1].no


@dataclass
class LayoutOptions:
    skip_lines: list[list[int]] = field(default_factory=list)  # inclusive [first, last] ranges
    join_after: list[int] = field(default_factory=list)  # lines read as broken mid-sentence
    keep_break_after: list[int] = field(default_factory=list)  # lines the heuristic would wrongly join
    wrap_space_lines: list[int] | None = None  # inclusive [first, last]: drop PDF wrap spaces there

    def skipped(self, no: int) -> bool:
        return any(first <= no <= last for first, last in self.skip_lines)


def _date_of(text: str) -> str | None:
    match = DATE_LINE.match(text.strip(PAD))
    return match.group(0) if match else None


def _slice_line(line: Line, start: int) -> Line:
    """The part of a line from character ``start`` on (for a date glued to the next title)."""
    return Line(line.no, line.start + start, line.end, line.text[start:])


def _broken(line: Line, nxt: Line, options: LayoutOptions) -> bool:
    """True if ``line`` stops mid-sentence and ``nxt`` carries on with it."""
    if line.no in options.join_after:
        return True
    if line.no in options.keep_break_after:
        return False
    text = line.text.strip(PAD)
    return bool(text) and text[-1] not in SENTENCE_END and not is_heading_line(text) \
        and not HEADING_MARKER.match(nxt.text) and not _date_of(nxt.text) and len(text) > 20


def paragraphs_from_lines(lines: list[Line], options: LayoutOptions, join_broken: bool) -> list[list[Line]]:
    """Group non-blank lines into paragraphs, joining lines broken mid-sentence when asked."""
    kept = [line for line in lines if not is_blank(line)]
    paragraphs: list[list[Line]] = []
    for i, line in enumerate(kept):
        if paragraphs and join_broken and _broken(paragraphs[-1][-1], line, options):
            paragraphs[-1].append(line)
        else:
            paragraphs.append([line])
    return paragraphs


def ocr_compilation(lines: list[Line], options: LayoutOptions) -> list[DocPart]:
    """000: title lines, a bracketed 文号 line, the body, a closing date line; one after another."""
    number_rows = [i for i, line in enumerate(lines) if line.text.startswith("(") and DOC_NUMBER.search(line.text)
                   and len(line.text) < 30 and not options.skipped(line.no)]
    starts: list[tuple[int, Line | None]] = []  # (index of first full title line, glued title fragment)
    for row in number_rows:
        i = row - 1
        while i > 0 and not _date_of(lines[i - 1].text) and "。" not in lines[i - 1].text and len(lines[i - 1].text) < 40 \
                and not lines[i - 1].text.rstrip(PAD).endswith((":", ";")):
            i -= 1
        glued = None
        if i > 0 and (date := _date_of(lines[i - 1].text)) and len(lines[i - 1].text) > len(date):
            glued = _slice_line(lines[i - 1], len(date))
        starts.append((i, glued))
    parts = []
    for k, (row, (first, glued)) in enumerate(zip(number_rows, starts)):
        end = starts[k + 1][0] - (1 if starts[k + 1][1] else 0) if k + 1 < len(starts) else len(lines)
        title_lines = ([glued] if glued else []) + lines[first:row]
        body = lines[row:end]
        if k + 1 < len(starts) and starts[k + 1][1]:
            glued_line = lines[end]
            body = body + [Line(glued_line.no, glued_line.start, starts[k + 1][1].start, _date_of(glued_line.text))]
        paragraphs = [title_lines] + paragraphs_from_lines(body, options, join_broken=True)
        closing = next((_date_of(p[-1].text) for p in reversed(paragraphs) if _date_of(p[-1].text)), None)
        parts.append(DocPart(
            title="".join(line.text.strip(PAD) for line in title_lines),
            paragraphs=paragraphs,
            doc_number=DOC_NUMBER.search(lines[row].text).group(0),
            date=closing,
        ))
    return parts


def _titled_sections(lines: list[Line], is_start: Callable[[int], bool]) -> list[tuple[int, int]]:
    starts = [i for i in range(len(lines)) if is_start(i)]
    return [(s, starts[k + 1] if k + 1 < len(starts) else len(lines)) for k, s in enumerate(starts)]


def web_compilation(lines: list[Line], options: LayoutOptions) -> list[DocPart]:
    """001: a table of contents lists the titles; each document starts at a line equal to a title."""
    toc = re.compile(r"^\d+\.(.+?)\d+$")
    titles = {m.group(1).strip(PAD) for line in lines if options.skipped(line.no) and (m := toc.match(line.text.strip(PAD)))}
    body = [line for line in lines if not options.skipped(line.no)]
    parts = []
    for start, end in _titled_sections(body, lambda i: body[i].text.strip(PAD) in titles):
        paragraphs = _join_semicolon_breaks(paragraphs_from_lines(body[start:end], options, join_broken=False))
        parts.append(DocPart(title=body[start].text.strip(PAD), paragraphs=paragraphs))
    return parts


def _join_semicolon_breaks(paragraphs: list[list[Line]]) -> list[list[Line]]:
    """001 turned every ； into ';' plus a line break; a clause goes on after it unless a heading follows."""
    out: list[list[Line]] = []
    for paragraph in paragraphs:
        if out and out[-1][-1].text.rstrip(PAD).endswith(";") and not is_heading_line(paragraph[0].text):
            out[-1].extend(paragraph)
        else:
            out.append(list(paragraph))
    return out


def _title_block(lines: list[Line], start: int, stop: Callable[[Line], bool]) -> int:
    """Index after the heading block that starts at ``start`` (issuer and title lines)."""
    i = start
    while i < len(lines) and (is_blank(lines[i]) or not stop(lines[i])):
        i += 1
    return i


def gazette_issue(lines: list[Line], options: LayoutOptions) -> list[DocPart]:
    """002: each document opens with an issuer masthead (…文件), a 文号 line, then a title over several lines."""
    body = [line for line in lines if not options.skipped(line.no)]
    masthead = re.compile(r"^\S+(人民政府|办公室)文件$")
    parts = []
    wrap = range(options.wrap_space_lines[0], options.wrap_space_lines[1] + 1) if options.wrap_space_lines else None
    for start, end in _titled_sections(body, lambda i: bool(masthead.match(body[i].text.strip(PAD)))):
        number_row = start + 1
        title_end = _title_block(body, number_row + 1, lambda line: line.text.rstrip(PAD).endswith(":"))
        title_lines = body[number_row + 1:title_end]
        paragraphs = [[body[start]], [body[number_row]], title_lines] + \
            paragraphs_from_lines(body[title_end:end], options, join_broken=False)
        date = next((_date_of(line.text) for line in body[title_end:end] if _date_of(line.text)), None)
        parts.append(DocPart(
            title="".join(line.text.strip(PAD) for line in title_lines),
            paragraphs=paragraphs,
            doc_number=body[number_row].text.strip(PAD),
            date=date,
            wrap_space_lines=wrap,
        ))
    return parts


def gazette_webpage(lines: list[Line], options: LayoutOptions) -> list[DocPart]:
    """003: parts separated by long runs of blank lines; an unindented heading block opens each part."""
    body = [line for line in lines if not options.skipped(line.no)]
    byline = re.compile(r"^(\S ){1,4}\S$")

    def starts_part(i: int) -> bool:
        if is_blank(body[i]) or body[i].text[:1] in PAD:
            return False
        blanks = 0
        while i - blanks - 1 >= 0 and is_blank(body[i - blanks - 1]):
            blanks += 1
        return blanks >= 5 or i - blanks == 0

    def ends_heading(line: Line) -> bool:
        text = line.text.strip(PAD)
        return line.text[:1] in PAD or bool(DOC_NUMBER.fullmatch(text) or byline.match(text)) \
            or text.startswith("(") or text.endswith(":")

    parts = []
    for start, end in _titled_sections(body, starts_part):
        title_end = _title_block(body, start + 1, ends_heading)
        title_lines = [line for line in body[start:title_end] if not is_blank(line)]
        rest = paragraphs_from_lines(body[title_end:end], options, join_broken=False)
        number = next((p[0].text.strip(PAD) for p in rest[:2] if DOC_NUMBER.fullmatch(p[0].text.strip(PAD))), None)
        issuer = title_lines[0].text.strip(PAD) if len(title_lines) > 1 and title_lines[0].text.strip(PAD).endswith(("政府", "办公室")) else ""
        title = "".join(line.text.strip(PAD) for line in title_lines)
        date = next((d.group(0) for p in rest[:3] if (d := re.search(r"\d{4}年\d{1,2}月\d{1,2}日", p[0].text))), None)
        if date is None:
            date = next((_date_of(p[0].text) for p in reversed(rest) if _date_of(p[0].text)), None)
        parts.append(DocPart(title=title[len(issuer):] if issuer else title, paragraphs=[title_lines] + rest,
                             doc_number=number, date=date))
    return parts


def notice_with_attachments(lines: list[Line], options: LayoutOptions) -> list[DocPart]:
    """004: a notice (文号 first), then 附件N lines opening each attachment; one flattened table."""
    body = [line for line in lines if not options.skipped(line.no)]
    attachment = re.compile(r"^附件\d+$")
    sections = _titled_sections(body, lambda i: i == 0 or bool(attachment.match(body[i].text.strip(PAD))))
    parts = []
    for k, (start, end) in enumerate(sections):
        paragraphs = _table_rows(paragraphs_from_lines(body[start:end], options, join_broken=False))
        if k == 0:
            number = body[0].text.strip(PAD)
            date_index = next(i for i, p in enumerate(paragraphs) if _date_of(p[0].text))
            title = paragraphs[date_index + 1][0].text.strip(PAD)
            date = _date_of(paragraphs[date_index][0].text)
        else:
            number, date = None, None
            title = paragraphs[1][0].text.strip(PAD)
        parts.append(DocPart(title=title, paragraphs=paragraphs, doc_number=number, date=date, group="004"))
    return parts


def _table_rows(paragraphs: list[list[Line]]) -> list[list[Line]]:
    """Rebuild a table flattened to one cell per line (`cell |`): drop empty cells and headers repeated at
    page breaks, and join each row's cells (task, lead unit, responsible units) into one paragraph."""
    out: list[list[Line]] = []
    seen_headers: set[str] = set()
    for paragraph in paragraphs:
        text = paragraph[0].text.strip(PAD)
        if not text.endswith("|"):
            out.append(paragraph)
            continue
        if not text.strip("| "):
            continue
        if is_heading_line(text, max_len=60) and not re.match(r"^\(\d+\)", text):
            if text in seen_headers:
                continue
            seen_headers.add(text)
            out.append(paragraph)
        elif out and out[-1][-1].text.strip(PAD).endswith("|") and not re.match(r"^\(\d+\)", text) \
                and not is_heading_line(out[-1][0].text.strip(PAD), max_len=60):
            out[-1].extend(paragraph)
        else:
            out.append(paragraph)
    return out


LAYOUTS: dict[str, Callable[[list[Line], LayoutOptions], list[DocPart]]] = {
    "ocr_compilation": ocr_compilation,
    "web_compilation": web_compilation,
    "gazette_issue": gazette_issue,
    "gazette_webpage": gazette_webpage,
    "notice_with_attachments": notice_with_attachments,
}

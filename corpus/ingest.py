"""Read new gazettes (.txt, .html/.htm, .docx, .pdf) into plain text for the pipeline.

Every reader returns the *decoded, newline-normalised* text: a byte-order mark is stripped and
``\\r\\n`` / ``\\r`` become ``\\n``. All character offsets downstream (sentences, spans) point into that
text, never into the file's bytes. A .txt file is otherwise kept verbatim; html/docx/pdf text is
derived from the markup, one line per block (paragraph, heading, table row, list item).

Chinese files arrive in many encodings, and short ones are ambiguous, so text is decoded strictly
(a character is never replaced) by: byte-order mark, else UTF-8 if it decodes (unless the text is
tiny and does not read as Chinese, since short GBK can pass as UTF-8), else charset-normalizer
restricted to the Chinese legacy encodings, preferring GB18030 (the superset of GB2312/GBK) when it
fits as well as Big5 does. Bytes that fit none are rejected, not guessed.

Any problem with one file raises :class:`IngestError`, whose message is one line ``<path>: <reason>``;
:func:`ingest_many` collects those and carries on with the other files.
"""
from __future__ import annotations

import codecs
import glob
import io
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.dammit import EncodingDetector
from charset_normalizer import from_bytes
from charset_normalizer.md import mess_ratio
from tqdm import tqdm

from corpus.jsonl import write_jsonl

DEFAULT_MAX_BYTES = 50 * 1024 * 1024

FORMATS = {".txt": "txt", ".html": "html", ".htm": "html", ".docx": "docx", ".pdf": "pdf"}

# Checked in this order: the UTF-32 LE mark begins with the UTF-16 LE one.
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Legacy encodings of Chinese text that charset-normalizer may choose between. GBK and GB2312 are
# left out on purpose: GB18030 decodes everything they do, plus the characters they lack.
_CHINESE_ENCODINGS = ["gb18030", "big5", "cp950", "big5hkscs"]
_GB_SUBSETS = {"gb2312", "gbk"}
_SAMPLE = 20_000  # characters looked at when judging a reading; long text is unambiguous

# Elements whose text is never shown as page content. header/footer inside <article>/<main> are the
# document's own title block or signature and are kept (see _is_boilerplate).
_HTML_HIDDEN = [
    "head", "script", "style", "noscript", "template", "nav", "header", "footer", "form",
    "iframe", "svg", "canvas", "object", "embed", "button", "select", "textarea",
]
_HTML_BLOCKS = [
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details",
    "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "li", "main", "ol", "p", "pre", "section", "summary", "table", "tbody", "tfoot",
    "thead", "tr", "ul",
]
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")  # HTML's collapsible white space; NBSP and U+3000 are kept
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc (Word 97-2003)


class IngestError(Exception):
    """One input file that cannot be ingested; ``str()`` is the single line ``<path>: <reason>``."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = " ".join(reason.split())
        super().__init__(f"{self.path}: {self.reason}")


class _BadContent(Exception):
    """Raised by the format readers with a reason; read_text adds the path."""


@dataclass(frozen=True)
class IngestedText:
    path: str
    text: str  # decoded, BOM-free, newline-normalised; all offsets point into it
    format: str  # "txt", "html", "docx" or "pdf"
    encoding: str | None  # codec the bytes were decoded with; None for docx/pdf


def read_text(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> IngestedText:
    """Read one file of a supported format; raise IngestError naming the file on any problem."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        supported = ", ".join(FORMATS)
        raise IngestError(path, f"unsupported file type '{path.suffix or '(none)'}' (supported: {supported})")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise IngestError(path, f"file is {size:,} bytes, over the limit of {max_bytes:,} bytes")
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(path, f"cannot read file ({exc.strerror or exc})") from None
    if not data:
        raise IngestError(path, "empty file")
    try:
        text, encoding = _READERS[fmt](data)
    except _BadContent as exc:
        raise IngestError(path, str(exc)) from None
    text = normalise_newlines(text)
    if not text.strip():
        raise IngestError(path, f"no text found in this {fmt} file")
    return IngestedText(path=str(path), text=text, format=fmt, encoding=encoding)


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode without losing a character; return (text, codec name). Raises _BadContent.

    Order: byte-order mark; strict UTF-8 when it reads as Chinese; the ``declared`` encoding (an html
    meta charset) if it decodes cleanly, else charset-normalizer over the Chinese legacy encodings.
    Short GBK text can be valid UTF-8 by accident (通知 reads as U+05AA U+0368), so a short UTF-8
    reading with few CJK characters gives way to a legacy reading that has more and is no messier.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            text = _strict_decode(data, codec)
            if text is None:
                raise _BadContent(f"starts with a {codec} byte-order mark but is not valid {codec}")
            return text, codec
    if b"\x00" in data:
        raise _BadContent("binary file (contains NUL bytes), not text")
    utf8 = _strict_decode(data, "utf-8")
    if utf8 is not None and _trust_utf8(utf8):
        return utf8, "utf-8"
    legacy = _legacy_reading(data, declared)
    if utf8 is not None and (legacy is None or not _reads_more_chinese(legacy[0], utf8)):
        return utf8, "utf-8"
    if legacy is None:
        raise _BadContent("cannot decode: not UTF-8 and no Chinese encoding "
                          f"({', '.join(_CHINESE_ENCODINGS)}) fits the bytes")
    text, codec = legacy
    # GB18030 has a byte-order mark of its own, which decodes to U+FEFF.
    return text.removeprefix("\ufeff"), codec


def _legacy_reading(data: bytes, declared: str | None) -> tuple[str, str] | None:
    """(text, codec) in the declared encoding if it decodes cleanly, else in the detected one."""
    codec = _codec_name(declared)
    text = _strict_decode(data, codec) if codec else None
    if text is None:
        codec = _detect_chinese_encoding(data)
        text = _strict_decode(data, codec)
    return None if text is None or codec is None else (text, codec)


def _reads_more_chinese(candidate: str, other: str) -> bool:
    return (_wide_share(candidate) > _wide_share(other)
            and mess_ratio(candidate[:_SAMPLE], 1.0) <= mess_ratio(other[:_SAMPLE], 1.0))


def _strict_decode(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


def _trust_utf8(text: str) -> bool:
    """Valid UTF-8 is decisive once it has a few non-ASCII characters, or when it reads as Chinese.

    Each GBK character is valid UTF-8 by chance with a probability of about 1/7, so 16 in a row
    never are; below that, a reading with mostly non-CJK characters is suspect.
    """
    non_ascii = sum(1 for c in text[:_SAMPLE] if not c.isascii())
    return non_ascii >= 16 or _wide_share(text) >= 0.5


def _wide_share(text: str) -> float:
    """Share of the non-ASCII characters (in a sample) that are East Asian wide: hanzi, 。、《》 etc."""
    non_ascii = [c for c in text[:_SAMPLE] if not c.isascii()]
    if not non_ascii:
        return 1.0
    return sum(unicodedata.east_asian_width(c) in "WF" for c in non_ascii) / len(non_ascii)


def _codec_name(label: str | None) -> str | None:
    """Python codec for an encoding label, widening GB2312/GBK to GB18030 as browsers do."""
    if not label:
        return None
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return "gb18030" if name in _GB_SUBSETS else name


def _detect_chinese_encoding(data: bytes) -> str:
    """The Chinese legacy encoding that reads ``data`` best; the caller still decodes strictly.

    threshold=1.0 keeps every reading that decodes: charset-normalizer's mess detector counts CJK
    punctuation (、“”。) as noise, so on short text the default threshold rejects correct readings.
    """
    matches = from_bytes(data, cp_isolation=_CHINESE_ENCODINGS, threshold=1.0)
    best = matches.best()
    if best is None:  # too short to rate at all, e.g. a lone 、
        return "gb18030"
    # Very short text fits GB18030 and Big5 equally well; mainland documents are far more common.
    gb = next((m for m in matches if m.encoding == "gb18030"), None)
    if gb is not None and (gb.chaos, -gb.coherence) <= (best.chaos, -best.coherence):
        return gb.encoding
    return best.encoding


def _read_html(data: bytes) -> tuple[str, str | None]:
    declared = EncodingDetector.find_declared_encoding(data, is_html=True)
    markup, encoding = decode_bytes(data, declared)
    return html_to_text(markup), encoding


def html_to_text(markup: str) -> str:
    """Visible text of a page, one line per block element; scripts, menus and forms dropped."""
    soup = BeautifulSoup(markup, "lxml")
    for tag in soup.find_all(_is_boilerplate):
        tag.decompose()
    for node in soup.find_all(string=True):
        # Comments, doctypes and CDATA are NavigableString subclasses that get_text() skips anyway.
        if type(node) is NavigableString and node.find_parent("pre") is None:
            node.replace_with(_HTML_SPACE.sub(" ", node))
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for block in soup.find_all(_HTML_BLOCKS):
        block.insert_before("\n")
        block.append("\n")
    # Innermost rows first, so a nested table is already one line when its outer cell is read.
    for row in reversed(soup.find_all("tr")):
        cells = (" ".join(cell.get_text().split()) for cell in row.find_all(["td", "th"], recursive=False))
        row.replace_with("\n" + " | ".join(cells) + "\n")
    lines = (line.strip() for line in soup.get_text().split("\n"))
    return "\n".join(line for line in lines if line)


def _is_boilerplate(tag: Tag) -> bool:
    if tag.name in ("header", "footer"):
        return tag.find_parent(["article", "main"]) is None
    if tag.name in _HTML_HIDDEN:
        return True
    return tag.has_attr("hidden") or bool(_HIDDEN_STYLE.search(tag.get("style") or ""))


def _read_docx(data: bytes) -> tuple[str, str | None]:
    import docx  # python-docx; imported here so txt/html ingest does not pay for it

    if data.startswith(_OLE_MAGIC):
        raise _BadContent("is a legacy Word .doc file, not .docx; save it as .docx first")
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # corrupt packages raise zipfile, KeyError, lxml and docx errors alike
        raise _BadContent(f"not a readable .docx file ({_describe(exc)})") from None
    lines = (line.strip() for line in _docx_lines(document))
    return "\n".join(line for line in lines if line), None


def _docx_lines(container) -> Iterable[str]:
    """Body paragraphs in order; a table row becomes one line of cells joined by ' | '."""
    from docx.table import Table

    for item in container.iter_inner_content():
        if not isinstance(item, Table):
            yield item.text
            continue
        for row in item.rows:
            cells, seen = [], set()
            for cell in row.cells:  # a merged cell is returned once per grid column it spans
                if id(cell._tc) in seen:
                    continue
                seen.add(id(cell._tc))
                cells.append(" ".join(" ".join(_docx_lines(cell)).split()))
            yield " | ".join(cells)


def _read_pdf(data: bytes) -> tuple[str, str | None]:
    from pdfminer.high_level import extract_text

    if b"%PDF-" not in data[:1024]:
        raise _BadContent("not a PDF file (no %PDF- header)")
    try:
        text = extract_text(io.BytesIO(data))
    except Exception as exc:  # pdfminer raises many unrelated types on damaged files
        raise _BadContent(f"not a readable PDF ({_describe(exc)})") from None
    if not text.strip():
        raise _BadContent("PDF has no text layer (a scanned PDF needs OCR first)")
    # pdfminer separates text boxes by a blank line and pages by a form feed; keep one blank line.
    lines = [line.rstrip() for line in text.replace("\f", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n"), None


def _describe(exc: Exception) -> str:
    message = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


_READERS: dict[str, Callable[[bytes], tuple[str, str | None]]] = {
    "txt": decode_bytes,
    "html": _read_html,
    "docx": _read_docx,
    "pdf": _read_pdf,
}


def iter_input_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand directories (recursively, supported types only, sorted) and glob patterns.

    A path named explicitly is kept even if missing or of an unsupported type, so that read_text
    reports it; a pattern that matches nothing is kept as is for the same reason. Hidden files and
    Office lock files (``~$name.docx``) inside directories are skipped. Duplicates are dropped.
    """
    found: dict[Path, None] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path).parts
                if (child.is_file() and child.suffix.lower() in FORMATS
                        and not any(p.startswith(".") for p in rel) and not child.name.startswith("~$")):
                    found[child] = None
        elif not path.exists() and glob.has_magic(str(raw)):
            matches = sorted(glob.glob(str(raw), recursive=True))
            for match in matches or [str(raw)]:
                found.setdefault(Path(match), None)
        else:
            found[path] = None
    return list(found)


def ingest_many(paths: Iterable[str | Path], max_bytes: int = DEFAULT_MAX_BYTES,
                ) -> tuple[list[IngestedText], list[IngestError]]:
    """Read every input file; a bad file is collected as an IngestError and the rest go on."""
    good: list[IngestedText] = []
    bad: list[IngestError] = []
    for path in tqdm(iter_input_files(paths), desc="ingest", unit="file", disable=None):
        try:
            good.append(read_text(path, max_bytes=max_bytes))
        except IngestError as exc:
            bad.append(exc)
    return good, bad


def record_ids(texts: list[IngestedText]) -> list[str]:
    """Ids from file stems (white space to '_'); a repeated stem gets '-2', '-3'... in input order."""
    ids: dict[str, None] = {}
    for item in texts:
        stem = "_".join(Path(item.path).stem.split()) or "doc"
        rid, n = stem, 1
        while rid in ids:
            n += 1
            rid = f"{stem}-{n}"
        ids[rid] = None
    return list(ids)


def ingest_command(paths: Iterable[str | Path], out_path: str | Path,
                   max_bytes: int = DEFAULT_MAX_BYTES) -> int:
    """CLI body: write one JSONL record per good file, report bad ones; exit code 1 if any failed."""
    paths = list(paths)
    good, bad = ingest_many(paths, max_bytes=max_bytes)
    if not good and not bad:
        print(f"no input files found in: {' '.join(map(str, paths))}", file=sys.stderr)
        return 1
    records = [
        {"id": rid, "source": item.path, "format": item.format, "encoding": item.encoding, "text": item.text}
        for rid, item in zip(record_ids(good), good)
    ]
    try:
        write_jsonl(out_path, records)
    except OSError as exc:
        print(f"{out_path}: cannot write output ({exc.strerror or exc})", file=sys.stderr)
        return 1
    for error in bad:
        print(error, file=sys.stderr)
    print(f"ingested {len(good)} file(s) into {out_path}; {len(bad)} failed", file=sys.stderr)
    return 1 if bad else 0

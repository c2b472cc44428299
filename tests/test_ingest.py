"""Ingest of new gazettes: encodings, html/docx/pdf extraction, bad input, directory runs."""
from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import docx
import pytest
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from corpus.ingest import (
    IngestError,
    IngestedText,
    ingest_command,
    ingest_many,
    iter_input_files,
    read_text,
    record_ids,
)

# From corpus/raw/002 (本溪市人民政府公报2019年第3号), as the corpus has it (ASCII , : ( )).
GAZETTE = """本溪市人民政府文件
本政发〔2019〕3号
本溪市人民政府关于印发
本溪市打赢蓝天保卫战三年行动方案
(2018—2020年)的通知
各自治县、区人民政府,本钢,市政府各委办局:
现将《本溪市打赢蓝天保卫战三年行动方案(2018—2020年)》印发给你们,请结合实际认真组织实施。
本溪市人民政府
2019年1月31日
(此件公开发布)
本溪市打赢蓝天保卫战三年行动方案
(2018—2020年)
为贯彻落实《国务院关于印发打赢蓝天保卫战三年行动计划的通知》(国发〔2018〕22号)和《辽宁省人民政府关于印发辽宁省打赢蓝天保卫战三年行动方案(2018-2020年)的通知》(辽政发〔2018〕31号)精神,加快解决我市大气污染防治重点难点问题,特制定本方案。
一、总体要求
(一)指导思想
"""

# The same notice in traditional characters, as a Big5 file from Taiwan or Hong Kong would hold it.
GAZETTE_TRADITIONAL = """本溪市人民政府文件
本政發〔2019〕3號
本溪市人民政府關於印發
本溪市打贏藍天保衛戰三年行動方案
(2018—2020年)的通知
各自治縣、區人民政府,本鋼,市政府各委辦局:
現將《本溪市打贏藍天保衛戰三年行動方案(2018—2020年)》印發給你們,請結合實際認真組織實施。
本溪市人民政府
2019年1月31日
(此件公開發布)
本溪市打贏藍天保衛戰三年行動方案
(2018—2020年)
為貫徹落實《國務院關於印發打贏藍天保衛戰三年行動計劃的通知》(國發〔2018〕22號)和《遼寧省人民政府關於印發遼寧省打贏藍天保衛戰三年行動方案(2018-2020年)的通知》(遼政發〔2018〕31號)精神,加快解決我市大氣污染防治重點難點問題,特制定本方案。
一、總體要求
(一)指導思想
"""

# U+20000 (CJK Extension B) exists in GB18030 but not in GBK.
EXT_B = "\U00020000"
BIG5_FAMILY = {"big5", "cp950", "big5hkscs"}


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def make_pdf(path: Path, lines: list[str]) -> Path:
    """A PDF in reportlab's built-in Adobe-GB1 CID font, which needs no font file."""
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    pdf = canvas.Canvas(str(path))
    pdf.setFont("STSong-Light", 12)
    for i, line in enumerate(lines):
        pdf.drawString(50, 800 - 20 * i, line)
    pdf.showPage()
    pdf.save()
    return path


def make_docx(path: Path) -> Path:
    document = docx.Document()
    document.add_heading("本溪市人民政府关于印发本溪市打赢蓝天保卫战三年行动方案的通知", level=1)
    document.add_paragraph("各自治县、区人民政府,本钢,市政府各委办局:")
    document.add_paragraph("")
    table = document.add_table(rows=2, cols=3)
    for col, value in enumerate(["指标", "2018年", "2020年"]):
        table.cell(0, col).text = value
    table.cell(1, 0).text = "PM2.5浓度"
    table.cell(1, 1).merge(table.cell(1, 2)).text = "下降18%"
    document.add_paragraph("本溪市人民政府")
    document.add_paragraph("2019年1月31日")
    document.save(str(path))
    return path


# --- plain text: encodings ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "codec", "expected"),
    [
        (GAZETTE, "gbk", {"gb18030"}),
        (GAZETTE + f"附件:{EXT_B}字表\n", "gb18030", {"gb18030"}),
        (GAZETTE_TRADITIONAL, "big5", BIG5_FAMILY),
        (GAZETTE, "utf-8", {"utf-8"}),
        (GAZETTE, "utf-8-sig", {"utf-8-sig"}),
        (GAZETTE, "utf-16", {"utf-16"}),
    ],
    ids=["gbk", "gb18030-ext-b", "big5", "utf-8", "utf-8-bom", "utf-16-bom"],
)
def test_txt_encodings_are_detected_and_decoded_losslessly(tmp_path, text, codec, expected):
    path = write(tmp_path / "notice.txt", text.encode(codec))
    result = read_text(path)
    assert result == IngestedText(path=str(path), text=text, format="txt", encoding=result.encoding)
    assert result.encoding in expected
    assert not result.text.startswith("\ufeff")


def test_gbk_bytes_decode_as_gb18030_superset(tmp_path):
    # Detection on GBK bytes names GB18030, which also covers characters GBK lacks.
    path = write(tmp_path / "a.txt", GAZETTE.encode("gbk"))
    assert read_text(path).encoding == "gb18030"
    with pytest.raises(UnicodeEncodeError):
        EXT_B.encode("gbk")


@pytest.mark.parametrize(
    ("text", "codec", "expected"),
    [
        ("本溪市人民政府关于印发通知", "gbk", {"gb18030"}),
        ("2019年1月31日 本政发〔2019〕3号", "gbk", {"gb18030"}),
        ("通知", "gbk", {"gb18030"}),  # these GBK bytes are also valid UTF-8 (U+05AA U+0368)
        ("、", "gbk", {"gb18030"}),
        ("对钢铁、建材、焦化、", "gbk", {"gb18030"}),
        (f"{EXT_B}字", "gb18030", {"gb18030"}),
        ("關於印發通知", "big5", BIG5_FAMILY),
        ("通知", "big5", BIG5_FAMILY),
        ("通知", "utf-8", {"utf-8"}),
        ("通知", "utf-8-sig", {"utf-8-sig"}),
        ("Café résumé", "utf-8", {"utf-8"}),
        ("PM2.5 ≤ 35 µg/m³ (±5%), café résumé naïve façade — “quoted” ½ ¼ ¾", "utf-8", {"utf-8"}),
    ],
)
def test_short_texts_decode_correctly(tmp_path, text, codec, expected):
    result = read_text(write(tmp_path / "short.txt", text.encode(codec)))
    assert result.text == text
    assert result.encoding in expected


def test_txt_line_endings_are_normalised_and_text_otherwise_verbatim(tmp_path):
    original = "  本溪市人民政府\r\n\r\n本政发〔2019〕3号\r(此件公开发布)  \n"
    result = read_text(write(tmp_path / "crlf.txt", original.encode("gbk")))
    assert result.text == "  本溪市人民政府\n\n本政发〔2019〕3号\n(此件公开发布)  \n"


# --- html -----------------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>浏览器标题</title><style>p {{ color: red }}</style>
<script>var tip = "脚本文字";</script></head>
<body>
<header><a href="/">网站首页</a> | 政务公开</header>
<nav><ul><li>导航栏目</li></ul></nav>
<article>
  <header><h1>本溪市人民政府关于印发<br>行动方案的通知</h1></header>
  <p>各自治县、区人民政府,
     市政府各委办局:</p>
  <p>现将《<span>本溪市打赢蓝天保卫战</span>三年行动方案》印发给你们。朱{rare}基同志</p>
  <table><tr><th>指标</th><th>目标</th></tr><tr><td>PM2.5</td><td><p>下降</p>18%</td></tr></table>
  <div style="display: none">隐藏文字</div>
  <!-- 注释文字 -->
  <ul><li>第一项</li><li>第二项</li></ul>
</article>
<form><input value="搜索"><button>搜索按钮</button></form>
<noscript>请启用脚本</noscript>
<footer>版权所有 本溪市人民政府</footer>
</body></html>
"""
# 镕 is in GBK but not in GB2312: pages that declare gb2312 routinely contain such characters.
PAGE_TEXT = """本溪市人民政府关于印发
行动方案的通知
各自治县、区人民政府, 市政府各委办局:
现将《本溪市打赢蓝天保卫战三年行动方案》印发给你们。朱镕基同志
指标 | 目标
PM2.5 | 下降 18%
第一项
第二项"""


def test_html_keeps_visible_text_one_line_per_block(tmp_path):
    path = write(tmp_path / "page.html", PAGE.format(rare="镕").encode("gbk"))
    result = read_text(path)
    assert result.format == "html"
    assert result.encoding == "gb18030"
    assert result.text == PAGE_TEXT
    for hidden in ("脚本", "导航", "网站首页", "版权所有", "搜索", "请启用", "隐藏", "注释", "浏览器标题", "color"):
        assert hidden not in result.text


def test_html_without_declaration_is_detected(tmp_path):
    body = "".join(f"<p>{line}</p>\r\n" for line in GAZETTE_TRADITIONAL.splitlines())
    path = write(tmp_path / "page.htm", f"<html><body>{body}</body></html>".encode("big5"))
    result = read_text(path)
    assert result.encoding in BIG5_FAMILY
    assert result.text == GAZETTE_TRADITIONAL.rstrip("\n")


def test_html_utf8_wins_over_a_wrong_declaration(tmp_path):
    markup = '<html><head><meta charset="gbk"></head><body><p>本溪市人民政府</p></body></html>'
    result = read_text(write(tmp_path / "page.html", markup.encode("utf-8")))
    assert (result.text, result.encoding) == ("本溪市人民政府", "utf-8")


# --- docx and pdf ---------------------------------------------------------------------------------

def test_docx_paragraphs_and_table_rows(tmp_path):
    result = read_text(make_docx(tmp_path / "notice.docx"))
    assert (result.format, result.encoding) == ("docx", None)
    assert result.text == (
        "本溪市人民政府关于印发本溪市打赢蓝天保卫战三年行动方案的通知\n"
        "各自治县、区人民政府,本钢,市政府各委办局:\n"
        "指标 | 2018年 | 2020年\n"
        "PM2.5浓度 | 下降18%\n"
        "本溪市人民政府\n"
        "2019年1月31日"
    )


def test_pdf_chinese_text_is_extracted(tmp_path):
    lines = [
        "本溪市人民政府关于印发",
        "本溪市打赢蓝天保卫战三年行动方案的通知",
        "本政发〔2019〕3号",
        "各自治县、区人民政府,本钢,市政府各委办局:",
        "2019年1月31日",
    ]
    result = read_text(make_pdf(tmp_path / "notice.pdf", lines))
    assert (result.format, result.encoding) == ("pdf", None)
    assert [line for line in result.text.split("\n") if line] == lines
    assert "\f" not in result.text


# --- bad input ------------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("image.txt", PNG, "binary file"),
        ("nul.txt", "本溪市".encode("utf-8") + b"\x00\x00", "binary file"),
        ("garbage.txt", b"\x80\xff" * 200, "cannot decode"),
        ("blank.txt", b" \r\n\t\n", "no text found"),
        ("scripts.html", b"<html><script>var a = 1;</script></html>", "no text found"),
        ("image.png", PNG, "unsupported file type '.png'"),
        ("notes", b"text", "unsupported file type '(none)'"),
        ("corrupt.docx", b"PK\x03\x04 truncated", "not a readable .docx file"),
        ("legacy.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "legacy Word .doc"),
        ("corrupt.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog", "not a readable PDF"),
        ("fake.pdf", "本溪市人民政府".encode("utf-8"), "not a PDF file"),
    ],
)
def test_bad_input_gives_one_line_naming_the_file(tmp_path, name, data, reason):
    path = write(tmp_path / name, data)
    with pytest.raises(IngestError) as info:
        read_text(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert reason in message
    assert "\n" not in message


def test_docx_zip_without_word_parts_is_rejected(tmp_path):
    path = tmp_path / "empty.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "not a word document")
    with pytest.raises(IngestError, match=r"empty\.docx: not a readable \.docx file \(KeyError"):
        read_text(path)


def test_pdf_without_text_layer_is_rejected(tmp_path):
    path = tmp_path / "scan.pdf"
    pdf = canvas.Canvas(str(path))
    pdf.rect(50, 50, 100, 100, fill=1)  # a page with graphics only, like a scan
    pdf.showPage()
    pdf.save()
    with pytest.raises(IngestError, match=r"scan\.pdf: PDF has no text layer"):
        read_text(path)


def test_over_size_limit(tmp_path):
    path = write(tmp_path / "big.txt", GAZETTE.encode("utf-8"))
    size = path.stat().st_size
    with pytest.raises(IngestError) as info:
        read_text(path, max_bytes=size - 1)
    assert str(info.value) == f"{path}: file is {size:,} bytes, over the limit of {size - 1:,} bytes"
    assert read_text(path, max_bytes=size).text == GAZETTE


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(IngestError, match=r"missing\.txt: cannot read file \(No such file or directory\)$"):
        read_text(tmp_path / "missing.txt")
    (tmp_path / "folder.txt").mkdir()
    with pytest.raises(IngestError, match=r"folder\.txt: cannot read file \(Is a directory\)$"):
        read_text(tmp_path / "folder.txt")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads files regardless of mode")
def test_permission_denied_on_disk(tmp_path):
    path = write(tmp_path / "secret.txt", GAZETTE.encode("utf-8"))
    path.chmod(0)
    try:
        with pytest.raises(IngestError, match=r"secret\.txt: cannot read file \(Permission denied\)$"):
            read_text(path)
    finally:
        path.chmod(0o600)


def test_permission_denied_is_reported(tmp_path, monkeypatch):
    path = write(tmp_path / "secret.txt", GAZETTE.encode("utf-8"))

    def deny(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", deny)
    with pytest.raises(IngestError) as info:
        read_text(path)
    assert str(info.value) == f"{path}: cannot read file (Permission denied)"


# --- many files -----------------------------------------------------------------------------------

def make_tree(root: Path) -> dict[str, Path]:
    files = {
        "gbk": write(root / "a_notice.txt", GAZETTE.encode("gbk")),
        "html": write(root / "sub" / "b_page.html", PAGE.format(rare="镕").encode("gbk")),
        "docx": make_docx(root / "sub" / "c_notice.docx"),
        "empty": write(root / "sub" / "d_empty.txt", b""),
        "binary": write(root / "e_image.txt", PNG),
        "big5": write(root / "z" / "a_notice.txt", GAZETTE_TRADITIONAL.encode("big5")),
    }
    write(root / "ignored.png", PNG)  # unsupported types in a directory are skipped, not errors
    write(root / "records.jsonl", b"{}\n")
    write(root / ".hidden" / "x.txt", b"hidden")
    write(root / "sub" / "~$c_notice.docx", b"lock")
    return files


def test_iter_input_files_expands_directories_and_globs(tmp_path):
    files = make_tree(tmp_path / "in")
    expanded = iter_input_files([tmp_path / "in"])
    assert expanded == sorted(files.values())
    assert iter_input_files([str(tmp_path / "in" / "*.txt")]) == [files["gbk"], files["binary"]]
    assert iter_input_files([str(tmp_path / "in" / "**" / "a_*.txt")]) == [files["gbk"], files["big5"]]
    # Explicit paths stay, even missing or unsupported ones, so that reading reports them; no duplicates.
    missing, png = tmp_path / "missing.txt", tmp_path / "in" / "ignored.png"
    assert iter_input_files([files["gbk"], missing, png, tmp_path / "in"]) == (
        [files["gbk"], missing, png] + [p for p in sorted(files.values()) if p != files["gbk"]])
    assert iter_input_files([str(tmp_path / "none-*.txt")]) == [tmp_path / "none-*.txt"]


def test_ingest_many_collects_failures_and_goes_on(tmp_path):
    files = make_tree(tmp_path)
    good, bad = ingest_many([tmp_path])
    assert [g.path for g in good] == [str(files[k]) for k in ("gbk", "html", "docx", "big5")]
    assert [e.path for e in bad] == [str(files["binary"]), str(files["empty"])]
    assert good[0].text == GAZETTE and good[3].text == GAZETTE_TRADITIONAL


def test_ingest_command_writes_good_files_and_lists_bad_ones(tmp_path, capsys):
    files = make_tree(tmp_path / "in")
    out = tmp_path / "out" / "ingested.jsonl"
    assert ingest_command([tmp_path / "in"], out) == 1
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in records] == ["a_notice", "b_page", "c_notice", "a_notice-2"]
    assert [r["source"] for r in records] == [str(files[k]) for k in ("gbk", "html", "docx", "big5")]
    assert [(r["format"], r["encoding"]) for r in records] == [
        ("txt", "gb18030"), ("html", "gb18030"), ("docx", None), ("txt", records[3]["encoding"])]
    assert records[0]["text"] == GAZETTE and records[1]["text"] == PAGE_TEXT
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"{files['binary']}: binary file (contains NUL bytes), not text"
    assert err[1] == f"{files['empty']}: empty file"
    assert err[-1] == f"ingested 4 file(s) into {out}; 2 failed"


def test_ingest_command_all_good_returns_zero(tmp_path, capsys):
    path = write(tmp_path / "notice.txt", GAZETTE.encode("gb18030"))
    out = tmp_path / "out.jsonl"
    assert ingest_command([path], out) == 0
    (record,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert record == {"id": "notice", "source": str(path), "format": "txt", "encoding": "gb18030", "text": GAZETTE}
    assert capsys.readouterr().err.strip() == f"ingested 1 file(s) into {out}; 0 failed"


def test_ingest_command_with_no_input_files_fails(tmp_path, capsys):
    (tmp_path / "empty_dir").mkdir()
    assert ingest_command([tmp_path / "empty_dir"], tmp_path / "out.jsonl") == 1
    assert "no input files found" in capsys.readouterr().err
    assert not (tmp_path / "out.jsonl").exists()


def test_record_ids_are_unique_and_follow_stems():
    paths = ["a/通知 2019.txt", "b/通知 2019.docx", "c/通知_2019-2.pdf", "d/通知 2019.html"]
    texts = [IngestedText(path=p, text="正文", format="txt", encoding="utf-8") for p in paths]
    assert record_ids(texts) == ["通知_2019", "通知_2019-2", "通知_2019-2-2", "通知_2019-3"]


def test_ingest_command_reports_an_unwritable_output(tmp_path, capsys):
    path = write(tmp_path / "notice.txt", GAZETTE.encode("utf-8"))
    out = tmp_path / "out.jsonl"
    out.mkdir()
    assert ingest_command([path], out) == 1
    assert capsys.readouterr().err.strip().startswith(f"{out}: cannot write output (")

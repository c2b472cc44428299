"""The corpus pipeline on the real raw files: documents, cleaning rules, offsets, sentences, splits."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from corpus.build import PROCESSED_DIR, RAW_DIR, build_corpus, load_manifest, write_corpus
from corpus.records import Document
from corpus.sentences import MAX_LEN, split_paragraph
from corpus.splits import containment, shingles


@pytest.fixture(scope="module")
def corpus():
    return build_corpus()


@pytest.fixture(scope="module")
def docs(corpus):
    return {d.id: d for d in corpus.documents}


def raw_text(doc: Document) -> str:
    return (RAW_DIR / doc.source).read_text(encoding="utf-8")


def test_raw_files_are_the_shared_originals():
    for entry in load_manifest():
        data = (RAW_DIR / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["file"]


def test_documents_per_file(corpus):
    counts = {}
    for doc in corpus.documents:
        counts[doc.source[:3]] = counts.get(doc.source[:3], 0) + 1
    assert counts == {"000": 10, "001": 22, "002": 6, "003": 10, "004": 7}


def test_document_metadata(docs):
    assert docs["000-d01"].doc_number == "六盘水府发〔2015〕7号"
    assert docs["000-d01"].title == "六盘水市2015—2017年大气污染防治专项行动实施方案"
    assert docs["002-d02"].doc_number == "本政发〔2019〕5号"
    assert docs["002-d02"].date == "2019年5月6日"
    assert docs["003-d03"].doc_number == "衡政发〔2016〕8号"
    assert docs["004-d01"].doc_number == "沅政办发〔2023〕5号"
    assert {d.group for d in docs.values() if d.source.startswith("004")} == {"004"}


def test_every_sentence_points_into_its_document(corpus, docs):
    for sentence in corpus.sentences:
        assert docs[sentence.doc_id].text[sentence.start:sentence.end] == sentence.text, sentence.id


def test_every_document_character_maps_back_to_the_raw_file(docs):
    for doc in docs.values():
        raw = raw_text(doc)
        assert sum(n for _, _, n in doc.source_map) == len(doc.text), doc.id
        for d, s, n in doc.source_map:
            assert doc.text[d:d + n] == raw[s:s + n], doc.id
        assert raw[doc.source_offset(len(doc.text) - 1)] == doc.text[-1]


def test_closing_date_glued_to_next_title_is_split(docs):
    assert docs["000-d01"].text.endswith("2015年5月20日")
    assert docs["000-d02"].title == "六盘水市社会信用体系建设规划纲要(2014—2020年)"
    assert docs["000-d02"].text.startswith("六盘水市社会信用体系建设规划纲要")


def test_lines_broken_mid_word_are_joined(docs):
    text = docs["000-d01"].text
    assert "增加颗粒物" in text and "推广使用新能源汽车" in text and "市环境保护局、市住房城乡建设局" in text
    assert "(牵头单位:市林业局" in docs["000-d08"].text


def test_headings_are_not_joined_to_the_next_line(docs):
    assert "\n一、总体要求\n" in docs["000-d01"].text
    assert "\n(四)加强监督问责。" in docs["000-d01"].text


def test_pdf_wrap_spaces_removed_only_where_configured(docs):
    assert "完善国有资产管理体制" in docs["002-d02"].text
    assert "管 理" not in docs["002-d02"].text
    assert "提高城乡低保 特困人员救助供养" in docs["002-d06"].title  # spaces that stand for 、 stay


def test_ocr_errors_are_never_corrected(docs):
    assert "(PM1O)" in docs["000-d01"].text
    assert "(201。年本)" in docs["000-d01"].text


def test_boilerplate_is_dropped(docs):
    everything = "\n".join(d.text for d in docs.values())
    for noise in ("魅力文档网", "推荐访问", "来源:网友投稿", "索引号", "【字体", "扫一扫", "当前页面"):
        assert noise not in everything, noise


def test_table_headers_repeated_at_page_breaks_are_dropped(docs):
    assert docs["004-d04"].text.count("(四)以法治护一流环境 |") == 1


def test_semicolon_line_breaks_keep_a_clause_together(corpus):
    sentence = next(s for s in corpus.sentences if "(牵头科室:人秘科;" in s.text)
    assert "完成时间:2022年11月底前)" in sentence.text


def test_responsibility_clause_stays_with_its_task(corpus):
    clauses = [s for s in corpus.sentences if "牵头单位" in s.text]
    assert clauses
    orphans = [s.text for s in clauses if s.text.startswith("(牵头单位")]
    assert len(orphans) <= len(clauses) // 20, orphans[:5]
    task = next(s for s in corpus.sentences if "(牵头单位:市经济和信息化委;责任单位:各县、特区、区人民政府" in s.text)
    assert not task.text.startswith("(")


def test_table_row_keeps_task_and_units_together(corpus):
    row = next(s for s in corpus.sentences if "竣工即办证" in s.text and "|" in s.text)
    assert "市住建局 |" in row.text


def test_never_split_on_dot_or_inside_brackets():
    text = "削减16.7%以上,不高于60微克/立方米(牵头单位:市环境保护局;责任单位:市质监局。完成时限:2017年底)。下一句。"
    bounds = split_paragraph(text, 0)
    assert [text[a:b] for a, b in bounds] == [text[:text.index("下一句")], "下一句。"]


def test_quotation_marks_protect_their_full_stop():
    text = "他说:“这是最大的忌讳。”我们要记住。"
    assert [text[a:b] for a, b in split_paragraph(text, 0)] == ["他说:“这是最大的忌讳。”", "我们要记住。"]


def test_long_enumeration_split_at_markers():
    items = "".join(f"({i})加强第{i}项工作,落实各项措施,推进建设完成目标任务" for i in range(1, 13))
    text = "主要任务包括:" + items + "。"
    assert len(text) > MAX_LEN
    pieces = [text[a:b] for a, b in split_paragraph(text, 0)]
    assert len(pieces) == 13 and pieces[1].startswith("(1)")
    assert "".join(pieces) == text


def test_headings_are_marked(corpus):
    by_text = {s.text: s for s in corpus.sentences}
    assert by_text["一、总体要求"].is_heading
    assert by_text["附件3"].is_heading
    assert not next(s for s in corpus.sentences if s.text.startswith("坚守发展与生态底线")).is_heading


def test_splits_are_whole_documents_and_balanced(corpus, docs):
    assigned = [d for ids in corpus.splits.values() for d in ids]
    assert sorted(assigned) == sorted(docs)
    split_of = {d: name for name, ids in corpus.splits.items() for d in ids}
    assert len({split_of[d] for d in docs if d.startswith("004")}) == 1
    for prefix in ("000", "001", "002", "003"):
        assert {split_of[d] for d in docs if d.startswith(prefix)} == {"train", "dev", "test"}, prefix
    total = sum(len(d.text) for d in docs.values())
    share = {name: sum(len(docs[d].text) for d in ids) / total for name, ids in corpus.splits.items()}
    assert 0.62 < share["train"] < 0.78 and 0.10 < share["dev"] < 0.20 and 0.10 < share["test"] < 0.20


def test_no_near_duplicate_text_crosses_splits(corpus, docs):
    split_of = {d: name for name, ids in corpus.splits.items() for d in ids}
    grams = {d: shingles(doc.text) for d, doc in docs.items()}
    for a in docs:
        for b in docs:
            if a < b and split_of[a] != split_of[b]:
                assert containment(grams[a], grams[b]) < 0.3, (a, b)


def test_build_reproduces_committed_files(corpus, tmp_path: Path):
    write_corpus(corpus, tmp_path)
    for name in ("documents.jsonl", "sentences.jsonl", "splits.json", "stats.json"):
        assert (tmp_path / name).read_bytes() == (PROCESSED_DIR / name).read_bytes(), name

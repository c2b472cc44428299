"""The rule pre-annotator against real corpus snippets and the spec's boundary rules."""
from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import pytest

from annotation import rules
from annotation.labels import LABELS, SPEC_VERSION, Span
from annotation.rules import annotate, mine_agencies, resolve


def labelled(text: str, heading: bool = False) -> list[tuple[str, str]]:
    return [(s.text, s.label) for s in annotate(text, heading=heading)]


def assert_well_formed(text: str, spans: list[Span]) -> None:
    previous_end = 0
    for span in spans:
        assert span.label in LABELS
        assert 0 <= span.start < span.end <= len(text)
        assert text[span.start:span.end] == span.text
        assert span.start >= previous_end, f"overlap at {span}"
        previous_end = span.end


# --------------------------------------------------------------------------- POLICY


def test_titles_and_document_numbers():
    text = ("为贯彻落实《国务院关于印发大气污染防治行动计划的通知》(国发〔2013〕37号)和《省人民政府关于印发贵州省"
            "大气污染防治行动计划实施方案的通知》(黔府发〔2014〕13号)精神")
    assert labelled(text) == [
        ("国务院关于印发大气污染防治行动计划的通知", "POLICY"),
        ("国发〔2013〕37号", "POLICY"),
        ("省人民政府关于印发贵州省大气污染防治行动计划实施方案的通知", "POLICY"),
        ("黔府发〔2014〕13号", "POLICY"),
    ]


@pytest.mark.parametrize("number", ["六盘水府发〔2015〕7号", "黔府发 [2015]16号", "辽政发 ﹝2018﹞40号", "衡行审通【2022】13号",
                                    "本政发〔2019〕3号", "沅政办发〔2023〕5号", "湛自然资(执法监督)〔2022〕89号"])
def test_document_number_variants(number):
    assert (number, "POLICY") in labelled(f"根据相关文件({number})精神")


def test_adjacent_titles_nested_brackets_and_standards():
    text = "按照《中华人民共和国预算法》《中华人民共和国政府采购法》规定"
    assert labelled(text) == [("中华人民共和国预算法", "POLICY"), ("中华人民共和国政府采购法", "POLICY")]
    nested = "根据《湖南省人民政府办公厅关于印发〈湖南省打好“发展六仗”总体方案〉的通知》(湘政办发〔2023〕2号)精神"
    assert labelled(nested)[0] == ("湖南省人民政府办公厅关于印发〈湖南省打好“发展六仗”总体方案〉的通知", "POLICY")
    law = "执行GB/T50378-2019标准,推动落实《优化营商环境条例》(国令第722号)"
    assert labelled(law) == [("GB/T50378-2019", "POLICY"), ("优化营商环境条例", "POLICY"), ("国令第722号", "POLICY")]


def test_broken_title_bracket_ends_before_its_number():
    text = "根据《省人民政府办公厅关于印发〈绿色贵州建设三年行动计划(2015—2017年)的通知>黔府办发〔2015〕9号)文件精神"
    assert labelled(text)[:2] == [
        ("省人民政府办公厅关于印发〈绿色贵州建设三年行动计划(2015—2017年)的通知", "POLICY"),
        ("黔府办发〔2015〕9号", "POLICY"),
    ]


def test_unbracketed_title_before_its_number_and_heading_line():
    text = "本溪市人民政府关于改革国有企业工资决定机制的实施意见(本政发〔2019〕5号)"
    assert labelled(text) == [("本溪市人民政府关于改革国有企业工资决定机制的实施意见", "POLICY"),
                              ("本政发〔2019〕5号", "POLICY")]
    heading = "六盘水市2015—2017年大气污染防治专项行动实施方案"
    assert labelled(heading, heading=True) == [(heading, "POLICY")]
    assert ("2015—2017年", "DATE") in labelled(heading)  # not a heading: no title span
    assert labelled("三、保障措施", heading=True) == []


# --------------------------------------------------------------------------- DATE


def test_dates_exclude_prepositions_and_keep_suffixes():
    assert labelled("完成时限:至2017年底分期完成") == [("2017年底", "DATE")]
    assert labelled("从2015年起,新建建筑") == [("2015年起", "DATE")]
    assert labelled("2015年6月30日前完成资源利用产能平衡计划表")[0] == ("2015年6月30日前", "DATE")


@pytest.mark.parametrize("expression", ["2015—2017年", "2015年至2017年", "11月-次年2月", "2014年末", "“十四五”时期", "3个月内",
                                        "15个工作日内", "上半年", "上年同期", "冬春季(11月-次年2月)"])
def test_date_expressions(expression):
    assert labelled(f"在{expression},") == [(expression, "DATE")]


def test_frequencies_are_not_dates():
    assert labelled("每年、逐年、长期、及时、定期开展检查") == []
    assert labelled("每日8时报送") == []


# --------------------------------------------------------------------------- AMOUNT


def test_amounts_exclude_comparators_and_keep_qualifiers():
    text = "削减16.7%以上,不高于60微克/立方米;2016年,削减29.2%以上"
    assert labelled(text) == [("16.7%以上", "AMOUNT"), ("60微克/立方米", "AMOUNT"), ("2016年", "DATE"),
                              ("29.2%以上", "AMOUNT")]


@pytest.mark.parametrize("amount", ["15—20万元", "1-2个", "3000万元以上5000万元以下", "20余台(套)", "三分之二以上",
                                    "9.5、9、8.5吨/月·平方公里", "1.2和0.8个百分点", "2:8", "0.34万辆", "5000万以上"])
def test_amount_forms(amount):
    assert labelled(f"达到{amount},") == [(amount, "AMOUNT")]


def test_chinese_numeral_counts_but_not_ordinals_or_slogans():
    assert labelled("守住两条底线,抓好三个方面") == [("两条", "AMOUNT"), ("三个", "AMOUNT")]
    assert labelled("汽油车应达到国家第四阶段机动车污染物排放标准") == []
    assert labelled("结合“3155工程”和一批重点项目,加强一次性告知") == []
    assert labelled("1.严控两高行业新增产能") == []


# --------------------------------------------------------------------------- AGENCY


def test_responsibility_clause_agencies_and_ellipsis():
    text = ("(牵头单位:市经济和信息化委;责任单位:各县、特区、区人民政府,钟山经济开发区管委会,市发展改革委、"
            "市环境保护局完成时限:2015年6月30日前完成资源利用产能平衡计划表)")
    assert labelled(text) == [
        ("市经济和信息化委", "AGENCY"), ("各县、特区、区人民政府", "AGENCY"), ("钟山经济开发区管委会", "AGENCY"),
        ("市发展改革委", "AGENCY"), ("市环境保护局", "AGENCY"), ("2015年6月30日前", "DATE"),
    ]


def test_agency_variants():
    assert labelled("各县(市、区)人民政府,各镇党委、政府") == [("各县(市、区)人民政府", "AGENCY"), ("各镇党委、政府", "AGENCY")]
    assert labelled("市委、市政府决定") == [("市委", "AGENCY"), ("市政府", "AGENCY")]
    assert labelled("六盘水市人民政府") == [("六盘水市人民政府", "AGENCY")]
    assert labelled("XX镇人民政府负责组织实施") == [("XX镇人民政府", "AGENCY")]
    assert labelled("(益阳市生态环境局沅江分局牵头)") == [("益阳市生态环境局沅江分局", "AGENCY")]


def test_body_names_joined_by_he_market_bodies_and_centres():
    # dev-split clauses the rules used to miss (和 and 市场 inside a body name; 中心 heads)
    assert labelled("(市自然资源和规划局、市市场监管局、市公共资源交易中心按职责分工负责)") == [
        ("市自然资源和规划局", "AGENCY"), ("市市场监管局", "AGENCY"), ("市公共资源交易中心", "AGENCY")]
    assert labelled("市中心城区和全市各县") == []  # 中心城区 is a place word, 和 between levels joins nothing
    assert labelled("市民和企业办事更方便") == []


def test_bracketed_aliases_are_their_own_spans():
    assert labelled("市发展改革委〔市铁建办〕") == [("市发展改革委", "AGENCY"), ("市铁建办", "AGENCY")]
    assert labelled("六盘水市中小企业局(民营经济发展局)") == [("六盘水市中小企业局", "AGENCY"), ("民营经济发展局", "AGENCY")]
    # a bracket that opens with a function word is a clause, not an alias
    assert labelled("送益阳市疾控中心(或送省疾控中心)测序")[0] == ("益阳市疾控中心", "AGENCY")
    assert ("或送省疾控中心", "AGENCY") not in labelled("送益阳市疾控中心(或送省疾控中心)测序")


def test_generic_references_are_not_entities():
    assert labelled("各有关部门、相关单位、各县区、市直相关部门要加强协作") == []
    assert labelled("环境保护、公安等部门要建立信息定期交换机制") == []
    assert labelled("市、县两级政府和各管委会") == []
    assert labelled("完善城市人民政府职能") == []


def test_central_meeting_is_not_an_agency():
    assert labelled("全面贯彻中央经济工作会议精神") == []
    assert labelled("结合中央、省委关于城市工作的部署") == [("中央", "AGENCY"), ("省委", "AGENCY")]


# --------------------------------------------------------------------------- LOCATION


def test_places_and_addresses():
    assert labelled("推动六盘水市经济发展") == [("六盘水市", "LOCATION")]
    assert labelled("办公地址:本溪市平山区千金路21号") == [("本溪市平山区千金路21号", "LOCATION")]
    assert labelled("加快洞庭湖区核心城市建设") == [("洞庭湖区", "LOCATION")]
    assert labelled("瓯海经济开发区安全生产") == [("瓯海经济开发区", "LOCATION")]
    assert labelled("XX市推进工作") == [("XX市", "LOCATION")]
    assert labelled("创建电子商务示范县") == []  # 范县 inside a word


# --------------------------------------------------------------------------- INDICATOR


def test_indicators_need_a_quantity():
    text = "实现地区生产总值增长8.0%左右,社会消费品零售总额增长7.5%左右,旅游人次和旅游收入均增长15%以上"
    assert labelled(text) == [
        ("地区生产总值", "INDICATOR"), ("8.0%左右", "AMOUNT"), ("社会消费品零售总额", "INDICATOR"), ("7.5%左右", "AMOUNT"),
        ("旅游人次", "INDICATOR"), ("旅游收入", "INDICATOR"), ("15%以上", "AMOUNT"),
    ]
    assert labelled("提高城市道路机扫率,加强道路洒水保洁") == []


def test_indicator_drops_scope_and_keeps_ocr_noise():
    assert labelled("2015年底市中心城区主要道路绿化覆盖率达到80%以上") == [
        ("2015年底", "DATE"), ("绿化覆盖率", "INDICATOR"), ("80%以上", "AMOUNT")]
    text = "市中心城区环境空气中可吸入颗粒物(PM1O)浓度在2014年平均浓度72微克/立方米基准值的基础上"
    assert ("可吸入颗粒物(PM1O)浓度", "INDICATOR") in labelled(text)


# --------------------------------------------------------------------------- merging and output


def test_resolve_keeps_outer_spans_and_breaks_ties_by_priority():
    assert resolve([(0, 8, "AGENCY"), (0, 4, "LOCATION"), (10, 13, "AMOUNT"), (10, 13, "DATE"), (12, 15, "AMOUNT")]) == [
        (0, 8, "AGENCY"), (10, 13, "DATE")]


def test_whole_raw_corpus_is_overlap_free_and_fast():
    raw = Path(__file__).resolve().parents[1] / "corpus" / "raw"
    files = sorted(raw.glob("*.txt"))
    if not files:
        pytest.skip("corpus/raw not present")
    counts: Counter[str] = Counter()
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            spans = annotate(line)
            assert_well_formed(line, spans)
            counts.update(s.label for s in spans)
    assert all(counts[label] > 50 for label in LABELS), counts


def test_mine_agencies_from_clauses_and_tables():
    texts = ["(牵头单位:市经济和信息化委;责任单位:各县、特区、区人民政府,市发展改革委〔市铁建办〕、有关部门)",
             "(市生态环境局牵头,市住房和城乡建设局、各县区配合)",
             "市住建局 |\n市发改局、市自然资源局等相关单位,各镇(街道、中心) |"]
    assert set(mine_agencies(texts)) == {"市经济和信息化委", "市发展改革委", "市铁建办", "市生态环境局", "市住房和城乡建设局",
                                         "市住建局", "市发改局", "市自然资源局"}


def test_command_writes_gold_shaped_records(tmp_path, capsys):
    source = tmp_path / "sentences.jsonl"
    rows = [{"id": "d-s1", "doc_id": "d", "start": 0, "end": 9, "text": "至2017年底分期完成", "is_heading": False},
            {"id": "d-s2", "doc_id": "d", "start": 10, "end": 20, "text": "(六盘水府发〔2015〕7号)", "is_heading": True}]
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "silver" / "rules.jsonl"
    parser = argparse.ArgumentParser()
    rules.register(parser.add_subparsers())
    args = parser.parse_args(["rules", "--input", str(source), "-o", str(out)])
    assert args.func(args) == 0
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert records[0] == {"id": "d-s1", "doc_id": "d", "text": "至2017年底分期完成",
                          "spans": [{"start": 1, "end": 7, "label": "DATE", "text": "2017年底"}],
                          "source": "rules", "annotator": "rules-v1", "spec_version": SPEC_VERSION}
    assert records[1]["spans"][0]["text"] == "六盘水府发〔2015〕7号"
    assert "DATE" in capsys.readouterr().out


def test_command_reports_bad_input(tmp_path, capsys):
    source = tmp_path / "sentences.jsonl"
    source.write_text('{"id": "x"}\n', encoding="utf-8")
    parser = argparse.ArgumentParser()
    rules.register(parser.add_subparsers())
    args = parser.parse_args(["rules", "--input", str(source), "-o", str(tmp_path / "out.jsonl")])
    assert args.func(args) == 1
    assert "record 1: missing string field 'text'" in capsys.readouterr().err
    assert not (tmp_path / "out.jsonl").exists()


def test_no_lexicon_name_is_known_only_from_held_out_documents():
    """The rules are a baseline and a model feature: a name seen only in dev/test text would leak them."""
    from training.config import REPO_ROOT

    def texts(path: Path) -> str:
        return "\n".join(json.loads(line)["text"] for line in path.read_text("utf-8").splitlines())

    shared = REPO_ROOT.parent / "shared"
    gold = REPO_ROOT / "annotation" / "gold"
    held_out = texts(gold / "dev.jsonl") + texts(gold / "test.jsonl")
    known = texts(gold / "train.jsonl") + (shared / "ANNOTATION_SPEC.md").read_text("utf-8")
    known += "".join(texts(path) for path in sorted((shared / "corpus" / "unlabeled").glob("*.jsonl")))
    leaks = []
    for path in sorted((REPO_ROOT / "annotation" / "lexicons").glob("*")):
        if path.name == "divisions.tsv":  # an external list (cpca), not read off the corpus
            continue
        for line in path.read_text("utf-8").splitlines():
            name = line.split("\t")[0].strip().lstrip("-")
            if name and not line.startswith("#") and name in held_out and name not in known:
                leaks.append(f"{path.name}: {name}")
    assert leaks == []

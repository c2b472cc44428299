"""Responsibility and target tables on real clauses, value normalisation, and table scoring."""
from __future__ import annotations

import pytest

from annotation.compact import resolve
from evaluation.tables import score_responsibilities
from models.normalise import normalise_amount, normalise_date
from models.tables import responsibilities, targets


def clause(text: str, items: list[list]) -> tuple[str, list]:
    return text, resolve(text, items)


def test_keyed_clause_with_nested_brackets_and_deadline():
    text, spans = clause(
        "新、改、扩建项目实行产能等量或减量置换。(牵头单位:市经济和信息化委;责任单位:各县、特区、区人民政府,"
        "钟山经济开发区管委会。完成时限:至2017年底分期完成)",
        [["AGENCY", "市经济和信息化委"], ["AGENCY", "各县、特区、区人民政府"], ["AGENCY", "钟山经济开发区管委会"],
         ["DATE", "2017年底"]])
    [row] = responsibilities("s1", text, spans)
    assert row.task == "新、改、扩建项目实行产能等量或减量置换。"
    assert row.lead == ["市经济和信息化委"]
    assert row.co == ["各县、特区、区人民政府", "钟山经济开发区管委会"]
    assert (row.deadline, row.deadline_iso) == ("2017年底", "2017-12-31")


def test_bracket_inside_a_unit_name_does_not_end_the_clause():
    text, spans = clause("具体配套措施另行制订。(牵头单位:市农委;责任单位:各县〔特区、区〕政府,市国土资源局、市林业局)",
                         [["AGENCY", "市农委"], ["AGENCY", "各县〔特区、区〕政府"], ["AGENCY", "市国土资源局"],
                          ["AGENCY", "市林业局"]])
    [row] = responsibilities("s1", text, spans)
    assert row.co == ["各县〔特区、区〕政府", "市国土资源局", "市林业局"]


def test_verbal_clause():
    text, spans = clause("推动再生资源回收产业化发展。(商务厅、住房城乡建设厅牵头,经济和信息化厅、生态环境厅配合)",
                         [["AGENCY", "商务厅"], ["AGENCY", "住房城乡建设厅"], ["AGENCY", "经济和信息化厅"],
                          ["AGENCY", "生态环境厅"]])
    [row] = responsibilities("s1", text, spans)
    assert (row.lead, row.co) == (["商务厅", "住房城乡建设厅"], ["经济和信息化厅", "生态环境厅"])
    assert row.task == "推动再生资源回收产业化发展。"


def test_lead_marked_by_the_comma_in_a_unit_list():
    text, spans = clause("〔责任单位:市住房城乡建设局,市财政局、市税务局〕",
                         [["AGENCY", "市住房城乡建设局"], ["AGENCY", "市财政局"], ["AGENCY", "市税务局"]])
    [row] = responsibilities("s1", text, spans)
    assert (row.lead, row.co) == (["市住房城乡建设局"], ["市财政局", "市税务局"])


def test_table_row_of_the_flattened_task_list():
    text, spans = clause("(49)抓紧出台实施方案。 |市住建局 |市城管执法局、沅江供电公司 |",
                         [["AGENCY", "市住建局"], ["AGENCY", "市城管执法局"], ["AGENCY", "沅江供电公司"]])
    [row] = responsibilities("s1", text, spans)
    assert (row.task, row.lead, row.co) == ("(49)抓紧出台实施方案。", ["市住建局"], ["市城管执法局", "沅江供电公司"])


def test_sentence_without_assignment_has_no_row():
    text, spans = clause("各有关部门要加强协调。", [])
    assert responsibilities("s1", text, spans) == []


def test_targets_with_comparators_and_date():
    text, spans = clause("2015年,市中心城区可吸入颗粒物(PM1O)浓度削减16.7%以上,不高于60微克/立方米;",
                         [["DATE", "2015年"], ["INDICATOR", "可吸入颗粒物(PM1O)浓度"], ["AMOUNT", "16.7%以上"],
                          ["AMOUNT", "60微克/立方米"]])
    rows = targets("s1", text, spans)
    assert [(r.comparator, r.value, r.unit, r.qualifier, r.date_iso) for r in rows] == [
        ("削减", 16.7, "%", "以上", "2015"), ("不高于", 60.0, "微克/立方米", None, "2015")]


def test_distributed_targets_pair_in_order():
    text, spans = clause("单位地区生产总值能耗、化学需氧量排放量分别比2013年下降2.49%、3.06%。",
                         [["INDICATOR", "单位地区生产总值能耗"], ["INDICATOR", "化学需氧量排放量"], ["DATE", "2013年"],
                          ["AMOUNT", "2.49%"], ["AMOUNT", "3.06%"]])
    assert [(r.indicator, r.amount) for r in targets("s1", text, spans)] == [
        ("单位地区生产总值能耗", "2.49%"), ("化学需氧量排放量", "3.06%")]


@pytest.mark.parametrize("text, iso, qualifier", [
    ("2015年6月30日前", "2015-06-30", "before"), ("2017年底", "2017-12-31", None), ("2015—2017年", "2015/2017", None),
    ("2015年至2017年", "2015/2017", None), ("二〇一五年六月", "2015-06", None), ("2019年上半年", "2019-01/2019-06", None),
    ("3个月内", None, "within"), ("今年", None, None)])
def test_dates(text, iso, qualifier):
    assert (normalise_date(text)["iso"], normalise_date(text)["qualifier"]) == (iso, qualifier)


@pytest.mark.parametrize("text, expected", [
    ("16.7%以上", {"value": 16.7, "unit": "%", "qualifier": "以上"}),
    ("50万吨以上", {"value": 500000.0, "unit": "吨", "qualifier": "以上"}),
    ("一百万元", {"value": 1000000.0, "unit": "元", "qualifier": None}),
    ("15—20万元", {"min": 150000.0, "max": 200000.0, "unit": "元"}),
    ("3000万元以上5000万元以下", {"min": 30000000.0, "max": 50000000.0, "unit": "元"}),
    ("20余台(套)", {"value": 20.0, "unit": "台(套)", "qualifier": "余"}),
])
def test_amounts(text, expected):
    result = normalise_amount(text)
    assert {k: result[k] for k in expected} == expected


def test_scoring_counts_roles_and_deadlines():
    predicted = [{"sentence_id": "a", "lead": ["X"], "co": ["Y", "Z"], "deadline": "2017年底"},
                 {"sentence_id": "b", "lead": ["W"], "co": [], "deadline": None}]
    reference = [{"id": "a", "lead": ["X"], "co": ["Y"], "deadline": "2017年底"},
                 {"id": "c", "lead": ["V"], "co": [], "deadline": None}]
    scores = score_responsibilities(predicted, reference)
    assert scores["clauses"]["correct"] == 1 and scores["clauses"]["precision"] == 0.5
    assert (scores["lead"]["precision"], scores["lead"]["recall"]) == (0.5, 0.5)
    assert (scores["co"]["precision"], scores["co"]["recall"]) == (0.5, 1.0)
    assert scores["deadline"]["f1"] == 1.0

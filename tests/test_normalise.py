from corpus.normalise import normalise_for_model


def test_full_width_maps_one_to_one_and_keeps_offsets():
    text = "（牵头单位：市发展改革委；责任单位：市财政局，市ＰＭ２．５办）　完成！😀𠀀"
    normalised = normalise_for_model(text)
    assert normalised == "(牵头单位:市发展改革委;责任单位:市财政局,市PM2.5办) 完成!😀𠀀"
    assert len(normalised) == len(text)
    start = text.index("市发展改革委")
    assert normalised[start:start + 6] == "市发展改革委"


def test_ascii_and_cjk_are_untouched():
    text = "2015年6月30日前,PM10浓度不高于60微克/立方米;《大气污染防治行动计划》〔2013〕"
    assert normalise_for_model(text) == text

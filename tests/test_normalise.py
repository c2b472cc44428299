from transformers import AutoTokenizer

from corpus.normalise import normalise_for_model
from training.config import DEFAULT_TOKENIZER, resolve_path


def test_full_width_maps_one_to_one_and_keeps_offsets():
    text = "（牵头单位：市发展改革委；责任单位：市财政局，市ＰＭ２．５办）　完成！😀𠀀"
    normalised = normalise_for_model(text)
    assert normalised == "(牵头单位:市发展改革委;责任单位:市财政局,市pm2.5办) 完成!😀𠀀"
    assert len(normalised) == len(text)
    start = text.index("市发展改革委")
    assert normalised[start:start + 6] == "市发展改革委"


def test_cjk_digits_and_ascii_punctuation_are_untouched():
    text = "2015年6月30日前,pm10浓度不高于60微克/立方米;《大气污染防治行动计划》〔2013〕、Ⅲ类…"
    assert normalise_for_model(text) == text


def test_letters_quotes_and_dashes_reach_the_tokenizer_as_known_tokens():
    text = "推动“两书一牌一档”覆盖率达100%,XX镇PM2.5浓度与GDP在2015—2017年‘双下降’"
    normalised = normalise_for_model(text)
    assert len(normalised) == len(text)
    assert normalised == "推动\"两书一牌一档\"覆盖率达100%,xx镇pm2.5浓度与gdp在2015-2017年'双下降'"
    tokenizer = AutoTokenizer.from_pretrained(str(resolve_path(DEFAULT_TOKENIZER)))
    assert tokenizer.unk_token_id in tokenizer(text)["input_ids"]
    assert tokenizer.unk_token_id not in tokenizer(normalised)["input_ids"]


def test_version_1_maps_only_full_width_forms():
    text = "（ＧＤＰ）GDP“两成”2015—2017年"
    assert normalise_for_model(text, version=1) == "(GDP)GDP“两成”2015—2017年"
    assert normalise_for_model(text) == '(gdp)gdp"两成"2015-2017年'

"""Offsets across the Label Studio boundary: code points here, UTF-16 units and browser newlines there."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotation.labels import Span
from annotation.labelstudio.interface import ResultError, result_spans, span_results
from annotation.labelstudio.offsets import OffsetMap

TRICKY = "市财政局😀牵头，2025年6月底前完成 PM2.5浓度(下降)10%；\r\n𠀀𠀁县人民政府配合!  新行\n末尾"


def test_emoji_and_extension_b_take_two_units_and_crlf_one():
    offsets = OffsetMap(TRICKY)
    emoji = TRICKY.index("😀")
    assert offsets.to_ls(emoji) == emoji and offsets.to_ls(emoji + 1) == emoji + 2
    crlf = TRICKY.index("\r\n")
    assert offsets.to_ls(crlf + 1) == offsets.to_ls(crlf)  # \r and \n share one browser offset
    ext_b = TRICKY.index("𠀀")
    assert offsets.to_ls(ext_b + 2) - offsets.to_ls(ext_b) == 4
    assert offsets.to_ls(len(TRICKY)) == len(TRICKY.encode("utf-16-le")) // 2 - TRICKY.count("\r\n")


def test_offset_inside_a_surrogate_pair_is_refused():
    offsets = OffsetMap("😀局")
    with pytest.raises(ValueError, match="not on a character boundary"):
        offsets.from_ls(1)


def test_results_carry_the_text_the_browser_shows():
    text = TRICKY
    spans = [Span(0, 4, "AGENCY"), Span(9, 17, "DATE"), Span(text.index("PM2.5"), text.index("PM2.5") + 7, "INDICATOR"),
             Span(text.index("𠀀"), text.index("县") + 5, "AGENCY")]
    results = span_results(text, spans)
    browser = text.replace("\r\n", "\n").encode("utf-16-le")
    for result, span in zip(results, spans):
        value = result["value"]
        assert browser[2 * value["start"]:2 * value["end"]].decode("utf-16-le") == span.text or text[span.start:span.end]
        assert value["text"] == text[span.start:span.end]
    assert [(s.start, s.end, s.label) for s in result_spans(text, results, "t")] == [(s.start, s.end, s.label) for s in spans]


def test_a_result_whose_text_does_not_match_names_the_task():
    results = span_results("市财政局牵头", [Span(0, 4, "AGENCY")])
    results[0]["value"]["text"] = "市财政"
    with pytest.raises(ResultError, match="task 7.*'市财政'"):
        result_spans("市财政局牵头", results, "task 7")


alphabet = st.sampled_from(list("市局年月。，, .()（）%\n\r😀🎉𠀀𪚥aZ9 \t"))


@given(st.text(alphabet, min_size=1, max_size=40), st.data())
def test_round_trip_any_text(text, data):
    offsets = OffsetMap(text)
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    # a span may not start or end inside \r\n (the browser cannot express it)
    if (start > 0 and text[start - 1:start + 1] == "\r\n") or (end < len(text) and text[end - 1:end + 1] == "\r\n"):
        return
    ls_start, ls_end = offsets.span_to_ls(start, end)
    assert offsets.span_from_ls(ls_start, ls_end) == (start, end)
    browser = offsets.ls_text().encode("utf-16-le")
    assert browser[2 * ls_start:2 * ls_end].decode("utf-16-le") == text[start:end].replace("\r\n", "\n")

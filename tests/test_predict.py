"""The predict module: windows, offsets on awkward text, output formats, resume and bad inputs."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer, BertConfig, BertForTokenClassification

from annotation.labels import IOB2_TAGS
from gazette_ner import main
from models.predict import Tagger

TOKENIZER = Path(__file__).resolve().parents[2] / "shared" / "models" / "bert-base-chinese-tokenizer"


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tiny-ner")
    tokenizer = AutoTokenizer.from_pretrained(TOKENIZER)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, id2label=dict(enumerate(IOB2_TAGS)),
                        label2id={t: i for i, t in enumerate(IOB2_TAGS)})
    torch.manual_seed(0)
    BertForTokenClassification(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


class RuleTagger(Tagger):
    """Tags 市…局 as AGENCY from the tokens themselves, so window merging can be checked exactly."""

    def _predict(self, windows):
        out = []
        for w in windows:
            tokens = self.tokenizer.convert_ids_to_tokens(w.input_ids)
            out.append([("B-AGENCY", 0.9) if t == "市" else ("I-AGENCY", 0.8) if t in ("环", "保", "局") else ("O", 0.99)
                        for t in tokens])
        return out


def test_windows_hand_over_without_cutting_or_doubling(tiny_model):
    text = "市环保局" + "".join(f"今天天气很好市环保局{i}号" for i in range(40))  # no punctuation at all
    whole = RuleTagger.load(tiny_model, max_length=512).tag_segments([text])[0]
    windowed = RuleTagger.load(tiny_model, max_length=24, stride=8).tag_segments([text])[0]
    assert [(s.start, s.end, s.label) for s in windowed] == [(s.start, s.end, s.label) for s in whole]
    assert len(whole) == 41 and all(s.text == "市环保局" for s in whole)


@pytest.mark.parametrize("text", [
    "请 市 环保局 负责",  # spaces inside the entity: the tokenizer skips them
    "（牵头单位：市环保局；责任单位：县财政厅）",  # full-width punctuation
    "😀市环保局🎉负责,𠀀字也在",  # emoji and a CJK Extension B character become [UNK]
])
def test_offsets_point_into_the_original_text(tiny_model, text):
    spans = RuleTagger.load(tiny_model).tag([text])[0]
    assert spans, text
    for span in spans:
        assert text[span.start:span.end] == span.text
        assert span.text.replace(" ", "") == "市环保局"


class TokenRecorder(Tagger):
    """Records the tokens the model would see."""

    def _predict(self, windows):
        self.seen = [self.tokenizer.convert_ids_to_tokens(w.input_ids) for w in windows]
        return [[("O", 1.0)] * len(w.input_ids) for w in windows]


def test_a_model_sees_text_normalised_as_it_was_trained(tiny_model):
    text = "XX镇GDP增长“两成”"
    old = TokenRecorder.load(tiny_model)  # saved without config.text_normalisation: version 1
    old.tag_segments([text])
    assert old.seen[0][1:-1] == ["[UNK]", "镇", "[UNK]", "增", "长", "[UNK]", "两", "成", "[UNK]"]
    new = TokenRecorder.load(tiny_model)
    new.model.config.text_normalisation = 2
    new.tag_segments([text])
    assert new.seen[0][1:-1] == ["xx", "镇", "gdp", "增", "长", '"', "两", "成", '"']


def test_real_model_output_is_well_formed(tiny_model):
    texts = ["六盘水市环境保护局负责。2015年底前完成。", "", "没有标点的一段话" * 50]
    results = Tagger.load(tiny_model, max_length=32, stride=8).tag(texts)
    assert len(results) == 3 and results[1] == []
    for text, spans in zip(texts, results):
        ends = [s.end for s in spans]
        assert all(a.end <= b.start for a, b in zip(spans, spans[1:])), "overlap"
        assert all(text[s.start:s.end] == s.text and 0 < s.score <= 1 for s in spans), ends


def test_cli_formats_resume_and_bad_input(tiny_model, tmp_path, capsys):
    good = tmp_path / "notice.txt"
    good.write_text("市环保局负责。2015年底前完成。", encoding="gb18030")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    records = tmp_path / "in.jsonl"
    records.write_text('{"id": "a", "text": "市财政局。"}\n{"id": "b", "text": "第二条。"}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["predict", str(good), str(empty), str(records), "--model", str(tiny_model), "-o", str(out)]) == 1
    assert "empty.txt: empty file" in capsys.readouterr().err
    written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["id"] for r in written) == ["a", "b", "notice"]
    notice = next(r for r in written if r["id"] == "notice")
    assert notice["text"] == "市环保局负责。2015年底前完成。"
    assert [(s["start"], s["end"]) for s in notice["sentences"]] == [(0, 7), (7, 17)]

    # an interrupted run: one finished record and a torn line; the rerun skips "a" and repairs the file
    out.write_text(json.dumps(written[0], ensure_ascii=False) + "\n" + '{"id": "b", "te', encoding="utf-8")
    assert main(["predict", str(records), "--model", str(tiny_model), "-o", str(out)]) == 0
    assert "skipped 1 already done" in capsys.readouterr().err
    assert [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()] == [written[0]["id"], "b"]

    for fmt, check in (("conll", lambda s: "市\t" in s and "# id = a" in s),
                       ("html", lambda s: s.startswith("<!doctype html>") and "财" in s and s.rstrip().endswith("</html>")),
                       ("labelstudio", lambda s: json.loads(s)[0]["data"]["text"] == "市财政局。")):
        target = tmp_path / f"out.{fmt}"
        assert main(["predict", str(records), "--model", str(tiny_model), "--format", fmt, "-o", str(target)]) == 0
        assert check(target.read_text(encoding="utf-8")), fmt


def test_release_is_fp16_with_card_and_only_replaced_by_a_better_model(tiny_model, tmp_path, monkeypatch):
    import models.release as release_module
    from safetensors import safe_open

    monkeypatch.setattr(release_module, "RELEASE_ROOT", tmp_path)
    per_label = {"AGENCY": {"precision": 0.9, "recall": 0.8, "f1": 0.85, "support": 10}}
    scores = {"micro": {"precision": 0.9, "recall": 0.8, "f1": 0.85}, "macro": {"f1": 0.85}, "per_label": per_label}
    target = release_module.release(tiny_model, "tiny", scores, ["gazette-ner train --config x.yaml"])
    with safe_open(str(target / "model.safetensors"), "pt") as weights:
        assert {str(weights.get_tensor(k).dtype) for k in weights.keys()} == {"torch.float16"}
    card = (target / "README.md").read_text(encoding="utf-8")
    assert "F1 0.850" in card and "gazette-ner train --config x.yaml" in card
    assert Tagger.load(target).tag(["市环保局负责。"])[0] is not None
    with pytest.raises(ValueError, match="does not improve"):
        release_module.release(tiny_model, "tiny", scores, [])
    better = {**scores, "micro": {"precision": 0.95, "recall": 0.9, "f1": 0.92}}
    assert release_module.release(tiny_model, "tiny", better, []) == target


def test_benchmark_runs_every_engine_on_the_same_documents(tiny_model, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    texts = tmp_path / "docs.jsonl"
    texts.write_text("".join(json.dumps({"text": "市环保局负责。2015年底前完成。" * 20}, ensure_ascii=False) + "\n"
                             for _ in range(3)), encoding="utf-8")
    out = tmp_path / "bench.json"
    assert main(["benchmark", "--model", str(tiny_model), "--texts", str(texts), "--min-chars", "500",
                 "--threads", "1", "--json", str(out)]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    ours, onnx, pipe = result["runs"]
    assert (ours["engine"], onnx["engine"], pipe["engine"]) == ("ours", "ours-onnx", "pipeline")
    assert ours["characters"] == onnx["characters"] == pipe["characters"] == 2 * 340  # whole documents until 500 chars
    assert ours["chars_per_second"] > 0 and pipe["peak_rss_mb"] > 0 and result["speedup"] > 0
    assert onnx["entities"] > 0 and result["speedup_onnx"] > 0

"""Engines: ONNX Runtime int8 against PyTorch, and Ray Data against the local engine."""
from __future__ import annotations

import json
from itertools import islice

from corpus.jsonl import read_jsonl
from evaluation.scoring import score
from gazette_ner import main
from models.onnx_engine import export_int8
from models.predict import Tagger, default_model_dir
from training.config import REPO_ROOT


def test_onnx_int8_tags_like_pytorch_and_is_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    sentences = [r["text"] for r in islice(read_jsonl(REPO_ROOT / "annotation" / "gold" / "test.jsonl"), 120)]
    reference = Tagger.load().tag_segments(sentences)
    quantised = Tagger.load(engine="onnx")
    (exported,) = tmp_path.glob("gazette-ner/onnx/*/model.int8.onnx")
    assert exported.stat().st_size < 15e6  # int8 weights: about a quarter of fp32
    assert export_int8(quantised.model.torch_model, default_model_dir()) == exported  # reused, not re-exported
    def records(spans_per_sentence):
        return [{"id": str(i), "text": text, "spans": [s.to_json() for s in spans]}
                for i, (text, spans) in enumerate(zip(sentences, spans_per_sentence))]

    agreement = score(records(reference), records(quantised.tag_segments(sentences)))
    assert agreement["micro"]["f1"] > 0.97


def test_ray_engine_gives_the_local_engines_output(tmp_path):
    gold = list(islice(read_jsonl(REPO_ROOT / "annotation" / "gold" / "dev.jsonl"), 40))
    docs = tmp_path / "docs.jsonl"
    docs.write_text("".join(json.dumps({"id": f"doc{i}", "text": "".join(r["text"] for r in gold[i::5])},
                                       ensure_ascii=False) + "\n" for i in range(5)), encoding="utf-8")
    assert main(["predict", str(docs), "-o", str(tmp_path / "local.jsonl")]) == 0
    assert main(["predict", str(docs), "-o", str(tmp_path / "ray.jsonl"), "--engine", "ray", "--workers", "2"]) == 0
    local = (tmp_path / "local.jsonl").read_text(encoding="utf-8")
    assert local == (tmp_path / "ray.jsonl").read_text(encoding="utf-8")
    assert len(local.splitlines()) == 5 and sum(len(json.loads(line)["entities"]) for line in local.splitlines()) > 10

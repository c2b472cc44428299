"""Report files and the `gazette-ner evaluate` command, on the hand-made records of test_scoring."""
from __future__ import annotations

import argparse
import base64
import json
import re
import sys
import types

import pytest

from annotation.labels import Span
from evaluation import cli
from evaluation.report import markdown_context, write_report
from evaluation.scoring import score
from test_scoring import GOLD, PRED, S1  # tests/ is on sys.path (no package)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("report")
    result = score(GOLD, PRED)
    paths = write_report(result, out, {"gold": "gold.jsonl", "predictions": "pred.jsonl"}, title="测试 report")
    return {"result": result, "paths": paths}


def test_metrics_json_holds_inputs_and_every_number(written):
    metrics = json.loads(written["paths"]["metrics.json"].read_text(encoding="utf-8"))
    assert metrics["inputs"] == {"gold": "gold.jsonl", "predictions": "pred.jsonl"}
    assert metrics["per_label"] == written["result"]["per_label"]
    assert metrics["errors"]["missed"] == 1


def test_html_embeds_both_plots_and_readable_chinese(written):
    html = written["paths"]["report.html"].read_text(encoding="utf-8")
    for plot_id in ("plot-per-label", "plot-confusion"):
        match = re.search(rf'id="{plot_id}"[^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
        assert match, plot_id
        assert base64.b64decode(match.group(1)).startswith(PNG_MAGIC)
    assert '<meta charset="utf-8">' in html and "测试 report" in html
    # the missed span shows as highlighted Chinese text, not as escapes
    assert '市公安局、<span class="g">市市监局</span>等配合' in html
    assert '<span class="g p">消防救援大队</span>' in html
    assert "Wrong label and boundary" in html


def test_markdown_tables_and_error_samples(written):
    md = written["paths"]["report.md"].read_text(encoding="utf-8")
    assert "| AGENCY | 0.500 | 0.200 | 0.286 | 5 |" in md
    assert "| micro | 0.600 | 0.600 | 0.600 | 10 |" in md
    assert "| AGENCY | 2 | 0 | 0 | 0 | 2 | 0 | 1 |" in md  # confusion row, columns in LABELS order + O
    # 20 characters of context either side, cut with …
    assert "| s1 | AGENCY 市市监局 | - | …头,市应急局、市消防救援大队、市公安局、⟦市市监局⟧等配合。 |" in md


def test_markdown_context_marks_crossing_spans():
    start = S1.index("市消防救援大队")  # gold 市消防救援大队, prediction 消防救援大队、市
    example = {"text": S1, "gold": Span(start, start + 7, "AGENCY", S1[start:start + 7]).to_json(),
               "pred": Span(start + 1, start + 9, "AGENCY", S1[start + 1:start + 9]).to_json()}
    assert markdown_context(example, width=2) == "…局、⟦市⟨消防救援大队⟧、市⟩公安…"


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    return parser.parse_args(["evaluate", *argv])


@pytest.fixture
def files(tmp_path):
    paths = {}
    for name, records in (("gold", GOLD), ("pred", PRED)):
        paths[name] = tmp_path / f"{name}.jsonl"
        paths[name].write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return paths


def test_evaluate_scores_files_and_writes_the_report(files, tmp_path):
    args = _parse(["--gold", str(files["gold"]), "--pred", str(files["pred"]), "-o", str(tmp_path / "out")])
    assert args.func(args) == 0
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"metrics.json", "report.md", "report.html"}


def test_evaluate_model_without_models_predict_fails_with_one_line(files, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "models.predict", None)  # as if models/predict.py did not exist
    args = _parse(["--gold", str(files["gold"]), "--model", "some/model"])
    assert args.func(args) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "models.predict is not available" in err


def test_evaluate_model_tags_gold_texts_and_scores_them(files, tmp_path, monkeypatch):
    seen = {}

    class Tagger:
        @classmethod
        def load(cls, path, engine):
            seen["path"], seen["engine"] = str(path), engine
            return cls()

        def tag(self, texts):
            seen["texts"] = texts
            by_text = {r["text"]: r["spans"] for r in PRED}
            return [[Span(s["start"], s["end"], s["label"], s["text"]) for s in by_text[t]] for t in texts]

    monkeypatch.setitem(sys.modules, "models.predict", types.SimpleNamespace(Tagger=Tagger))
    out = tmp_path / "out"
    args = _parse(["--gold", str(files["gold"]), "--model", "some/model", "-o", str(out)])
    assert args.func(args) == 0
    assert seen == {"path": "some/model", "engine": "torch", "texts": [r["text"] for r in GOLD]}
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["inputs"]["model"] == "some/model"
    assert metrics["micro"] == score(GOLD, PRED)["micro"]
    assert (out / "predictions.jsonl").is_file()


def test_evaluate_split_defaults_to_the_gold_file_and_reports_it_missing(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    args = _parse(["--split", "test", "--pred", "pred.jsonl"])
    assert args.func(args) == 1
    assert capsys.readouterr().err.strip() == "error: annotation/gold/test.jsonl: file not found"

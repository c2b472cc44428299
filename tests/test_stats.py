"""Annotation statistics per split, counted by hand on real corpus sentences."""
from __future__ import annotations

import argparse
import json

from annotation import stats as stats_module
from annotation.stats import annotation_stats

S1 = "益阳市生态环境沅江分局牵头,市应急局、市消防救援大队、市公安局、市市监局等配合。"
S2 = "2015年,7个县市的城镇化率均低于全市49.2%这一平均水平,最低的只有36.2%。"
S3 = "2018年,城市建成区基本实现高效一体化供热;"


def record(rid: str, text: str, pieces: list[tuple[str, str]], annotator: str = "claude-annotator-1") -> dict:
    spans = []
    for piece, label in pieces:
        start = text.index(piece)
        spans.append({"start": start, "end": start + len(piece), "label": label, "text": piece})
    return {"id": rid, "doc_id": "d", "text": text, "spans": spans, "source": "rules+review",
            "annotator": annotator, "spec_version": "1.2"}


FILES = {
    "train": [
        record("s1", S1, [("益阳市生态环境沅江分局", "AGENCY"), ("市应急局", "AGENCY"), ("市消防救援大队", "AGENCY")]),
        record("s3", S3, []),
    ],
    "test": [record("s2", S2, [("2015年", "DATE"), ("7个", "AMOUNT"), ("49.2%", "AMOUNT"), ("36.2%", "AMOUNT")],
                    annotator="claude-annotator-2")],
}


def test_counts_per_split_and_provenance():
    stats = annotation_stats(FILES)
    assert stats["splits"]["train"]["sentences"] == 2
    assert stats["splits"]["train"]["sentences_with_entities"] == 1
    assert stats["splits"]["train"]["entities"]["AGENCY"] == 3
    assert stats["splits"]["test"]["entities"]["AMOUNT"] == 3
    assert stats["total"]["entities"]["total"] == 7
    assert stats["total"]["characters"] == len(S1) + len(S2) + len(S3)
    assert stats["annotators"] == {"claude-annotator-1": 2, "claude-annotator-2": 1}
    assert stats["sources"] == {"rules+review": 3}


def test_span_length_distribution():
    lengths = annotation_stats(FILES)["span_length"]
    # AGENCY lengths 11, 4, 7; AMOUNT lengths 2, 5, 5
    assert lengths["AGENCY"] == {"count": 3, "median": 7.0, "p90": 11 - 0.2 * 4, "max": 11}
    assert lengths["AMOUNT"]["median"] == 5.0
    assert lengths["POLICY"] == {"count": 0, "median": None, "p90": None, "max": None}


def test_cli_table_and_json(tmp_path, capsys):
    paths = []
    for name, records in FILES.items():
        paths.append(tmp_path / f"{name}.jsonl")
        paths[-1].write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    parser = argparse.ArgumentParser()
    stats_module.register(parser.add_subparsers())
    out = tmp_path / "stats.json"
    args = parser.parse_args(["stats", *map(str, paths), "--json", str(out)])
    assert args.func(args) == 0
    assert "Span length" in capsys.readouterr().out
    assert json.loads(out.read_text(encoding="utf-8"))["splits"]["test"]["entities"]["DATE"] == 1

"""Active learning: least-confident selection with a diversity guard, `ls suggest` against a real
Label Studio, and the learning-curve simulation on a tiny model."""
from __future__ import annotations

import json

from annotation.labelstudio.client import connect
from annotation.labelstudio.project import export_tasks, find_project
from gazette_ner import main
from models.active import select, simulate
from models.predict import Tagger
from training.config import REPO_ROOT
from training.dataset import build_dataset


def test_least_confident_first_and_near_duplicates_skipped():
    texts = ["市财政局牵头负责资金保障工作。", "市财政局牵头负责资金保障工作！", "到2020年全市地区生产总值增长8%。", "各县区人民政府配合。"]
    confidences = [0.1, 0.2, 0.3, 0.9]
    assert select(texts, confidences, 3) == [0, 2, 3]  # text 1 is a near copy of text 0
    assert select(texts, confidences, 3, max_similarity=1.01) == [0, 1, 2]
    assert select([], [], 3) == []


def test_confidences_rank_an_odd_sentence_below_a_plain_one():
    plain, odd = "市财政局牵头，2015年底前完成。", "为贯彻落实好中央赋予XX的特殊优惠金融政策"
    high, low = Tagger.load().confidences([plain, odd])
    assert 0 <= low < high <= 1


def test_suggest_pushes_the_least_confident_batch(ls_env, tmp_path):
    pool = tmp_path / "pool.jsonl"
    texts = {"p1": "市财政局牵头，2015年底前完成。", "p2": "为贯彻落实好中央赋予XX的特殊优惠金融政策",
             "p3": "加快推进尼木、亚东、定日等县生活垃圾处置设施建设。", "p4": "市统计局配合做好数据监测。"}
    pool.write_text("".join(json.dumps({"id": k, "text": v}, ensure_ascii=False) + "\n" for k, v in texts.items()),
                    encoding="utf-8")
    confidences = dict(zip(texts, Tagger.load().confidences(list(texts.values()))))
    expected = sorted(texts, key=confidences.get)[:2]
    assert main(["ls", "suggest", "--k", "2", "--pool", str(pool), "--project", "suggest"]) == 0
    client = connect()
    project = find_project(client, "suggest")
    tasks = export_tasks(client, project)
    assert sorted(t["data"]["ref_id"] for t in tasks) == sorted(expected)
    assert all(client.predictions.list(task=t["id"])[0].model_version == "gazette-ner-small" for t in tasks)
    # the next batch never repeats a task already in the project
    assert main(["ls", "suggest", "--k", "2", "--pool", str(pool), "--project", "suggest"]) == 0
    assert len({t["data"]["ref_id"] for t in export_tasks(client, project)}) == 4


def test_simulation_grows_both_curves_from_one_seed(tmp_path):
    dataset, _ = build_dataset(REPO_ROOT / "annotation" / "gold", None)
    dataset.save_to_disk(str(tmp_path / "dataset"))
    result = simulate(REPO_ROOT / "configs" / "ner-tiny-test.yaml", 10, 10, 1, 1, tmp_path / "work", tmp_path / "dataset")
    random_curve, uncertainty_curve = result["curves"]["random"], result["curves"]["uncertainty"]
    assert [p["sentences"] for p in random_curve] == [10, 20] == [p["sentences"] for p in uncertainty_curve]
    assert random_curve[0] == uncertainty_curve[0]
    assert all(0 <= p["dev_f1"] <= 1 for p in random_curve + uncertainty_curve)

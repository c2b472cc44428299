"""The annotators' round trip against a real Label Studio server (started by the `label_studio` fixture)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotation.labels import LABELS, Span
from annotation.labelstudio.client import LabelStudioError, connect
from annotation.labelstudio.interface import HOTKEYS, labeling_config, span_results
from annotation.labelstudio.project import export_tasks, find_project
from gazette_ner import main
from conftest import LEGACY_TOKEN

# Full-width and ASCII punctuation, spaces, \n and \r\n, emoji, a CJK Extension-B character.
TEXTS = {
    "t-fullwidth": "（一）市财政局牵头，2025年6月底前完成；市统计局配合。",
    "t-ascii": "PM2.5 concentration: 市环保局 (lead), 2015-2017, 下降10%.",
    "t-newlines": "六盘水市人民政府\r\n关于印发《大气污染防治行动计划》的通知\n国发〔2013〕37号",
    "t-emoji": "😀钟山区🎉完成𠀀𪚥路改造，投资1.5亿元。",
}
GOLD = {  # what an annotator marks (code-point offsets, located by text so the test reads clearly)
    "t-fullwidth": [("市财政局", "AGENCY"), ("2025年6月底前", "DATE"), ("市统计局", "AGENCY")],
    "t-ascii": [("市环保局", "AGENCY"), ("2015-2017", "DATE"), ("10%", "AMOUNT")],
    "t-newlines": [("六盘水市人民政府", "AGENCY"), ("大气污染防治行动计划", "POLICY"), ("国发〔2013〕37号", "POLICY")],
    "t-emoji": [("钟山区", "LOCATION"), ("1.5亿元", "AMOUNT")],
}


def gold_spans(ref_id: str) -> list[Span]:
    text = TEXTS[ref_id]
    return sorted(Span(text.index(s), text.index(s) + len(s), label, s) for s, label in GOLD[ref_id])


@pytest.fixture
def records_file(tmp_path) -> Path:
    path = tmp_path / "tasks.jsonl"
    path.write_text("".join(json.dumps({"id": k, "text": v}, ensure_ascii=False) + "\n" for k, v in TEXTS.items()),
                    encoding="utf-8")
    return path


def test_labeling_config_has_every_label_with_colour_and_hotkey():
    config = labeling_config()
    for label in LABELS:
        assert f'value="{label}"' in config and f'hotkey="{HOTKEYS[label]}"' in config
    assert len(set(HOTKEYS.values())) == len(LABELS)


def test_round_trip_push_annotate_pull(ls_env, records_file, tmp_path, capsys):
    project = "round-trip"
    assert main(["ls", "init", "--project", project]) == 0
    assert main(["ls", "push", str(records_file), "--project", project, "--rules"]) == 0
    client = connect()
    project_id = find_project(client, project)
    tasks = {t["data"]["ref_id"]: t for t in export_tasks(client, project_id)}
    assert set(tasks) == set(TEXTS)

    # the rules' pre-annotations arrive as predictions with a model_version, in browser offsets
    predictions = client.predictions.list(task=tasks["t-emoji"]["id"])
    assert predictions and predictions[0].model_version == "rules-spec-1.2"
    browser = TEXTS["t-emoji"].encode("utf-16-le")
    for result in predictions[0].result:
        value = result["value"]
        assert browser[2 * value["start"]:2 * value["end"]].decode("utf-16-le") == value["text"]

    # idempotent: the same ids again add nothing
    assert main(["ls", "push", str(records_file), "--project", project]) == 0
    assert len(export_tasks(client, project_id)) == len(TEXTS)

    # two annotators label through the API as the browser would (UTF-16 offsets); one skips a task
    second = client.users.create(email="second@example.com", username="second")
    me = client.users.whoami().id
    for ref_id, task in tasks.items():
        text = TEXTS[ref_id]
        client.annotations.create(id=task["id"], result=span_results(text, gold_spans(ref_id)), completed_by=me)
        if ref_id == "t-ascii":
            client.annotations.create(id=task["id"], result=[], was_cancelled=True, completed_by=second.id)
        else:  # the second annotator misses the last span
            client.annotations.create(id=task["id"], result=span_results(text, gold_spans(ref_id)[:-1]),
                                      completed_by=second.id)

    out = tmp_path / "pulled"
    assert main(["ls", "pull", "--project", project, "-o", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["skipped"] == [{"ref_id": "t-ascii", "task": tasks["t-ascii"]["id"], "annotator": "ls:second@example.com"}]
    assert summary["problems"] == [] and summary["multi_annotator_tasks"] == len(TEXTS)
    first = {r["id"]: r for r in map(json.loads, (out / "ls-admin_at_example.com.jsonl").open(encoding="utf-8"))}
    assert set(first) == set(TEXTS)
    for ref_id, record in first.items():
        assert record["text"] == TEXTS[ref_id]
        assert [Span(**s) for s in record["spans"]] == gold_spans(ref_id)  # exact code-point offsets
        assert record["annotator"] == "ls:admin@example.com"
    second_file = out / "ls-second_at_example.com.jsonl"
    assert len(second_file.read_text(encoding="utf-8").splitlines()) == len(TEXTS) - 1

    # the two annotators feed `annotate agreement`
    assert main(["annotate", "agreement", str(out / "ls-admin_at_example.com.jsonl"), str(second_file),
                 "--json", str(tmp_path / "agreement.json")]) == 0
    agreement = json.loads((tmp_path / "agreement.json").read_text(encoding="utf-8"))
    assert 0 < agreement["exact"]["micro"]["f1"] < 1
    captured = capsys.readouterr()
    assert LEGACY_TOKEN not in captured.out + captured.err
    assert all(LEGACY_TOKEN not in p.read_text(encoding="utf-8") for p in out.iterdir())


def test_latest_annotation_of_each_annotator_wins(ls_env, records_file, tmp_path):
    project = "latest-wins"
    assert main(["ls", "push", str(records_file), "--project", project, "--limit", "1"]) == 0
    client = connect()
    project_id = find_project(client, project)
    task = export_tasks(client, project_id)[0]
    text = TEXTS["t-fullwidth"]
    client.annotations.create(id=task["id"], result=span_results(text, gold_spans("t-fullwidth")[:1]))
    client.annotations.create(id=task["id"], result=span_results(text, gold_spans("t-fullwidth")))
    assert main(["ls", "pull", "--project", project, "-o", str(tmp_path)]) == 0
    (record,) = map(json.loads, (tmp_path / "ls-admin_at_example.com.jsonl").open(encoding="utf-8"))
    assert len(record["spans"]) == 3


def test_pull_names_the_task_whose_span_does_not_match(ls_env, records_file, tmp_path, capsys):
    project = "bad-span"
    assert main(["ls", "push", str(records_file), "--project", project, "--limit", "1"]) == 0
    client = connect()
    project_id = find_project(client, project)
    task = export_tasks(client, project_id)[0]
    result = span_results(TEXTS["t-fullwidth"], gold_spans("t-fullwidth")[:1])
    result[0]["value"]["text"] = "市财政"  # an annotation whose text disagrees with its offsets
    client.annotations.create(id=task["id"], result=result)
    capsys.readouterr()
    assert main(["ls", "pull", "--project", project, "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"task {task['id']} (t-fullwidth)" in err[0] and "'市财政'" in err[0]


def test_personal_access_token_and_legacy_switch(ls_env, monkeypatch, capsys):
    admin = connect()
    pat = admin.tokens.create().token  # a JWT refresh token, as Label Studio 1.20+ issues
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", pat)
    assert connect().users.whoami().email == "admin@example.com"
    assert main(["ls", "init", "--project", "pat-project"]) == 0
    settings = admin.jwt_settings.get()
    connect().jwt_settings.update(api_token_ttl_days=settings.api_token_ttl_days or 30,
                                  api_tokens_enabled=True, legacy_api_tokens_enabled=False)
    try:
        with pytest.raises(LabelStudioError, match="refused the token"):
            connect(api_key=LEGACY_TOKEN)
    finally:
        connect().jwt_settings.update(api_token_ttl_days=settings.api_token_ttl_days or 30,
                                      api_tokens_enabled=True, legacy_api_tokens_enabled=True)
    assert pat not in capsys.readouterr().err


@pytest.mark.parametrize("url, key, message", [
    (None, "not-a-valid-token", "refused the token"),
    ("http://127.0.0.1:9", LEGACY_TOKEN, "cannot reach Label Studio at http://127.0.0.1:9"),
])
def test_bad_token_or_unreachable_server_is_one_line(ls_env, monkeypatch, capsys, url, key, message):
    if url:
        monkeypatch.setenv("LABEL_STUDIO_URL", url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", key)
    assert main(["ls", "init"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and key not in err[0]


def test_missing_token_is_one_line(monkeypatch, capsys):
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    assert main(["ls", "init"]) == 1
    assert "LABEL_STUDIO_API_KEY is not set" in capsys.readouterr().err


def test_push_whole_documents_with_rules(ls_env):
    project = "documents"
    assert main(["ls", "push", "--documents", "--split", "test", "--limit", "2", "--rules", "--project", project]) == 0
    client = connect()
    project_id = find_project(client, project)
    documents = {json.loads(line)["id"]: json.loads(line) for line in
                 (Path(__file__).resolve().parents[1] / "corpus" / "processed" / "documents.jsonl").open(encoding="utf-8")}
    tasks = export_tasks(client, project_id)
    assert len(tasks) == 2
    for task in tasks:
        document = documents[task["data"]["ref_id"]]
        assert task["data"]["text"] == document["text"] and "\n" in document["text"]
        (prediction,) = client.predictions.list(task=task["id"])
        browser = document["text"].encode("utf-16-le")
        assert len(prediction.result) > 10
        for result in prediction.result:
            value = result["value"]
            assert browser[2 * value["start"]:2 * value["end"]].decode("utf-16-le") == value["text"]

"""`gazette-ner serve`: the ML backend protocol, seen directly and through a real Label Studio."""
from __future__ import annotations

import json
import threading
import time
import urllib.request

import pytest
import uvicorn
from conftest import free_port
from fastapi.testclient import TestClient

from annotation.labelstudio.client import connect
from annotation.labels import Span
from annotation.labelstudio.interface import span_results, to_task
from annotation.labelstudio.project import ensure_project, export_tasks, push_tasks
from corpus.jsonl import write_jsonl
from models.predict import Tagger
from models.serve import Retrainer, create_app, register_backend
from training.config import REPO_ROOT

TEXTS = ["😀六盘水市环境保护局牵头，2015年6月底前完成。", "市财政局负责，全市地区生产总值增长8%左右。"]


@pytest.fixture(scope="module")
def app():
    return create_app()


def test_health_setup_predict(app):
    client = TestClient(app)
    health = client.get("/health").json()
    assert health["status"] == "UP" and health["model_version"] == "gazette-ner-small"
    assert client.post("/setup", json={"project": "1.1", "schema": "<View/>"}).json() == {"model_version": "gazette-ner-small"}
    body = client.post("/predict", json={"tasks": [{"id": i, "data": {"text": t}} for i, t in enumerate(TEXTS)]}).json()
    assert len(body["results"]) == len(TEXTS)
    tagger = Tagger.load()
    for text, result, spans in zip(TEXTS, body["results"], tagger.tag(TEXTS)):
        assert result["model_version"] == "gazette-ner-small" and spans
        assert [r["value"]["labels"][0] for r in result["result"]] == [s.label for s in spans]
        browser = text.encode("utf-16-le")
        for r, span in zip(result["result"], spans):
            assert browser[2 * r["value"]["start"]:2 * r["value"]["end"]].decode("utf-16-le") == span.text
            assert 0 < r["score"] <= 1
        assert result["score"] == min(r["score"] for r in result["result"])
    assert client.post("/predict", json={"tasks": [{"data": {}}]}).status_code == 400
    assert client.post("/webhook", json={"action": "PROJECT_UPDATED", "project": {"id": 1}}).json()["status"] == "ignored"


class Backend:
    def __init__(self, app):
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self.thread.start()
        while not self.server.started:
            time.sleep(0.1)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def test_label_studio_shows_the_backends_prelabels(ls_env, app):
    client = connect()
    project, _ = ensure_project(client, "backend")
    push_tasks(client, project, [to_task({"id": f"b{i}", "text": t}) for i, t in enumerate(TEXTS)])
    with Backend(app) as backend:
        register_backend(client, "backend", backend.url)
        tagger = Tagger.load()
        for task in export_tasks(client, project):
            opened = client.tasks.get(id=task["id"])  # what the labeling view asks for when a task opens
            (pred,) = opened.predictions
            text = task["data"]["text"]
            assert pred.model_version == "gazette-ner-small"
            browser = text.encode("utf-16-le")
            seen = [(browser[2 * r["value"]["start"]:2 * r["value"]["end"]].decode("utf-16-le"), r["value"]["labels"][0])
                    for r in pred.result]
            assert seen == [(s.text, s.label) for s in tagger.tag([text])[0]]


def test_new_annotations_retrain_through_the_webhook(ls_env, tmp_path):
    gold = tmp_path / "gold"
    rows = {"train": ("tr", "六盘水市环境保护局牵头，2015年完成。"), "dev": ("dv", "市财政局负责。"), "test": ("te", "市统计局配合。")}
    for split, (doc, text) in rows.items():
        write_jsonl(gold / f"{split}.jsonl", [{"id": f"{doc}-s1", "doc_id": doc, "text": text, "spans": [],
                                                "source": "test", "annotator": "test", "spec_version": "1.2"}])
    retrainer = Retrainer(REPO_ROOT / "configs" / "ner-tiny-test.yaml", gold, tmp_path / "work")
    client = connect()
    project, _ = ensure_project(client, "retrain")
    text = "市环境保护局牵头，2016年底前完成。"
    push_tasks(client, project, [to_task({"id": "new-1", "doc_id": "new", "text": text})])
    with Backend(create_app(retrainer=retrainer)) as backend:
        register_backend(client, "retrain", backend.url)
        task = export_tasks(client, project)[0]
        # an annotator submits: Label Studio calls the backend's /webhook with ANNOTATION_CREATED
        client.annotations.create(id=task["id"], result=span_results(text, [Span(0, 6, "AGENCY"), Span(9, 16, "DATE")]))
        deadline = time.monotonic() + 300
        while not retrainer.jobs or next(iter(retrainer.jobs.values()))["status"] in ("queued", "running"):
            assert time.monotonic() < deadline, "no training job finished"
            time.sleep(1)
        (job,) = retrainer.jobs.values()
        assert job["status"] == "done", job
        assert job["added"] == 1 and get_json(f"{backend.url}/jobs/{job['job']}")["status"] == "done"
        assert get_json(f"{backend.url}/health")["model_version"] == job["job"]
    trained = [json.loads(line) for line in (tmp_path / "work" / job["job"] / "gold" / "train.jsonl").open(encoding="utf-8")]
    assert [r["id"] for r in trained] == ["tr-s1", "new-1"] and trained[1]["spans"][1]["text"] == "2016年底前"

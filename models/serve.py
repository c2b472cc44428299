"""`gazette-ner serve`: the Label Studio ML backend around the predict module.

Implements the protocol Label Studio speaks to a model server: ``GET /health``, ``POST /setup``,
``POST /predict`` (pre-labels with per-span scores, UTF-16 offsets via the same code as ``ls push``)
and ``POST /webhook``, where new or changed annotations start a fine-tuning job: pull the project's
annotations, add them to the gold training split, build the dataset, train with a YAML config and
swap the new model in. Register it on a project with ``--register PROJECT``.
"""

import argparse
import logging
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from annotation.labelstudio.interface import gold_records, prediction

log = logging.getLogger("gazette_ner.serve")
TRAIN_ACTIONS = {"ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_CREATED", "START_TRAINING"}


@dataclass
class Retrainer:
    """Fine-tunes on the gold splits plus a project's Label Studio annotations, one job at a time."""

    config: Path
    gold_dir: Path
    work_dir: Path
    jobs: dict[str, dict] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def submit(self, project: int, on_done) -> dict:
        with self._lock:
            running = [job for job in self.jobs.values() if job["status"] in ("queued", "running")]
            if running:
                return {**running[0], "note": "a job is already running; annotations made since it started wait for the next webhook"}
            job_id = f"job-{len(self.jobs) + 1}-{int(time.time())}"
            job = self.jobs[job_id] = {"job": job_id, "project": project, "status": "queued"}
        threading.Thread(target=self._run, args=(job, on_done), daemon=True).start()
        return dict(job)

    def _run(self, job: dict, on_done) -> None:
        from annotation.labelstudio.client import connect
        from annotation.labelstudio.project import export_tasks
        from corpus.jsonl import read_jsonl, write_jsonl, write_text_atomic
        from training.config import FinetuneConfig, load_config
        from training.dataset import build_dataset
        from training.finetune import finetune

        job["status"] = "running"
        root = self.work_dir / job["job"]
        try:
            client = connect()
            per_annotator, _ = gold_records(export_tasks(client, job["project"]), job["project"])
            pulled: dict[str, dict] = {}
            for who in sorted(per_annotator):  # one record per task: the first annotator in name order
                for record in per_annotator[who]:
                    pulled.setdefault(record["id"], record)
            splits = {name: list(read_jsonl(self.gold_dir / f"{name}.jsonl")) for name in ("train", "dev", "test")}
            held_out = {r["doc_id"] for name in ("dev", "test") for r in splits[name]}
            added = [r for r in pulled.values() if r["doc_id"] not in held_out]
            new_ids = {r["id"] for r in added}
            splits["train"] = [r for r in splits["train"] if r["id"] not in new_ids] + added
            for name, records in splits.items():
                write_jsonl(root / "gold" / f"{name}.jsonl", records)
            dataset, card = build_dataset(root / "gold", None)
            dataset.save_to_disk(str(root / "dataset"))
            write_text_atomic(root / "dataset" / "README.md", card)
            config = load_config(self.config, FinetuneConfig, {
                "dataset": str(root / "dataset"), "training.output_dir": str(root / "run"),
                "training.model_dir": str(root / "run" / "final")})
            metrics = finetune(config)
            job.update(status="done", model=str(root / "run" / "final"), added=len(added),
                       held_out_skipped=len(pulled) - len(added), dev_f1=metrics.get("eval_f1"))
            on_done(root / "run" / "final", job["job"])
        except Exception as exc:  # a failed job is reported on /jobs, never takes the server down
            log.exception("training job %s failed", job["job"])
            job.update(status="failed", error=f"{type(exc).__name__}: {exc}")


def create_app(model: str | Path | None = None, retrainer: Retrainer | None = None):
    """The FastAPI app; ``model`` is a tagger folder (default: the released model)."""
    from fastapi import FastAPI, HTTPException, Request

    from models.predict import Tagger

    state = {"tagger": Tagger.load(model)}
    state["version"] = Path(str(model or state["tagger"].model.name_or_path)).name
    app = FastAPI(title="gazette-ner ML backend", version="1")

    def swap(model_dir: Path, version: str) -> None:
        state["tagger"], state["version"] = Tagger.load(model_dir), version

    @app.get("/health")
    @app.get("/")
    def health() -> dict:
        return {"status": "UP", "model_class": "gazette-ner", "model_version": state["version"]}

    @app.post("/setup")
    def setup() -> dict:
        return {"model_version": state["version"]}

    @app.post("/predict")
    async def predict(request: Request) -> dict:
        body = await request.json()
        tasks = body.get("tasks")
        if not isinstance(tasks, list) or not all(isinstance(t, dict) and "text" in t.get("data", {}) for t in tasks):
            raise HTTPException(400, "expected {'tasks': [{'data': {'text': ...}}, ...]}")
        texts = [t["data"]["text"] for t in tasks]
        spans = state["tagger"].tag(texts)
        return {"results": [prediction(text, s, state["version"]) for text, s in zip(texts, spans)],
                "model_version": state["version"]}

    @app.post("/webhook", status_code=201)
    async def webhook(request: Request) -> dict:
        body = await request.json()
        action = body.get("action")
        project = (body.get("project") or {}).get("id")
        if action not in TRAIN_ACTIONS or project is None:
            return {"status": "ignored", "action": action}
        if retrainer is None:
            return {"status": "ignored", "action": action, "note": "started without --train-config"}
        return retrainer.submit(int(project), swap)

    @app.get("/jobs/{job_id}")
    def job_status(job_id: str) -> dict:
        if retrainer is None or job_id not in retrainer.jobs:
            raise HTTPException(404, f"no job {job_id}")
        return retrainer.jobs[job_id]

    return app


def register_backend(client, project_title: str, url: str, title: str = "gazette-ner") -> int:
    """Connect the backend at ``url`` to the project so annotators see its pre-labels when a task opens."""
    from annotation.labelstudio.project import find_project

    project = find_project(client, project_title)
    if project is None:
        from annotation.labelstudio.client import LabelStudioError
        raise LabelStudioError(f"no project titled {project_title!r}: run `gazette-ner ls init` first")
    existing = [b for b in client.ml.list(project=project) if b.url.rstrip("/") == url.rstrip("/")]
    backend = existing[0] if existing else client.ml.create(project=project, url=url, title=title, is_interactive=False)
    # the project's model_version names the live model (the backend's title) whose pre-labels annotators see
    client.projects.update(id=project, model_version=backend.title, show_collab_predictions=True)
    return backend.id


def _get(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode("utf-8")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="Label Studio ML backend: pre-labels with scores, retrains on webhook")
    parser.add_argument("--model", help="tagger folder (default: the released model)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9090)
    parser.add_argument("--train-config", type=Path, help="fine-tune with this YAML when annotations arrive (webhook)")
    parser.add_argument("--gold", type=Path, default=Path("annotation/gold"), help="gold splits the new annotations join")
    parser.add_argument("--work-dir", type=Path, default=Path("runs/serve"), help="where retraining jobs write")
    parser.add_argument("--register", metavar="PROJECT",
                        help="also connect this backend to the Label Studio project (LABEL_STUDIO_URL/_API_KEY)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    retrainer = Retrainer(args.train_config, args.gold, args.work_dir) if args.train_config else None
    try:
        app = create_app(args.model, retrainer)
    except (OSError, ValueError) as exc:
        print(f"{args.model or 'models/release'}: cannot load the model ({exc})", file=sys.stderr)
        return 1
    if args.register:
        threading.Thread(target=_register_when_up, args=(args,), daemon=True).start()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _register_when_up(args: argparse.Namespace) -> None:
    from annotation.labelstudio.client import LabelStudioError, connect

    url = f"http://{args.host}:{args.port}"
    for _ in range(60):
        try:
            _get(f"{url}/health")
            break
        except OSError:
            time.sleep(0.5)
    try:
        backend = register_backend(connect(), args.register, url)
        print(f"registered ML backend {backend} on project {args.register!r}", file=sys.stderr)
    except LabelStudioError as exc:
        print(f"error: {exc}", file=sys.stderr)

"""Project operations over label-studio-sdk: create/update, idempotent batched push, full export.

Functions take a connected client and data and return data; the CLI does the files and printing.
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from tqdm import tqdm

from annotation.labelstudio.interface import instructions, labeling_config


def find_project(client, title: str) -> int | None:
    """The id of the project titled exactly ``title`` (the API's title filter also matches substrings)."""
    return next((p.id for p in client.projects.list(title=title) if p.title == title), None)


def ensure_project(client, title: str, description: str = "") -> tuple[int, bool]:
    """The id of the project titled ``title`` with our labeling config (created, or updated in
    place so its tasks and annotations stay), and whether it was created."""
    config = labeling_config()
    existing = find_project(client, title)
    fields = dict(label_config=config, expert_instruction=instructions(), show_instruction=True,
                  description=description or "gazette-ner: entity spans in Chinese government documents")
    if existing is not None:
        client.projects.update(id=existing, **fields)
        return existing, False
    project = client.projects.create(title=title, **fields)
    return project.id, True


def existing_ref_ids(client, project: int) -> set[str]:
    """Our ids of the tasks already in the project (what makes a re-push idempotent)."""
    return {task["data"].get("ref_id") for task in export_tasks(client, project, all_tasks=True)} - {None}


def push_tasks(client, project: int, tasks: Sequence[dict], batch_size: int = 500) -> dict:
    """Import the tasks whose ``ref_id`` the project lacks, in batches, with a progress bar."""
    have = existing_ref_ids(client, project)
    todo = [task for task in tasks if task["data"]["ref_id"] not in have]
    with tqdm(total=len(todo), desc="push", unit="task", disable=None) as bar:
        for batch in _batches(todo, batch_size):
            client.projects.import_tasks(id=project, request=batch, return_task_ids=True)
            bar.update(len(batch))
    return {"requested": len(tasks), "imported": len(todo), "already_there": len(tasks) - len(todo)}


def export_tasks(client, project: int, all_tasks: bool = True) -> list[dict]:
    """Every task with all its annotations (skipped and cancelled included), as Label Studio's JSON export."""
    chunks = client.projects.exports.download_sync(id=project, export_type="JSON", download_all_tasks=all_tasks)
    return json.loads(b"".join(chunks))


def _batches(items: Sequence[dict], size: int) -> Iterator[list[dict]]:
    for i in range(0, len(items), size):
        yield list(items[i:i + size])

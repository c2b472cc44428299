"""Shared fixtures: a real Label Studio server (its own venv, `make ls-install`) for the round-trip tests."""
from __future__ import annotations

import socket

import pytest

LEGACY_TOKEN = "gazette-ner-test-legacy-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def label_studio(tmp_path_factory):
    """A fresh Label Studio (SQLite, default admin user, legacy tokens on) for the whole session."""
    from annotation.labelstudio.server import LabelStudioServer

    server = LabelStudioServer(tmp_path_factory.mktemp("label-studio"), free_port(), username="admin@example.com",
                               password="not-a-real-password-1", legacy_token=LEGACY_TOKEN)
    with server:
        yield server


@pytest.fixture
def ls_env(label_studio, monkeypatch):
    """LABEL_STUDIO_URL / LABEL_STUDIO_API_KEY pointing at the test server (legacy token)."""
    monkeypatch.setenv("LABEL_STUDIO_URL", label_studio.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", LEGACY_TOKEN)
    return label_studio

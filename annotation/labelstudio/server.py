"""Starting Label Studio on 127.0.0.1 for annotators, the tests and CI.

Label Studio's pins clash with ours (Django stack, its own label-studio-sdk), so it lives in its own
virtual environment (``make ls-install`` → ``.ls-venv``); we only run its ``label-studio`` command.
Credentials travel in environment variables, never on a command line that ``ps`` would show.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from annotation.labelstudio.client import LabelStudioError

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = REPO_ROOT / ".labelstudio"
DEFAULT_USERNAME = "annotator@gazette-ner.local"


def label_studio_bin() -> str:
    """``$LABEL_STUDIO_BIN``, else ``.ls-venv/bin/label-studio``, else ``label-studio`` on PATH."""
    candidates = [os.environ.get("LABEL_STUDIO_BIN"), str(REPO_ROOT / ".ls-venv" / "bin" / "label-studio"),
                  shutil.which("label-studio")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    raise LabelStudioError("label-studio is not installed: run `make ls-install` (its own venv, .ls-venv) "
                           "or set LABEL_STUDIO_BIN")


class LabelStudioServer:
    """A Label Studio process on 127.0.0.1 with SQLite in ``data_dir`` and a default user.

    ``legacy_token`` (≥ 6 characters) becomes the user's legacy API token and turns legacy tokens on
    for the organisation; without it only personal access tokens work (Label Studio's default).
    """

    def __init__(self, data_dir: Path, port: int = 8080, username: str = DEFAULT_USERNAME,
                 password: str | None = None, legacy_token: str | None = None, log_path: Path | None = None) -> None:
        self.data_dir, self.port = Path(data_dir), port
        self.username, self.password, self.legacy_token = username, password, legacy_token
        self.log_path = log_path or self.data_dir / "label-studio.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 600) -> "LabelStudioServer":
        if not self.password:
            raise LabelStudioError("set LABEL_STUDIO_PASSWORD for the default Label Studio user")
        if self._healthy():
            raise LabelStudioError(f"port {self.port} already serves a Label Studio; stop it or choose --port")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "LABEL_STUDIO_BASE_DATA_DIR": str(self.data_dir), "DJANGO_DB": "sqlite",
               "LABEL_STUDIO_USERNAME": self.username, "LABEL_STUDIO_PASSWORD": self.password,
               "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
               # the server listens on loopback only and `gazette-ner serve` runs beside it on loopback,
               # which Label Studio's SSRF guard would refuse as a reserved address
               "ML_BLOCK_LOCAL_IP": "false", "SSRF_PROTECTION_ENABLED": "false"}
        args = [label_studio_bin(), "start", "--no-browser", "--internal-host", "127.0.0.1",
                "--port", str(self.port), "--data-dir", str(self.data_dir)]
        env.pop("LABEL_STUDIO_USER_TOKEN", None)
        if self.legacy_token:
            env["LABEL_STUDIO_USER_TOKEN"] = self.legacy_token
            args.append("--enable-legacy-api-token")
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not self._healthy():
            if self.process.poll() is not None:
                raise LabelStudioError(f"Label Studio exited with code {self.process.returncode}; see {self.log_path}")
            if time.monotonic() > deadline:
                self.stop()
                raise LabelStudioError(f"Label Studio did not answer on {self.url} within {timeout:.0f} s; see {self.log_path}")
            time.sleep(1)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
        self.process = None

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def __enter__(self) -> "LabelStudioServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

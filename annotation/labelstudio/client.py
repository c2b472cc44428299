"""Connecting to Label Studio with label-studio-sdk: the URL and token come from the environment,
every failure is one line, and the token never appears in anything we print or write."""
from __future__ import annotations

import os

DEFAULT_URL = "http://127.0.0.1:8080"


class LabelStudioError(RuntimeError):
    """One line for the user: what went wrong and where."""


def connect(url: str | None = None, api_key: str | None = None):
    """A checked ``LabelStudio`` client.

    ``api_key`` is a personal access token (a JWT refresh token, which the SDK exchanges for short-lived
    access tokens: Label Studio 1.20+) or a legacy token (``Token …``); the SDK tells them apart.
    """
    import httpx
    from label_studio_sdk import LabelStudio
    from label_studio_sdk.core.api_error import ApiError

    url = (url or os.environ.get("LABEL_STUDIO_URL") or DEFAULT_URL).rstrip("/")
    key = api_key or os.environ.get("LABEL_STUDIO_API_KEY")
    if not key:
        raise LabelStudioError("LABEL_STUDIO_API_KEY is not set: create a personal access token in Label Studio "
                               "(Account & Settings) and export it")
    try:
        client = LabelStudio(base_url=url, api_key=key, timeout=60)
        client.users.whoami()
    except httpx.TransportError as exc:
        raise LabelStudioError(f"cannot reach Label Studio at {url} ({type(exc).__name__}); "
                               "is it running (`gazette-ner ls server`)?") from None
    except ApiError as exc:
        if exc.status_code in (401, 403):
            raise LabelStudioError(f"Label Studio at {url} refused the token in LABEL_STUDIO_API_KEY "
                                   f"(HTTP {exc.status_code}): expired, revoked, or a legacy token while "
                                   "legacy tokens are disabled") from None
        raise LabelStudioError(f"Label Studio at {url} answered HTTP {exc.status_code}") from None
    return client


def api_error_line(exc: Exception, action: str) -> str:
    """A one-line message for an SDK error during ``action`` (no token, no traceback)."""
    status = getattr(exc, "status_code", None)
    body = getattr(exc, "body", None)
    detail = body.get("detail") if isinstance(body, dict) else None
    return f"Label Studio: {action} failed" + (f" (HTTP {status})" if status else "") + (f": {detail}" if detail else f": {type(exc).__name__}")

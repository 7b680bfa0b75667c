"""The review-pending block the skill prints, built from massgen's review_request.json (contract §5).

massgen hard-codes `localhost:8000` in its URLs whatever port it really uses, so the block names the real
port. Every field is exactly one line: newlines and marker look-alikes in an answer preview or a file name
are flattened and neutralised, so nothing inside a field can break or forge the protocol.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from massgen_skill.massgen import flags, layout
from massgen_skill.massgen.status import read_json

BEGIN = "__REVIEW_PENDING__"
END = "__END_REVIEW_INFO__"
COMPLETE = "__REVIEW_COMPLETE__"
# massgen's ids are `auto-<hex>` or `log_<ts>`; anything else (spaces, newlines) is not taken into our lines.
_SID = re.compile(r"/api/sessions/([A-Za-z0-9._-]+)/review-response")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
PREVIEW_CHARS = 200


@dataclass(frozen=True)
class ChangedFile:
    path: str
    status: str


@dataclass(frozen=True)
class ReviewRequest:
    session_id: str | None
    files: tuple[ChangedFile, ...]
    answer_preview: str
    path: str
    mtime: float


def clean_field(text: str, limit: int = 500) -> str:
    """One line, no control characters, and never starting like one of our markers."""
    flat = " ".join(_CONTROL.sub(" ", str(text)).split())
    if flat.startswith("__"):
        flat = (
            "\u200b" + flat
        )  # a zero-width space keeps `__REVIEW_…__` inside a field from reading as a marker
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def session_from_url(url: str) -> str | None:
    """The session id inside massgen's review API URL (`/api/sessions/<sid>/review-response`)."""
    match = _SID.search(url)
    return match.group(1) if match else None


def parse_request(data: Any, path: Path, mtime: float) -> ReviewRequest | None:
    """review_request.json content → ReviewRequest; None when it is not a usable request."""
    if not isinstance(data, dict) or data.get("review_pending") is False:
        return None
    files = []
    listed = data.get("files")
    for item in listed if isinstance(listed, list) else []:
        if isinstance(item, dict) and isinstance(item.get("path"), str):
            files.append(ChangedFile(item["path"], str(item.get("status") or "?")))
    api_url = data.get("api_url")
    preview = data.get("answer_preview")
    return ReviewRequest(
        session_id=session_from_url(api_url) if isinstance(api_url, str) else None,
        files=tuple(files),
        answer_preview=preview if isinstance(preview, str) else "",
        path=str(path),
        mtime=mtime,
    )


def read_request(attempt_dir: Path) -> ReviewRequest | None:
    path = attempt_dir / layout.REVIEW_REQUEST
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    data, problem = read_json(path)
    return None if problem else parse_request(data, path, mtime)


def review_urls(
    port: int | None, session_id: str | None, host: str = flags.WEB_HOST_DEFAULT
) -> tuple[str, str]:
    base = f"http://{host}:{port or flags.DEFAULT_WEB_PORT}"
    api = f"{base}/api/sessions/{session_id or '<session>'}/review-response"
    return f"{base}/?v=2", api


def block_lines(request: ReviewRequest, port: int | None) -> list[str]:
    url, api = review_urls(port, request.session_id)
    files = ", ".join(f"{clean_field(f.path, 300)} ({clean_field(f.status, 3)})" for f in request.files)
    return [
        BEGIN,
        f"REVIEW_URL: {url}",
        f"REVIEW_API: {api}",
        f"FILES_CHANGED: {clean_field(files, 4000) or '(none listed)'}",
        f"ANSWER_PREVIEW: {clean_field(request.answer_preview, PREVIEW_CHARS)}",
        END,
    ]


def complete_line(approved: bool) -> str:
    return f"{COMPLETE} APPROVED={'true' if approved else 'false'}"


def read_result(attempt_dir: Path, newer_than: float) -> dict[str, Any] | None:
    """review_result.json, only when written after the request it answers (a stale one never counts)."""
    path = attempt_dir / layout.REVIEW_RESULT
    try:
        if path.stat().st_mtime < newer_than:
            return None
    except OSError:
        return None
    data, problem = read_json(path)
    return data if not problem and isinstance(data, dict) else None

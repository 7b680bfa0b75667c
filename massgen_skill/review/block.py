"""What the skill prints about a review: the review-pending block (from massgen's review_request.json,
contract §5), the completion line, and `review show`'s listing with the diff in its own block.

massgen hard-codes `localhost:8000` in its URLs whatever port it really uses, so the block names the real
port. Every field is exactly one line: newlines and marker look-alikes in an answer preview or a file name
are flattened and neutralised. Multi-line content (a diff) is printed only between DIFF: and DIFF_END, each
line prefixed, every line boundary but `\\n` shown as a visible escape — so nothing inside can forge a line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from massgen_skill.massgen import layout
from massgen_skill.massgen.flags import DEFAULT_WEB_PORT, WEB_HOST_DEFAULT
from massgen_skill.massgen.markers import REVIEW_COMPLETE, REVIEW_END, REVIEW_PENDING
from massgen_skill.massgen.status import read_json

BEGIN = REVIEW_PENDING
END = REVIEW_END
COMPLETE = REVIEW_COMPLETE
# massgen's ids are `auto-<hex>` or `log_<ts>`; anything else (spaces, newlines) is not taken into our lines.
_SID = re.compile(r"/api/sessions/([A-Za-z0-9._-]+)/review-response")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
PREVIEW_CHARS = 200
DIFF_LINES = 200  # `review show` prints at most this many diff lines unless --full
LINE_CHARS = 1000  # a diff line is cut here unless --full
CONTENT_PREFIX = "| "  # every content line starts with it: content never reaches column 0
DIFF_END = "DIFF_END"
# Every character that some reader takes as a line break or a terminal command, except TAB: C0 and C1
# controls, DEL, the Unicode line/paragraph separators, and bidi overrides that reorder what is shown.
_INVISIBLE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\r": "\\r", "\x0b": "\\v", "\x0c": "\\f", "\x00": "\\0", "\n": "\\n"}


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
    api_url: str | None = None  # as massgen wrote it (always localhost:8000): a fallback server address


def clean_field(text: str, limit: int = 500) -> str:
    """One line, no control characters, and never starting like one of our markers."""
    flat = " ".join(_CONTROL.sub(" ", str(text)).split())
    if flat.startswith("__"):
        flat = "\u200b" + flat  # a zero-width space keeps `__REVIEW_…__` inside a field from being a marker
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def visible(text: str) -> str:
    """Line boundaries and control characters as visible escapes (`\\r`, `\\x1b`, `\\u2028`); TAB stays."""

    def escape(match: re.Match[str]) -> str:
        char = match.group(0)
        named = _NAMED.get(char)
        if named:
            return named
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _INVISIBLE.sub(escape, text)


def content_line(line: str, limit: int | None) -> str:
    """One line of file content, safe to print: escaped, prefixed, cut at `limit` characters."""
    shown = visible(line)
    if limit is not None and len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    return CONTENT_PREFIX + shown


def bounded_diff(diff: str, full: bool) -> tuple[list[str], int]:
    """The diff's lines (split on `\\n` only: other breaks are content), at most DIFF_LINES unless full."""
    lines = diff.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return (lines if full else lines[:DIFF_LINES]), len(lines)


def diff_block(diff: str, full: bool) -> list[str]:
    """DIFF: header, the prefixed content lines, DIFF_END — or one `DIFF: (none)` line."""
    lines, total = bounded_diff(diff, full)
    if not total:
        return ["DIFF: (none)"]
    more = (
        f"first {len(lines)} of {total} lines; --full shows all" if len(lines) < total else f"{total} lines"
    )
    limit = None if full else LINE_CHARS
    return [f"DIFF: ({more})", *(content_line(line, limit) for line in lines), DIFF_END]


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
    api_url = api_url if isinstance(api_url, str) else None
    preview = data.get("answer_preview")
    return ReviewRequest(
        session_id=session_from_url(api_url) if api_url else None,
        files=tuple(files),
        answer_preview=preview if isinstance(preview, str) else "",
        path=str(path),
        mtime=mtime,
        api_url=api_url,
    )


def read_request(attempt_dir: Path) -> ReviewRequest | None:
    path = attempt_dir / layout.REVIEW_REQUEST
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    data, problem = read_json(path)
    return None if problem else parse_request(data, path, mtime)


def review_urls(port: int | None, session_id: str | None, host: str = WEB_HOST_DEFAULT) -> tuple[str, str]:
    base = f"http://{host}:{port or DEFAULT_WEB_PORT}"
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

"""massgen's printed lines → typed markers (contract §1, §5). Pure: no I/O.

massgen mixes marker lines with noise (ANSI colour, litellm `Provider List` lines, a multi-line `QUESTION:`,
an `ANSWER_PREVIEW:` that may span lines). The parser is a small state machine: text inside the question or
the preview never counts as a marker. A preview that forges the line that ends it (`COMPLETED:`) cannot be
told apart from the real one in a stream, so the relay also checks every path marker against the run's own
folders (relay.py, results.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# Marker prefixes, exactly as massgen prints them at the start of a line.
LOG_DIR = "LOG_DIR"
STATUS = "STATUS"
RUNTIME_INBOX = "RUNTIME_INBOX"
QUESTION = "QUESTION"
RESTART = "RESTART"
WINNER = "WINNER"
ANSWER_FILE = "ANSWER_FILE"
DURATION = "DURATION"
ANSWER_PREVIEW = "ANSWER_PREVIEW"
COMPLETED = "COMPLETED"
ANSWER = "ANSWER"
OUTPUT_FILE = "OUTPUT_FILE"
FINAL_DIR = "FINAL_DIR"
PLAN_DIR = "PLAN_DIR"
PLAN_ID = "PLAN_ID"
SPEC_DIR = "SPEC_DIR"
SPEC_ID = "SPEC_ID"
REVIEW_PENDING = "__REVIEW_PENDING__"
REVIEW_COMPLETE = "__REVIEW_COMPLETE__"
REVIEW_END = "__END_REVIEW_INFO__"  # ours: closes the review block the skill prints after REVIEW_PENDING
ERROR = "ERROR"  # `❌ Error: …` (exception after LOG_DIR) or `❌ Configuration error: …`

_KEYED = (
    LOG_DIR,
    STATUS,
    RUNTIME_INBOX,
    RESTART,
    WINNER,
    ANSWER_FILE,
    DURATION,
    COMPLETED,
    ANSWER,
    OUTPUT_FILE,
    FINAL_DIR,
    PLAN_DIR,
    PLAN_ID,
    SPEC_DIR,
    SPEC_ID,
)
# Markers whose value is a file-system path (relative ones are resolved against massgen's cwd).
PATH_MARKERS = frozenset(
    {LOG_DIR, STATUS, RUNTIME_INBOX, ANSWER_FILE, ANSWER, OUTPUT_FILE, FINAL_DIR, PLAN_DIR, SPEC_DIR}
)

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*(\x07|\x1b\\)")
_KEYED_RE = re.compile(r"^(" + "|".join(_KEYED) + r"): ?(.*)$")
_COORDINATION_NOTICE = "[Coordination in progress"
MAX_LINE = 64 * 1024  # longer lines are cut: no marker is that long


@dataclass(frozen=True)
class Marker:
    kind: str
    value: str


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


class MarkerParser:
    """Feed complete lines; get markers. One parser per massgen process."""

    def __init__(self) -> None:
        self._in_question = False
        self._in_preview = False
        self._seen_log_dir = False

    def feed(self, raw_line: str) -> Marker | None:
        line = strip_ansi(raw_line).rstrip("\r\n")
        if self._in_question:
            # The question (with a plan prefix it spans hundreds of lines) ends at the coordination notice.
            if line.startswith(_COORDINATION_NOTICE):
                self._in_question = False
            return None
        if self._in_preview:
            # The preview may hold newlines; it ends at the blank line before `COMPLETED:`.
            if not line.startswith(COMPLETED + ":"):
                return None
            self._in_preview = False
        return self._parse(line)

    def _parse(self, line: str) -> Marker | None:
        if line.startswith(QUESTION + ":"):
            self._in_question = True
            return Marker(QUESTION, line[len(QUESTION) + 1 :].strip())
        if line.startswith(ANSWER_PREVIEW + ":"):
            self._in_preview = True
            return Marker(ANSWER_PREVIEW, line[len(ANSWER_PREVIEW) + 1 :].strip())
        if line.startswith(REVIEW_PENDING):
            return Marker(REVIEW_PENDING, line[len(REVIEW_PENDING) :].strip())
        if line.startswith(REVIEW_COMPLETE):
            return Marker(REVIEW_COMPLETE, line[len(REVIEW_COMPLETE) :].strip())
        if line.startswith("❌"):
            return Marker(ERROR, line.lstrip("❌ ").strip())
        match = _KEYED_RE.match(line)
        if not match:
            return None
        kind, value = match.group(1), match.group(2).strip()
        if kind == LOG_DIR:
            if self._seen_log_dir:
                return None  # only massgen's first LOG_DIR counts
            self._seen_log_dir = True
        return Marker(kind, value)


def review_approved(value: str) -> bool | None:
    """`APPROVED=True` (massgen) or `APPROVED=true` (ours) → bool; anything else → None."""
    match = re.search(r"APPROVED=(\w+)", value)
    if not match:
        return None
    return {"true": True, "false": False}.get(match.group(1).lower())


class LineSplitter:
    """Bytes chunks in, complete text lines out; tolerates partial lines, bad bytes and huge lines."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self._buffer = bytearray()
        self._max = max_line
        self._discarding = False

    def feed(self, chunk: bytes) -> Iterator[str]:
        self._buffer += chunk
        while True:
            newline = self._buffer.find(b"\n")
            if newline < 0:
                if len(self._buffer) > self._max:
                    if not self._discarding:
                        yield self._decode(self._buffer[: self._max])
                    self._discarding = True
                    self._buffer.clear()
                return
            line = bytes(self._buffer[:newline])
            del self._buffer[: newline + 1]
            if self._discarding:
                self._discarding = False
                continue
            yield self._decode(line[: self._max])

    def flush(self) -> Iterator[str]:
        if self._buffer and not self._discarding:
            yield self._decode(bytes(self._buffer[: self._max]))
        self._buffer.clear()
        self._discarding = False

    @staticmethod
    def _decode(data: bytes | bytearray) -> str:
        return bytes(data).decode("utf-8", errors="replace").rstrip("\r")

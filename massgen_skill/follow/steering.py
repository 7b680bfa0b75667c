"""Steering messages: write one into a CLI-mode run's inbox exactly as massgen reads it (contract §14), and
tell which are still unread.

massgen polls `--inbox-dir` for `msg_*.json` in sorted name order, injects each into the running agents on
their next tool use, and deletes it. It polls only from the hook that runs after an agent's tool call
(at most every 2 s), and `new_answer`/`vote` do not count: a team that only answers and votes never reads
the inbox, and a message left there when the run ends was never seen (references/steering.md). A message
file must be:
- named `msg_<13-digit ms time>_<pid>_<4-digit counter>.json` (the shape of massgen's own writer), unique, and
  sorting after every earlier message of the run, also when several processes write in the same millisecond;
- written atomically: a temp name outside the `msg_*.json` pattern in the same folder, then a rename;
- `{"content": "<text>", "source": "massgen-skill"}` plus `"target_agents": [ids]` only when targeted.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from massgen_skill import atomic
from massgen_skill.output import one_line
from massgen_skill.run import records

SOURCE = "massgen-skill"
MESSAGE_GLOB = "msg_*.json"
SEQUENCE_FILE = ".steer-sequence"  # beside the inbox: the last millisecond stamp handed out
MAX_LISTED = 100  # unread messages reported at most (the count is always whole)
PREVIEW_BYTES = 4096  # read of each unread message, for its preview
PREVIEW_CHARS = 80
# When massgen 0.1.97 reads the inbox (its post-tool-use hook; see the module docstring).
WHEN_READ = "massgen reads the inbox only after an agent's tool call (answers and votes do not count)"
_counter = itertools.count()


@dataclass(frozen=True)
class SentMessage:
    path: Path
    payload: dict[str, object]


def message_name(millis: int, pid: int, counter: int) -> str:
    return f"msg_{millis:013d}_{pid}_{counter % 10000:04d}.json"


@contextlib.contextmanager
def _sequence(state: Path) -> Iterator[list[int]]:
    """Serialise the writers of one inbox: yields [last stamp used] (0 when none); store the new one in it."""
    state.parent.mkdir(parents=True, exist_ok=True)
    with open(state, "a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.seek(0)
            text = handle.read().strip()
            cell = [int(text) if text.isdigit() else 0]
            yield cell
            handle.truncate(0)
            handle.write(f"{cell[0]}\n")
            handle.flush()
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_message(
    inbox: Path,
    content: str,
    target_agents: Sequence[str] | None = None,
    now: float | None = None,
) -> SentMessage:
    """Drop one message into `inbox` (created if needed). ValueError for empty content."""
    if not content or not content.strip():
        raise ValueError("the steering message is empty")
    payload: dict[str, object] = {"content": content, "source": SOURCE}
    if target_agents:
        payload["target_agents"] = list(dict.fromkeys(target_agents))
    inbox.mkdir(parents=True, exist_ok=True)
    state = inbox.parent / SEQUENCE_FILE
    with _sequence(state) as last:
        # Strictly after the previous message of this inbox, whoever wrote it: names then sort in write
        # order even when the clock stands still or steps back, and the pid never decides the order.
        millis = max(int((time.time() if now is None else now) * 1000), last[0] + 1)
        target = inbox / message_name(millis, os.getpid(), next(_counter))
        with atomic.open_atomic(target, fsync=True) as handle:
            json.dump(payload, handle, ensure_ascii=False)
        last[0] = millis
    return SentMessage(target, payload)


@dataclass(frozen=True)
class UnreadMessage:
    path: Path
    sent_at: float | None  # from the name's millisecond stamp
    preview: str  # the content's start, one line


@dataclass(frozen=True)
class Unread:
    count: int
    messages: tuple[UnreadMessage, ...]  # the first MAX_LISTED, oldest first
    ended: bool  # the run is over: these will never be read

    def note(self) -> str | None:
        """One line for `status`/`result`, or None when nothing waits."""
        if not self.count:
            return None
        what = f"{self.count} steering message(s)"
        if self.ended:
            return f"{what} never read by the team: {WHEN_READ}"
        return f"{what} waiting in the inbox: {WHEN_READ}"

    def as_dict(self) -> dict[str, object]:
        return {
            "count": self.count,
            "ended": self.ended,
            "note": self.note(),
            "messages": [
                {"file": str(m.path), "sent_at": m.sent_at, "preview": m.preview} for m in self.messages
            ],
        }


def unread_messages(record: records.RunRecord) -> Unread:
    """The messages still in a run's inbox (massgen deletes each one it reads)."""
    ended = records.effective_state(record) not in records.ACTIVE_STATES
    if not record.inbox_dir:
        return Unread(0, (), ended)
    try:
        names = sorted(
            entry.name
            for entry in os.scandir(record.inbox_dir)
            if entry.name.startswith("msg_") and entry.name.endswith(".json") and entry.is_file()
        )
    except OSError:
        return Unread(0, (), ended)
    listed = tuple(_unread(Path(record.inbox_dir) / name) for name in names[:MAX_LISTED])
    return Unread(len(names), listed, ended)


def _unread(path: Path) -> UnreadMessage:
    stamp = path.name.split("_")[1] if path.name.count("_") >= 2 else ""
    sent_at = int(stamp) / 1000 if stamp.isdigit() else None
    preview = ""
    with contextlib.suppress(OSError, ValueError):
        with open(path, "rb") as handle:  # a regular file (checked by the caller): the read cannot block
            head = handle.read(PREVIEW_BYTES).decode("utf-8", errors="replace")
        data = json.loads(head) if head.rstrip().endswith("}") else None
        content = data.get("content") if isinstance(data, dict) else None
        preview = content if isinstance(content, str) else head
    return UnreadMessage(path, sent_at, one_line(preview, PREVIEW_CHARS))

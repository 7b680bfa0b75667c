"""Write one steering message into a CLI-mode run's inbox, exactly as massgen reads it (contract §14).

massgen polls `--inbox-dir` for `msg_*.json` in sorted name order, injects each into the running agents on
their next tool use, and deletes it. So a message file must be:
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

SOURCE = "massgen-skill"
MESSAGE_GLOB = "msg_*.json"
SEQUENCE_FILE = ".steer-sequence"  # beside the inbox: the last millisecond stamp handed out
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

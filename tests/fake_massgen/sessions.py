"""massgen 0.1.97's sessions as the real CLI keeps them (massgen/session/, massgen/cli/entrypoint.py).

- The registry `~/.massgen/sessions.json` is `{"sessions": [entry, ...]}`, locked with
  `~/.massgen/sessions.lock`; a new CLI session is registered when it starts (`log_directory` = the
  log folder's *name*) and marked completed when the process ends; registering an id that exists
  updates that entry (so two runs started within one second, which get the same id, leave one entry
  naming the later run's log folder).
- `--session-id ID` needs ID in the registry (else exit 1) and saved turns in `./.massgen/sessions/ID/`
  (else exit 1); the conversation comes from that storage; the next turn is `len(saved turns) + 1`, logged in
  `<log base>/<log_directory>` (an absolute `log_directory` is used as is).
- `--continue` takes the newest registered, non-subagent session with saved turns in this folder.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fake_massgen.textio import iso_now, write_json_atomic

STORAGE = Path(".massgen") / "sessions"


def registry_path() -> Path:
    return Path.home() / ".massgen" / "sessions.json"


@contextmanager
def _locked() -> Iterator[Path]:
    path = registry_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield path


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"sessions": []}  # massgen starts a new registry over an unreadable one
    if not isinstance(data, dict) or not isinstance(data.get("sessions"), list):
        return {"sessions": []}
    return data


def entry(session_id: str) -> dict[str, Any] | None:
    with _locked() as path:
        sessions = _load(path)["sessions"]
    return next((e for e in sessions if isinstance(e, dict) and e.get("session_id") == session_id), None)


def register(session_id: str, log_directory: str, config_path: str | None) -> None:
    with _locked() as path:
        data = _load(path)
        found = next((e for e in data["sessions"] if e.get("session_id") == session_id), None)
        fields = {"config_path": config_path, "model": None, "description": None, "subagent": False}
        if found is not None:
            found.update({**fields, "parent_session_id": None, "log_directory": log_directory})
        else:
            data["sessions"].append(
                {
                    "session_id": session_id,
                    "start_time": iso_now(),
                    "end_time": None,
                    "status": "active",
                    **fields,
                    "parent_session_id": None,
                    "log_directory": log_directory,
                }
            )
        write_json_atomic(path, data)


def complete(session_id: str) -> None:
    with _locked() as path:
        data = _load(path)
        for item in data["sessions"]:
            if item.get("session_id") == session_id:
                item.update({"end_time": iso_now(), "status": "completed"})
                break
        write_json_atomic(path, data)


def _turn_numbers(folder: Path) -> list[int]:
    if not folder.is_dir():
        return []
    names = (p.name for p in folder.iterdir() if p.is_dir() and p.name.startswith("turn_"))
    return sorted(int(n[5:]) for n in names if n[5:].isdigit())


def most_recent_continuable() -> str | None:
    with _locked() as path:
        sessions = [e for e in _load(path)["sessions"] if isinstance(e, dict) and not e.get("subagent")]
    sessions.sort(key=lambda e: str(e.get("start_time", "")), reverse=True)
    for item in sessions:
        sid = item.get("session_id")
        if isinstance(sid, str) and _turn_numbers(STORAGE / sid):
            return sid
    return None


@dataclass
class Restored:
    turns: int  # saved turns with metadata (massgen's current_turn)
    messages: int  # conversation messages rebuilt from the tasks and answers


def restore(session_id: str) -> Restored | str:
    """The saved conversation, or the error text massgen prints after `❌ Session error: `."""
    folder = STORAGE / session_id
    if not folder.is_dir():
        return (
            f"Session '{session_id}' not found in {STORAGE} or legacy locations. "
            "Cannot continue a non-existent session."
        )
    numbers = _turn_numbers(folder)
    if not numbers:
        return (
            f"Session '{session_id}' exists at {folder} but has no saved turns. "
            "Cannot continue an empty session."
        )
    turns = messages = 0
    for number in numbers:
        turn = folder / f"turn_{number}"
        try:
            meta = json.loads((turn / "metadata.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        turns += 1
        messages += bool(meta.get("task")) + (turn / "answer.txt").is_file()
    if not messages:
        return (
            f"Session '{session_id}' exists but has no conversation messages. "
            "Cannot continue an empty session."
        )
    return Restored(turns, messages)

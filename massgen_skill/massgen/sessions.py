"""massgen 0.1.97's multi-turn sessions: the registry, the per-folder turn storage, the log line of a new one.

What the real CLI does (massgen/cli/entrypoint.py, massgen/session/):
  - A new CLI run names its session `session_<YYYYmmdd_HHMMSS>` (one-second resolution: two runs started
    within one second get the same name), logs `Created session for … mode: <id>` in its own massgen.log,
    and registers it in `~/.massgen/sessions.json` (`{"sessions": [...]}`, locked with `sessions.lock`,
    `log_directory` = the log folder's name). A web run registers `log_<ts>` instead, once it ends.
  - After each answered turn it saves `<cwd>/.massgen/sessions/<id>/turn_<N>/{answer.txt,metadata.json}`.
  - `--session-id ID` continues a registered session whose storage holds saved turns: the conversation is
    rebuilt from that storage and no `LOG_DIR:`, `STATUS:` or `ANSWER:` line is printed. It prints
    `📚 Loading session: ID (log: <registered folder>)`, but logs into a NEW `log_<ts>` folder [obs]: its
    `turn_1/attempt_1/` holds only the start-up log (`Using session from CLI: ID`), the turn itself is
    `turn_<N+1>/`. An unknown ID, or one without saved turns, exits 1.
  - Then, with the turn done and saved, it exits 1 [obs]: its single-question resume unpacks three of the
    four values `run_question_with_history` returns (`❌ Session error: too many values to unpack …`).
  - `--continue` picks the newest continuable session of the whole user: never used here (racy).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from massgen_skill import atomic
from massgen_skill.massgen import layout

REGISTRY_FILE = Path(".massgen") / "sessions.json"  # under the home folder
REGISTRY_LOCK_SUFFIX = ".lock"  # massgen locks `sessions.lock` beside it (fcntl)
STORAGE_SUBDIR = Path(".massgen") / "sessions"  # under the folder massgen runs in
TURN_METADATA = "metadata.json"
SESSION_ID_TIME_FORMAT = "%Y%m%d_%H%M%S"  # massgen's own new session ids: session_<this>
CREATED_LINE = re.compile(r"Created session for [\w-]+ mode: (\S+)")
RESUMED_LINE = re.compile(r"Using session from CLI: (\S+)")
# massgen's `❌ Session error: …` after a continued turn that completed (the ValueError text of its bug).
RESUME_UNPACK_ERROR = "Session error: too many values to unpack (expected 3)"
_LOG_PROBE = 1 << 16  # the line comes within the first few KB of massgen.log


@dataclass(frozen=True)
class SavedTurn:
    """One turn to store as massgen does: what was asked, who won, the answer, the winner's files."""

    turn: int
    task: str
    winner: str
    answer: str
    workspace: Path | None = None


def registry_path(home: Path) -> Path:
    return home / REGISTRY_FILE


def storage_dir(cwd: Path, session_id: str) -> Path:
    return cwd / STORAGE_SUBDIR / session_id


def _session_in_log(log_root: Path, line: re.Pattern[str]) -> str | None:
    """The session a run's start-up log (turn_1's massgen.log) names in `line`."""
    for _, attempt in layout.attempts(log_root / "turn_1"):
        try:
            with open(attempt / layout.MASSGEN_LOG_FILE, encoding="utf-8", errors="replace") as handle:
                text = handle.read(_LOG_PROBE)
        except OSError:
            continue
        match = line.search(text)
        if match:
            return match.group(1)
    return None


def created_session(log_root: Path) -> str | None:
    """The session massgen created for the run whose log folder this is (from its own massgen.log)."""
    return _session_in_log(log_root, CREATED_LINE)


def resumed_session(log_root: Path) -> str | None:
    """The session a continued run's log folder belongs to (massgen logs which one it was given)."""
    return _session_in_log(log_root, RESUMED_LINE)


def ended_turn_bug(massgen_exit: int | None, error_line: str | None) -> bool:
    """massgen's exit 1 after a continued turn had ended (answered and saved, or not): its unpacking bug,
    not a failure of the turn; the turn's own files say how it went."""
    return massgen_exit == 1 and (error_line or "").startswith(RESUME_UNPACK_ERROR)


def saved_turns(cwd: Path, session_id: str) -> list[int]:
    """Turn numbers saved in the session's storage (massgen continues after the last of them)."""
    return [n for n, _ in layout.turns(storage_dir(cwd, session_id))]


def save_turn(cwd: Path, session_id: str, saved: SavedTurn) -> None:
    """Write a turn into the session's storage in massgen's own format (massgen/cli/run.py)."""
    folder = storage_dir(cwd, session_id) / f"turn_{saved.turn}"
    folder.mkdir(parents=True, exist_ok=True)
    atomic.write_text(folder / layout.ANSWER_FILE, saved.answer)
    metadata = {
        "turn": saved.turn,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "winning_agent": saved.winner,
        "task": saved.task,
        "session_id": session_id,
    }
    atomic.write_text(folder / TURN_METADATA, json.dumps(metadata, indent=2))
    if saved.workspace is not None and saved.workspace.is_dir():
        shutil.copytree(saved.workspace, folder / layout.WORKSPACE_DIR, symlinks=True, dirs_exist_ok=True)


@contextlib.contextmanager
def _locked_registry(home: Path) -> Iterator[Path]:
    path = registry_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(REGISTRY_LOCK_SUFFIX), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield path


def _registry(path: Path) -> dict[str, Any]:
    """The registry as a dict whose "sessions" is a list; what it cannot be is an OSError (one line)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"sessions": []}
    except (OSError, ValueError) as exc:
        raise OSError(f"{path} is unreadable: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("sessions"), list):
        raise OSError(f"{path} is not massgen's session registry")
    return data


def _entry(data: dict[str, Any], session_id: str) -> dict[str, Any] | None:
    entries = (e for e in data["sessions"] if isinstance(e, dict))
    return next((e for e in entries if e.get("session_id") == session_id), None)


def registered(home: Path, session_id: str) -> dict[str, Any] | None:
    """The registry's entry for `session_id`, if any."""
    with _locked_registry(home) as path:
        return _entry(_registry(path), session_id)


def register(home: Path, session_id: str, log_root: Path, config_path: str | None) -> None:
    """Add a session to massgen's registry as massgen does; `log_directory` absolute, so the turn lands in
    this log folder whatever folder massgen resolves names against."""
    with _locked_registry(home) as path:
        data = _registry(path)
        if _entry(data, session_id) is not None:
            return
        data["sessions"].append(
            {
                "session_id": session_id,
                "start_time": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "end_time": None,
                "status": "active",
                "config_path": config_path,
                "model": None,
                "description": None,
                "subagent": False,
                "parent_session_id": None,
                "log_directory": str(log_root),
            }
        )
        atomic.write_text(path, json.dumps(data, indent=2))

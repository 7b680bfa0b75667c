"""massgen's log layout (contract §4): where each file of a run lives; the only module spelling those names.

<cwd>/.massgen/massgen_logs/log_<ts>/            session root (CLI `LOG_DIR:`)
  turn_<N>/final/<winner>/answer.txt             CLI: copy of the attempt's final/
  turn_<N>/answer.txt                            web mode
  turn_<N>/attempt_<M>/status.json               (web `LOG_DIR:` is this attempt dir)
  turn_<N>/attempt_<M>/final/<winner>/{answer.txt,workspace/}
  turn_<N>/attempt_<M>/review_request.json, review_result.json
"""

from __future__ import annotations

import re
from pathlib import Path

STATUS_FILE = "status.json"
ANSWER_FILE = "answer.txt"
FINAL_DIR = "final"
WORKSPACE_DIR = "workspace"
REVIEW_REQUEST = "review_request.json"
REVIEW_RESULT = "review_result.json"
PLAN_FILE = "project_plan.json"
SPEC_FILE = "project_spec.json"
DELIVERABLE_DIR = "deliverable"
LOGS_SUBDIR = Path(".massgen") / "massgen_logs"
PLANS_SUBDIR = Path(".massgen") / "plans"  # PLAN_DIR / SPEC_DIR point below it (relative to the cwd)
EVENTS_FILE = "events.jsonl"
COORDINATION_EVENTS_FILE = "coordination_events.json"
METRICS_SUMMARY_FILE = "metrics_summary.json"
METRICS_EVENTS_FILE = "metrics_events.json"
EXECUTION_METADATA_FILE = "execution_metadata.yaml"
SNAPSHOT_MAPPINGS_FILE = "snapshot_mappings.json"
MASSGEN_LOG_FILE = "massgen.log"
MASSGEN_DEBUG_LOG_FILE = "massgen_debug.log"
VOTE_FILE = "vote.json"
EXECUTION_TRACE_FILE = "execution_trace.md"

ROOT_PREFIX = "log_"  # a session root is <LOGS_SUBDIR>/log_<ts>
_TURN = re.compile(r"^turn_(\d+)$")
_ATTEMPT = re.compile(r"^attempt_(\d+)$")
ANSWER_DIR_RE = re.compile(r"^\d{8}_\d{6}_\d{6}$")  # <agent_id>/<YYYYMMDD_HHMMSS_ffffff>/: one answer


def _numbered(folder: Path, pattern: re.Pattern[str]) -> list[tuple[int, Path]]:
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    found = [(int(m.group(1)), p) for p in entries if (m := pattern.match(p.name)) and p.is_dir()]
    return sorted(found)


def session_root(path: Path) -> Path:
    """The `log_<ts>` folder for a session root, a turn dir, an attempt dir or a file inside one."""
    path = path.resolve() if not path.is_absolute() else path
    roots = []
    for candidate in (path, *path.parents):
        if candidate.name.startswith(ROOT_PREFIX) and candidate.parent.name == LOGS_SUBDIR.name:
            return candidate
        if _ATTEMPT.match(candidate.name) and _TURN.match(candidate.parent.name):
            roots.append(candidate.parent.parent)
        elif _TURN.match(candidate.name):
            roots.append(candidate.parent)
        if roots and roots[-1].name.startswith(ROOT_PREFIX):
            return roots[-1]
    # A log_<ts> root is preferred above: a folder named turn_<N> above the project
    # (~/turn_1/project/.massgen/…) is not part of the log tree.
    return roots[0] if roots else path


def is_session_root(path: Path) -> bool:
    """A `log_<ts>` folder in a `massgen_logs` folder (by name only)."""
    return path.name.startswith(ROOT_PREFIX) and path.parent.name == LOGS_SUBDIR.name


def turns(root: Path) -> list[tuple[int, Path]]:
    return _numbered(root, _TURN)


def attempts(turn_dir: Path) -> list[tuple[int, Path]]:
    return _numbered(turn_dir, _ATTEMPT)


def newest_turn(root: Path, turn: int | None = None) -> Path | None:
    """The newest turn folder, or turn `turn` of a session (a later turn goes into the same log folder)."""
    found = [(n, p) for n, p in turns(root) if turn is None or n == turn]
    return found[-1][1] if found else None


def newest_attempt(root: Path, turn: int | None = None) -> Path | None:
    """The newest attempt of the (newest) turn: after a restart the printed STATUS path is stale."""
    folder = newest_turn(root, turn)
    found = attempts(folder) if folder else []
    return found[-1][1] if found else None


def newest_status_file(root: Path, turn: int | None = None) -> Path | None:
    """status.json of the newest attempt that has one (it appears ~14 s after launch)."""
    folder = newest_turn(root, turn)
    for _, attempt in reversed(attempts(folder) if folder else []):
        if (attempt / STATUS_FILE).is_file():
            return attempt / STATUS_FILE
    return None


def final_dirs(folder: Path) -> list[Path]:
    """`final/<agent>/` folders below `folder` (a turn or an attempt dir)."""
    final = folder / FINAL_DIR
    try:
        return sorted(p for p in final.iterdir() if p.is_dir())
    except OSError:
        return []


def inside(path: Path, root: Path) -> bool:
    """True when `path` lies inside `root` (both resolved): a marker must not point outside its run."""
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError):
        return False
    return True


def same_path(a: str | Path, b: str | Path) -> bool:
    """True when `a` and `b` name the same place (both resolved, symlinks followed)."""
    try:
        return Path(a).resolve() == Path(b).resolve()
    except (OSError, ValueError):  # ValueError: a NUL in the path
        return False

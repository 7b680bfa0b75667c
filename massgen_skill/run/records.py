"""Run records: one small JSON file per launch, so any later command, agent turn or person finds the run.

`<project>/.massgen/skill_runs/<run-id>.json` (written atomically, updated as markers arrive) and a folder of
the same name for the run's own files (massgen's stdout/stderr log, translated criteria, steering inbox).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from massgen_skill import atomic
from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.run import procs

RECORDS_DIR = Path(".massgen") / "skill_runs"

# Record states. A record in an active state whose wrapper is gone is "lost" (see `effective_state`).
STARTING = "starting"
RUNNING = "running"
REVIEW_PENDING = "review-pending"
FINISHED = "finished"
STOPPED = "stopped"
LOST = "lost"
ACTIVE_STATES = frozenset({STARTING, RUNNING, REVIEW_PENDING})


@dataclass
class RunRecord:
    run_id: str
    project_dir: str
    created_at: float
    argv: list[str] = field(default_factory=list)
    mode: str = "general"
    cwd_context: str = "none"
    web: bool = False
    web_port: int | None = None
    review_gate: bool = False
    state: str = STARTING
    wrapper_pid: int | None = None
    wrapper_start: int | None = None
    pid: int | None = None
    pgid: int | None = None
    pid_start: int | None = None
    log_dir: str | None = None  # session root: …/.massgen/massgen_logs/log_<ts>
    attempt_dir: str | None = None
    status_path: str | None = None
    answer_path: str | None = None
    workspace_path: str | None = None
    final_dir: str | None = None
    output_file: str | None = None
    winner: str | None = None
    plan_dir: str | None = None
    plan_id: str | None = None
    spec_dir: str | None = None
    spec_id: str | None = None
    inbox_dir: str | None = None
    criteria_file: str | None = None
    stdout_log: str | None = None
    stderr_log: str | None = None
    outcome: str | None = None  # ExitCode name, lower case, once decided
    exit_code: int | None = None  # ours
    massgen_exit: int | None = None  # massgen's own (negative: killed by that signal)
    reason: str | None = None
    reviews: list[dict[str, Any]] = field(default_factory=list)
    changed_files: list[str] | None = None  # headless rw: what changed in the project (git)
    ended_at: float | None = None

    @property
    def run_dir(self) -> Path:
        return Path(self.project_dir) / RECORDS_DIR / self.run_id

    @property
    def path(self) -> Path:
        return record_path(Path(self.project_dir), self.run_id)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def new_run_id(now: float | None = None) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now or time.time()))
    return f"{stamp}-{os.urandom(3).hex()}"  # = secrets.token_hex(3), without importing hmac/hashlib


def record_path(project_dir: Path, run_id: str) -> Path:
    return project_dir / RECORDS_DIR / f"{run_id}.json"


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_text(path, text)


def save(record: RunRecord) -> None:
    # ASCII escapes: a task or path that is not valid UTF-8 (lone surrogates) still round-trips.
    write_atomic(record.path, json.dumps(record.to_dict(), indent=2, ensure_ascii=True) + "\n")


@contextlib.contextmanager
def locked(project_dir: Path, run_id: str) -> Iterator[None]:
    """Serialise read-modify-write of one record between the wrapper and `stop`."""
    lock = project_dir / RECORDS_DIR / f".{run_id}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def load(path: Path) -> RunRecord:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SkillError(f"run record not found: {path}", ExitCode.NOT_FOUND) from None
    except (OSError, ValueError) as exc:  # ValueError: not UTF-8, not JSON, or an integer of > 4300 digits
        raise SkillError(f"run record {path} is unreadable: {exc}", ExitCode.INVALID_INPUT) from None
    except RecursionError:
        raise SkillError(
            f"run record {path} is unreadable: nested too deeply", ExitCode.INVALID_INPUT
        ) from None
    if not isinstance(data, dict) or "run_id" not in data:
        raise SkillError(f"run record {path} is not a massgen-skill record", ExitCode.INVALID_INPUT)
    try:
        record = RunRecord.from_dict(data)
    except TypeError as exc:
        raise SkillError(f"run record {path} is damaged: {exc}", ExitCode.INVALID_INPUT) from None
    wrong = _wrongly_typed(record) or _impossible(record)
    if wrong:
        raise SkillError(
            f"run record {path} is damaged: {', '.join(wrong)} of the wrong type or out of range",
            ExitCode.INVALID_INPUT,
        )
    return record


_KINDS: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "None": (type(None),),
    "list": (list,),
}


def _wrongly_typed(record: RunRecord) -> list[str]:
    """Fields whose value does not match the annotation (a hand-edited or foreign file would crash later)."""
    wrong = []
    for f in fields(record):
        value = getattr(record, f.name)
        names = [part.strip().split("[")[0] for part in str(f.type).split("|")]
        allowed = tuple(kind for name in names for kind in _KINDS.get(name, (object,)))
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            wrong.append(f.name)
    return wrong


_PID_FIELDS = ("wrapper_pid", "pid", "pgid")
_TIME_FIELDS = ("created_at", "ended_at")
_MAX_TIME = 1e11  # seconds since 1970 (year ~5000): time.localtime and friends accept it


def _impossible(record: RunRecord) -> list[str]:
    """Fields a real record never holds. A pid or pgid of 0, -1 or 1 would make `stop` signal our own group,
    every process we may signal, or init; NaN/huge times and unknown exit codes would crash the readers."""
    bad = [f for f in _PID_FIELDS if getattr(record, f) is not None and not 1 < getattr(record, f) < 2**31]
    bad += [
        f for f in _TIME_FIELDS if getattr(record, f) is not None and not 0 <= getattr(record, f) < _MAX_TIME
    ]
    codes = {int(code) for code in ExitCode}
    bad += [f for f in ("exit_code",) if record.exit_code is not None and record.exit_code not in codes]
    return bad


def list_records(project_dir: Path) -> list[RunRecord]:
    """All readable records of the project, oldest first (damaged ones are skipped)."""
    folder = project_dir / RECORDS_DIR
    records: list[RunRecord] = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        with contextlib.suppress(SkillError):
            records.append(load(path))
    records.sort(key=lambda r: (r.created_at, r.run_id))
    return records


def resolve_run(ref: str | None, project_dir: Path) -> RunRecord:
    """A run id (or a unique prefix), a record path, or None/"latest" for the newest run of the project."""
    if ref and ref.endswith(".json") and Path(ref).is_file():
        return load(Path(ref))
    records = list_records(project_dir)
    if not records:
        raise SkillError(f"no runs recorded in {project_dir / RECORDS_DIR}", ExitCode.NOT_FOUND)
    if ref in (None, "", "latest"):
        return records[-1]
    matches = [r for r in records if r.run_id == ref] or [r for r in records if r.run_id.startswith(ref)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise SkillError(
            f"no run {ref!r} in {project_dir / RECORDS_DIR} (see `massgen-skill runs`)", ExitCode.NOT_FOUND
        )
    raise SkillError(f"run {ref!r} is ambiguous: {', '.join(r.run_id for r in matches)}", ExitCode.USAGE)


# --- liveness -----------------------------------------------------------------------------------------
# The process layer answers; its answers are re-exported here for the readers of records.
process_stat = procs.process_stat
process_start_time = procs.process_start_time
is_alive = procs.is_alive
group_alive = procs.group_alive


def effective_state(record: RunRecord) -> str:
    """The record's state, or LOST when it claims to be active but its supervisor is gone (a zombie wrapper,
    killed and not yet reaped, is gone)."""
    if record.state in ACTIVE_STATES and not is_alive(record.wrapper_pid, record.wrapper_start):
        return LOST
    return record.state

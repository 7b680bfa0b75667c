"""Run records: one small JSON file per launch, so any later command, agent turn or person finds the run.

`<project>/.massgen/skill_runs/<run-id>.json` (written atomically, updated as markers arrive) and a folder of
the same name for the run's own files (massgen's stdout/stderr log, translated criteria, steering inbox).
`<project>` is the project root (the git top level, else the folder the run started from), so a run started
in a subfolder is found from anywhere in the project; massgen itself still runs in that subfolder (`cwd`).
A small per-user index (`runs.jsonl` in the state folder) lists every project's runs for `runs --all`.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import stat
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from massgen_skill import atomic
from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.run import claims, procs

RECORDS_DIR = Path(".massgen") / "skill_runs"
STATE_DIR_ENV = "MASSGEN_SKILL_STATE_DIR"  # overrides where the per-user run index lives (tests)
INDEX_FILE = "runs.jsonl"

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
    cwd: str | None = None  # where massgen runs (None: project_dir, as in records before this field)
    partial_answer: str | None = None  # an answer file that is not the team's answer (time limit, stop)
    warnings: list[str] = field(default_factory=list)  # e.g. a plan run that wrote no plan file
    detached: bool = False  # `run --detach`: supervised in the background, output in run_dir
    max_cost: float | None = None  # `run --max-cost`: the budget in USD (massgen's own cost estimate)
    structured: bool = False  # `run --structured`: `result` reads the evaluation files of the winner
    # Sessions (`run --continue`): massgen writes turn N+1 of a session into the first turn's log folder.
    turn: int | None = None  # massgen's turn_<N> this run wrote (None: the newest, as in older records)
    session_id: str | None = None  # the session this turn belongs to (follow-ups: the one we continue)
    massgen_session: str | None = None  # the session massgen itself created (first turns, from its log)
    previous_run: str | None = None  # the run this one continues
    first_run: str | None = None  # the session's first run: `runs` groups turns under it
    launch: str | None = None  # "warm" (forked by the warm server) or "cold: <why not warm>"

    @property
    def run_dir(self) -> Path:
        return Path(self.project_dir) / RECORDS_DIR / self.run_id

    @property
    def path(self) -> Path:
        return record_path(Path(self.project_dir), self.run_id)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def session_info(self) -> dict[str, Any]:
        """Which session and turn this run is (`status`, `result` and `runs` report the same keys)."""
        return {
            "turn": self.turn,
            "session_id": self.session_id or self.massgen_session,
            "previous_run": self.previous_run,
            "first_run": self.first_run or self.run_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def new_run_id(now: float | None = None) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now or time.time()))
    return f"{stamp}-{os.urandom(3).hex()}"  # = secrets.token_hex(3), without importing hmac/hashlib


def record_path(project_dir: Path, run_id: str) -> Path:
    return project_dir / RECORDS_DIR / f"{run_id}.json"


def project_root(start: Path) -> Path:
    """Where a run started in `start` keeps its record: the git top level above it, else `start` itself.
    Found by walking up to a `.git` entry (a folder, or a file in worktrees and submodules): no git needed."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


def state_dir() -> Path:
    """The per-user folder of massgen-skill's own state (the cross-project run index)."""
    override = os.environ.get(STATE_DIR_ENV)
    if override:
        return Path(override)
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "state"
    return base / "massgen-skill"


def create(record: RunRecord) -> None:
    """Write a new run's first record, its folder, and its line in the per-user index."""
    record.run_dir.mkdir(parents=True, exist_ok=True)
    save(record)
    line = json.dumps({"run_id": record.run_id, "project_dir": record.project_dir}, ensure_ascii=True)
    # The index only helps `runs --all`: a read-only home must not stop a run.
    with contextlib.suppress(OSError):
        folder = state_dir()
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / INDEX_FILE, "a", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # one whole line per writer
            handle.write(line + "\n")


def indexed_projects() -> list[Path]:
    """Every project folder the per-user index names, once each, in first-seen order."""
    try:
        text = (state_dir() / INDEX_FILE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    projects: dict[str, None] = {}
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            if isinstance(entry, dict) and isinstance(entry.get("project_dir"), str):
                projects.setdefault(entry["project_dir"], None)
    return [Path(p) for p in projects]


def list_all_records() -> list[RunRecord]:
    """The readable records of every indexed project that still exists, oldest first."""
    found = [r for project in indexed_projects() if project.is_dir() for r in list_records(project)]
    found.sort(key=lambda r: (r.created_at, r.run_id))
    return found


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
    with os.fdopen(open_lock(lock), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def open_lock(lock: Path) -> int:
    """The lock file, opened without blocking (a FIFO in its place would wait for a reader forever)."""
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o644)
    except OSError as exc:
        raise state_error(lock, exc) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise SkillError(f"{lock} is not a regular file; remove it", ExitCode.INVALID_INPUT)
    return fd


def state_error(path: Path, exc: OSError) -> SkillError:
    """A write into the project's `.massgen/` that failed, as one line: a read-only or full disk is the
    environment (5); a file where a folder belongs, or the other way round, is damaged state (3)."""
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT):
        return SkillError(
            f"cannot write {path}: {reason}; run from a writable project", ExitCode.ENV_NOT_READY
        )
    return SkillError(f"cannot use {path}: {reason}; move away what is in the way", ExitCode.INVALID_INPUT)


_MAX_RECORD_BYTES = 8 * 1024 * 1024  # a real record is a few KB


def _read_regular(path: Path) -> bytes:
    """A record's bytes. Only a regular file is read: a FIFO named like a record would block every command
    that lists runs, a device would never end. O_NONBLOCK makes the open itself return at once."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise SkillError(f"run record not found: {path}", ExitCode.NOT_FOUND) from None
    except (OSError, ValueError) as exc:  # ValueError: NUL in the path
        raise SkillError(f"run record {path} is unreadable: {exc}", ExitCode.INVALID_INPUT) from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SkillError(f"run record {path} is not a regular file", ExitCode.INVALID_INPUT)
        return handle.read(_MAX_RECORD_BYTES + 1)


def load(path: Path) -> RunRecord:
    try:
        data = json.loads(_read_regular(path).decode("utf-8"))
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
    wrong = _wrongly_typed(record) or _bad_items(record) or _impossible(record)
    if wrong:
        raise SkillError(
            f"run record {path} is damaged: {', '.join(wrong)} of the wrong type or out of range",
            ExitCode.INVALID_INPUT,
        )
    foreign = _foreign_paths(record, path)
    if foreign:
        raise SkillError(
            f"run record {path} is refused: {', '.join(foreign)} not where this run keeps its files "
            "(edited by hand?)",
            ExitCode.REFUSED,
        )
    return record


def _bad_items(record: RunRecord) -> list[str]:
    """List fields whose items are not what every reader expects (`changed_files: [null]`)."""
    lists = ("argv", "changed_files")
    bad = [f for f in lists if any(not isinstance(item, str) for item in getattr(record, f) or ())]
    return bad + (["reviews"] if any(not isinstance(r, dict) for r in record.reviews) else [])


_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_IN_LOG_DIR = ("attempt_dir", "status_path", "answer_path", "workspace_path", "final_dir")
_IN_RUN_DIR = ("inbox_dir", "criteria_file", "stdout_log", "stderr_log")
_IN_PLANS = ("plan_dir", "spec_dir")


def _in_records_dir(real: Path) -> bool:
    return real.parent.name == RECORDS_DIR.name and real.parent.parent.name == RECORDS_DIR.parent.name


def _foreign_paths(record: RunRecord, path: Path) -> list[str]:
    """Fields naming a place the run does not own (paths are claims, see claims.py): a hand-edited record
    must not make `result` print any file or `steer` write into any folder. A record inside a project's
    `skill_runs` must name that project (else its own paths would be checked against another one)."""
    if not _RUN_ID.fullmatch(record.run_id):
        return ["run_id"]
    project = Path(record.project_dir)
    real = claims.resolved(path)
    if real is None or (_in_records_dir(real) and real.parent.parent.parent != claims.resolved(project)):
        return ["project_dir"]
    workdir = Path(record.cwd) if record.cwd else project  # massgen's folder: its logs and plans are there
    if not claims.within(workdir, project):
        return ["cwd"]
    log_dir = record.log_dir
    bases = claims.log_bases(workdir, os.environ)
    bad = (
        [] if log_dir is None or claims.log_root(log_dir, bases) == claims.resolved(log_dir) else ["log_dir"]
    )
    owners = (
        (_IN_LOG_DIR, log_dir),
        (_IN_RUN_DIR, str(record.run_dir)),
        (_IN_PLANS, claims.plans_root(workdir)),
    )
    for names, root in owners:
        for name in names:
            value = getattr(record, name)
            if value is not None and (
                root is None or bad[:1] == ["log_dir"] or not claims.within(value, root)
            ):
                bad.append(name)
    return bad


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
_MAX_TURN = 1_000_000
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
    bad += ["turn"] if record.turn is not None and not 0 < record.turn < _MAX_TURN else []
    # Run ids name record files: one from a hand-edited record must not lead out of skill_runs/.
    links = ("previous_run", "first_run")
    return bad + [f for f in links if (ref := getattr(record, f)) is not None and not _RUN_ID.fullmatch(ref)]


def list_records(project_dir: Path, written_since: float | None = None) -> list[RunRecord]:
    """All readable records of the project holding `project_dir`, oldest first (damaged ones are skipped);
    `written_since`: only those saved since then (an epoch time), without reading the others."""
    folder = project_root(project_dir) / RECORDS_DIR
    records: list[RunRecord] = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        with contextlib.suppress(SkillError, OSError):
            if written_since is None or path.stat().st_mtime >= written_since:
                records.append(load(path))
    records.sort(key=lambda r: (r.created_at, r.run_id))
    return records


def resolve_run(ref: str | None, project_dir: Path) -> RunRecord:
    """A run id (or a unique prefix), a record path, or None/"latest" for the newest run of the project."""
    if ref and ref.endswith(".json") and Path(ref).is_file():
        return load(Path(ref))
    project_dir = project_root(project_dir)
    if ref and _RUN_ID.fullmatch(ref) and os.path.lexists(record_path(project_dir, ref)):
        return load(record_path(project_dir, ref))  # its own error: damaged (3), refused (16), a FIFO (3)
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

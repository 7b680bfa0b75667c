"""A checkpoint loop's record: `<project>/.massgen/skill_loops/<loop-id>.json`, written atomically.

A loop id starts with `loop-`, so `status` and `stop` tell it from a run id. Each round names its two runs
(ordinary runs with their own records); the loop keeps only what it decided from them.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from massgen_skill import atomic
from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.run import procs

LOOPS_DIR = Path(".massgen") / "skill_loops"
PREFIX = "loop-"
STOP_SUFFIX = ".stop"  # beside the record: `stop LOOP` asks the loop's process to end after the round

# Loop states: active ones, and how a loop ended.
RUNNING = "running"
REVIEW_PENDING = "review-pending"  # a round waits for a human decision; `loop --resume` goes on after it
CONVERGED = "converged"
MAX_ROUNDS = "max-rounds"
FAILED = "failed"
STOPPED = "stopped"
ACTIVE_STATES = frozenset({RUNNING, REVIEW_PENDING})


@dataclass
class Round:
    number: int
    build_run: str | None = None
    eval_run: str | None = None
    verdict: str | None = None
    scores: dict[str, int] = field(default_factory=dict)
    next_tasks: list[dict[str, str]] = field(default_factory=list)
    critique: str | None = None


@dataclass
class LoopRecord:
    loop_id: str
    project_dir: str
    cwd: str
    goal: str
    criteria: str  # absolute path of the user's criteria file
    max_rounds: int
    cwd_context: str
    config: str | None = None
    web: bool | None = None
    timeout: int | None = None
    created_at: float = 0.0
    state: str = RUNNING
    rounds: list[Round] = field(default_factory=list)
    pid: int | None = None  # the process driving the loop (none while it waits for `--resume`)
    pid_start: int | None = None
    exit_code: int | None = None
    reason: str | None = None
    ended_at: float | None = None

    @property
    def path(self) -> Path:
        return loop_path(Path(self.project_dir), self.loop_id)

    @property
    def last_verdict(self) -> str | None:
        return next((r.verdict for r in reversed(self.rounds) if r.verdict), None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoopRecord:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        round_names = {f.name for f in fields(Round)}
        values["rounds"] = [Round(**{k: v for k, v in r.items() if k in round_names}) for r in data["rounds"]]
        return cls(**values)


def new_loop_id(now: float | None = None) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now or time.time()))
    return f"{PREFIX}{stamp}-{os.urandom(3).hex()}"


def is_loop_ref(ref: str | None) -> bool:
    return bool(ref) and str(ref).startswith(PREFIX)


def loop_path(project_dir: Path, loop_id: str) -> Path:
    return project_dir / LOOPS_DIR / f"{loop_id}.json"


def stop_path(record: LoopRecord) -> Path:
    return record.path.with_name(record.loop_id + STOP_SUFFIX)


def save(record: LoopRecord) -> None:
    try:
        record.path.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_text(record.path, json.dumps(record.to_dict(), indent=2) + "\n")
    except OSError as exc:
        raise SkillError(
            f"cannot write the loop record {record.path}: {exc.strerror or exc}", ExitCode.ENV_NOT_READY
        ) from None


def load(path: Path) -> LoopRecord:
    try:
        return LoopRecord.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise SkillError(f"no such loop: {path.stem}", ExitCode.NOT_FOUND) from None
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise SkillError(
            f"loop record {path}: unreadable ({type(exc).__name__})", ExitCode.INVALID_INPUT
        ) from None


def resolve(ref: str, project_dir: Path) -> LoopRecord:
    """A loop by its id or a unique prefix of it (`loop-2026…`)."""
    folder = project_dir / LOOPS_DIR
    matches = sorted(p for p in folder.glob(f"{PREFIX}*.json") if p.stem.startswith(ref)) if ref else []
    if len(matches) != 1:
        what = "no loop" if not matches else f"{len(matches)} loops"
        raise SkillError(f"{what} matching {ref!r} in {folder}", ExitCode.NOT_FOUND)
    return load(matches[0])


def claim(record: LoopRecord) -> None:
    """This process drives the loop now."""
    record.pid = os.getpid()
    record.pid_start = procs.process_start_time(record.pid)


def driver_alive(record: LoopRecord) -> bool:
    return procs.is_alive(record.pid, record.pid_start)

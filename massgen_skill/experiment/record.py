"""An experiment's record: the matrix (tasks × configs × repeats), each cell's run and outcome, who runs it.

`<project>/.massgen/skill_experiments/<exp-id>/experiment.json`, written atomically and only by the
experiment's supervisor (cells report through their own run records). The folder also holds the cells'
working folders, `experiment.sqlite`, `EXPERIMENT_REPORT.md` and its chart.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.run import records

EXPERIMENTS_DIR = Path(".massgen") / "skill_experiments"
RECORD_NAME = "experiment.json"
CELLS_DIR = "cells"
DATABASE_NAME = "experiment.sqlite"
REPORT_NAME = "EXPERIMENT_REPORT.md"
RUN_ID_FILE = "run_id"  # in a cell's folder, written once its run's record exists
ID_PREFIX = "exp-"  # run ids start with a date: `status`/`stop` tell the two apart by this

# Cell states. A cell stopped with its experiment (or lost with its supervisor) runs again on --resume.
PENDING = "pending"
RUNNING = "running"
ENDED = "ended"
# Experiment states
EXP_RUNNING = "running"
EXP_FINISHED = "finished"
EXP_STOPPED = "stopped"
EXP_LOST = "lost"

OK_WORD = "ok"
RERUN_WORDS = frozenset({"stopped", "lost"})  # outcomes that say nothing about the config: run again

_EXP_ID = re.compile(r"exp-[A-Za-z0-9._-]+")
_MAX_BYTES = 16 * 1024 * 1024


@dataclass
class Cell:
    task_index: int
    config_index: int
    repeat: int  # 1-based
    state: str = PENDING
    run_id: str | None = None
    log_dir: str | None = None
    outcome: str | None = None  # the run's RESULT word
    exit_code: int | None = None
    reason: str | None = None
    report: str | None = None  # the run's ANALYSIS_REPORT.md

    @property
    def key(self) -> str:
        return f"t{self.task_index + 1}-c{self.config_index + 1}-r{self.repeat}"

    @property
    def done(self) -> bool:
        """Ended with an outcome that counts (stopped / lost cells run again)."""
        return self.state == ENDED and self.outcome not in RERUN_WORDS

    @property
    def ok(self) -> bool:
        return self.done and self.outcome == OK_WORD

    def reset(self) -> None:
        """Back to waiting (a cell run again keeps nothing of its earlier run)."""
        self.state, self.run_id, self.log_dir, self.report = PENDING, None, None, None
        self.outcome, self.exit_code, self.reason = None, None, None


@dataclass
class Settings:
    """How every cell runs: the options given to each cell's `run` request."""

    mode: str = "auto"
    timeout: int | None = None
    web: bool = False  # cells run headless (the CLI path) unless asked
    stop_grace: float = 5.0
    parallel: int = 1


@dataclass
class ExperimentRecord:
    exp_id: str
    project_dir: str
    created_at: float
    tasks: list[str]
    configs: list[str]  # what `run --config` takes: a path (absolute) or `@examples/…`
    repeats: int
    settings: Settings = field(default_factory=Settings)
    state: str = EXP_RUNNING
    wrapper_pid: int | None = None
    wrapper_start: int | None = None
    ended_at: float | None = None
    cells: list[Cell] = field(default_factory=list)

    @property
    def folder(self) -> Path:
        return Path(self.project_dir) / EXPERIMENTS_DIR / self.exp_id

    @property
    def path(self) -> Path:
        return self.folder / RECORD_NAME

    def cell_dir(self, cell: Cell) -> Path:
        return self.folder / CELLS_DIR / cell.key

    def counts(self) -> dict[str, int]:
        done = sum(1 for c in self.cells if c.done and c.ok)
        failed = sum(1 for c in self.cells if c.done and not c.ok)
        running = sum(1 for c in self.cells if c.state == RUNNING)
        return {"done": done, "failed": failed, "running": running, "left": len(self.cells) - done - failed}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def new_exp_id(now: float | None = None) -> str:
    return ID_PREFIX + records.new_run_id(now)


def is_experiment_ref(ref: str | None) -> bool:
    return bool(ref) and str(ref).startswith(ID_PREFIX)


def matrix(tasks: int, configs: int, repeats: int) -> list[Cell]:
    """Every cell, repeat-major: the first repeat of every task × config runs before any second one, so a
    stopped experiment has already seen each config."""
    return [Cell(t, c, r) for r in range(1, repeats + 1) for t in range(tasks) for c in range(configs)]


def save(record: ExperimentRecord) -> None:
    records.write_atomic(record.path, json.dumps(record.to_dict(), indent=2, ensure_ascii=True) + "\n")


def create(record: ExperimentRecord) -> None:
    try:
        record.folder.mkdir(parents=True, exist_ok=True)
        save(record)
    except OSError as exc:
        raise records.state_error(record.path, exc) from None


def _from_dict(data: dict[str, Any]) -> ExperimentRecord:
    known = {f.name for f in fields(ExperimentRecord)}
    values = {k: v for k, v in data.items() if k in known}
    values["settings"] = Settings(**values.get("settings", {}))
    values["cells"] = [Cell(**c) for c in values.get("cells", [])]
    return ExperimentRecord(**values)


def load(path: Path) -> ExperimentRecord:
    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read(_MAX_BYTES).decode("utf-8"))
        record = _from_dict(data)
    except FileNotFoundError:
        raise SkillError(f"experiment record not found: {path}", ExitCode.NOT_FOUND) from None
    except (OSError, ValueError, TypeError, AttributeError, RecursionError) as exc:
        raise SkillError(f"experiment record {path} is unreadable: {exc}", ExitCode.INVALID_INPUT) from None
    if not isinstance(record.exp_id, str) or not _EXP_ID.fullmatch(record.exp_id):
        raise SkillError(f"experiment record {path} is damaged: exp_id", ExitCode.INVALID_INPUT)
    if not isinstance(record.project_dir, str) or record.path.resolve() != path.resolve():
        raise SkillError(f"experiment record {path} is refused: it names another place", ExitCode.REFUSED)
    wrong = _damaged(record)
    if wrong:
        raise SkillError(f"experiment record {path} is damaged: {wrong}", ExitCode.INVALID_INPUT)
    return record


def _is_list_of(value: object, kind: type) -> bool:
    return isinstance(value, list) and all(isinstance(item, kind) for item in value)


def _damaged(record: ExperimentRecord) -> str | None:
    """The first field a hand-edited record got wrong (a reader would crash on it later)."""
    if not _is_list_of(record.tasks, str) or not _is_list_of(record.configs, str):
        return "tasks or configs"
    ints = (record.repeats, record.settings.parallel)
    if any(type(n) is not int or n < 1 for n in ints):
        return "repeats or parallel"
    for cell in record.cells:
        inside = 0 <= cell.task_index < len(record.tasks) and 0 <= cell.config_index < len(record.configs)
        if not inside or not isinstance(cell.state, str) or not isinstance(cell.run_id, (str, type(None))):
            return f"cell {cell.key}"
    return None


def resolve(ref: str, project: Path) -> ExperimentRecord:
    """An experiment id (or a unique prefix of one) of the project holding `project`."""
    folder = records.project_root(project) / EXPERIMENTS_DIR
    if not _EXP_ID.fullmatch(ref):
        raise SkillError(f"{ref!r}: expected an experiment id (exp-…)", ExitCode.USAGE)
    names = sorted(p.name for p in folder.glob(f"{ref}*") if (p / RECORD_NAME).is_file())
    exact = [n for n in names if n == ref]
    if len(exact or names) != 1:
        if not names:
            raise SkillError(f"no experiment {ref!r} in {folder}", ExitCode.NOT_FOUND)
        raise SkillError(f"experiment {ref!r} is ambiguous: {', '.join(names)}", ExitCode.USAGE)
    return load(folder / (exact or names)[0] / RECORD_NAME)


def effective_state(record: ExperimentRecord) -> str:
    """The record's state, or lost when it says running but its supervisor is gone."""
    if record.state == EXP_RUNNING and not records.is_alive(record.wrapper_pid, record.wrapper_start):
        return EXP_LOST
    return record.state


def run_record(record: ExperimentRecord, cell: Cell) -> records.RunRecord | None:
    """The cell's run record, when the cell got as far as writing one."""
    try:
        run_id = (record.cell_dir(cell) / RUN_ID_FILE).read_text(encoding="ascii").strip()
        return records.resolve_run(run_id, record.cell_dir(cell))
    except (OSError, ValueError, SkillError):
        return None


def claim(record: ExperimentRecord) -> None:
    """This process supervises the experiment from now on."""
    record.wrapper_pid = os.getpid()
    record.wrapper_start = records.process_start_time(os.getpid())
    record.state = EXP_RUNNING
    record.ended_at = None
    record.created_at = record.created_at or time.time()

"""One cell of an experiment: a `run` of one task with one config, supervised exactly as `run` supervises.

The cell runs in a forked process of its own (its own process group, its own signal handlers, its relayed
lines in its folder) and calls the same core as `massgen-skill run`: `plan_run` then `execute`. Its working
folder is its own, so parallel cells never share massgen's log folders or the agents' workspaces.
"""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from massgen_skill import atomic
from massgen_skill.exitcodes import RESULT_WORDS, ExitCode, SkillError
from massgen_skill.follow.results import outcome_of
from massgen_skill.prepare.argv import JobFlags
from massgen_skill.prepare.plan import execute, plan_run
from massgen_skill.prepare.request import RunRequest
from massgen_skill.run import records
from massgen_skill.run.detach import redirect_output
from massgen_skill.run.relay import HANDLED_SIGNALS

from .record import RUN_ID_FILE, Cell, ExperimentRecord, run_record

NO_CONTEXT = "none"  # a cell's folder is empty: the agents get no project access
RELAY_OUT = "relay.out"  # the cell's relayed lines (what `run` prints)
RELAY_ERR = "relay.err"  # its diagnostics


def request_for(record: ExperimentRecord, cell: Cell) -> RunRequest:
    settings = record.settings
    return RunRequest(
        task=record.tasks[cell.task_index],
        cwd=record.cell_dir(cell),
        mode=settings.mode,
        cwd_context=NO_CONTEXT,
        config=record.configs[cell.config_index],
        web=settings.web,
        job=JobFlags(timeout=settings.timeout),
        stop_grace=settings.stop_grace,
    )


def start(record: ExperimentRecord, cell: Cell) -> int:
    """Fork the cell's supervisor; returns its pid (the caller reaps it)."""
    folder = record.cell_dir(cell)
    folder.mkdir(parents=True, exist_ok=True)
    for name in (RUN_ID_FILE, RELAY_OUT, RELAY_ERR):  # a cell run again starts clean
        (folder / name).unlink(missing_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        _work(record, cell)  # never returns
    return pid


def _work(record: ExperimentRecord, cell: Cell) -> None:
    code = int(ExitCode.INTERNAL)
    try:
        os.setpgid(0, 0)  # out of the experiment's group: a terminal's Ctrl-C reaches the supervisor only
        for signum in HANDLED_SIGNALS:
            signal.signal(signum, signal.SIG_DFL)  # until the relay installs its own
        folder = record.cell_dir(cell)
        redirect_output(folder / RELAY_OUT, folder / RELAY_ERR)
        plan = plan_run(request_for(record, cell))
        atomic.write_text(folder / RUN_ID_FILE, plan.record.run_id)
        code = execute(plan)
    except SkillError as exc:
        sys.stderr.write(f"massgen-skill: error: {exc.message}\n")
        code = int(exc.code)
    except BaseException as exc:  # the cell reports everything, once, in its folder
        sys.stderr.write(f"massgen-skill: internal error: {type(exc).__name__}: {exc}\n")
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


@dataclass(frozen=True)
class Ended:
    run: records.RunRecord | None  # None: the run never got a record (refused before launch)
    word: str
    code: int
    reason: str


def ended(record: ExperimentRecord, cell: Cell, exit_status: int) -> Ended:
    """How the cell ended: its run's one outcome (as `run` decided it), or why it never launched."""
    run = run_record(record, cell)
    outcome = outcome_of(run) if run is not None else None
    if run is not None and outcome is not None:
        return Ended(run, outcome.word, int(outcome.code), outcome.reason)
    code = _known(exit_status)
    word = RESULT_WORDS.get(code, code.name.lower().replace("_", "-"))
    return Ended(run, word, int(code), _last_error(record.cell_dir(cell) / RELAY_ERR) or word)


def _known(exit_status: int) -> ExitCode:
    if os.WIFSIGNALED(exit_status):
        return ExitCode.STOPPED  # the cell was killed before its run had a record: nothing ran
    try:
        return ExitCode(os.WEXITSTATUS(exit_status))
    except ValueError:
        return ExitCode.INTERNAL


def _last_error(path: Path) -> str | None:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    errors = [line for line in lines if line.startswith("massgen-skill:")]
    return (errors or lines or [None])[-1]

"""`status EXP` and `stop EXP`: what an experiment has done, and stopping it from outside."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from massgen_skill.exitcodes import SkillError
from massgen_skill.output import one_line
from massgen_skill.run import records
from massgen_skill.run.stopping import ask_to_stop, stop_run

from . import record as rec

POLL = 0.1  # seconds between two looks at the running cells (or at a stopping supervisor)
STOP_EXTRA = 10.0  # seconds on top of a cell's two stop graces before it is stopped from outside
WAIT_EXTRA = 5.0  # seconds on top of the supervisor's own wait for its cells


def describe(record: rec.ExperimentRecord) -> dict[str, Any]:
    counts = record.counts()
    return {
        "experiment": record.exp_id,
        "state": rec.effective_state(record),
        "cells": len(record.cells),
        **counts,
        "folder": str(record.folder),
        "report": str(record.folder / rec.REPORT_NAME),
        "database": str(record.folder / rec.DATABASE_NAME),
        "matrix": [
            {
                "cell": c.key,
                "task": c.task_index + 1,
                "config": record.configs[c.config_index],
                "repeat": c.repeat,
                "state": c.state,
                "run_id": c.run_id,
                "outcome": c.outcome,
            }
            for c in record.cells
        ],
    }


def render(info: dict[str, Any]) -> str:
    lines = [
        f"{info['experiment']}: {info['state']}; {info['done']} ok, {info['failed']} failed, "
        f"{info['left']} left ({info['running']} running) of {info['cells']} cells",
        f"  folder: {one_line(info['folder'], collapse=False)}",
    ]
    for c in info["matrix"]:
        outcome = c["outcome"] or c["state"]
        lines.append(f"  {c['cell']}: {outcome}{'  run ' + c['run_id'] if c['run_id'] else ''}")
    return "\n".join(lines)


def stop(
    record: rec.ExperimentRecord,
    grace: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> rec.ExperimentRecord:
    """Ask a live supervisor to stop (it stops its cells in stages); stop a lost one's runs here."""
    if rec.effective_state(record) == rec.EXP_RUNNING:
        ask_to_stop(record.wrapper_pid, record.wrapper_start, f"experiment {record.exp_id}: supervisor")
        deadline = clock() + 2 * record.settings.stop_grace + STOP_EXTRA + WAIT_EXTRA
        while rec.effective_state(record) == rec.EXP_RUNNING and clock() < deadline:
            sleep(POLL)
            record = rec.load(record.path)
    if rec.effective_state(record) == rec.EXP_LOST:
        for c in record.cells:
            if c.state == rec.RUNNING:
                stop_leftover(record, c, grace)
                c.reset()
        record.state, record.ended_at = rec.EXP_STOPPED, time.time()
        rec.save(record)
    return record


def stop_leftover(record: rec.ExperimentRecord, c: rec.Cell, grace: float) -> None:
    """A run of this cell still going without its supervisor (killed) is stopped before it runs again."""
    run = rec.run_record(record, c)
    if run is not None and run.state in records.ACTIVE_STATES:
        with contextlib.suppress(SkillError, OSError):  # one that cannot be identified is left to `stop RUN`
            stop_run(run, grace)

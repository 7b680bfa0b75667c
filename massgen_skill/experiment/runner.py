"""Run an experiment's cells, at most `parallel` at once, until all have an outcome or a stop arrives.

The supervisor (this process) is the only writer of the experiment record and database. Each cell is a
forked `run` (cell.py). A stop (SIGTERM from `stop EXP`, SIGINT, SIGHUP) is passed to every running cell,
whose relay stops massgen in stages and records the run as stopped; the experiment is then stopped, and
--resume runs what is left. A cell that does not end in time after the stop is stopped by its run record.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from massgen_skill.exitcodes import ExitCode
from massgen_skill.follow.results import outcome_of
from massgen_skill.run.relay import HANDLED_SIGNALS

from . import cell as cells
from . import database, metrics, report
from . import record as rec
from .control import POLL, STOP_EXTRA, stop_leftover
from .record import Cell, ExperimentRecord


@dataclass
class Progress:
    """One line on stderr, rewritten in place, when stderr is a terminal."""

    stream: TextIO
    enabled: bool

    def show(self, record: ExperimentRecord) -> None:
        if self.enabled:
            n = record.counts()
            text = (
                f"{record.exp_id}: {n['done']} ok, {n['failed']} failed, {n['running']} running, "
                f"{n['left'] - n['running']} waiting of {len(record.cells)}"
            )
            self.stream.write(f"\r\x1b[K{text}")
            self.stream.flush()

    def end(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


class Runner:
    def __init__(
        self,
        record: ExperimentRecord,
        progress: Progress,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.record = record
        self.progress = progress
        self.sleep = sleep
        self.clock = clock
        self.running: dict[int, Cell] = {}  # pid of the cell's supervisor → cell
        self.stop_signal: int | None = None
        self.stop_deadline: float | None = None

    def _on_signal(self, signum: int, _frame: object) -> None:
        self.stop_signal = signum  # a flag only: the loop acts on it

    def run(self) -> ExperimentRecord:
        previous: dict[int, Any] = {s: signal.signal(s, self._on_signal) for s in HANDLED_SIGNALS}
        try:
            self._prepare()
            self._loop()
        finally:
            self._end_all()
            self._finish()
            for signum, handler in previous.items():
                if handler is not None:
                    signal.signal(signum, handler)
        return self.record

    def _prepare(self) -> None:
        rec.claim(self.record)
        for c in self.record.cells:
            if c.state == rec.RUNNING and _ended_meanwhile(self.record, c):
                self._settle(c, 0)  # its supervisor outlived ours (killed) and finished the run: keep it
            elif not c.done:
                stop_leftover(self.record, c, self.record.settings.stop_grace)
                c.reset()
        rec.save(self.record)
        self.progress.show(self.record)

    def _loop(self) -> None:
        waiting = [c for c in self.record.cells if c.state == rec.PENDING]
        while waiting or self.running:
            if self.stop_signal is not None:
                self._stopping()
            while waiting and self.stop_signal is None and len(self.running) < self.record.settings.parallel:
                self._start(waiting.pop(0))
            if not self._reap():
                self.sleep(POLL)
            if self.stop_signal is not None and not self.running:
                return

    def _start(self, c: Cell) -> None:
        c.state = rec.RUNNING
        rec.save(self.record)
        self.running[cells.start(self.record, c)] = c
        self.progress.show(self.record)

    def _reap(self) -> bool:
        """Settle every cell whose supervisor has exited; True when one did."""
        reaped = False
        for pid in list(self.running):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                self._settle(self.running.pop(pid), status)
                reaped = True
        return reaped

    def _settle(self, c: Cell, status: int) -> None:
        end = cells.ended(self.record, c, status)
        c.state, c.outcome, c.exit_code, c.reason = rec.ENDED, end.word, end.code, end.reason
        c.run_id = end.run.run_id if end.run else None
        c.log_dir = end.run.log_dir if end.run else None
        if c.done:
            figures, problem = (
                metrics.analyse_run(Path(c.log_dir)) if c.log_dir else (metrics.NO_FIGURES, None)
            )
            c.report = figures.report
            database.write_cell(self.db, _row(self.record, c, figures))
            if problem:
                c.reason = f"{c.reason}; analysis: {problem}"
        rec.save(self.record)
        self.progress.show(self.record)

    @property
    def db(self) -> Path:
        return self.record.folder / database.DATABASE_NAME

    def _stopping(self) -> None:
        """Pass the stop to every running cell once; past the deadline, stop what is left from outside."""
        if self.stop_deadline is None:
            grace = self.record.settings.stop_grace
            self.stop_deadline = self.clock() + 2 * grace + STOP_EXTRA
            for pid in self.running:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)  # our own unreaped child: its pid cannot be reused
        elif self.clock() > self.stop_deadline:
            self._end_all()

    def _end_all(self) -> None:
        """Kill the cells' supervisors still there and stop their runs by their records (never an orphan)."""
        for pid, c in list(self.running.items()):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            stop_leftover(self.record, c, self.record.settings.stop_grace)
            self.running.pop(pid)
            self._settle(c, status)

    def _finish(self) -> None:
        stopped = self.stop_signal is not None or any(not c.done for c in self.record.cells)
        self.record.state = rec.EXP_STOPPED if stopped else rec.EXP_FINISHED
        self.record.ended_at = time.time()
        rec.save(self.record)
        self.progress.end()
        report.write(self.record)


def _ended_meanwhile(record: ExperimentRecord, c: Cell) -> bool:
    run = rec.run_record(record, c)
    outcome = outcome_of(run) if run is not None else None
    return outcome is not None and outcome.word not in rec.RERUN_WORDS


def _row(record: ExperimentRecord, c: Cell, f: metrics.RunFigures) -> database.CellRow:
    return database.CellRow(
        cell=c.key,
        task_index=c.task_index,
        task=record.tasks[c.task_index],
        config_index=c.config_index,
        config=record.configs[c.config_index],
        repeat=c.repeat,
        run_id=c.run_id,
        outcome=c.outcome or "",
        exit_code=c.exit_code if c.exit_code is not None else int(ExitCode.INTERNAL),
        ok=int(c.ok),
        reason=c.reason or "",
        elapsed_s=f.elapsed_s,
        input_tokens=f.input_tokens,
        output_tokens=f.output_tokens,
        tokens=f.input_tokens + f.output_tokens,
        cost=f.cost,
        winner=f.winner,
        votes_for_winner=f.votes_for_winner,
        votes_total=f.votes_total,
        agreement=f.agreement,
        restarts=f.restarts,
        agent_restarts=f.agent_restarts,
        report=f.report,
        log_dir=c.log_dir,
    )

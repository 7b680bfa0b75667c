"""Stopping a run from outside its wrapper: the state machine behind `massgen-skill stop`.

1. A live wrapper (same pid and start time as recorded) is asked to stop (SIGTERM): it stops massgen's
   group in stages and writes the record's outcome itself.
2. Whatever is still there is stopped here: massgen's group while its leader is the recorded process, and
   its descendants in sessions of their own (MCP servers), which survive the wrapper when it is SIGKILLed:
   those carrying the run's marker, those below massgen now, those the wrapper recorded (`procs.TREE_FILE`).
3. A lost run (wrapper gone) is marked stopped. A pid or pgid that now belongs to another process is never
   signalled: it is named in `refused`.
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.run import procs, records
from massgen_skill.run.records import RunRecord

WRAPPER_EXTRA_WAIT = 5.0  # seconds on top of the wrapper's own two graces
_POLL = 0.1


@dataclass(frozen=True)
class StopResult:
    run_id: str
    state: str  # the record's state afterwards
    how: str  # one phrase: what was done
    signalled: list[int] = field(default_factory=list)  # pids (and pgids) we signalled ourselves
    last_signal: str = "none"
    refused: list[str] = field(default_factory=list)  # processes not signalled because they are not ours
    processes_left: list[int] = field(default_factory=list)  # this run's processes still alive

    @property
    def code(self) -> ExitCode:
        return ExitCode.INTERNAL if self.processes_left else ExitCode.OK


def stop_run(record: RunRecord, grace: float) -> StopResult:
    """Stop every process of the run `record` names, after checking each one's identity."""
    refused: list[str] = []
    how = "already ended"
    if records.effective_state(record) in records.ACTIVE_STATES:
        ask_to_stop(record.wrapper_pid, record.wrapper_start, f"run {record.run_id}: wrapper")
        record = _wait_final(record, grace * 2 + WRAPPER_EXTRA_WAIT)
        how = "stopped by its wrapper"
    targets = _run_processes(record, refused)
    report = procs.stop(targets, (grace, grace)) if targets else None
    if report and report.signalled:
        how = f"{len(report.signalled)} of its processes stopped (last signal {report.last_signal})"
    if records.effective_state(record) == records.LOST:
        record = _mark_stopped(record, report.last_signal if report else "none")
        how = how if report and report.signalled else "its wrapper was gone; nothing was left running"
    left = sorted({t.pid for t in _run_processes(record, [])})
    return StopResult(
        record.run_id,
        record.state,
        how,
        list(report.signalled) if report else [],
        report.last_signal if report else "none",
        refused,
        left,
    )


def ask_to_stop(pid: int | None, start: int | None, what: str) -> None:
    """SIGTERM to a supervisor (a run's wrapper, an experiment's), once its identity is checked."""
    if not procs.Target(pid or 0, start).send(signal.SIGTERM):
        raise SkillError(
            f"{what} pid {pid} cannot be identified "
            "(no start time recorded, or it is this very process); nothing was signalled",
            ExitCode.REFUSED,
        )


def _run_processes(record: RunRecord, refused: list[str]) -> list[procs.Target]:
    """The run's living processes: massgen's group (if its leader is still the recorded massgen), and every
    descendant found by the marker, the live tree or the recorded tree. A recorded pgid that now names a
    stranger goes to `refused`."""
    targets = []
    if record.pgid:
        group = procs.Target(record.pgid, record.pid_start, group=True)
        if group.alive():
            targets.append(group)
        elif procs.is_alive(record.pgid, None) and not procs.same_process(record.pgid, record.pid_start):
            refused.append(
                f"pgid {record.pgid} now belongs to another process (start time differs): not signalled"
            )
    snapshot = procs.all_processes()
    members = {p.pid for t in targets for p in procs.group_members(t.pid, snapshot)}
    found = procs.marked_processes(record.run_id)
    if record.pid and procs.same_process(record.pid, record.pid_start):
        found += procs.descendants(record.pid, snapshot)
    others = {procs.Target(p.pid, p.start) for p in found if p.pid not in members}
    recorded = procs.load_tree(record.run_dir / procs.TREE_FILE)
    others |= {t for t in recorded if t.pid not in members and t.alive()}
    return targets + sorted(others, key=lambda t: t.pid)


def _wait_final(record: RunRecord, timeout: float) -> RunRecord:
    """The record once its wrapper has written a final state (or as it is when `timeout` runs out)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = records.load(record.path)
        if records.effective_state(current) not in records.ACTIVE_STATES:
            return current
        time.sleep(_POLL)
    return records.load(record.path)


def _mark_stopped(record: RunRecord, last_signal: str) -> RunRecord:
    with records.locked(Path(record.project_dir), record.run_id):
        record = records.load(record.path)
        record.state = records.STOPPED
        record.outcome = record.outcome or "stopped"
        record.exit_code = record.exit_code if record.exit_code is not None else int(ExitCode.STOPPED)
        record.reason = record.reason or f"stopped by `massgen-skill stop` (last signal {last_signal})"
        record.ended_at = record.ended_at or time.time()
        records.save(record)
    return record

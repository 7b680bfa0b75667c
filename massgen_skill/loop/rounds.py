"""One round's runs, as ordinary runs: planned and launched by the same core `run --detach` uses, then
followed through their records until they end or wait for a review."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from massgen_skill.exitcodes import ExitCode
from massgen_skill.follow import results
from massgen_skill.prepare.plan import execute, plan_run
from massgen_skill.prepare.request import RunRequest
from massgen_skill.run import records
from massgen_skill.run.detach import detach

MAX_ANSWER_CHARS = 20000  # of a build round's answer read to pass on to its evaluation


def start_detached(request: RunRequest) -> str:
    """Check, plan and launch one run supervised in the background (as `run --detach`); its run id."""
    plan = plan_run(request)

    def supervise(ready: Callable[[], None]) -> int:
        if plan.port and plan.port.reservation:
            plan.port.reservation.adopt()  # the background process holds the port from now on
        return execute(plan, ready)

    detach(plan.record, supervise)
    return plan.record.run_id


@dataclass(frozen=True)
class Ended:
    code: ExitCode  # the run's outcome code, or REVIEW_PENDING while a review waits
    word: str
    reason: str | None


def follow(
    project_dir: Path,
    run_id: str,
    sleep: Callable[[float], None] = time.sleep,
    interval: float = 0.5,
) -> Ended:
    """Until the run ends (its one outcome) or a review waits; a dead wrapper ends it as lost."""
    while True:
        record = records.load(records.record_path(project_dir, run_id))
        state = records.effective_state(record)
        if state == records.REVIEW_PENDING:
            return Ended(ExitCode.REVIEW_PENDING, state, "a review of file changes waits for a decision")
        outcome = results.outcome_of(record, state)
        if outcome is not None:
            return Ended(outcome.code, outcome.word, outcome.reason)
        sleep(interval)


@dataclass(frozen=True)
class Left:
    """What a finished run left for the next step: its answer text, winner's workspace and log folder."""

    answer: str
    workspace: Path | None


def left_by(project_dir: Path, run_id: str) -> Left:
    record = records.load(records.record_path(project_dir, run_id))
    hint = Path(record.answer_path) if record.answer_path else None
    found = results.find(Path(record.log_dir), record.winner, hint) if record.log_dir else results.NOTHING
    answer = results.read_bounded(found.answer_path, MAX_ANSWER_CHARS)[0] if found.answer_path else ""
    return Left(answer, found.workspace)

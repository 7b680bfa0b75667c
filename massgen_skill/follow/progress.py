"""Live progress of a run: the compact self-overwriting line `run` shows on a terminal, and `status --follow`,
one line per event until the run ends.

Both read massgen's status.json (rewritten every 2 s and on every answer and vote, contract §3), never its
`--stream-events` JSON: that flag moves massgen's markers to stderr and only works on the CLI path.
The follower sleeps on `fswait` (inotify) between looks, so an idle follower costs next to nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from massgen_skill.exitcodes import ExitCode
from massgen_skill.follow.events import END, RunEvent, derive
from massgen_skill.follow.fswait import Waiter, waiter
from massgen_skill.follow.results import outcome_of
from massgen_skill.massgen import layout
from massgen_skill.massgen.status import Progress
from massgen_skill.output import one_line
from massgen_skill.run import records
from massgen_skill.run.outcome import usd
from massgen_skill.run.records import RunRecord

LOOK_EVERY = 1.0  # seconds between looks at status.json (massgen rewrites it every 2 s)
LINE_WIDTH = 150
_CLEAR = "\r\x1b[K"  # back to the start of the line, erase it
TIMEOUT = "timeout"  # the follower's last event when --timeout came before the run's end


def compact(progress: Progress, elapsed: float, budget: float | None = None) -> str:
    """`phase enforcement | 3 answers | 2 votes | 41s | $0.0012 of $0.5000`: what a terminal shows."""
    if progress.problem:
        return f"{elapsed:.0f}s | {progress.problem}"
    spent = usd(progress.cost or 0) + (f" of {usd(budget)}" if budget is not None else "")
    parts = [
        f"phase {progress.phase or '?'}",
        f"{sum(a.answers for a in progress.agents)} answers",
        f"{sum(1 for a in progress.agents if a.voted_for)} votes",
        f"{elapsed:.0f}s",
        spent,
        "REVIEW PENDING" if progress.review_pending else None,
    ]
    return " | ".join(p for p in parts if p)


class ProgressLine:
    """One line on a terminal that each `show` overwrites; `clear` before anything else is printed there."""

    def __init__(self, stream: TextIO, width: int = LINE_WIDTH) -> None:
        self.stream = stream
        self.width = width
        self.shown = False

    def show(self, text: str) -> None:
        self.stream.write(_CLEAR + one_line(text, self.width))
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write(_CLEAR)
            self.stream.flush()
            self.shown = False


@dataclass(frozen=True)
class FollowSettings:
    timeout: float  # seconds; then the follower ends with STILL_RUNNING (or REVIEW_PENDING)
    interval: float = LOOK_EVERY


# (record) -> (its state, its progress now): the caller decides how a review's decision shows.
Look = Callable[[RunRecord], tuple[str, Progress]]


def _folders(record: RunRecord) -> list[Path | None]:
    """Where a change means something new: the records folder (the run's end), the log root and the newest
    turn (a new attempt). Not the attempt folder itself: massgen's log file there changes all the time."""
    root = Path(record.log_dir) if record.log_dir else None
    return [record.path.parent, root, layout.newest_turn(root) if root else None]


def follow(
    record_path: Path,
    settings: FollowSettings,
    look: Look,
    emit: Callable[[RunEvent, Progress], None],
    pause: Waiter | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> ExitCode:
    """Emit the run's events until it ends (its outcome code) or the timeout (10, or 11: a review waits)."""
    pause = pause or waiter()
    deadline = clock() + settings.timeout
    before: Progress | None = None
    try:
        while True:
            record = records.load(record_path)
            state, progress = look(record)
            for event in derive(before, progress):
                emit(event, progress)
            before = before if progress.problem else progress
            outcome = outcome_of(record, state)
            if outcome is not None:
                emit(RunEvent(END, None, outcome.word, int(outcome.code), outcome.reason), progress)
                return outcome.code
            if clock() >= deadline:
                code = ExitCode.REVIEW_PENDING if state == records.REVIEW_PENDING else ExitCode.STILL_RUNNING
                emit(RunEvent(TIMEOUT, None, "still running: follow again", int(code)), progress)
                return code
            pause.watch(_folders(record))
            pause.wait(min(settings.interval, max(0.0, deadline - clock())))
    finally:
        pause.close()

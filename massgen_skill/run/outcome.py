"""How a run ended, decided from all the evidence — not massgen's exit code alone. The one decision that
`run`, `wait`, `result`, `status` and `runs` all report.

massgen 0.1.97 exits 0 when the team answered, but also when every agent failed, on timeout and on SIGINT
(contract §2); in web mode it then writes an empty answer file. A time limit hit is a timeout even when
massgen wrote an agent's un-voted answer as a fallback: it is offered as partial, never as the answer.
Pure: no I/O.
"""

from __future__ import annotations

import re
import signal
from dataclasses import dataclass

from massgen_skill.exitcodes import RESULT_WORDS, ExitCode
from massgen_skill.massgen.markers import strip_ansi
from massgen_skill.massgen.status import Progress

__all__ = [
    "RESULT_WORDS",
    "Evidence",
    "Outcome",
    "Spend",
    "budget_passed",
    "decide",
    "from_record",
    "lost",
    "usd",
]

TIMEOUT_FINISH = "timeout"  # status.json finish_reason when the orchestrator's time limit hit (contract §3)
LOST_REASON = "the supervising wrapper is gone (killed?); `massgen-skill stop RUN` cleans up"

_LOGURU_ERROR = re.compile(r"\|\s*ERROR\s*\|\s*(.*)$")
# uvicorn's bind failure: "[Errno 98] error while attempting to bind on address ('127.0.0.1', 8000): address
# already in use". The port is read from the line itself; the record's port is the fallback.
_BIND_FAILED = re.compile(r"address already in use", re.IGNORECASE)
_BIND_PORT = re.compile(r"bind on address \(.*?, (\d+)\)")


@dataclass(frozen=True)
class Spend:
    """What a run cost (massgen's estimate: status.json `costs.total_estimated_cost`) against its budget."""

    cost: float
    budget: float


def usd(value: float) -> str:
    """Dollars as people read them, tiny budgets included: $0.50, $0.0123, $0.00001."""
    whole, _, cents = f"{value:.6f}".rstrip("0").partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"


def budget_passed(cost: float | None, budget: float | None) -> Spend | None:
    """The spend once it is over the `--max-cost` budget; None while within it (or without a budget)."""
    if cost is None or budget is None or cost <= budget:
        return None
    return Spend(cost, budget)


@dataclass(frozen=True)
class Evidence:
    massgen_exit: int | None  # negative: killed by that signal
    stopped_by_us: bool = False
    saw_log_dir: bool = False
    answer_exists: bool = False  # an answer file with content (an empty one is no answer)
    error_line: str | None = None  # massgen's `❌ …` line
    progress: Progress | None = None
    stderr_tail: tuple[str, ...] = ()
    web_port: int | None = None  # the port massgen was told to bind (web mode)
    over_budget: Spend | None = None  # we stopped the run because its cost passed `--max-cost`


@dataclass(frozen=True)
class Outcome:
    code: ExitCode
    reason: str
    partial: bool = False  # an answer file exists, but it is not the team's answer (time limit, stop)

    @property
    def word(self) -> str:
        return RESULT_WORDS.get(self.code, self.code.name.lower())


def word_code(word: str | None) -> ExitCode | None:
    """The exit code of a `RESULT:` word (as a record stores it)."""
    return next((code for code, known in RESULT_WORDS.items() if known == word), None)


def lost() -> Outcome:
    return Outcome(ExitCode.LOST, LOST_REASON)


def from_record(exit_code: int | None, word: str | None, reason: str | None, partial: bool) -> Outcome | None:
    """The outcome a record keeps (None when it holds none: readers then decide from the evidence)."""
    code = exit_code if exit_code is not None else word_code(word)
    if code is None:
        return None
    known = ExitCode(code)
    return Outcome(known, reason or RESULT_WORDS.get(known, known.name.lower()), partial)


def _agent_errors(progress: Progress | None) -> str | None:
    if progress is None:
        return None
    failed = [
        f"{a.agent_id}: {a.error or a.status}"
        for a in progress.agents
        if a.error or a.status in ("error", "timeout")
    ]
    return "; ".join(failed) or None


def _stderr_reason(lines: tuple[str, ...]) -> str | None:
    """The last loguru ERROR line, or the last `❌`/`Error` line massgen wrote to stderr."""
    lines = tuple(strip_ansi(line) for line in lines)  # loguru colours its lines even when piped
    for line in reversed(lines):
        match = _LOGURU_ERROR.search(line)
        if match:
            return match.group(1).replace("[ERROR] ", "").strip()
    for line in reversed(lines):
        if "❌" in line or "Error" in line or line.startswith("massgen: error:"):  # the last: argparse's
            return line.strip()
    return None


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def _bind_failure(ev: Evidence) -> Outcome | None:
    """massgen's web server could not bind its port: never a time-out or a crash, its own outcome."""
    for line in reversed(ev.stderr_tail):
        if _BIND_FAILED.search(line):
            found = _BIND_PORT.search(line)
            port = found.group(1) if found else ev.web_port
            return Outcome(
                ExitCode.PORT_BUSY, f"massgen could not bind its web UI port {port}: address in use"
            )
    return None


def decide(ev: Evidence) -> Outcome:
    code = ev.massgen_exit
    if ev.over_budget is not None:
        # the stop was ours and came first: even an answer written meanwhile was paid beyond the budget
        spend = ev.over_budget
        extra = " (an answer had already been written)" if ev.answer_exists else ""
        reason = f"cost {usd(spend.cost)} passed the budget {usd(spend.budget)}: stopped{extra}"
        return Outcome(ExitCode.OVER_BUDGET, reason, ev.answer_exists)
    if ev.stopped_by_us:
        extra = " (an answer had already been written)" if ev.answer_exists else ""
        return Outcome(ExitCode.STOPPED, f"stopped on request{extra}", ev.answer_exists)
    busy = _bind_failure(ev) if not ev.answer_exists else None
    if busy is not None:
        return busy
    if ev.progress is not None and ev.progress.finish_reason == TIMEOUT_FINISH:
        # massgen still writes an un-voted answer and exits 0: the time limit decides, the answer is partial
        details = ev.progress.details or "orchestrator time limit reached"
        extra = " (massgen wrote an un-voted fallback answer)" if ev.answer_exists else ""
        return Outcome(ExitCode.TIMED_OUT, f"{details}{extra}", ev.answer_exists)
    if ev.answer_exists:
        return Outcome(ExitCode.OK, "answer produced")
    if code is not None and code < 0:
        return Outcome(ExitCode.CRASHED, f"massgen was killed by {_signal_name(code)}")
    stderr_reason = _stderr_reason(ev.stderr_tail)
    if code == 1:
        reason = ev.error_line or stderr_reason or "massgen rejected its configuration (exit 1)"
        return Outcome(ExitCode.MASSGEN_CONFIG, reason)
    if code == 2:
        if not ev.saw_log_dir and not ev.error_line:
            return Outcome(ExitCode.USAGE, stderr_reason or "massgen rejected its command line (exit 2)")
        return Outcome(ExitCode.CRASHED, ev.error_line or stderr_reason or "massgen failed (exit 2)")
    if code == 3:
        return Outcome(ExitCode.TIMED_OUT, "massgen timed out (exit 3)")
    if code == 4:
        return Outcome(ExitCode.STOPPED, "massgen was interrupted (exit 4)")
    if code not in (0, None):
        return Outcome(ExitCode.CRASHED, ev.error_line or stderr_reason or f"massgen exited with {code}")
    progress = ev.progress
    reason = _agent_errors(progress) or stderr_reason or ev.error_line
    if reason is None and progress is not None and progress.finish_reason == "in_progress":
        reason = "massgen ended while agents were still working (interrupted?)"
    return Outcome(ExitCode.NO_ANSWER, reason or "massgen ended without a winner")

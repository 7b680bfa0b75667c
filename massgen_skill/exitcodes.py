"""Every exit code massgen-skill can return, and the one error type that carries one.

This is the only place exit codes are decided. massgen's own exit code is never passed through as is:
0 from massgen also means "every agent failed", "timed out" and "interrupted" (contract §2).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # answer produced / command did what was asked
    INTERNAL = 1  # a bug in massgen-skill itself (reported in one line, never a traceback)
    USAGE = 2  # bad flags or arguments
    INVALID_INPUT = 3  # a file given to us (criteria, log dir, …) is unreadable or invalid
    NO_ANSWER = 4  # massgen ran but produced no answer (agents failed)
    ENV_NOT_READY = 5  # massgen, its config, or a dependency is missing
    MASSGEN_CONFIG = 6  # massgen rejected its configuration before starting (its exit 1)
    TIMED_OUT = 7  # the run hit its time limit
    STOPPED = 8  # the run was stopped or interrupted (signal, `stop`)
    CRASHED = 9  # massgen died unexpectedly (exception, killed)
    STILL_RUNNING = 10  # `wait` gave up before the run ended
    REVIEW_PENDING = 11  # `wait`/`run`: the team's file changes wait for a human decision
    NOT_FOUND = 12  # no such run / log dir / session
    SERVER_UNREACHABLE = 13  # review server refused the connection or timed out
    SERVER_ERROR = 14  # review server answered 4xx/5xx or something that is not JSON
    NO_REVIEW = 15  # no review is pending (already decided, timed out, or never opened)
    REFUSED = 16  # we refused to act (non-loopback URL, unknown file, finished run, …)
    PORT_BUSY = 17  # massgen could not bind its web UI port (another process took it)
    LOST = 18  # the supervising wrapper is gone (killed) while the run was active: how it ended is unknown
    OVER_BUDGET = 19  # `run --max-cost`: massgen's reported cost passed the budget, so the run was stopped


EXIT_CODE_HELP: dict[ExitCode, str] = {
    ExitCode.OK: "success: the answer was produced (or the command did what was asked)",
    ExitCode.INTERNAL: "internal error in massgen-skill (please report)",
    ExitCode.USAGE: "usage error: bad flag or argument",
    ExitCode.INVALID_INPUT: "invalid input file (criteria, status, log dir)",
    ExitCode.NO_ANSWER: "massgen ran but produced no answer (agents failed)",
    ExitCode.ENV_NOT_READY: "environment not ready: massgen, its config or a dependency is missing",
    ExitCode.MASSGEN_CONFIG: "massgen rejected its configuration",
    ExitCode.TIMED_OUT: "the run timed out",
    ExitCode.STOPPED: "the run was stopped or interrupted",
    ExitCode.CRASHED: "massgen crashed",
    ExitCode.STILL_RUNNING: "wait: the run is still going (timeout reached)",
    ExitCode.REVIEW_PENDING: "a review of file changes waits for a human decision",
    ExitCode.NOT_FOUND: "no such run, log dir or session",
    ExitCode.SERVER_UNREACHABLE: "review server unreachable",
    ExitCode.SERVER_ERROR: "review server answered with an error or non-JSON",
    ExitCode.NO_REVIEW: "no review is pending",
    ExitCode.REFUSED: "refused: the request was unsafe or does not apply",
    ExitCode.PORT_BUSY: "massgen could not bind its web UI port (taken by another process)",
    ExitCode.LOST: "lost: the supervising wrapper is gone; `massgen-skill stop RUN` cleans up",
    ExitCode.OVER_BUDGET: "over budget: the run's cost passed --max-cost and it was stopped",
}

# The word on a run's final `RESULT:` line for each way a run can end, and the exit code that goes with it.
# `run`, `wait` and `result` exit with that code; `status --json` and `runs --json` report it.
RESULT_WORDS: dict[ExitCode, str] = {
    ExitCode.OK: "ok",
    ExitCode.NO_ANSWER: "no-answer",
    ExitCode.TIMED_OUT: "timed-out",
    ExitCode.STOPPED: "stopped",
    ExitCode.CRASHED: "crashed",
    ExitCode.LOST: "lost",
    ExitCode.PORT_BUSY: "port-busy",
    ExitCode.MASSGEN_CONFIG: "config-error",
    ExitCode.USAGE: "usage-error",
    ExitCode.ENV_NOT_READY: "env-not-ready",
    ExitCode.OVER_BUDGET: "over-budget",
}

# What each final outcome means for the host agent (the README's outcome table is generated from this).
RESULT_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "the team's answer is on `ANSWER:`",
    ExitCode.USAGE: "massgen rejected its command line before starting",
    ExitCode.NO_ANSWER: "massgen ran but no answer came (agents failed; an empty answer file counts as none)",
    ExitCode.ENV_NOT_READY: "massgen could not be started (program or dependency missing)",
    ExitCode.MASSGEN_CONFIG: "massgen rejected its configuration (its exit 1)",
    ExitCode.TIMED_OUT: "the time limit hit; massgen's fallback answer, if any, is on `PARTIAL_ANSWER:`",
    ExitCode.STOPPED: "stopped (signal or `stop`); an answer written before is on `PARTIAL_ANSWER:`",
    ExitCode.CRASHED: "massgen died (exception, killed by a signal)",
    ExitCode.LOST: "the supervising wrapper was killed while the run was active; `stop RUN` cleans up",
    ExitCode.PORT_BUSY: "massgen could not bind its web UI port (another process took it); the port is named",
    ExitCode.OVER_BUDGET: "massgen's reported cost passed `--max-cost`: stopped; the best answer so far is "
    "on `PARTIAL_ANSWER:`",
}


def outcome_table() -> str:
    """The README's outcome table (markdown): every terminal state, its `RESULT:` word and exit code."""
    rows = ["| `RESULT:` | exit | meaning |", "|---|---|---|"]
    rows += [f"| `{word}` | {int(code)} | {RESULT_MEANINGS[code]} |" for code, word in RESULT_WORDS.items()]
    return "\n".join(rows)


def exit_code_table(
    codes: Iterable[ExitCode] | None = None, notes: Mapping[ExitCode, str] | None = None
) -> str:
    """The table printed in --help epilogs and the README: every code, or only `codes`; `notes` replace the
    general text of a code with what it means for one command (the number still comes from here)."""
    chosen = EXIT_CODE_HELP if codes is None else {code: EXIT_CODE_HELP[code] for code in codes}
    notes = notes or {}
    return "\n".join(f"  {int(code):>2}  {notes.get(code, text)}" for code, text in chosen.items())


class SkillError(Exception):
    """An expected failure: one line for the user and the exit code that goes with it."""

    def __init__(self, message: str, code: ExitCode = ExitCode.USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message

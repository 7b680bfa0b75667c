"""outcome.decide: every branch, from the answer file, status.json and markers — not the exit code alone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from runtools import SAMPLES

from massgen_skill.exitcodes import ExitCode
from massgen_skill.follow import results
from massgen_skill.massgen.status import AgentProgress, Progress, progress_for
from massgen_skill.run.outcome import RESULT_WORDS, Evidence, Outcome, decide

# The loguru lines of the all-agents-fail recording, ANSI colour and all (as massgen writes them to a pipe).
LOGURU_FAIL = (
    "\x1b[32m22:52:32\x1b[0m | \x1b[31m\x1b[1mERROR   \x1b[0m | \x1b[31m\x1b[1m[ERROR] orchestrator: "
    "Agent failed to use workflow tools after 3 attempts\x1b[0m",
    "\x1b[32m22:52:32\x1b[0m | \x1b[31m\x1b[1mERROR   \x1b[0m | \x1b[31m\x1b[1m[ERROR] orchestrator: "
    "❌ Unable to provide coordinated answer - no successful agents\x1b[0m",
)
NO_AGENTS_REASON = "orchestrator: ❌ Unable to provide coordinated answer - no successful agents"


def progress(
    finish: str | None = "completed", details: str | None = None, *agents: AgentProgress
) -> Progress:
    return Progress(path="/x/status.json", finish_reason=finish, details=details, agents=tuple(agents))


def agent(agent_id: str, status: str = "answered", error: str | None = None) -> AgentProgress:
    return AgentProgress(agent_id, status, 1, None, error)


# (id, evidence, expected code, text the reason must contain)
CASES = [
    # stopped by us comes first, answer or not
    ("stopped", Evidence(0, stopped_by_us=True), ExitCode.STOPPED, "stopped on request"),
    (
        "stopped-after-answer",
        Evidence(0, stopped_by_us=True, answer_exists=True),
        ExitCode.STOPPED,
        "an answer had already been written",
    ),
    ("stopped-killed", Evidence(-15, stopped_by_us=True), ExitCode.STOPPED, "stopped on request"),
    # an answer wins over any exit code
    ("answer-0", Evidence(0, saw_log_dir=True, answer_exists=True), ExitCode.OK, "answer produced"),
    ("answer-exit-2", Evidence(2, saw_log_dir=True, answer_exists=True), ExitCode.OK, "answer produced"),
    ("answer-killed", Evidence(-15, saw_log_dir=True, answer_exists=True), ExitCode.OK, "answer produced"),
    (  # the time limit decides: massgen's fallback answer is un-voted (offered as partial)
        "answer-timeout-status",
        Evidence(0, answer_exists=True, progress=progress("timeout")),
        ExitCode.TIMED_OUT,
        "un-voted fallback answer",
    ),
    # killed by a signal
    ("sigterm", Evidence(-15, saw_log_dir=True), ExitCode.CRASHED, "killed by SIGTERM"),
    ("sigkill", Evidence(-9), ExitCode.CRASHED, "killed by SIGKILL"),
    ("sigint", Evidence(-2), ExitCode.CRASHED, "killed by SIGINT"),
    ("unknown-signal", Evidence(-200), ExitCode.CRASHED, "killed by signal 200"),
    # exit 1: configuration
    (
        "config-error-line",
        Evidence(1, error_line="Configuration error: Configuration file not found: x.yaml"),
        ExitCode.MASSGEN_CONFIG,
        "Configuration file not found: x.yaml",
    ),
    (
        "config-stderr",
        Evidence(1, stderr_tail=("noise", "❌ Configuration error: No default configuration found.", "hint")),
        ExitCode.MASSGEN_CONFIG,
        "❌ Configuration error: No default configuration found.",
    ),
    (
        "config-criteria-stderr",
        Evidence(1, stderr_tail=("\x1b[31mError: --eval-criteria file not found: c.json\x1b[0m",)),
        ExitCode.MASSGEN_CONFIG,
        "Error: --eval-criteria file not found: c.json",
    ),
    ("config-bare", Evidence(1), ExitCode.MASSGEN_CONFIG, "rejected its configuration (exit 1)"),
    # exit 2: usage before LOG_DIR, crash after
    ("usage", Evidence(2), ExitCode.USAGE, "rejected its command line (exit 2)"),
    (
        "usage-stderr",
        Evidence(2, stderr_tail=("usage: massgen [-h]", "Error: incompatible mode flags")),
        ExitCode.USAGE,
        "Error: incompatible mode flags",
    ),
    (
        "crash-after-log-dir",
        Evidence(2, saw_log_dir=True, error_line="Error: 1 validation error for CoordinationConfig"),
        ExitCode.CRASHED,
        "1 validation error for CoordinationConfig",
    ),
    (
        "crash-error-line-without-log-dir",
        Evidence(2, error_line="Error: boom"),
        ExitCode.CRASHED,
        "Error: boom",
    ),
    ("crash-bare", Evidence(2, saw_log_dir=True), ExitCode.CRASHED, "massgen failed (exit 2)"),
    # exit 3, 4, others
    ("exit-3", Evidence(3, saw_log_dir=True), ExitCode.TIMED_OUT, "timed out (exit 3)"),
    ("exit-4", Evidence(4, saw_log_dir=True), ExitCode.STOPPED, "interrupted (exit 4)"),
    ("exit-5", Evidence(5), ExitCode.CRASHED, "massgen exited with 5"),
    ("exit-137", Evidence(137, error_line="Error: x"), ExitCode.CRASHED, "Error: x"),
    ("exit-127", Evidence(127, stderr_tail=("sh: massgen: Error not found",)), ExitCode.CRASHED, "not found"),
    # exit 0 without an answer
    (
        "timeout",
        Evidence(0, saw_log_dir=True, progress=progress("timeout", "Time limit exceeded (30.1s/30s)")),
        ExitCode.TIMED_OUT,
        "Time limit exceeded (30.1s/30s)",
    ),
    (
        "timeout-no-details",
        Evidence(0, saw_log_dir=True, progress=progress("timeout")),
        ExitCode.TIMED_OUT,
        "orchestrator time limit reached",
    ),
    (
        "agent-error",
        Evidence(
            0,
            saw_log_dir=True,
            progress=progress(
                "error", None, agent("agent_a", "error", "rate limit exceeded"), agent("agent_b")
            ),
            stderr_tail=LOGURU_FAIL,
        ),
        ExitCode.NO_ANSWER,
        "agent_a: rate limit exceeded",
    ),
    (
        "agent-timeout-status",
        Evidence(0, saw_log_dir=True, progress=progress("error", None, agent("agent_b", "timeout"))),
        ExitCode.NO_ANSWER,
        "agent_b: timeout",
    ),
    (
        "all-agents-fail-stderr",
        Evidence(0, saw_log_dir=True, progress=None, stderr_tail=LOGURU_FAIL),
        ExitCode.NO_ANSWER,
        NO_AGENTS_REASON,
    ),
    (
        "sigint-left-in-progress",
        Evidence(0, saw_log_dir=True, progress=progress("in_progress")),
        ExitCode.NO_ANSWER,
        "still working (interrupted?)",
    ),
    ("error-line-only", Evidence(0, error_line="Error: odd"), ExitCode.NO_ANSWER, "Error: odd"),
    ("nothing", Evidence(0), ExitCode.NO_ANSWER, "massgen ended without a winner"),
    ("exit-unknown", Evidence(None), ExitCode.NO_ANSWER, "massgen ended without a winner"),
]


@pytest.mark.parametrize(("evidence", "code", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_decide(evidence: Evidence, code: ExitCode, reason: str) -> None:
    outcome = decide(evidence)
    assert outcome.code == code
    assert reason in outcome.reason
    assert "\x1b" not in outcome.reason


def test_agent_errors_are_all_listed_and_beat_stderr() -> None:
    ev = Evidence(
        0,
        progress=progress(
            "error", None, agent("agent_a", "error", "bad key"), agent("agent_b", "error"), agent("agent_c")
        ),
        stderr_tail=LOGURU_FAIL,
    )
    assert decide(ev).reason == "agent_a: bad key; agent_b: error"


def test_last_loguru_error_line_wins_and_is_cleaned() -> None:
    reason = decide(Evidence(0, stderr_tail=LOGURU_FAIL)).reason
    assert reason == NO_AGENTS_REASON  # [ERROR] prefix and colour codes removed


def test_loguru_line_beats_a_later_error_word() -> None:
    tail = (*LOGURU_FAIL, "Traceback ... KeyError: \"'exception_type'\" Error")
    assert decide(Evidence(0, stderr_tail=tail)).reason == NO_AGENTS_REASON


def test_the_recorded_all_agents_fail_run(tmp_path: Path) -> None:
    sample = SAMPLES / "all-agents-fail"
    root_src = next((sample / "project" / ".massgen" / "massgen_logs").glob("log_*"))
    root = tmp_path / root_src.name
    shutil.copytree(root_src, root)
    stderr = tuple((sample / "stderr.txt").read_text(encoding="utf-8").splitlines())
    exit_code = int((sample / "exit_code").read_text().strip())
    found = results.find(root)
    outcome = decide(
        Evidence(
            massgen_exit=exit_code,
            saw_log_dir=True,
            answer_exists=found.answer_path is not None,
            progress=progress_for(root),
            stderr_tail=stderr[-80:],
        )
    )
    assert exit_code == 0
    assert outcome == Outcome(ExitCode.NO_ANSWER, NO_AGENTS_REASON)
    assert outcome.word == "no-answer"


@pytest.mark.parametrize("sample", ["multi", "cwd-rw-headless", "web-review"])
def test_the_recorded_successful_runs(tmp_path: Path, sample: str) -> None:
    root_src = next((SAMPLES / sample / "project" / ".massgen" / "massgen_logs").glob("log_*"))
    root = tmp_path / root_src.name
    shutil.copytree(root_src, root, symlinks=True)
    found = results.find(root)
    evidence = Evidence(0, saw_log_dir=True, answer_exists=found.answer_path is not None)
    assert decide(evidence) == Outcome(ExitCode.OK, "answer produced")


@pytest.mark.parametrize(
    ("code", "word"),
    [
        (ExitCode.OK, "ok"),
        (ExitCode.NO_ANSWER, "no-answer"),
        (ExitCode.USAGE, "usage-error"),
        (ExitCode.ENV_NOT_READY, "env-not-ready"),
        (ExitCode.MASSGEN_CONFIG, "config-error"),
        (ExitCode.TIMED_OUT, "timed-out"),
        (ExitCode.STOPPED, "stopped"),
        (ExitCode.CRASHED, "crashed"),
        (ExitCode.INTERNAL, "internal"),  # not in the table: the enum name
    ],
)
def test_words(code: ExitCode, word: str) -> None:
    assert Outcome(code, "r").word == word


def test_every_outcome_decide_can_return_has_a_word() -> None:
    codes = {decide(c[1]).code for c in CASES}
    assert codes <= set(RESULT_WORDS)

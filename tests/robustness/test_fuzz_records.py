"""Generated run records (hand-edited, foreign, torn, hostile) through runs/status/wait/result/stop/review.

A record is only a file: whatever it holds, each command ends as a documented code without a traceback, and no
signal ever goes to a process group or pid the record could not own (0, -1, 1: "every process", "my group",
init). Signals are intercepted here, never delivered.
"""

from __future__ import annotations

import json
import os
import signal
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from robust_util import Project, assert_clean, dead_pid, fuzz, invoke_bounded, make_log_dir

from massgen_skill.exitcodes import ExitCode
from massgen_skill.run import records

RUN_ID = "20261125-101500-aaaaaa"
STATES = st.sampled_from(
    [*sorted(records.ACTIVE_STATES), records.FINISHED, records.STOPPED, records.LOST, "x"]
)
ODD = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=10)
    | st.lists(st.integers(), max_size=2)
)
TIMES = st.sampled_from([1.7e9, 1.7e9, 0.0, -1.0, 1e300, float("inf"), float("nan"), 2**70, "yesterday"])
# "gone": a pid that has exited. 0, -1 and 1 address our group, every process, init: never a run's own.
PIDS = st.sampled_from(["gone", None, "gone", 0, -1, 1, 2**31, 2**63, "1", 1.5, True])


@pytest.fixture
def signals(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, int]]:
    """Record every signal a command tries to send; deliver none (signal 0, a liveness probe, is harmless)."""
    sent: list[tuple[str, int, int]] = []
    real_kill, real_killpg = os.kill, os.killpg

    def kill(pid: int, signum: int) -> None:
        if signum == 0:
            return real_kill(pid, 0)
        sent.append(("kill", pid, signum))
        raise ProcessLookupError

    def killpg(pgid: int, signum: int) -> None:
        if signum == 0:
            return real_killpg(pgid, 0)
        sent.append(("killpg", pgid, signum))
        raise ProcessLookupError

    monkeypatch.setattr(os, "kill", kill)
    monkeypatch.setattr(os, "killpg", killpg)
    return sent


@st.composite
def record_documents(draw: st.DrawFn, project: str, log_dir: str, gone: int) -> Any:
    """Mostly plausible values (so the commands get past loading), each field sometimes odd or hostile."""

    def field(good: st.SearchStrategy[Any]) -> Any:
        return draw(ODD) if draw(st.integers(0, 7)) == 0 else draw(good)

    document: dict[str, Any] = {
        "run_id": RUN_ID if draw(st.integers(0, 7)) else draw(ODD),
        "project_dir": field(st.sampled_from([project, "/nonexistent"])),
        "created_at": field(TIMES),
        "state": field(STATES),
        "wrapper_pid": field(PIDS.map(lambda p: gone if p == "gone" else p)),
        "wrapper_start": field(st.sampled_from([None, 1])),
        "pid": field(PIDS.map(lambda p: gone if p == "gone" else p)),
        "pgid": field(PIDS.map(lambda p: gone if p == "gone" else p)),
        "log_dir": field(st.sampled_from([log_dir, "/nonexistent/log_x", "", None, "relative/log_1"])),
        "answer_path": field(st.sampled_from([None, "/etc/hostname", f"{log_dir}/nope.txt"])),
        "exit_code": field(st.sampled_from([None, 0, 4, 99, -1])),
        "outcome": field(st.sampled_from([None, "ok", "crashed"])),
        "ended_at": field(TIMES | st.none()),
        "web": field(st.booleans()),
        "web_port": field(st.sampled_from([None, 1, 0, 70000])),
        "review_gate": field(st.booleans()),
        "reviews": field(st.sampled_from([[], [{}]])),
    }
    for key in draw(st.lists(st.sampled_from(sorted(document)), max_size=2)):
        document.pop(key, None)  # fields left out
    if draw(st.booleans()):
        document[draw(st.text(max_size=8))] = draw(ODD)  # a field from another version
    return document


@st.composite
def record_bytes(draw: st.DrawFn, project: str, log_dir: str, gone: int) -> bytes:
    whole = json.dumps(draw(record_documents(project, log_dir, gone))).encode()
    kind = draw(st.sampled_from(["whole", "whole", "whole", "truncated", "binary", "huge-int", "deep"]))
    if kind == "truncated":
        return whole[: draw(st.integers(0, len(whole)))]
    if kind == "binary":
        return draw(st.binary(max_size=100))
    if kind == "huge-int":
        return whole.replace(b'"run_id"', b'"wrapper_pid": ' + b"7" * 5000 + b', "run_id"', 1)
    if kind == "deep":
        return b'{"run_id": "' + RUN_ID.encode() + b'", "reviews": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    return whole


COMMANDS = [
    ["runs"],
    ["runs", "--json"],
    ["status", RUN_ID],
    ["status", "--json"],
    ["wait", "--timeout", "0.2"],
    ["result"],
    ["result", "--json", RUN_ID],
    ["stop", "--grace", "0.1"],
    ["review", "show"],
    ["review", "approve", RUN_ID, "--url", "http://127.0.0.1:1"],
    ["watch-review", "--timeout", "0.3", "--poll-interval", "0.05"],
]


@fuzz(60)
@given(data=st.data())
def test_damaged_records(
    scratch_project: Project, signals: list[tuple[str, int, int]], data: st.DataObject
) -> None:
    signals.clear()  # the fixture is shared by every example
    root = scratch_project.root
    log_dir = make_log_dir(root, answer="the answer")
    gone = dead_pid()
    raw = data.draw(record_bytes(str(root), str(log_dir), gone), label="record")
    path = scratch_project.write(f".massgen/skill_runs/{RUN_ID}.json", raw)
    for argv in COMMANDS:
        path.write_bytes(raw)  # `stop` may have rewritten it
        called = invoke_bounded(argv, seconds=30)
        event(f"exit code {called.code}")  # shown by --hypothesis-show-statistics
        assert_clean(called, None, (argv, raw[:300]))
    bad = [
        (how, pid, signum) for how, pid, signum in signals if pid <= 1 or pid in (os.getpid(), os.getpgrp())
    ]
    assert bad == [], raw[:300]
    assert all(signum in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL) for _, _, signum in signals)


@pytest.mark.parametrize("field", ["wrapper_pid", "pid", "pgid"])
@pytest.mark.parametrize("value", [0, -1, 1, 2**31])
def test_a_record_with_an_impossible_pid_is_damaged(scratch_project: Project, field: str, value: int) -> None:
    record = records.RunRecord(RUN_ID, str(scratch_project.root), 1.7e9, state=records.RUNNING)
    setattr(record, field, value)
    records.save(record)
    with pytest.raises(records.SkillError) as info:
        records.load(record.path)
    assert info.value.code == ExitCode.INVALID_INPUT


@fuzz(40)
@given(
    state=st.sampled_from(sorted(records.ACTIVE_STATES)),
    wrapper_pid=PIDS,
    pid=PIDS,
    pgid=PIDS,
    argv=st.sampled_from([["stop", "--grace", "0.1"], ["wait", "--timeout", "0.1"], ["status"], ["runs"]]),
)
def test_stop_never_signals_a_pid_a_run_cannot_own(
    scratch_project: Project,
    signals: list[tuple[str, int, int]],
    state: str,
    wrapper_pid: object,
    pid: object,
    pgid: object,
    argv: list[str],
) -> None:
    signals.clear()  # the fixture is shared by every example
    gone = dead_pid()
    document = {
        "run_id": RUN_ID,
        "project_dir": str(scratch_project.root),
        "created_at": 1.7e9,
        "state": state,
        "wrapper_pid": gone if wrapper_pid == "gone" else wrapper_pid,
        "wrapper_start": None,
        "pid": gone if pid == "gone" else pid,
        "pgid": gone if pgid == "gone" else pgid,
    }
    scratch_project.write(f".massgen/skill_runs/{RUN_ID}.json", json.dumps(document))
    called = invoke_bounded(argv, seconds=30)
    event(f"exit code {called.code}")  # shown by --hypothesis-show-statistics
    assert_clean(called, None, (argv, document))
    assert [s for s in signals if s[1] <= 1 or s[1] in (os.getpid(), os.getpgrp())] == [], document

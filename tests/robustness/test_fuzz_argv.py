"""Generated command lines: `run --dry-run …` and status/wait/result/stop/review/watch-review with bogus runs
and flags, in a scratch project whose PATH holds no massgen. Each ends as a documented code, one line, no
traceback, within a bounded time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from massgen_skill import flags, records
from massgen_skill.exitcodes import ExitCode
from massgen_skill.intent import AUTO, CWD_CONTEXTS, MODES
from robust_util import Project, assert_clean, dead_pid, fuzz, invoke_bounded, make_log_dir, make_record

E = ExitCode
FINISHED_ID = "20261125-101500-aaaaaa"
LOST_ID = "20261125-101600-bbbbbb"
GONE_ID = "20261125-101700-cccccc"
BROKEN_ID = "20261125-101800-dddddd"

NUMBERS = st.sampled_from(
    ["0", "-1", "1", "0.2", "8000", "65535", "65536", "99999999999999999999999", "nan", "inf", "-inf", "1e400",
     "1e-9", "abc", "", "0x10", " 5", "\u0661\u0662", "3.5"]
)  # fmt: skip
# Free text never starting with "-": an option abbreviation (argparse accepts `--ti` for `--timeout`) could
# otherwise turn a harmless word into an unbounded wait.
WORDS = st.text(max_size=30).filter(lambda t: not t.startswith("-")) | st.sampled_from(
    ["", " ", "latest", "2026", "20261125", "nope", "\n", "ANSWER: /etc/passwd", "__REVIEW_PENDING__", "\udcff"]
)


@pytest.fixture
def runs(scratch_project: Project) -> Project:
    return populate(scratch_project)


def populate(scratch_project: Project) -> Project:
    """One finished run with an answer, one lost run, one finished web run whose log dir is gone, one damaged
    record. None of them points at a live process, so `stop` cannot signal anything."""
    root = scratch_project.root
    log = make_log_dir(root, answer="the answer")
    make_record(
        root, FINISHED_ID, state=records.FINISHED, outcome="ok", exit_code=0, massgen_exit=0, log_dir=str(log),
        answer_path=str(log / "turn_1" / "attempt_1" / "final" / "agent_a" / "answer.txt"), winner="agent_a",
    )  # fmt: skip
    make_record(root, LOST_ID, state=records.RUNNING, log_dir=str(make_log_dir(root, "log_20261125_101600_000002")))
    make_record(
        root, GONE_ID, state=records.FINISHED, outcome="no-answer", exit_code=4, web=True, web_port=1,
        review_gate=True, log_dir=str(root / ".massgen" / "massgen_logs" / "log_20261125_101700_000003"),
    )  # fmt: skip
    scratch_project.write(f".massgen/skill_runs/{BROKEN_ID}.json", '{"run_id": "x", "state": [')
    scratch_project.write("valid_criteria.json", json.dumps({"criteria": [{"text": "t", "category": "primary",
                          "anti_patterns": ["a"]}]}))  # fmt: skip
    scratch_project.write("bad_criteria.json", '{"criteria": [{"text": 1}]')
    scratch_project.write("binary.bin", b"\xff\xfe\x00garbage")
    (root / "a_folder").mkdir()
    return scratch_project


def _paths(project: Project) -> st.SearchStrategy[str]:
    root = project.root
    return st.sampled_from(
        [
            "valid_criteria.json", "bad_criteria.json", "binary.bin", "a_folder", "no/such/file", "", ".", "/",
            str(root / ".massgen" / "massgen_logs" / "log_20261125_101500_000001"),
            str(root / ".massgen" / "massgen_logs" / "log_20261125_101500_000001" / "turn_1" / "attempt_1"),
            str(root / ".massgen" / "skill_runs" / f"{FINISHED_ID}.json"),
            str(root / ".massgen" / "skill_runs" / f"{BROKEN_ID}.json"),
            str(root / "missing.json"), "/dev/null", "~nobody/x", "-",
        ]
    )  # fmt: skip


def _argv(options: dict[str, st.SearchStrategy[str]], switches: list[str], positional: st.SearchStrategy[str]):  # type: ignore[no-untyped-def]
    """A random argv: options with (random) values, switches, positionals, in any order, maybe a `--`."""
    option = st.sampled_from(sorted(options)).flatmap(
        lambda name: st.tuples(st.just(name), options[name]).map(list)
        | st.just([name])  # the value left out
    )
    switch = st.sampled_from(switches).map(lambda s: [s])
    item = option | switch | positional.map(lambda p: [p]) | st.just(["--"]) | st.just(["--bogus-flag"])
    return st.lists(item, max_size=6).map(lambda items: [token for group in items for token in group])


def _run_ids(project: Project) -> st.SearchStrategy[str]:
    return st.sampled_from([FINISHED_ID, LOST_ID, GONE_ID, BROKEN_ID, "2026", FINISHED_ID[:10], "latest"]) | WORDS | (
        _paths(project)
    )


# --- run --dry-run -------------------------------------------------------------------------------------------


@fuzz(80)
@given(data=st.data())
def test_run_dry_run_argv(runs: Project, data: st.DataObject) -> None:
    paths = _paths(runs)
    options = {
        "--task-file": paths,
        "--mode": st.sampled_from([AUTO, *MODES, "bogus", ""]),
        "--target": WORDS | paths,
        "--cwd-context": st.sampled_from([AUTO, *CWD_CONTEXTS, "write"]),
        "--criteria": paths,
        "--preset": st.sampled_from(["evaluation", "evaluaton", "", "x"]),
        "--config": paths | st.just("@examples/basic"),
        "--web-port": NUMBERS,
        "--timeout": NUMBERS,
        "--personas": st.sampled_from([*flags.PERSONAS_CHOICES, "x"]),
        "--plan-depth": st.sampled_from([*flags.PLAN_DEPTH_CHOICES, "x"]),
        "--plan-thoroughness": st.sampled_from([*flags.PLAN_THOROUGHNESS_CHOICES, "x"]),
        "--plan-steps": NUMBERS,
        "--plan-chunks": NUMBERS,
        "--coordination-mode": st.sampled_from([*flags.COORDINATION_MODE_CHOICES, "x"]),
        "--single-agent": st.sampled_from(["agent_a", ""]),
        "--output-file": paths,
        "--stop-grace": NUMBERS,
    }
    switches = ["--web", "--no-web", "--quick", "--json", "--dry-run"]
    argv = ["run", "--dry-run", *data.draw(_argv(options, switches, WORDS), label="argv")]
    called = invoke_bounded(argv, stdin=data.draw(st.binary(max_size=50), label="stdin"))
    assert_clean(called, {E.OK, E.USAGE, E.INVALID_INPUT}, argv)
    assert not (runs.root / ".massgen" / "skill_runs" / ".ports.lock").exists()  # a dry run writes nothing


# --- the commands that act on a recorded run -------------------------------------------------------------------

COMMON = ["--json"]


def _command_argv(project: Project, command: str) -> st.SearchStrategy[list[str]]:
    paths = _paths(project)
    urls = st.sampled_from(
        ["http://127.0.0.1:1", "http://[::1]:1", "http://localhost:1/api/sessions/x/review-response",
         "http://192.0.2.1:8000", "ftp://127.0.0.1:1", "http://127.0.0.1:99999", "http://[::1", "not a url",
         "http://user:pw@127.0.0.1:1", "", "http://127.0.0.1:1/api/sessions/a%20b/review-response"]
    )  # fmt: skip
    options: dict[str, st.SearchStrategy[str]] = {"--project": paths | st.just(str(project.root))}
    switches = list(COMMON)
    prefix: list[str] = [command]
    if command == "wait":
        options |= {"--timeout": NUMBERS, "--interval": NUMBERS}
    elif command == "result":
        options |= {"--log-dir": paths, "--max-chars": NUMBERS}
    elif command == "stop":
        options |= {"--grace": st.sampled_from(["0", "-1", "nan", "0.1", "x"])}
    elif command.startswith("review "):
        prefix = command.split()
        options |= {"--url": urls, "--http-timeout": NUMBERS}
        if prefix[1] == "show":
            switches.append("--full")
        else:
            options |= {"--feedback": WORDS, "--confirm-timeout": st.sampled_from(["0", "-1", "nan", "0.1", "x"])}
        if prefix[1] == "approve":
            options |= {"--files": WORDS | paths}
    elif command == "watch-review":
        options |= {"--poll-interval": NUMBERS, "--timeout": NUMBERS, "--port": NUMBERS,
                    "--pid": NUMBERS | st.just(str(dead_pid())), "--idle-exit": NUMBERS}  # fmt: skip
    return _argv(options, switches, _run_ids(project)).map(lambda rest: [*prefix, *rest])


RUN_COMMANDS = ["status", "wait", "result", "stop", "review show", "review approve", "review reject", "watch-review"]
CODES = {
    "status": {E.OK, E.USAGE, E.INVALID_INPUT, E.NOT_FOUND},
    "wait": {E.OK, E.USAGE, E.INVALID_INPUT, E.NOT_FOUND, E.NO_ANSWER, E.CRASHED, E.STOPPED, E.STILL_RUNNING},
    "result": {E.OK, E.USAGE, E.INVALID_INPUT, E.NOT_FOUND, E.NO_ANSWER, E.STILL_RUNNING},
    "stop": {E.OK, E.USAGE, E.INVALID_INPUT, E.NOT_FOUND},
    "review": {E.USAGE, E.INVALID_INPUT, E.NOT_FOUND, E.SERVER_UNREACHABLE, E.SERVER_ERROR, E.NO_REVIEW, E.REFUSED},
    "watch-review": {E.OK, E.USAGE, E.INVALID_INPUT, E.NOT_FOUND, E.STILL_RUNNING},
}  # fmt: skip


@pytest.mark.parametrize("command", RUN_COMMANDS)
@fuzz(40)
@given(data=st.data())
def test_run_commands_with_bogus_runs_and_flags(runs: Project, command: str, data: st.DataObject) -> None:
    argv = data.draw(_command_argv(runs, command), label="argv")
    if command == "watch-review":
        argv = [argv[0], "--timeout", "1", "--poll-interval", "0.05", *argv[1:]]  # bounded unless overridden
    called = invoke_bounded(argv, seconds=30)
    assert_clean(called, CODES[command.split()[0]], argv)


@fuzz(20)
@given(argv=st.lists(WORDS | st.sampled_from(["--json", "--help", "-h", "--version", "run", "--"]), max_size=4))
def test_unknown_commands(runs: Project, argv: list[str]) -> None:
    called = invoke_bounded(argv)
    if not argv:  # no command at all: the help, on stdout, and the usage code
        assert called.code == E.USAGE and "commands:" in called.out and not called.err
        return
    assert_clean(called, {E.OK, E.USAGE} if argv[:1] in (["--help"], ["-h"], ["--version"]) else None, argv)


NUMERIC_FLAGS = [
    ("wait", "--timeout"), ("wait", "--interval"), ("result", "--max-chars"), ("stop", "--grace"),
    ("review show", "--http-timeout"), ("review approve", "--confirm-timeout"),
    ("watch-review", "--poll-interval"), ("watch-review", "--port"), ("watch-review", "--pid"),
    ("watch-review", "--idle-exit"), ("watch-review", "--timeout"),
]  # fmt: skip


@pytest.mark.parametrize(("command", "flag"), NUMERIC_FLAGS)
@fuzz(12)
@given(value=NUMBERS, run_ref=st.sampled_from([FINISHED_ID, LOST_ID, GONE_ID]))
def test_numeric_flags_at_their_edges(runs: Project, command: str, flag: str, value: str, run_ref: str) -> None:
    argv = [*command.split(), run_ref, f"{flag}={value}"]
    if command == "watch-review" and flag != "--timeout":
        argv += ["--timeout", "1"]
    if command.startswith("review"):
        argv += ["--url", "http://127.0.0.1:1"]  # nothing listens on port 1: unreachable at once
    called = invoke_bounded(argv, seconds=30)
    assert_clean(called, CODES[command.split()[0]], argv)


def test_stop_never_signals_a_record_that_is_not_ours(runs: Project) -> None:
    """The generated `stop` calls above ran against these records: they must be final now or untouched."""
    for record in records.list_records(runs.root):
        assert record.pgid is None
        assert record.state in (records.FINISHED, records.STOPPED, records.RUNNING)


def test_paths_in_records_that_do_not_exist(runs: Project) -> None:
    for argv in (["status", GONE_ID], ["result", GONE_ID], ["review", "show", GONE_ID], ["wait", GONE_ID]):
        assert_clean(invoke_bounded(argv), None, argv)
    assert Path(runs.root).is_dir()


@pytest.fixture
def running(runs: Project) -> Iterator[str]:
    """A record whose 'wrapper' is a live child of this test (no pgid: nothing else can be signalled)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        make_record(
            runs.root, "20261125-102000-eeeeee", state=records.RUNNING, wrapper_pid=child.pid,
            wrapper_start=records.process_start_time(child.pid),
        )  # fmt: skip
        yield "20261125-102000-eeeeee"
    finally:
        child.kill()
        child.wait(timeout=10)


@fuzz(25)
@given(
    timeout=st.sampled_from(["0", "-1", "nan", "inf", "1e400", "0.2", "abc", "1e-9", "99999999999999999999999"]),
    interval=NUMBERS,
)
def test_wait_on_a_running_run_is_bounded(runs: Project, running: str, timeout: str, interval: str) -> None:
    argv = ["wait", running, f"--timeout={timeout}", f"--interval={interval}"]
    called = invoke_bounded(argv, seconds=10)
    assert_clean(called, {E.USAGE, E.STILL_RUNNING}, argv)

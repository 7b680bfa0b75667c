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
from hypothesis import event, given
from hypothesis import strategies as st
from robust_util import Project, assert_clean, dead_pid, fuzz, invoke_bounded, make_log_dir, make_record

from massgen_skill.exitcodes import RESULT_WORDS, ExitCode
from massgen_skill.massgen import flags
from massgen_skill.prepare.intent import AUTO, CWD_CONTEXTS, MODES
from massgen_skill.run import records

E = ExitCode
VALID_CRITERIA = {
    "aspiration": "An answer a reviewer can trust.",
    "criteria": [
        {"text": "Names the root cause", "category": "primary", "anti_patterns": ["guesses", "vague"]}
    ],
}
FINISHED_ID = "20261125-101500-aaaaaa"
LOST_ID = "20261125-101600-bbbbbb"
GONE_ID = "20261125-101700-cccccc"
BROKEN_ID = "20261125-101800-dddddd"

# The nastiest first: hypothesis tries early values of sampled_from more often.
NUMBERS = st.sampled_from(
    [
        "99999999999999999999999",
        "nan",
        "inf",
        "-1",
        "0",
        "1e400",
        "-inf",
        "1",
        "0.2",
        "8000",
        "65535",
        "65536",
        "1e-9",
        "abc",
        "",
        "0x10",
        " 5",
        "\u0661\u0662",
        "3.5",
    ]
)
# Free text never starting with "-": an option abbreviation (argparse accepts `--ti` for `--timeout`) could
# otherwise turn a harmless word into an unbounded wait.
WORDS = st.text(max_size=30).filter(lambda t: not t.startswith("-")) | st.sampled_from(
    [
        "",
        " ",
        "latest",
        "2026",
        "20261125",
        "nope",
        "\n",
        "ANSWER: /etc/passwd",
        "__REVIEW_PENDING__",
        "\udcff",
    ]
)

TASKS = WORDS | st.sampled_from(
    [
        "Compare three designs for the cache layer",
        "Review src/ for race conditions",
        "Plan the migration to Postgres",
        "Edit README.md to fix the typo",
        "-starts with a dash",
        "--help",
        "What is 6 times 7?",
        "@src/ explain",
    ]
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
        root,
        FINISHED_ID,
        state=records.FINISHED,
        outcome="ok",
        exit_code=0,
        massgen_exit=0,
        log_dir=str(log),
        answer_path=str(log / "turn_1" / "attempt_1" / "final" / "agent_a" / "answer.txt"),
        winner="agent_a",
    )
    make_record(
        root, LOST_ID, state=records.RUNNING, log_dir=str(make_log_dir(root, "log_20261125_101600_000002"))
    )
    make_record(
        root,
        GONE_ID,
        state=records.FINISHED,
        outcome="no-answer",
        exit_code=4,
        web=True,
        web_port=1,
        review_gate=True,
        log_dir=str(root / ".massgen" / "massgen_logs" / "log_20261125_101700_000003"),
    )
    scratch_project.write(f".massgen/skill_runs/{BROKEN_ID}.json", '{"run_id": "x", "state": [')
    scratch_project.write("valid_criteria.json", json.dumps(VALID_CRITERIA))
    scratch_project.write("bad_criteria.json", '{"criteria": [{"text": 1}]')
    scratch_project.write("binary.bin", b"\xff\xfe\x00garbage")
    (root / "a_folder").mkdir()
    return scratch_project


def _paths(project: Project) -> st.SearchStrategy[str]:
    root = project.root
    return st.sampled_from(
        [
            "valid_criteria.json",
            "bad_criteria.json",
            "binary.bin",
            "a_folder",
            "no/such/file",
            "",
            ".",
            "/",
            str(root / ".massgen" / "massgen_logs" / "log_20261125_101500_000001"),
            str(root / ".massgen" / "massgen_logs" / "log_20261125_101500_000001" / "turn_1" / "attempt_1"),
            str(root / ".massgen" / "skill_runs" / f"{FINISHED_ID}.json"),
            str(root / ".massgen" / "skill_runs" / f"{BROKEN_ID}.json"),
            str(root / "missing.json"),
            "/dev/null",
            "~nobody/x",
            "-",
        ]
    )


def _argv(  # type: ignore[no-untyped-def]
    options: dict[str, st.SearchStrategy[str]],
    switches: list[str],
    positional: st.SearchStrategy[str],
    positional_required: bool = False,
):
    """A random argv. Two thirds well-formed (options with values, then maybe `--`, then a positional), so the
    command gets past argparse; one third chaos (any order, values left out, unknown flags)."""
    pair = st.sampled_from(sorted(options)).flatmap(
        lambda name: st.tuples(st.just(name), options[name]).map(list)
    )
    switch = st.sampled_from(switches).map(lambda s: [s])
    flat = lambda groups: [token for group in groups for token in group]  # noqa: E731
    ordered = st.tuples(
        st.lists(pair | switch, max_size=4).map(flat),
        st.sampled_from([[], [], ["--"]]),
        st.lists(positional, min_size=1, max_size=1) | st.just(["a task"] if positional_required else []),
    ).map(lambda parts: parts[0] + (parts[1] if parts[2] else []) + parts[2])
    missing = st.sampled_from(sorted(options)).map(lambda name: [name])  # an option whose value is left out
    chaos_item = (
        pair | switch | missing | positional.map(lambda p: [p]) | st.sampled_from([["--"], ["--bogus"]])
    )
    chaos = st.lists(chaos_item, max_size=6).map(flat)
    return st.one_of(ordered, ordered, chaos)


def _run_ids(project: Project) -> st.SearchStrategy[str]:
    return (
        st.sampled_from([FINISHED_ID, LOST_ID, GONE_ID, BROKEN_ID, "2026", FINISHED_ID[:10], "latest"])
        | WORDS
        | (_paths(project))
    )


# --- run --dry-run ------------------------------------------------------------------------------------------


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
    argv = [
        "run",
        "--dry-run",
        *data.draw(_argv(options, switches, TASKS, positional_required=True), label="argv"),
    ]
    called = invoke_bounded(argv, stdin=data.draw(st.binary(max_size=50), label="stdin"))
    event(f"exit code {called.code}")  # shown by --hypothesis-show-statistics
    # ENV_NOT_READY: a dry run makes the real run's pre-flight checks (massgen, config, uv)
    assert_clean(called, {E.OK, E.USAGE, E.INVALID_INPUT, E.ENV_NOT_READY}, argv)
    folder = runs.root / ".massgen" / "skill_runs"
    assert (
        len(list(folder.glob("*.json"))) == 4 and not (folder / ".ports.lock").exists()
    )  # a dry run writes nothing


# --- the commands that act on a recorded run ----------------------------------------------------------------

COMMON = ["--json"]


def _command_argv(project: Project, command: str) -> st.SearchStrategy[list[str]]:
    paths = _paths(project)
    urls = st.sampled_from(
        [
            "http://127.0.0.1:1",
            "http://[::1]:1",
            "http://localhost:1/api/sessions/x/review-response",
            "http://192.0.2.1:8000",
            "ftp://127.0.0.1:1",
            "http://127.0.0.1:99999",
            "http://[::1",
            "not a url",
            "http://user:pw@127.0.0.1:1",
            "",
            "http://127.0.0.1:1/api/sessions/a%20b/review-response",
        ]
    )
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
            options |= {
                "--feedback": WORDS,
                "--confirm-timeout": st.sampled_from(["0", "-1", "nan", "0.1", "x"]),
            }
        if prefix[1] == "approve":
            options |= {"--files": WORDS | paths}
    elif command == "watch-review":
        options |= {
            "--poll-interval": NUMBERS,
            "--timeout": NUMBERS,
            "--port": NUMBERS,
            "--pid": NUMBERS | st.just(str(dead_pid())),
            "--idle-exit": NUMBERS,
        }
    return _argv(options, switches, _run_ids(project)).map(lambda rest: [*prefix, *rest])


RUN_COMMANDS = [
    "status",
    "wait",
    "result",
    "stop",
    "review show",
    "review approve",
    "review reject",
    "watch-review",
]
OUTCOME_CODES = set(RESULT_WORDS)  # wait and result exit with the run's own outcome code
CODES = {
    "status": {E.OK, E.USAGE, E.INVALID_INPUT, E.NOT_FOUND},
    "wait": {E.OK, E.USAGE, E.INVALID_INPUT, E.NOT_FOUND, E.STILL_RUNNING, *OUTCOME_CODES},
    "result": {E.OK, E.USAGE, E.INVALID_INPUT, E.NOT_FOUND, E.STILL_RUNNING, *OUTCOME_CODES},
    "stop": {E.OK, E.USAGE, E.INVALID_INPUT, E.NOT_FOUND},
    "review": {
        E.USAGE,
        E.INVALID_INPUT,
        E.NOT_FOUND,
        E.SERVER_UNREACHABLE,
        E.SERVER_ERROR,
        E.NO_REVIEW,
        E.REFUSED,
    },
    "watch-review": {E.OK, E.USAGE, E.INVALID_INPUT, E.NOT_FOUND, E.STILL_RUNNING},
}


@pytest.mark.parametrize("command", RUN_COMMANDS)
@fuzz(40)
@given(data=st.data())
def test_run_commands_with_bogus_runs_and_flags(runs: Project, command: str, data: st.DataObject) -> None:
    argv = data.draw(_command_argv(runs, command), label="argv")
    if command == "watch-review":
        argv = [argv[0], "--timeout", "1", "--poll-interval", "0.05", *argv[1:]]  # bounded unless overridden
    called = invoke_bounded(argv, seconds=30)
    event(f"exit code {called.code}")  # shown by --hypothesis-show-statistics
    assert_clean(called, CODES[command.split()[0]], argv)


@fuzz(20)
@given(
    argv=st.lists(WORDS | st.sampled_from(["--json", "--help", "-h", "--version", "run", "--"]), max_size=4)
)
def test_unknown_commands(runs: Project, argv: list[str]) -> None:
    called = invoke_bounded(argv)
    if not argv:  # no command at all: the help, on stdout, and the usage code
        assert called.code == E.USAGE and "commands:" in called.out and not called.err
        return
    assert_clean(called, {E.OK, E.USAGE} if argv[:1] in (["--help"], ["-h"], ["--version"]) else None, argv)


NUMERIC_FLAGS = [
    ("wait", "--timeout"),
    ("wait", "--interval"),
    ("result", "--max-chars"),
    ("stop", "--grace"),
    ("review show", "--http-timeout"),
    ("review approve", "--confirm-timeout"),
    ("watch-review", "--poll-interval"),
    ("watch-review", "--port"),
    ("watch-review", "--pid"),
    ("watch-review", "--idle-exit"),
    ("watch-review", "--timeout"),
]


@pytest.mark.parametrize(("command", "flag"), NUMERIC_FLAGS)
@fuzz(20)
@given(value=NUMBERS, run_ref=st.sampled_from([FINISHED_ID, LOST_ID, GONE_ID]))
def test_numeric_flags_at_their_edges(
    runs: Project, command: str, flag: str, value: str, run_ref: str
) -> None:
    argv = [*command.split(), run_ref, f"{flag}={value}"]
    if command == "watch-review" and flag != "--timeout":
        argv += ["--timeout", "1"]
    if command.startswith("review"):
        argv += ["--url", "http://127.0.0.1:1"]  # nothing listens on port 1: unreachable at once
    called = invoke_bounded(argv, seconds=30)
    event(f"exit code {called.code}")  # shown by --hypothesis-show-statistics
    assert_clean(called, CODES[command.split()[0]], argv)


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
            runs.root,
            "20261125-102000-eeeeee",
            state=records.RUNNING,
            wrapper_pid=child.pid,
            wrapper_start=records.process_start_time(child.pid),
        )
        yield "20261125-102000-eeeeee"
    finally:
        child.kill()
        child.wait(timeout=10)


@fuzz(25)
@given(
    timeout=st.sampled_from(
        ["0", "-1", "nan", "inf", "1e400", "0.2", "abc", "1e-9", "99999999999999999999999"]
    ),
    interval=NUMBERS,
)
def test_wait_on_a_running_run_is_bounded(runs: Project, running: str, timeout: str, interval: str) -> None:
    argv = ["wait", running, f"--timeout={timeout}", f"--interval={interval}"]
    called = invoke_bounded(argv, seconds=10)
    assert_clean(called, {E.USAGE, E.STILL_RUNNING}, argv)

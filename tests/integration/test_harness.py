"""Smoke tests of the offline harness: the REAL massgen 0.1.97, called directly, inside the namespace.

They pin the contract facts the rest of the project relies on (§1 markers, §2 exit codes, §5 web review,
§10 SIGINT, §12 offline driving). Where the real CLI and the contract disagree, the real CLI wins.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from massgen_skill.massgen import flags, layout
from massgen_skill.massgen import markers as mk
from massgen_skill.massgen.private_env import MassgenVenv

from . import harness
from .conftest import record_timing
from .netns import NetNS, NsProcess, RunResult

pytestmark = pytest.mark.slow


def parse_markers(stdout: str) -> dict[str, list[str]]:
    parser = mk.MarkerParser()
    found: dict[str, list[str]] = {}
    for line in stdout.splitlines():
        marker = parser.feed(line)
        if marker is not None:
            found.setdefault(marker.kind, []).append(marker.value)
    return found


def attempt_dir(log_dir: Path) -> Path:
    return log_dir / "turn_1" / "attempt_1"


def start_to_files(
    popen_in_ns: Callable[..., NsProcess], argv: list[str], out: Path, err: Path
) -> tuple[NsProcess, Path, Path]:
    """Start with stdout/stderr going to files (no pipe to drain while we poll)."""
    with out.open("w", encoding="utf-8") as fo, err.open("w", encoding="utf-8") as fe:
        proc = popen_in_ns(argv, stdout=fo, stderr=fe)
    return proc, out, err


# --- (a) ----------------------------------------------------------------------------------------------------
def test_three_agents_reach_a_winner(
    project: harness.Project, llm_server: harness.LLMServer, run_massgen: Callable[..., RunResult]
) -> None:
    config = harness.write_three_agent_config(project, llm_server.base_url)
    result = run_massgen(
        flags.CONFIG, config, flags.AUTOMATION, harness.QUESTION, timeout=150, label="3-agent run"
    )

    assert result.returncode == 0, result.describe()
    found = parse_markers(result.stdout)
    for kind in (mk.LOG_DIR, mk.STATUS, mk.QUESTION, mk.WINNER, mk.ANSWER_FILE, mk.COMPLETED, mk.ANSWER):
        assert kind in found, f"no {kind} line\n{result.describe()}"
    log_dir = Path(found[mk.LOG_DIR][0])
    assert log_dir.is_absolute() and log_dir.parent == project.path / layout.LOGS_SUBDIR
    assert Path(found[mk.STATUS][0]) == attempt_dir(log_dir) / layout.STATUS_FILE
    assert found[mk.WINNER] == ["agent_a"]  # everyone votes for the first id of the enum (agent1 = agent_a)
    assert found[mk.COMPLETED][0].startswith("3 agents")

    answer = Path(found[mk.ANSWER][0])
    assert answer == log_dir / "turn_1" / layout.FINAL_DIR / "agent_a" / layout.ANSWER_FILE
    assert answer.read_text(encoding="utf-8").strip() == "SCRIPTED ANSWER: 42 [model=fake-a]"
    # ANSWER_FILE is relative to massgen's cwd and names the attempt-level copy
    assert (project.path / found[mk.ANSWER_FILE][0]).is_file()

    status = harness.read_json(Path(found[mk.STATUS][0]))
    assert status["finish_reason"] == "completed" and status["is_complete"] is True
    assert status["results"]["winner"] == "agent_a"
    assert {r["model"] for r in llm_server.requests()} == {"fake-a", "fake-b", "fake-c"}


# --- (b) ----------------------------------------------------------------------------------------------------
def test_all_agents_fail_exits_zero_without_answer(
    project: harness.Project,
    llm_server_factory: Callable[..., harness.LLMServer],
    run_massgen: Callable[..., RunResult],
) -> None:
    server = llm_server_factory(mode="never-tool")
    config = harness.write_config(project.configs / "solo.yaml", server.base_url, agents=1)
    result = run_massgen(
        flags.CONFIG, config, flags.AUTOMATION, harness.QUESTION, timeout=120, label="all-fail run"
    )

    assert result.returncode == 0, result.describe()
    found = parse_markers(result.stdout)
    assert mk.LOG_DIR in found and mk.COMPLETED in found, result.describe()
    for kind in (mk.WINNER, mk.ANSWER, mk.ANSWER_FILE, mk.FINAL_DIR):
        assert kind not in found, result.describe()
    log_dir = Path(found[mk.LOG_DIR][0])
    assert not list(log_dir.glob(f"turn_*/**/{layout.FINAL_DIR}/*/{layout.ANSWER_FILE}"))
    assert "no successful agents" in result.stderr
    assert len(server.requests()) >= 3  # massgen retried the tool-less agent before giving up


# --- (c) ----------------------------------------------------------------------------------------------------
def test_web_review_approve_applies_file(
    project: harness.Project,
    mg_netns: NetNS,
    massgen_venv: MassgenVenv,
    llm_server_factory: Callable[..., harness.LLMServer],
    popen_in_ns: Callable[..., NsProcess],
    request: pytest.FixtureRequest,
) -> None:
    server = llm_server_factory(mode="write-file")
    config = harness.write_two_agent_fs_config(project, server.base_url)
    port = mg_netns.free_port()
    argv = harness.massgen_argv(
        massgen_venv.bin,
        [
            flags.CONFIG,
            config,
            flags.WEB,
            flags.NO_BROWSER,
            flags.WEB_PORT,
            port,
            flags.WEB_REVIEW,
            flags.CWD_CONTEXT,
            "rw",
            flags.AUTOMATION,
            harness.QUESTION,
        ],
    )
    start = time.monotonic()
    proc, out, err = start_to_files(
        popen_in_ns, argv, project.artifacts / "web.out", project.artifacts / "web.err"
    )

    def review_request() -> Path | None:
        if proc.poll() is not None:
            raise AssertionError(
                f"massgen exited {proc.poll()} early\n{out.read_text()}\n{err.read_text()[-3000:]}"
            )
        hits = project.find(f"log_*/turn_1/attempt_1/{layout.REVIEW_REQUEST}")
        return hits[0] if hits else None

    request_path = harness.wait_for(review_request, timeout=120, what=layout.REVIEW_REQUEST)
    t_pending = time.monotonic() - start
    review = harness.read_json(request_path)
    assert review["review_pending"] is True
    assert {"path": harness.WRITE_NAME, "status": "?"} in review["files"]
    sid = review["api_url"].rstrip("/").split("/")[-2]
    assert sid.startswith("auto-")
    assert review["api_url"].startswith("http://localhost:8000/")  # hard-coded, whatever --web-port says

    base = f"http://127.0.0.1:{port}"
    assert mg_netns.http("GET", f"{base}/api/active-session") == (
        200,
        {"session_id": sid, "source": "automation"},
    )
    status = harness.read_json(request_path.with_name(layout.STATUS_FILE))
    assert status["review_pending"] is True and status["is_complete"] is True
    assert not (project.path / harness.WRITE_NAME).exists()  # gated until approved

    code, body = mg_netns.http(
        "POST", f"{base}/api/sessions/{sid}/review-response", {"approved": True, "action": "approve"}
    )
    assert (code, body) == (200, {"status": "ok"})
    rc = proc.wait(timeout=90)
    record_timing(request.node.nodeid, "web review run", time.monotonic() - start)
    record_timing(request.node.nodeid, "  ..until review pending", t_pending)

    stdout = out.read_text(encoding="utf-8")
    assert rc == 0, f"{stdout}\n{err.read_text()[-3000:]}"
    assert (project.path / harness.WRITE_NAME).read_text(encoding="utf-8") == harness.WRITE_CONTENT
    result = harness.read_json(request_path.with_name(layout.REVIEW_RESULT))
    assert result["approved"] is True and result["resolved_by"] == "api"
    found = parse_markers(stdout)
    assert mk.REVIEW_PENDING in found and found[mk.REVIEW_COMPLETE] == ["APPROVED=True"], stdout
    assert mk.ANSWER not in found and mk.WINNER not in found  # web mode prints neither (§5)
    # absolute snapshot/temp dirs in the config keep web mode from polluting the project (§5)
    assert project.git("status", "--porcelain").splitlines() == [f"?? {harness.WRITE_NAME}"]


# --- (d) ----------------------------------------------------------------------------------------------------
def test_sigint_exits_zero_and_leaves_status_in_progress(
    project: harness.Project,
    massgen_venv: MassgenVenv,
    llm_server_factory: Callable[..., harness.LLMServer],
    popen_in_ns: Callable[..., NsProcess],
    request: pytest.FixtureRequest,
) -> None:
    server = llm_server_factory(delay=60.0)  # agents stay busy until interrupted
    config = harness.write_three_agent_config(project, server.base_url)
    argv = harness.massgen_argv(massgen_venv.bin, [flags.CONFIG, config, flags.AUTOMATION, harness.QUESTION])
    start = time.monotonic()
    proc, out, err = start_to_files(
        popen_in_ns, argv, project.artifacts / "int.out", project.artifacts / "int.err"
    )

    def coordinating() -> Path | None:
        assert proc.poll() is None, f"massgen exited early: {out.read_text()}\n{err.read_text()[-3000:]}"
        hits = project.find(f"log_*/turn_1/attempt_1/{layout.STATUS_FILE}")
        return hits[0] if hits and server.requests() else None

    status_path = harness.wait_for(coordinating, timeout=90, what="status.json and a first LLM request")
    t_sig = time.monotonic()
    proc.send_signal(signal.SIGINT)  # the leader only, as `kill -INT <pid>` would
    try:
        rc = proc.wait(timeout=45)
    except subprocess.TimeoutExpired:
        pytest.fail(f"massgen ignored SIGINT for 45s\n{out.read_text()}\n{err.read_text()[-3000:]}")
    record_timing(request.node.nodeid, "SIGINT run", time.monotonic() - start)
    record_timing(request.node.nodeid, "  ..SIGINT to exit", time.monotonic() - t_sig)

    stdout = out.read_text(encoding="utf-8")
    assert rc == 0, f"rc={rc}\n{stdout}\n{err.read_text()[-3000:]}"
    found = parse_markers(stdout)
    assert mk.COMPLETED in found, stdout
    for kind in (mk.WINNER, mk.ANSWER, mk.ANSWER_FILE, mk.FINAL_DIR):
        assert kind not in found, stdout
    status = harness.read_json(status_path)
    assert status["finish_reason"] == "in_progress" and status["is_complete"] is False


# --- (e) ----------------------------------------------------------------------------------------------------
ACCEPTED: list[list[str]] = [
    [flags.AUTOMATION, flags.CONFIG, "c.yaml", "q"],
    [flags.AUTOMATION, flags.NO_PARSE_AT_REFERENCES, flags.CONFIG, "c.yaml", flags.OUTPUT_FILE, "o.txt", "q"],
    *[[flags.AUTOMATION, flags.CWD_CONTEXT, v, "q"] for v in ("ro", "rw", "read", "write")],
    [
        flags.AUTOMATION,
        flags.WEB,
        flags.NO_BROWSER,
        flags.WEB_PORT,
        "8123",
        flags.WEB_HOST,
        "127.0.0.1",
        flags.WEB_REVIEW,
        flags.CWD_CONTEXT,
        "rw",
        "q",
    ],
    [flags.AUTOMATION, flags.EVAL_CRITERIA, "c.json", flags.ORCHESTRATOR_TIMEOUT, "60", "q"],
    [flags.AUTOMATION, flags.CRITERIA_PRESET, "planning", "q"],
    *[[flags.AUTOMATION, flags.PLAN, flags.PLAN_DEPTH, v, "q"] for v in flags.PLAN_DEPTH_CHOICES],
    *[
        [flags.AUTOMATION, flags.PLAN, flags.PLAN_THOROUGHNESS, v, "q"]
        for v in flags.PLAN_THOROUGHNESS_CHOICES
    ],
    [flags.AUTOMATION, flags.PLAN, flags.PLAN_STEPS, "3", flags.PLAN_CHUNKS, "2", "q"],
    [flags.AUTOMATION, flags.SPEC, "q"],
    [flags.AUTOMATION, flags.PLAN_AND_EXECUTE, "q"],
    [flags.AUTOMATION, flags.EXECUTE_PLAN, "latest"],
    [flags.AUTOMATION, flags.EXECUTE_SPEC, "latest"],
    *[[flags.AUTOMATION, flags.PERSONAS, v, "q"] for v in flags.PERSONAS_CHOICES],
    *[[flags.AUTOMATION, flags.COORDINATION_MODE, v, "q"] for v in flags.COORDINATION_MODE_CHOICES],
    [flags.AUTOMATION, flags.QUICK, "q"],
    [flags.AUTOMATION, flags.SINGLE_AGENT, "agent_a", "q"],
    [flags.AUTOMATION, "q", flags.SINGLE_AGENT],  # bare --single-agent AFTER the question (see below)
    [flags.AUTOMATION, flags.INBOX_DIR, "inbox", "q"],
    [flags.LIST_BACKENDS],
    [flags.QUICKSTART, flags.HEADLESS],
    [flags.QUICKSTART, flags.HEADLESS, flags.QUICKSTART_AGENT, "openai"],
    [flags.WEB_QUICKSTART],
    [flags.VALIDATE, "c.yaml", flags.JSON],
]
SWALLOWED = [flags.AUTOMATION, flags.SINGLE_AGENT, "q"]
REJECTED: list[list[str]] = [
    ["--version"],  # no such flag (§0)
    [flags.AUTOMATION, "--definitely-not-a-flag", "q"],
    [flags.AUTOMATION, flags.CWD_CONTEXT, "rwx", "q"],
    [flags.AUTOMATION, flags.PLAN_STEPS, "0", "q"],
    [flags.AUTOMATION, flags.PERSONAS, "perspective", flags.COORDINATION_MODE, "decomposition", "q"],
    [flags.WEB_QUICKSTART, flags.WEB],
]


def test_real_parser_accepts_our_flag_sets(
    project: harness.Project, massgen_venv: MassgenVenv, run_in_ns: Callable[..., RunResult]
) -> None:
    """Fast probe: one process imports massgen's parser once and checks every flag set."""
    cases = project.artifacts / "argv_cases.json"
    cases.write_text(json.dumps([*ACCEPTED, *REJECTED, SWALLOWED]), encoding="utf-8")
    result = run_in_ns(
        [massgen_venv.python, harness.ARGV_PROBE, cases], timeout=120, label="argv probe (in-proc)"
    )
    assert result.returncode == 0, result.describe()
    report = json.loads(result.stdout.strip().splitlines()[-1])
    by_argv = {tuple(r["argv"]): r for r in report["results"]}
    wrong_accept = [r for a in ACCEPTED if (r := by_argv[tuple(a)])["exit"] != 0]
    wrong_reject = [r for a in REJECTED if (r := by_argv[tuple(a)])["exit"] != 2]
    assert not wrong_accept, json.dumps(wrong_accept, indent=1)
    assert not wrong_reject, json.dumps(wrong_reject, indent=1)
    lost = [r for a in ACCEPTED if "q" in a and (r := by_argv[tuple(a)])["question"] != "q"]
    assert not lost, json.dumps(lost, indent=1)
    # Pitfall: --single-agent takes an optional value, so a bare one right before the question eats it.
    swallowed = by_argv[tuple(SWALLOWED)]
    assert (swallowed["exit"], swallowed["single_agent"], swallowed["question"]) == (0, "q", None)


def test_real_cli_missing_config_is_exit_1_and_bad_flag_exit_2(
    project: harness.Project, run_massgen: Callable[..., RunResult]
) -> None:
    """End-to-end confirmation of the probe's premise: a flag set argparse accepts fails on the missing
    config with exit 1 (before LOG_DIR); an unknown flag is a usage error, exit 2."""
    missing = project.root / "no-such-dir" / "missing.yaml"
    ok = run_massgen(
        flags.AUTOMATION,
        flags.NO_PARSE_AT_REFERENCES,
        flags.CWD_CONTEXT,
        "ro",
        flags.ORCHESTRATOR_TIMEOUT,
        "60",
        flags.OUTPUT_FILE,
        project.artifacts / "o.txt",
        flags.CONFIG,
        missing,
        "q",
        timeout=90,
        label="missing-config probe",
    )
    assert ok.returncode == 1, ok.describe()
    assert "❌ Configuration error: Configuration file not found" in ok.stderr
    assert mk.LOG_DIR not in parse_markers(ok.stdout)

    bad = run_massgen(
        flags.AUTOMATION, "--definitely-not-a-flag", flags.CONFIG, missing, "q", label="usage probe"
    )
    assert bad.returncode == 2, bad.describe()
    assert "unrecognized arguments: --definitely-not-a-flag" in bad.stderr

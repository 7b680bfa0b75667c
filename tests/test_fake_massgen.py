"""The fake `massgen` (tests/fake_massgen) checked against the contract and the recorded 0.1.97 runs."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fake_massgen.harness import FakeMassgen
from fake_massgen.setup_cmds import REAL_CAPTURES as REAL
from runtools import SAMPLES, free_port, wait_for

FAST = {"step_delay": 0.01, "status_interval": 0.05, "cancel_delay": 0.05}
RUN_TIMEOUT = 20
NOISE = "\x1b[1;31mProvider List: "
QUESTION = "Create a file named hello_e2e.txt and tell me what 6 times 7 is."
LOG_DIR_ABS = re.compile(r"^LOG_DIR: (/.*/\.massgen/massgen_logs/log_\d{8}_\d{6}_\d{6})$")
ANSWER_FILE_REL = re.compile(
    r"^ANSWER_FILE: (\.massgen/massgen_logs/log_\d{8}_\d{6}_\d{6}/turn_1/attempt_\d/final/\w+/answer\.txt)$"
)
DURATION = re.compile(r"^DURATION: \d+\.\ds$")
COMPLETED = re.compile(r"^COMPLETED: (\d+) agents, \d+\.\ds total$")
ANSWER_ABS = re.compile(
    r"^ANSWER: (/.*/\.massgen/massgen_logs/log_\d{8}_\d{6}_\d{6}/turn_1/final/\w+/answer\.txt)$"
)
FINAL_DIR_REL = re.compile(
    r"^FINAL_DIR: (\.massgen/massgen_logs/log_\d{8}_\d{6}_\d{6}/turn_1/attempt_\d/final)$"
)
WEB_LOG_DIR = re.compile(r"^LOG_DIR: (\.massgen/massgen_logs/log_\d{8}_\d{6}_\d{6}/turn_1/attempt_1)$")


# --------------------------------------------------------------------------------------------------- helpers


def sample(name: str) -> Path:
    path = SAMPLES / name
    assert path.is_dir(), f"recorded sample {path} missing from the repository"
    return path


def sample_status(name: str) -> dict[str, Any]:
    return json.loads(
        next(
            (sample(name) / "project/.massgen/massgen_logs").glob("*/turn_1/attempt_1/status.json")
        ).read_text()
    )


def shape(line: str) -> str:
    """The marker a line stands for, so fake and recorded stdout can be compared line kind by line kind."""
    if line.startswith("\x1b[") and not line.startswith(NOISE):
        return "BANNER"
    for prefix in (
        "[WebUI] LOG_DIR",
        "[WebUI] STATUS",
        "[WebUI] Saving metadata",
        "[WebUI] Registered session",
        "[WebUI] Saved session metadata",
        "[Coordination in progress",
        "__REVIEW_PENDING__",
        "__REVIEW_COMPLETE__",
        "  [VOTE]",
        "  [RESULTS]",
        "         Reason:",
    ):
        if line.startswith(prefix):
            return prefix.strip()
    if re.match(r"^    \w+: \d+ votes?( \(winner\))?$", line):
        return "RESULT"
    match = re.match(r"^([A-Z_]+):", line)
    return match.group(1) if match else "OTHER"


def shapes(stdout: str) -> list[str]:
    return [shape(line) for line in stdout.split("\n") if line.strip() and not line.startswith(NOISE)]


def lines(stdout: str) -> list[str]:
    return stdout.split("\n")


def first(stdout: str, prefix: str) -> str:
    return next(line for line in lines(stdout) if line.startswith(prefix))


def run(fake: FakeMassgen, cwd: Path, *argv: str, timeout: float = RUN_TIMEOUT, **knobs: object):
    env = fake.env(**{**FAST, **knobs})
    return subprocess.run(
        ["massgen", *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def log_dir_of(stdout: str) -> Path:
    match = LOG_DIR_ABS.match(first(stdout, "LOG_DIR: "))
    assert match, stdout
    return Path(match.group(1))


def wait_until(check: Callable[[], Any], timeout: float = 10, what: str = "condition") -> Any:
    return wait_for(check, timeout, what, interval=0.01)  # fine-grained: some checks race the fake's writes


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


class Live:
    """A fake massgen started in the background; its stdout/stderr are collected by reader threads."""

    def __init__(
        self, fake: FakeMassgen, cwd: Path, *argv: str, sigint: Any = signal.SIG_DFL, **knobs: object
    ):
        env = fake.env(**{**FAST, **knobs})
        self.proc = subprocess.Popen(
            ["massgen", *argv],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=lambda: signal.signal(signal.SIGINT, sigint),
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self.out_bytes = 0
        self._threads = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self.out, True), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, self.err, False), daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _pump(self, stream: Any, sink: list[str], count: bool) -> None:
        for raw in iter(stream.readline, b""):
            if count:
                self.out_bytes += len(raw)
            sink.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def wait_line(self, prefix: str, timeout: float = 10) -> str:
        def found() -> str | None:
            return next((line for line in list(self.out) if line.startswith(prefix)), None)

        return wait_until(found, timeout, f"stdout line {prefix!r}; got {self.out[-5:]}")

    def finish(self, timeout: float = RUN_TIMEOUT) -> int:
        try:
            code = self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=5)
        for t in self._threads:
            t.join(timeout=5)
        return code

    @property
    def stdout(self) -> str:
        return "\n".join(self.out)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)


@pytest.fixture
def live_runs():
    started: list[Live] = []
    yield started
    for live in started:
        live.kill()


def http(base: str, path: str, body: Any = None, raw: bytes | None = None) -> tuple[int, Any]:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(base + path, data=data, method="GET" if data is None else "POST")
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            payload = resp.read()
            code = resp.status
    except urllib.error.HTTPError as exc:
        payload, code = exc.read(), exc.code
    try:
        return code, json.loads(payload)
    except ValueError:
        return code, payload.decode()


# ----------------------------------------------------------------------------------------------- CLI success


def test_success_stdout_matches_recorded_multi_run(fake_massgen: FakeMassgen, project_dir: Path) -> None:
    recorded = (sample("multi") / "stdout.txt").read_text()
    res = run(fake_massgen, project_dir, "--automation", QUESTION)
    assert res.returncode == 0, res.stderr
    assert shapes(res.stdout) == shapes(recorded)
    for text in (recorded, res.stdout):
        ls = lines(text)
        assert (
            LOG_DIR_ABS.match(ls[0])
            and ls[1] == ls[0].replace("LOG_DIR", "STATUS") + "/turn_1/attempt_1/status.json"
        )
        assert ls[2] == f"QUESTION: {QUESTION}"
        assert ls[3] == "[Coordination in progress - monitor status.json for real-time updates]"
        for marker in ("WINNER: ", "TIMELINE:", "COMPLETED: "):
            assert ls[ls.index(first(text, marker)) - 1] == ""
        assert ANSWER_FILE_REL.match(first(text, "ANSWER_FILE: "))
        assert DURATION.match(first(text, "DURATION: "))
        assert COMPLETED.match(first(text, "COMPLETED: ")).group(1) == "3"
        assert ANSWER_ABS.match(first(text, "ANSWER: "))
        assert FINAL_DIR_REL.match(first(text, "FINAL_DIR: "))
        assert text.count(NOISE) > 3
    log_dir = log_dir_of(res.stdout)
    assert log_dir.parent == project_dir / ".massgen" / "massgen_logs"
    answer = Path(ANSWER_ABS.match(first(res.stdout, "ANSWER: ")).group(1))
    assert answer == log_dir / "turn_1/final/agent_a/answer.txt"
    assert (
        project_dir / FINAL_DIR_REL.match(first(res.stdout, "FINAL_DIR: ")).group(1) / "agent_a/answer.txt"
    ).is_file()
    assert res.stderr.count("DeprecationWarning") >= 2
    assert first(res.stdout, "ANSWER_PREVIEW: ") == "ANSWER_PREVIEW: " + answer.read_text()[:200]


def test_success_log_layout_and_status_json_shape(fake_massgen: FakeMassgen, project_dir: Path) -> None:
    res = run(fake_massgen, project_dir, "--automation", QUESTION)
    log_dir = log_dir_of(res.stdout)
    attempt = log_dir / "turn_1/attempt_1"
    for rel in (
        "status.json",
        "execution_metadata.yaml",
        "events.jsonl",
        "coordination_events.json",
        "metrics_summary.json",
        "metrics_events.json",
        "snapshot_mappings.json",
        "massgen.log",
        "agent_outputs/agent_a.txt",
        "final/agent_a/answer.txt",
        "final/agent_a/context.txt",
        "final/agent_a/execution_trace.md",
    ):
        assert (attempt / rel).is_file(), rel
    assert not (attempt / "status.json.tmp").exists()
    for aid in ("agent_a", "agent_b", "agent_c"):
        assert len(list((attempt / aid).glob("*/answer.txt"))) == 1
        vote = read_json(next((attempt / aid).glob("*/vote.json")))
        assert vote["voter_id"] == aid and vote["voted_for"] == "agent_a"
    recorded_vote = read_json(
        next(
            (sample("multi") / "project/.massgen/massgen_logs").glob("*/turn_1/attempt_1/agent_a/*/vote.json")
        )
    )
    assert set(vote) == set(recorded_vote)
    assert (log_dir / "turn_1/final/agent_a/answer.txt").read_text() == (
        attempt / "final/agent_a/answer.txt"
    ).read_text()
    assert re.fullmatch(r"session_\d{8}_\d{6}", (project_dir / ".massgen/.session_id").read_text())

    status, recorded = read_json(attempt / "status.json"), sample_status("multi")
    assert list(status) == list(recorded)
    assert list(status["meta"]) == list(recorded["meta"])
    assert list(status["agents"]["agent_b"]) == list(recorded["agents"]["agent_b"])
    assert list(status["agents"]["agent_a"]["round_history"][0]) == list(
        recorded["agents"]["agent_a"]["round_history"][0]
    )
    assert list(status["results"]) == list(recorded["results"]) and list(status["rounds"]) == list(
        recorded["rounds"]
    )
    assert list(status["historical_workspaces"][0]) == list(recorded["historical_workspaces"][0])
    assert status["finish_reason"] == "completed" and status["is_complete"] is True
    assert status["finish_reason_details"] == "Winner: agent_a" and status["review_pending"] is False
    assert status["meta"]["session_id"] == "attempt_1"
    assert status["meta"]["log_dir"] == str(attempt.relative_to(project_dir))
    assert status["coordination"]["phase"] == "presentation" and status["results"]["winner"] == "agent_a"
    assert status["results"]["votes"] == {"agent1.1": 3}
    assert {a["status"] for a in status["agents"].values()} == {"voted"}

    events = [json.loads(line) for line in (attempt / "events.jsonl").read_text().splitlines()]
    assert all(list(e) == ["timestamp", "event_type", "agent_id", "round_number", "data"] for e in events)
    kinds = [e["event_type"] for e in events]
    assert (
        kinds.index("answer_submitted")
        < kinds.index("vote")
        < kinds.index("final_answer")
        < kinds.index("answer_locked")
    )
    coordination = read_json(attempt / "coordination_events.json")
    assert list(coordination) == ["session_metadata", "events"]
    assert coordination["session_metadata"]["final_winner"] == "agent_a"
    recorded_metrics = read_json(
        next(
            (sample("multi") / "project/.massgen/massgen_logs").glob(
                "*/turn_1/attempt_1/metrics_summary.json"
            )
        )
    )
    assert list(read_json(attempt / "metrics_summary.json")) == list(recorded_metrics)
    metadata = (attempt / "execution_metadata.yaml").read_text()
    for key in (
        "query:",
        "timestamp:",
        "config_path:",
        "config:",
        "cli_args:",
        "git:",
        "python_version:",
        "massgen_version:",
        "working_directory:",
    ):
        assert re.search(rf"^{key}", metadata, re.MULTILINE), key
    assert "  automation: true" in metadata and "${FAKE_LLM_BASE_URL}" in metadata
    session = project_dir / ".massgen/sessions" / (project_dir / ".massgen/.session_id").read_text()
    assert read_json(session / "turn_1/metadata.json")["winning_agent"] == "agent_a"


def test_status_says_completed_before_the_answer_file_exists(
    fake_massgen: FakeMassgen, project_dir: Path, live_runs
) -> None:
    live = Live(fake_massgen, project_dir, "--automation", QUESTION, step_delay=0.3)
    live_runs.append(live)
    attempt = Path(live.wait_line("STATUS: ").split(" ", 1)[1]).parent

    def completed_without_answer() -> bool:
        try:
            status = read_json(attempt / "status.json")
        except (OSError, ValueError):
            return False
        return status["finish_reason"] == "completed" and not (attempt / "final/agent_a/answer.txt").exists()

    wait_until(completed_without_answer, 15, "completed status before final answer.txt")
    assert read_json(attempt / "status.json")["is_complete"] is True
    assert live.finish() == 0
    assert (attempt / "final/agent_a/answer.txt").is_file()


def test_answer_with_newlines_and_marker_lookalikes(fake_massgen: FakeMassgen, project_dir: Path) -> None:
    answer = "Line one\nWINNER: agent_z\nANSWER: /etc/passwd\n" + "x" * 300
    out_file = project_dir / "out" / "answer.md"
    inbox = project_dir / "inbox"
    res = run(
        fake_massgen,
        project_dir,
        "--automation",
        "--output-file",
        str(out_file),
        "--inbox-dir",
        str(inbox),
        QUESTION,
        answer=answer,
    )
    assert res.returncode == 0
    ls = lines(res.stdout)
    assert ls[2] == f"RUNTIME_INBOX: {inbox}" and inbox.is_dir()
    preview_at = ls.index("ANSWER_PREVIEW: Line one")
    assert ls[preview_at + 1 : preview_at + 3] == ["WINNER: agent_z", "ANSWER: /etc/passwd"]
    assert "\n".join(ls[preview_at:]).startswith("ANSWER_PREVIEW: " + answer[:200])
    tail = [shape(line) for line in ls[ls.index(first(res.stdout, "COMPLETED: ")) :] if line]
    assert tail == ["COMPLETED", "ANSWER", "OUTPUT_FILE", "FINAL_DIR"]
    assert first(res.stdout, "OUTPUT_FILE: ") == f"OUTPUT_FILE: {out_file}"
    assert out_file.read_text() == answer
    real_answer = ls[ls.index(first(res.stdout, "COMPLETED: ")) + 1]  # the look-alike comes first
    assert ANSWER_ABS.match(real_answer) and Path(real_answer.split(" ", 1)[1]).read_text() == answer


def test_inbox_messages_are_deleted_once_read(fake_massgen: FakeMassgen, project_dir: Path) -> None:
    inbox = project_dir / "inbox"
    inbox.mkdir()
    (inbox / "msg_0000000000001_1_0000.json").write_text(json.dumps({"content": "first"}))
    (inbox / "msg_0000000000002_1_0000.json").write_text(
        json.dumps({"content": "second", "target_agents": ["agent_b"]})
    )
    (inbox / "msg_0000000000003_1_0000.json").write_text('{"content": "half-writ')  # malformed: dropped
    (inbox / ".steer-x.tmp").write_text("{}")  # not msg_*.json: never touched
    res = run(fake_massgen, project_dir, "--automation", "--inbox-dir", str(inbox), QUESTION)
    assert res.returncode == 0 and sorted(p.name for p in inbox.iterdir()) == [".steer-x.tmp"]
    log = (log_dir_of(res.stdout) / "turn_1/attempt_1/massgen.log").read_text()
    first_at = log.index("Injected msg_0000000000001_1_0000.json targets=all: first")
    assert log.index("Injected msg_0000000000002_1_0000.json targets=['agent_b']: second") > first_at
    assert "Skipping malformed message" in log and log.count("Injected msg_") == 2


@pytest.mark.parametrize(
    ("flag", "artifact"), [("--plan", "project_plan.json"), ("--spec", "project_spec.json")]
)
def test_plan_and_spec_modes(fake_massgen: FakeMassgen, project_dir: Path, flag: str, artifact: str) -> None:
    res = run(fake_massgen, project_dir, "--automation", flag, QUESTION)
    assert res.returncode == 0
    question = res.stdout[res.stdout.index("QUESTION: ") : res.stdout.index("[Coordination in progress")]
    assert question.count("\n") > 5 and question.rstrip("\n").endswith(QUESTION)
    final = project_dir / FINAL_DIR_REL.match(first(res.stdout, "FINAL_DIR: ")).group(1)
    assert json.loads((final / "agent_a/workspace" / artifact).read_text())
    status = read_json(log_dir_of(res.stdout) / "turn_1/attempt_1/status.json")
    assert status["meta"]["question"].endswith(QUESTION) and len(status["meta"]["question"]) > len(QUESTION)


def test_cwd_rw_without_review_applies_the_change(fake_massgen: FakeMassgen, project_dir: Path) -> None:
    recorded = (sample("cwd-rw-headless") / "stdout.txt").read_text()
    res = run(
        fake_massgen, project_dir, "--automation", "--cwd-context", "rw", "--web-review", QUESTION, agents=2
    )
    assert res.returncode == 0
    assert shapes(res.stdout) == shapes(recorded)
    assert (project_dir / "hello_e2e.txt").is_file()
    status = read_json(log_dir_of(res.stdout) / "turn_1/attempt_1/status.json")
    assert status["meta"]["context_paths"] == [{"path": str(project_dir), "permission": "write"}]
    assert set(status["agents"]["agent_a"]["workspace_paths"]) == {
        "workspace",
        "snapshot_storage",
        "temp_workspace",
    }
    assert status["meta"]["orchestrator_paths"]["snapshot_storage"].startswith(".massgen/snapshots/log_")
    final_ws = log_dir_of(res.stdout) / "turn_1/attempt_1/final/agent_a/workspace"
    assert (final_ws / "hello_e2e.txt").is_file() and (final_ws / ".worktree/ctx_1/hello_e2e.txt").is_file()


def test_cwd_read_only_changes_nothing(fake_massgen: FakeMassgen, project_dir: Path) -> None:
    res = run(fake_massgen, project_dir, "--automation", "--cwd-context", "ro", QUESTION)
    assert res.returncode == 0
    assert not (project_dir / "hello_e2e.txt").exists()
    status = read_json(log_dir_of(res.stdout) / "turn_1/attempt_1/status.json")
    assert status["meta"]["context_paths"] == [{"path": str(project_dir), "permission": "read"}]


def test_log_base_dir_env_replaces_massgen_logs(
    fake_massgen: FakeMassgen, project_dir: Path, tmp_path: Path
) -> None:
    base = tmp_path / "custom_logs"
    env = fake_massgen.env(**FAST)
    env["MASSGEN_LOG_BASE_DIR"] = str(base)
    res = subprocess.run(
        ["massgen", "--automation", QUESTION],
        cwd=project_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    log_dir = Path(first(res.stdout, "LOG_DIR: ").split(" ", 1)[1])
    assert log_dir.parent == base and (log_dir / "turn_1/attempt_1/status.json").is_file()


def test_stream_events_puts_json_on_stdout_and_markers_on_stderr(
    fake_massgen: FakeMassgen, project_dir: Path
) -> None:
    res = run(fake_massgen, project_dir, "--stream-events", QUESTION)
    assert res.returncode == 0
    events = [json.loads(line) for line in lines(res.stdout) if line.startswith("{")]
    assert {"answer_submitted", "vote", "final_answer"} <= {e["event_type"] for e in events}
    assert all(set(e) == {"timestamp", "event_type", "agent_id", "round_number", "data"} for e in events)
    for marker in ("LOG_DIR: ", "STATUS: ", "ANSWER: ", "FINAL_DIR: "):
        assert marker in res.stderr and not any(line.startswith(marker) for line in lines(res.stdout))
    assert first(res.stdout, "WINNER: ") == "WINNER: agent_a" and first(res.stdout, "COMPLETED: ")


def test_resumed_session_writes_next_turn_without_log_dir_marker(
    fake_massgen: FakeMassgen, project_dir: Path
) -> None:
    """As 0.1.97 does it: the turn goes to turn_2 of a NEW log folder (whose turn_1 holds only the start-up
    log naming the session), is saved in the session's storage, and then massgen exits 1 on its own bug."""
    first_run = run(fake_massgen, project_dir, "--automation", QUESTION)
    log_dir = log_dir_of(first_run.stdout)
    session = (project_dir / ".massgen/.session_id").read_text()
    res = run(fake_massgen, project_dir, "--automation", "--continue", "And 7 times 8?")
    assert res.returncode == 1, res.stdout + res.stderr
    assert not any(line.startswith(("LOG_DIR:", "STATUS:", "ANSWER:")) for line in lines(res.stdout))
    assert first(res.stdout, "QUESTION: ") == "QUESTION: And 7 times 8?" and first(res.stdout, "COMPLETED: ")
    assert "❌ Session error: too many values to unpack (expected 3)" in lines(res.stdout)
    assert "Starting turn 2" in res.stdout and not (log_dir / "turn_2").exists()
    (new,) = [p for p in log_dir.parent.iterdir() if p != log_dir]
    assert (new / "turn_2/attempt_1/final/agent_a/answer.txt").is_file()
    assert f"Using session from CLI: {session}" in (new / "turn_1/attempt_1/massgen.log").read_text()
    assert (project_dir / ".massgen/sessions" / session / "turn_2/answer.txt").is_file()
    missing = run(fake_massgen, project_dir, "--automation", "--session-id", "session_nope", "q")
    assert missing.returncode == 1
    assert "❌ Session error: Session 'session_nope' not found in registry" in missing.stdout


# ---------------------------------------------------------------------------------------- other CLI outcomes


def test_all_agents_fail_matches_recorded_run(fake_massgen: FakeMassgen, project_dir: Path) -> None:
    recorded = (sample("all-agents-fail") / "stdout.txt").read_text()
    res = run(
        fake_massgen,
        project_dir,
        "--backend",
        "chatcompletion",
        "--model",
        "fake-solo",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--automation",
        QUESTION,
        scenario="all-fail",
        no_status=1,
    )
    assert res.returncode == int((sample("all-agents-fail") / "exit_code").read_text().strip()) == 0
    assert shapes(res.stdout) == shapes(recorded)
    assert first(res.stdout, "COMPLETED: ").startswith("COMPLETED: 1 agents, ")
    assert "Unable to provide coordinated answer" in res.stderr
    attempt = log_dir_of(res.stdout) / "turn_1/attempt_1"
    recorded_attempt = next(
        (sample("all-agents-fail") / "project/.massgen/massgen_logs").glob("*/turn_1/attempt_1")
    )
    names = {p.name for p in attempt.iterdir()}
    assert names == {p.name for p in recorded_attempt.iterdir()}
    assert {p.name for p in (attempt / "agent_outputs").iterdir()} == {"agent1.txt", "system_status.txt"}


def test_all_agents_fail_with_status_file(fake_massgen: FakeMassgen, project_dir: Path) -> None:
    res = run(fake_massgen, project_dir, "--automation", QUESTION, scenario="all-fail")
    assert res.returncode == 0 and "WINNER:" not in res.stdout and "FINAL_DIR:" not in res.stdout
    status = read_json(log_dir_of(res.stdout) / "turn_1/attempt_1/status.json")
    assert status["finish_reason"] == "error" and status["is_complete"] is True
    for agent in status["agents"].values():
        assert agent["status"] == "error" and agent["error"]["type"] == "error" and agent["error"]["message"]


def test_unknown_checklist_preset_fails_every_agent_with_exit_0(
    fake_massgen: FakeMassgen, project_dir: Path
) -> None:
    res = run(fake_massgen, project_dir, "--automation", "--checklist-criteria-preset", "nope", QUESTION)
    assert res.returncode == 0 and "WINNER:" not in res.stdout and first(res.stdout, "COMPLETED: ")
    assert all(name in res.stderr for name in ("analysis", "round_evaluator", "spec", "'nope'"))
    ok = run(
        fake_massgen, project_dir, "--automation", "--checklist-criteria-preset", "round_evaluator", QUESTION
    )
    assert "WINNER: agent_a" in ok.stdout


def test_orchestrator_timeout(fake_massgen: FakeMassgen, project_dir: Path) -> None:
    res = run(
        fake_massgen, project_dir, "--automation", "--orchestrator-timeout", "1", QUESTION, scenario="timeout"
    )
    assert res.returncode == 0
    assert shapes(res.stdout) == ["LOG_DIR", "STATUS", "QUESTION", "[Coordination in progress", "COMPLETED"]
    status = read_json(log_dir_of(res.stdout) / "turn_1/attempt_1/status.json")
    assert status["finish_reason"] == "timeout" and status["is_complete"] is True
    assert re.fullmatch(r"Time limit exceeded \(\d+\.\ds/1s\)", status["finish_reason_details"])


def test_crash_after_log_dir_exits_2(fake_massgen: FakeMassgen, project_dir: Path) -> None:
    res = run(fake_massgen, project_dir, "--automation", QUESTION, scenario="crash")
    assert res.returncode == 2
    assert shapes(res.stdout)[:2] == ["LOG_DIR", "STATUS"]
    assert lines(res.stdout.rstrip("\n"))[-1].startswith("❌ Error: ")


def test_restart_continues_in_attempt_2(fake_massgen: FakeMassgen, project_dir: Path) -> None:
    res = run(fake_massgen, project_dir, "--automation", QUESTION, scenario="restart")
    assert res.returncode == 0
    assert first(res.stdout, "STATUS: ").endswith("/turn_1/attempt_1/status.json")
    assert "RESTART: Attempt 2/3" in lines(res.stdout)
    assert "/attempt_2/final/agent_a/answer.txt" in first(res.stdout, "ANSWER_FILE: ")
    assert first(res.stdout, "FINAL_DIR: ").endswith("/turn_1/attempt_2/final")
    turn = log_dir_of(res.stdout) / "turn_1"
    assert read_json(turn / "attempt_2/status.json")["meta"]["session_id"] == "attempt_2"
    assert read_json(turn / "attempt_1/status.json")["finish_reason"] == "completed"  # stale, as documented


def test_burst_of_stdout_then_normal_finish(fake_massgen: FakeMassgen, project_dir: Path, live_runs) -> None:
    live = Live(fake_massgen, project_dir, "--automation", QUESTION, scenario="burst", burst_bytes=3_000_000)
    live_runs.append(live)
    assert live.finish() == 0
    assert live.out_bytes >= 3_000_000
    assert [s for s in shapes(live.stdout) if s != "OTHER"][-4:] == [
        "ANSWER_PREVIEW",
        "COMPLETED",
        "ANSWER",
        "FINAL_DIR",
    ]


# --------------------------------------------------------------------------------------------------- signals


def _hang(fake: FakeMassgen, project: Path, live_runs: list[Live], **kw: Any) -> tuple[Live, Path]:
    live = Live(fake, project, "--automation", QUESTION, scenario="hang", **kw)
    live_runs.append(live)
    status = Path(live.wait_line("STATUS: ").split(" ", 1)[1])
    wait_until(status.exists, 10, "status.json")
    return live, status


def test_hang_rewrites_status_atomically_until_sigint(
    fake_massgen: FakeMassgen, project_dir: Path, live_runs
) -> None:
    live, status_path = _hang(fake_massgen, project_dir, live_runs, status_interval=0.02)
    stamps = set()
    end = time.monotonic() + 0.6
    while time.monotonic() < end:
        status = read_json(status_path)  # never a partial file
        assert status["finish_reason"] == "in_progress" and status["is_complete"] is False
        stamps.add(status["meta"]["last_updated"])
    assert len(stamps) >= 3
    assert {a["status"] for a in status["agents"].values()} == {"streaming"}
    sent = time.monotonic()
    live.proc.send_signal(signal.SIGINT)
    assert live.finish(timeout=10) == 0
    assert time.monotonic() - sent < 3
    assert shapes(live.stdout)[-1] == "COMPLETED" and live.out[-2] == ""
    assert "WINNER:" not in live.stdout and "ANSWER:" not in live.stdout
    assert read_json(status_path)["finish_reason"] == "in_progress"
    assert (status_path.parent / "coordination_events.json").is_file()


def test_sigterm_kills_with_the_default_action(
    fake_massgen: FakeMassgen, project_dir: Path, live_runs
) -> None:
    live, status_path = _hang(fake_massgen, project_dir, live_runs)
    live.proc.send_signal(signal.SIGTERM)
    assert live.finish(timeout=10) == -signal.SIGTERM
    assert "COMPLETED:" not in live.stdout
    assert read_json(status_path)["finish_reason"] == "in_progress"


def test_inherited_ignored_sigint_stays_ignored(
    fake_massgen: FakeMassgen, project_dir: Path, live_runs
) -> None:
    live, _ = _hang(fake_massgen, project_dir, live_runs, sigint=signal.SIG_IGN)
    live.proc.send_signal(signal.SIGINT)
    with pytest.raises(subprocess.TimeoutExpired):
        live.proc.wait(timeout=0.8)
    live.proc.send_signal(signal.SIGTERM)
    assert live.finish(timeout=10) == -signal.SIGTERM
    entry = fake_massgen.read_argv_log()[-1]
    assert entry["sigint_ignored"] is True


def test_argv_log_records_each_invocation(fake_massgen: FakeMassgen, project_dir: Path) -> None:
    env = fake_massgen.env(**FAST)
    env["PYTHONUNBUFFERED"] = "1"
    env["CLAUDECODE"] = "1"
    subprocess.run(
        ["massgen", "--automation", "--", "-starts with a dash"],
        cwd=project_dir,
        env=env,
        capture_output=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    run(fake_massgen, project_dir, "--version")
    log = fake_massgen.read_argv_log()
    assert [e["argv"] for e in log] == [["--automation", "--", "-starts with a dash"], ["--version"]]
    assert log[0]["cwd"] == str(project_dir) and log[0]["pid"] > 0 and log[0]["pgid"] > 0
    assert log[0]["env"] == {"CLAUDECODE": True, "PYTHONUNBUFFERED": "1"}
    assert log[1]["env"] == {"CLAUDECODE": False, "PYTHONUNBUFFERED": None}


# ------------------------------------------------------------------------------------------- argv and config


@pytest.mark.parametrize(
    "argv",
    [
        ["--version"],
        ["--bogus", "q"],
        ["--cwd-context", "rx", "q"],
        ["--orchestrator-timeout", "soon", "q"],
        ["--plan-depth", "huge", "q"],
        ["--personas", "many", "q"],
        ["--automation", "-x"],
    ],
)
def test_argparse_usage_errors_exit_2(fake_massgen: FakeMassgen, project_dir: Path, argv: list[str]) -> None:
    res = run(fake_massgen, project_dir, *argv)
    assert res.returncode == 2 and res.stdout == ""
    assert re.search(r"^usage: massgen ", res.stderr, re.MULTILINE)
    assert re.search(r"^massgen: error: ", res.stderr, re.MULTILINE)
    assert not (project_dir / ".massgen/massgen_logs").exists()


def test_question_starting_with_dash_after_double_dash(fake_massgen: FakeMassgen, project_dir: Path) -> None:
    res = run(
        fake_massgen, project_dir, "--automation", "--no-parse-at-references", "--", "-x is the question"
    )
    assert res.returncode == 0 and first(res.stdout, "QUESTION: ") == "QUESTION: -x is the question"


def test_mode_conflicts_exit_2(fake_massgen: FakeMassgen, project_dir: Path) -> None:
    assert run(fake_massgen, project_dir, "--automation", "--plan-steps", "0", "q").returncode == 2
    res = run(
        fake_massgen,
        project_dir,
        "--automation",
        "--personas",
        "perspective",
        "--coordination-mode",
        "decomposition",
        "q",
    )
    assert res.returncode == 2 and "LOG_DIR" not in res.stdout


def test_config_file_not_found(fake_massgen: FakeMassgen, project_dir: Path) -> None:
    res = run(fake_massgen, project_dir, "--config", "missing.yaml", "--automation", QUESTION)
    assert res.returncode == 1 and "LOG_DIR:" not in res.stdout
    assert "❌ Configuration error: Configuration file not found: missing.yaml" in res.stderr
    metadata = next(
        (project_dir / ".massgen/massgen_logs").glob("log_*/turn_1/attempt_1/execution_metadata.yaml")
    )
    assert "failure_stage: config_resolution" in metadata.read_text()


def test_no_default_config(fake_massgen: FakeMassgen, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    res = run(fake_massgen, empty, "--automation", QUESTION)
    assert res.returncode == 1 and "LOG_DIR:" not in res.stdout
    errs = lines(res.stderr)
    at = errs.index("❌ Configuration error: No default configuration found.")
    assert errs[at + 1].startswith("Run ") and errs[at + 2 :] == [""]
    assert run(fake_massgen, empty, "--automation").returncode == 0  # wizard "setup cancelled"
    quick = run(fake_massgen, empty, "--backend", "chatcompletion", "--model", "m1", "--automation", QUESTION)
    assert quick.returncode == 0 and first(quick.stdout, "WINNER: ") == "WINNER: agent1"


def test_home_config_is_found(fake_massgen: FakeMassgen, tmp_path: Path) -> None:
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    cfg = fake_massgen.write_config(cwd)
    home_cfg = fake_massgen.home / ".config/massgen/config.yaml"
    home_cfg.parent.mkdir(parents=True)
    cfg.replace(home_cfg)
    res = run(fake_massgen, cwd, "--automation", QUESTION)
    assert (
        res.returncode == 0
        and f"config_path: {home_cfg}"
        in next(log_dir_of(res.stdout).glob("turn_1/attempt_1/execution_metadata.yaml")).read_text()
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "Error: --eval-criteria file not found: "),
        ("{not json", "Error: --eval-criteria file is not valid JSON: "),
        ('{"items": []}', 'Error: --eval-criteria must be a JSON array or {"criteria": [...]}'),
        ('["just text"]', "Error: --eval-criteria item 1 must be a JSON object, got str"),
        ('[{"text": "ok"}, {"category": "must"}]', "Error: --eval-criteria item 2 missing 'text' field."),
    ],
)
def test_eval_criteria_loader_errors(
    fake_massgen: FakeMassgen, project_dir: Path, tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "criteria.json"
    if content is not None:
        path.write_text(content)
    res = run(fake_massgen, project_dir, "--automation", "--eval-criteria", str(path), QUESTION)
    assert res.returncode == 1 and "LOG_DIR:" not in res.stdout
    assert res.stdout.startswith("\x1b[31m" + message)


def test_eval_criteria_with_non_string_value_dies_after_log_dir(
    fake_massgen: FakeMassgen, project_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "criteria.json"
    path.write_text(
        json.dumps({"aspiration": "x", "criteria": [{"text": "Works", "anti_patterns": ["stubs"]}]})
    )
    res = run(fake_massgen, project_dir, "--automation", "--eval-criteria", str(path), QUESTION)
    assert res.returncode == 2
    assert shapes(res.stdout)[:2] == ["LOG_DIR", "STATUS"]
    assert (
        "❌ Error: 1 validation error for CoordinationConfig" in res.stdout and "QUESTION:" not in res.stdout
    )


def test_valid_eval_criteria_reach_status_meta(
    fake_massgen: FakeMassgen, project_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "criteria.json"
    path.write_text(
        json.dumps(
            {
                "criteria": [
                    {"text": "Correct", "category": "primary"},
                    {"description": "Clear", "category": "could"},
                    {"name": "Tidy"},
                ]
            }
        )
    )
    res = run(fake_massgen, project_dir, "--automation", "--eval-criteria", str(path), QUESTION)
    assert res.returncode == 0
    meta = read_json(log_dir_of(res.stdout) / "turn_1/attempt_1/status.json")["meta"]
    assert meta["eval_criteria"] == [
        {"id": "E1", "text": "Correct", "category": "primary"},
        {"id": "E2", "text": "Clear", "category": "stretch"},
        {"id": "E3", "text": "Tidy", "category": "standard"},
    ]


# -------------------------------------------------------------------------------------------------- web mode


def _web(
    fake: FakeMassgen, project: Path, live_runs: list[Live], *extra: str, **knobs: Any
) -> tuple[Live, str]:
    port = free_port()
    argv = ["--web", "--no-browser", "--web-port", str(port), *extra, "--automation", QUESTION]
    live = Live(fake, project, *argv, **knobs)
    live_runs.append(live)
    return live, f"http://127.0.0.1:{port}"


def _review_run(
    fake: FakeMassgen, project: Path, live_runs: list[Live], **knobs: Any
) -> tuple[Live, str, str, Path]:
    live, base = _web(fake, project, live_runs, "--web-review", "--cwd-context", "rw", **knobs)
    attempt = project / WEB_LOG_DIR.match(live.wait_line("LOG_DIR: ")).group(1)
    live.wait_line("__REVIEW_PENDING__", timeout=15)
    request = read_json(attempt / "review_request.json")
    sid = request["api_url"].split("/api/sessions/")[1].split("/")[0]
    return live, base, sid, attempt


def test_web_review_approve_matches_recorded_run(
    fake_massgen: FakeMassgen, project_dir: Path, live_runs
) -> None:
    recorded = (sample("web-review") / "stdout.txt").read_text()
    transcript = json.loads((sample("web-review") / "review_transcript.json").read_text())
    rec_attempt = next((sample("web-review") / "project/.massgen/massgen_logs").glob("*/turn_1/attempt_1"))
    live, base, sid, attempt = _review_run(fake_massgen, project_dir, live_runs)
    assert re.fullmatch(r"auto-[0-9a-f]{12}", sid)
    assert http(base, "/api/health") == (200, {"status": "ok", "service": "massgen-web"})
    assert http(base, "/api/active-session") == (200, {"session_id": sid, "source": "automation"})
    code, review = http(base, f"/api/sessions/{sid}/review")
    recorded_review = next(
        s for s in transcript["steps"] if s["path"].endswith("/review") and s["status"] == 200
    )
    assert code == 200 and list(review) == list(recorded_review["response"])
    assert list(review["changes"][0]) == list(recorded_review["response"]["changes"][0])
    assert review["changes"][0]["changes"] == [{"status": "?", "path": "hello_e2e.txt"}]
    code, status = http(base, f"/api/sessions/{sid}/status")
    assert code == 200 and set(status) == {"status", "status_file", "log_dir_used"}
    assert status["status"]["review_pending"] is True and status["status"]["finish_reason"] == "completed"
    assert status["status"]["is_complete"] is True
    request = read_json(attempt / "review_request.json")
    assert list(request) == list(read_json(rec_attempt / "review_request.json"))
    assert request["url"] == "http://localhost:8000/?v=2" and request["files"] == [
        {"path": "hello_e2e.txt", "status": "?"}
    ]
    assert not (project_dir / "hello_e2e.txt").exists()
    assert http(base, f"/api/sessions/{sid}/review-response", {"approved": True, "action": "approve"}) == (
        200,
        {"status": "ok"},
    )
    assert live.finish() == 0
    assert shapes(live.stdout) == shapes(recorded)
    assert "__REVIEW_COMPLETE__ APPROVED=True" in live.out
    result = read_json(attempt / "review_result.json")
    assert list(result) == list(read_json(rec_attempt / "review_result.json"))
    assert result["approved"] is True and result["approved_files"] is None and result["resolved_by"] == "api"
    assert (project_dir / "hello_e2e.txt").is_file()
    assert read_json(attempt / "status.json")["review_pending"] is True  # not rewritten after the decision
    session = attempt.parents[1]
    assert read_json(session / "winning_agents_history.json")[0]["agent_id"] == "agent_a"
    assert (session / "turn_1/answer.txt").is_file() and (session / "turn_1/metadata.json").is_file()
    assert not (session / "turn_1/final").exists() and (attempt / "final/agent_a/answer.txt").is_file()
    assert sid in "\n".join(live.err) and sid not in live.stdout
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(base + "/api/health", timeout=2)


def test_web_review_partial_approval_and_file_selection(
    fake_massgen: FakeMassgen, project_dir: Path, live_runs
) -> None:
    (project_dir / "old.txt").write_text("old\n")
    files = "a.txt:?,b.txt:A,old.txt:D"
    live, base, sid, attempt = _review_run(fake_massgen, project_dir, live_runs, review_files=files)
    http(
        base,
        f"/api/sessions/{sid}/review-response",
        {"approved": True, "approved_files": ["b.txt", f"{project_dir}::old.txt"]},
    )
    assert live.finish() == 0
    assert (
        not (project_dir / "a.txt").exists()
        and (project_dir / "b.txt").is_file()
        and not (project_dir / "old.txt").exists()
    )
    assert read_json(attempt / "review_result.json")["approved_files"] == ["b.txt", f"{project_dir}::old.txt"]


def test_web_review_unknown_file_names_apply_nothing(
    fake_massgen: FakeMassgen, project_dir: Path, live_runs
) -> None:
    live, base, sid, attempt = _review_run(fake_massgen, project_dir, live_runs)
    http(base, f"/api/sessions/{sid}/review-response", {"approved": True, "approved_files": ["nope.txt"]})
    assert live.finish() == 0
    assert read_json(attempt / "review_result.json")["approved"] is True
    assert not (project_dir / "hello_e2e.txt").exists()


@pytest.mark.parametrize("body", [{"approved": False, "action": "reject"}, {"action": "approve"}])
def test_web_review_reject(fake_massgen: FakeMassgen, project_dir: Path, live_runs, body: dict) -> None:
    live, base, sid, attempt = _review_run(fake_massgen, project_dir, live_runs)
    assert http(base, f"/api/sessions/{sid}/review-response", body)[0] == 200
    assert live.finish() == 0
    assert "__REVIEW_COMPLETE__ APPROVED=False" in live.out
    result = read_json(attempt / "review_result.json")
    assert result["approved"] is False and result["resolved_by"] == "api"
    assert not (project_dir / "hello_e2e.txt").exists()


def test_web_review_timeout_and_endpoint_errors(
    fake_massgen: FakeMassgen, project_dir: Path, live_runs
) -> None:
    live, base, sid, attempt = _review_run(fake_massgen, project_dir, live_runs, review_timeout=1.5)
    assert http(base, "/api/sessions/auto-000000000000/review-response", {"approved": True})[0] == 404
    assert http(base, "/api/sessions/auto-000000000000/review") == (200, {"review_pending": False})
    assert http(base, f"/api/sessions/{sid}/review-response", raw=b"not json")[0] == 500
    assert live.finish() == 0
    result = read_json(attempt / "review_result.json")
    assert {k: result[k] for k in ("approved", "approved_files", "action", "resolved_by")} == {
        "approved": False,
        "approved_files": None,
        "action": "approve",
        "resolved_by": "unknown",
    }
    assert "__REVIEW_COMPLETE__ APPROVED=False" in live.out and not (project_dir / "hello_e2e.txt").exists()


def test_two_reviews_in_one_run(fake_massgen: FakeMassgen, project_dir: Path, live_runs) -> None:
    live, base, sid, attempt = _review_run(fake_massgen, project_dir, live_runs, reviews=2)
    http(base, f"/api/sessions/{sid}/review-response", {"approved": False})
    wait_until(
        lambda: live.out.count("__REVIEW_PENDING__ URL=http://localhost:8000/?v=2") == 2, 10, "second review"
    )
    wait_until(
        lambda: http(base, f"/api/sessions/{sid}/review")[1].get("review_pending"), 10, "pending again"
    )
    http(base, f"/api/sessions/{sid}/review-response", {"approved": True})
    assert live.finish() == 0
    assert [line for line in live.out if line.startswith("__REVIEW_COMPLETE__")] == [
        "__REVIEW_COMPLETE__ APPROVED=False",
        "__REVIEW_COMPLETE__ APPROVED=True",
    ]
    assert read_json(attempt / "review_result.json")["approved"] is True
    assert (project_dir / "hello_e2e.txt").is_file()


def test_web_without_review_and_not_pending_response(
    fake_massgen: FakeMassgen, project_dir: Path, live_runs
) -> None:
    live, base = _web(
        fake_massgen, project_dir, live_runs, "--plan", "--quick", "--output-file", "x.md", step_delay=0.2
    )
    match = WEB_LOG_DIR.match(live.wait_line("LOG_DIR: "))
    assert match and live.wait_line("STATUS: ") == f"STATUS: {match.group(1)}/status.json"
    sid = http(base, "/api/active-session")[1]["session_id"]
    assert http(base, f"/api/sessions/{sid}/review-response", {"approved": True}) == (200, {"status": "ok"})
    code, sessions = http(base, "/api/sessions")
    assert code == 200 and sessions["sessions"][0]["session_id"] == sid
    assert any(s["session_id"] == Path(match.group(1)).parts[2] for s in sessions["sessions"])
    assert http(base, "/api/sessions/nope")[0] == 404
    assert live.finish() == 0
    for marker in ("QUESTION:", "WINNER:", "ANSWER:", "COMPLETED:", "FINAL_DIR:", "__REVIEW"):
        assert marker not in live.stdout
    assert live.out[-1] == "[WebUI] Saved session metadata: turn=1, winner=agent_a"
    attempt = project_dir / match.group(1)
    assert not (attempt / "final/agent_a/workspace").exists()  # --plan is ignored with --web
    assert not (project_dir / "x.md").exists() and not (attempt / "review_request.json").exists()


def test_web_cancel_endpoint(fake_massgen: FakeMassgen, project_dir: Path, live_runs) -> None:
    live, base = _web(fake_massgen, project_dir, live_runs, scenario="hang")
    attempt = project_dir / WEB_LOG_DIR.match(live.wait_line("LOG_DIR: ")).group(1)
    sid = http(base, "/api/active-session")[1]["session_id"]
    assert http(base, f"/api/sessions/{sid}/cancel", {}) == (200, {"status": "cancelled", "session_id": sid})
    assert live.finish() == 0
    status = read_json(attempt / "status.json")
    assert status["coordination"]["phase"] == "cancelled" and status["coordination"]["cancelled"] is True


def test_web_port_in_use_exits_1(fake_massgen: FakeMassgen, project_dir: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        res = run(fake_massgen, project_dir, "--web", "--web-port", str(port), "--automation", QUESTION)
    assert res.returncode == 1 and "LOG_DIR:" not in res.stdout and "address already in use" in res.stderr


# ---------------------------------------------------------------------------------------- setup / inspection


def test_list_backends(fake_massgen: FakeMassgen, tmp_path: Path) -> None:
    res = run(fake_massgen, tmp_path, "--list-backends")
    assert res.returncode == 0 and res.stdout == (REAL / "list_backends.txt").read_text(encoding="utf-8")
    types = re.findall(r"^  (\w+): ", res.stdout, re.MULTILINE)
    assert len(types) == 28 and {"chatcompletion", "claude_code", "zai", "openai"} <= set(types)
    assert not (tmp_path / ".massgen").exists()


def quickstart(fake: FakeMassgen, cwd: Path, *argv: str, **keys: str) -> subprocess.CompletedProcess[str]:
    env = fake.env(**FAST)
    env.update(keys)
    return subprocess.run(
        ["massgen", "--quickstart", "--headless", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )


def summary_block(stdout: str) -> str:
    """massgen's summary block: from the blank line before its first rule to the blank line that ends it."""
    start = stdout.index("\n" + "=" * 50 + "\nMASSGEN HEADLESS QUICKSTART")
    status = stdout.index("\nSTATUS: ", start)
    last = stdout.index("Run with:", status) if stdout.startswith("\nSTATUS: SUCCESS", status) else status + 1
    return stdout[start : stdout.index("\n\n", last) + 2]


KEY_LINES = re.compile(r"^API Keys:\n(?:  [A-Z_]+: (?:available|not set)\n)+", re.MULTILINE)


def test_quickstart_headless_without_keys(fake_massgen: FakeMassgen, tmp_path: Path) -> None:
    res = quickstart(fake_massgen, tmp_path)
    assert res.returncode == 0
    block = KEY_LINES.sub("API Keys:\n", summary_block(res.stdout))
    env = tmp_path / ".env"
    assert block == (
        "\n" + "=" * 50 + "\nMASSGEN HEADLESS QUICKSTART\n" + "=" * 50 + "\n\nAPI Keys:\n\n"
        "Selected: none (no API keys found)\n"
        f"Env template: {env}\n"
        "Docker: not available\nSkills: not installed\n\n"
        "STATUS: NEEDS_CONFIG\n"
        f"  -> No API keys found. Fill in {env}, then re-run massgen --quickstart --headless\n\n"
    )
    # massgen's own quirk: codex and claude_code (CLI login) make these two always "available".
    keys = re.findall(r"^  ([A-Z_]+): (available|not set)$", res.stdout, re.MULTILINE)
    assert keys[:4] == [
        ("OPENAI_API_KEY", "available"),
        ("ANTHROPIC_API_KEY", "available"),
        ("GEMINI_API_KEY", "not set"),
        ("GOOGLE_API_KEY", "not set"),
    ]
    assert len(keys) == 18 and keys[-1] == ("UI_TARS_API_KEY", "not set")
    assert "OPENAI_API_KEY=\n" in env.read_text() and not (tmp_path / ".massgen/config.yaml").exists()
    again = quickstart(fake_massgen, tmp_path)  # the template exists now: not rewritten, not reported
    assert "Env template:" not in again.stdout and "STATUS: NEEDS_CONFIG" in again.stdout


def test_quickstart_headless_single_and_multi(fake_massgen: FakeMassgen, tmp_path: Path) -> None:
    res = quickstart(fake_massgen, tmp_path, OPENAI_API_KEY="sk-test")
    block = KEY_LINES.sub("API Keys:\n", summary_block(res.stdout))
    assert res.returncode == 0 and block.endswith(
        "API Keys:\n\nSelected: openai / gpt-5.4\nConfig: .massgen/config.yaml\n"
        "Docker: not available\nSkills: not installed\n\nSTATUS: SUCCESS\n\n"
        'Run with:\n  massgen --automation --config .massgen/config.yaml "Your question"\n\n'
    )
    assert "Quickstart Skills Setup" in res.stdout.split("MASSGEN HEADLESS QUICKSTART")[0]  # offline skills
    assert "type: openai" in (tmp_path / ".massgen/config.yaml").read_text()
    res = quickstart(fake_massgen, tmp_path, OPENAI_API_KEY="sk-test", ANTHROPIC_API_KEY="sk-test")
    assert "Selected: claude / claude-sonnet-4-5-20250514\n" in res.stdout  # claude first when both are set
    target = tmp_path / "cfg" / "team.yaml"
    res = quickstart(
        fake_massgen,
        tmp_path,
        "--quickstart-agent",
        "backend=openai,model=gpt-5-mini",
        "--quickstart-agent",
        "backend=claude",
        "--config",
        "cfg/team.yaml",
        OPENAI_API_KEY="sk-test",
        ANTHROPIC_API_KEY="sk-test",
    )
    assert (
        "\nSelected (2 backends):\n  openai / gpt-5-mini\n  claude / claude-sonnet-4-5-20250514\n"
        "Config: cfg/team.yaml\n" in res.stdout
    )
    assert "type: claude" in target.read_text() and "STATUS: SUCCESS" in res.stdout


def test_quickstart_headless_agent_without_its_key(fake_massgen: FakeMassgen, tmp_path: Path) -> None:
    res = quickstart(
        fake_massgen,
        tmp_path,
        "--quickstart-agent",
        "backend=grok,model=m",
        "--config",
        "cfg/team.yaml",
        OPENAI_API_KEY="sk-test",
    )
    assert res.returncode == 0 and (
        "Selected: none (no API keys found)\nEnv template: cfg/.env\n" in res.stdout
        and "STATUS: NEEDS_CONFIG\n  -> Backend(s) grok require API keys. Fill in cfg/.env, then re-run.\n"
        in res.stdout
    )
    assert (tmp_path / "cfg/.env").is_file() and not (tmp_path / "cfg/team.yaml").exists()
    assert "Quickstart Skills Setup" not in res.stdout
    res = quickstart(fake_massgen, tmp_path, "--quickstart-agent", "model=x")
    assert (
        res.returncode == 1 and "ValueError: Each --quickstart-agent requires backend=<type>." in res.stderr
    )


def test_validate_json(fake_massgen: FakeMassgen, project_dir: Path, tmp_path: Path) -> None:
    res = run(fake_massgen, project_dir, "--validate", ".massgen/config.yaml", "--json")
    assert res.returncode == 0 and res.stdout == (REAL / "validate_valid.json").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text("ui:\n  display_type: rich_terminal\n")
    res = run(fake_massgen, project_dir, "--validate", str(bad), "--strict", "--json")
    assert res.returncode == 1 and json.loads(res.stdout)["valid"] is False
    res = run(fake_massgen, tmp_path, "--validate", "missing.yaml", "--json")
    assert res.returncode == 1 and res.stdout == (REAL / "validate_missing.json").read_text()
    bad.write_text("agents:\n  - id: a\n    backend:\n      type: nosuchbackend\n      model: m\n")
    res = run(fake_massgen, tmp_path, "--validate", "bad.yaml", "--json")
    assert res.returncode == 1 and res.stdout == (REAL / "validate_invalid.json").read_text()
    res = run(fake_massgen, tmp_path, "--validate", "missing.yaml")
    assert res.stdout == (
        "\n🔴 Configuration Errors Found:\n\n"
        "❌ [file] Config file not found: missing.yaml\n"
        "   💡 Suggestion: Check the file path\n"
    )
    res = run(fake_massgen, project_dir, "--validate", ".massgen/config.yaml")
    assert res.returncode == 0 and res.stdout == "✅ Configuration is valid!\n"
    assert not (project_dir / ".massgen/massgen_logs").exists()


def test_web_quickstart_wizard(fake_massgen: FakeMassgen, tmp_path: Path, live_runs) -> None:
    port = free_port()
    live = Live(fake_massgen, tmp_path, "--web-quickstart", "--no-browser", "--web-port", str(port))
    live_runs.append(live)
    server = f"\x1b[92m   Server: http://127.0.0.1:{port}/?temporary=1&wizard=open\x1b[0m"
    assert live.wait_line("\x1b[96m🌐 Starting MassGen Web Quickstart...") and server in live.out
    base = f"http://127.0.0.1:{port}"
    # The address is printed before the server is bound (as in massgen): retry until it listens.
    reply = wait_until(lambda: _try_http(base, "/api/quickstart/complete", {"config_path": "/x/c.yaml"}), 10)
    assert reply == (200, {"success": True, "status": "completed", "config_path": "/x/c.yaml"})
    assert live.finish() == 0 and live.out[-2:] == [
        "\x1b[92m✅ Configuration saved to: /x/c.yaml\x1b[0m",
        '\x1b[96mRun with: massgen --config /x/c.yaml "Your question"\x1b[0m',
    ]
    port = free_port()
    live = Live(fake_massgen, tmp_path, "--web-quickstart", "--web-port", str(port))
    live_runs.append(live)
    base = f"http://127.0.0.1:{port}"
    assert wait_until(lambda: _try_http(base, "/api/quickstart/cancel", {}), 10)[0] == 200
    assert live.finish() == 1 and live.out[-1] == "\x1b[93m⚠️  Web quickstart cancelled\x1b[0m"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        res = run(fake_massgen, tmp_path, "--web-quickstart", "--web-port", str(port))
    assert res.returncode == 3 and "Server: http://" in res.stdout and "address already in use" in res.stderr
    assert run(fake_massgen, tmp_path, "--web", "--web-quickstart").returncode == 2


def _try_http(base: str, path: str, body: Any) -> tuple[int, Any] | None:
    """None while the server is not listening yet."""
    try:
        return http(base, path, body)
    except urllib.error.URLError:
        return None


def test_web_without_question_serves_until_signalled(
    fake_massgen: FakeMassgen, project_dir: Path, live_runs
) -> None:
    port = free_port()
    live = Live(fake_massgen, project_dir, "--web", "--no-browser", "--web-port", str(port), "--automation")
    live_runs.append(live)
    live.wait_line("\x1b[93m   Press Ctrl+C")
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: http(base, "/api/active-session") == (200, {"session_id": None}), 10, "idle server")
    live.proc.send_signal(signal.SIGINT)
    assert live.finish(timeout=10) == 0
    assert not (project_dir / ".massgen/massgen_logs").exists()

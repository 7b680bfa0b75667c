"""Fault injection through scripts/massgen_run.sh with the fake massgen, one test per fault kind.

After every fault: no orphan (the record's pgid is gone: os.killpg(pgid, 0) fails), the run record is final
and agrees with the exit code we returned, and an answer that existed is still found by
`massgen-skill result`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

import pytest
from robust_util import assert_clean, invoke_bounded
from runtools import RUN_SH, free_port, group_alive, relayed, run_skill, skill_env, wait_for

from massgen_skill.exitcodes import ExitCode
from massgen_skill.massgen import layout
from massgen_skill.run import records

E = ExitCode
FINAL_STATES = (records.FINISHED, records.STOPPED)


# --- helpers ---------------------------------------------------------------------------------------------


def one_error_line(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert len([line for line in stderr.splitlines() if ": error: " in line]) <= 1, stderr


def record_of(project: Path, run_id: str | None = None) -> dict[str, Any]:
    folder = project / ".massgen" / "skill_runs"
    paths = [folder / f"{run_id}.json"] if run_id else sorted(folder.glob("*.json"))
    assert paths, "no run record"
    return json.loads(paths[-1].read_text())


class Background:
    """massgen_run.sh in its own session; the record appears once massgen printed LOG_DIR."""

    def __init__(self, args: list[str], env: dict[str, str], project: Path) -> None:
        self.project = project
        self.proc = subprocess.Popen(
            [str(RUN_SH), "--stop-grace", "1", *args],
            env=skill_env(env),
            cwd=project,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.record = wait_for(self._started, what="the run's record with pgid and log dir")

    def _started(self) -> dict[str, Any] | None:
        for path in (self.project / ".massgen" / "skill_runs").glob("*.json"):
            data = json.loads(path.read_text())
            if data.get("pgid") and data.get("log_dir") and data.get("status_path"):
                return data
        if self.proc.poll() is not None:
            raise AssertionError(f"the run ended early: {self.proc.communicate()}")
        return None

    def state(self) -> str:
        return str(record_of(self.project, self.record["run_id"])["state"])

    def finish(self, timeout: float = 30) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.communicate(timeout=10)
        pgid = self.record.get("pgid")
        if pgid and group_alive(pgid):
            os.killpg(pgid, signal.SIGKILL)


@pytest.fixture
def background(fake_massgen, project_dir) -> Iterator[Callable[..., Background]]:  # type: ignore[no-untyped-def]
    started: list[Background] = []

    def start(*args: str, **knobs: object) -> Background:
        run = Background(list(args), fake_massgen.env(**knobs), project_dir)
        started.append(run)
        return run

    yield start
    for run in started:  # a failed assertion must not leave a fake massgen behind
        run.kill()


def after_fault(project: Path, run_id: str, our_code: int) -> dict[str, Any]:
    """The checks every fault ends with; `our_code` is what we returned for the run."""
    record = record_of(project, run_id)
    pgid = record.get("pgid")
    if pgid:
        wait_for(lambda: not group_alive(pgid), timeout=10, what=f"process group {pgid} to be gone")
    assert record["state"] in FINAL_STATES, record
    assert record["exit_code"] == our_code and record["outcome"], record
    assert record["ended_at"] and record["reason"], record
    common = ["--project", str(project)]
    status = invoke_bounded(["status", run_id, *common, "--json"])
    assert_clean(status, {E.OK}, "status")
    assert json.loads(status.out)["exit_code"] == our_code
    waited = invoke_bounded(["wait", run_id, *common, "--timeout", "5"])
    assert waited.code == our_code, waited
    answers = sorted(Path(record["log_dir"]).rglob(layout.ANSWER_FILE)) if record.get("log_dir") else []
    result = invoke_bounded(["result", run_id, *common, "--json"])
    assert_clean(result, {our_code}, "result")  # one run, one outcome: result exits as run and wait did
    shown = json.loads(result.out)
    found = shown["answer_path"] or shown["partial_answer"]
    assert found is None or Path(found) in answers, shown  # an answer that existed is still found
    return record


# --- massgen missing / crashing / timing out ---------------------------------------------------------------


def test_massgen_missing(fake_massgen, project_dir) -> None:  # type: ignore[no-untyped-def]
    env = fake_massgen.env()
    env["PATH"] = "/usr/bin:/bin"  # no massgen, no uv/uvx
    done = run_skill(["--no-web", "task"], skill_env(env), project_dir)
    assert done.returncode == E.ENV_NOT_READY
    one_error_line(done.stderr)
    assert len(done.stderr.strip().splitlines()) == 1 and "massgen not found" in done.stderr
    assert not list((project_dir / ".massgen").glob("skill_runs/*.json"))  # nothing recorded, nothing started
    assert fake_massgen.read_argv_log() == []


def test_massgen_crashes_after_log_dir(fake_massgen, project_dir) -> None:  # type: ignore[no-untyped-def]
    done = run_skill(["--no-web", "task"], skill_env(fake_massgen.env(scenario="crash")), project_dir)
    assert done.returncode == E.CRASHED, done.stderr
    lines = relayed(done.stdout)
    assert "LOG_DIR" in lines and lines["RESULT"] == ["crashed"] and "Simulated failure" in lines["REASON"][0]
    one_error_line(done.stderr)
    after_fault(project_dir, lines["RUN_ID"][0], done.returncode)


def test_massgen_killed_by_a_signal(background) -> None:  # type: ignore[no-untyped-def]
    run = background("--no-web", "task", scenario="hang")
    os.kill(run.record["pid"], signal.SIGKILL)  # massgen itself, not the wrapper
    code, out, err = run.finish()
    assert (
        code == E.CRASHED and relayed(out)["RESULT"] == ["crashed"] and "SIGKILL" in relayed(out)["REASON"][0]
    )
    one_error_line(err)
    after_fault(run.project, run.record["run_id"], code)


def test_orchestrator_timeout(fake_massgen, project_dir) -> None:  # type: ignore[no-untyped-def]
    done = run_skill(
        ["--no-web", "--timeout", "1", "task"], skill_env(fake_massgen.env(scenario="timeout")), project_dir
    )
    assert done.returncode == E.TIMED_OUT, done.stderr
    assert relayed(done.stdout)["RESULT"] == ["timed-out"]
    one_error_line(done.stderr)
    record = after_fault(project_dir, relayed(done.stdout)["RUN_ID"][0], done.returncode)
    assert record["outcome"] == "timed-out"


# --- signals to the wrapper -------------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_to_the_wrapper(background, signum: int) -> None:  # type: ignore[no-untyped-def]
    run = background("--no-web", "task", scenario="hang")
    assert group_alive(run.record["pgid"])
    run.proc.send_signal(signum)
    code, out, err = run.finish()
    assert code == E.STOPPED and relayed(out)["RESULT"] == ["stopped"], err
    one_error_line(err)
    assert not group_alive(run.record["pgid"])  # gone before the wrapper returned
    after_fault(run.project, run.record["run_id"], code)


def test_sigkill_to_the_wrapper(background) -> None:  # type: ignore[no-untyped-def]
    run = background("--no-web", "task", scenario="hang")
    os.kill(run.proc.pid, signal.SIGKILL)
    run.finish()
    # massgen gets SIGTERM when its parent dies (PR_SET_PDEATHSIG): nothing lives on
    wait_for(lambda: not group_alive(run.record["pgid"]), timeout=10, what="massgen to follow its wrapper")
    runs = invoke_bounded(["runs", "--project", str(run.project), "--json"])
    assert json.loads(runs.out)["runs"][-1]["state"] == records.LOST
    # the record cannot be final (nothing was left to write it); `stop` finalises it
    stopped = invoke_bounded(["stop", run.record["run_id"], "--project", str(run.project), "--grace", "0.5"])
    assert_clean(stopped, {E.OK}, "stop")
    after_fault(run.project, run.record["run_id"], E.STOPPED)


def test_sigterm_while_a_review_waits_keeps_the_answer(background) -> None:  # type: ignore[no-untyped-def]
    run = background(
        "--web", "--web-port", str(free_port()), "--cwd-context", "rw", "Edit the README", scenario="review"
    )
    wait_for(lambda: run.state() == records.REVIEW_PENDING, what="the review gate")
    run.proc.send_signal(signal.SIGTERM)
    code, out, err = run.finish()
    assert code == E.STOPPED, err
    assert "__REVIEW_PENDING__" in out.splitlines()
    one_error_line(err)
    record = after_fault(run.project, run.record["run_id"], code)
    assert "answer had already been written" in record["reason"]


# --- damaged files while the run goes on --------------------------------------------------------------------


def test_torn_status_json_then_status(background) -> None:  # type: ignore[no-untyped-def]
    run = background("--no-web", "task", scenario="hang", status_interval=3600)  # massgen will not rewrite it
    status_file = Path(run.record["status_path"])
    wait_for(status_file.is_file, what="status.json")
    for garbage in (
        b'{"finish_reason": "compl',
        b"\xff\xfe\x00",
        b"[" * 100_000,
        b'{"meta": ' + b"9" * 5000 + b"}",
    ):
        status_file.write_bytes(garbage)
        shown = invoke_bounded(["status", run.record["run_id"], "--project", str(run.project)])
        assert_clean(shown, {E.OK}, garbage[:40])
        assert "unreadable" in shown.out
        as_json = invoke_bounded(["status", run.record["run_id"], "--project", str(run.project), "--json"])
        assert "unreadable" in json.loads(as_json.out)["progress"]["problem"]
    run.proc.send_signal(signal.SIGTERM)
    code, _out, err = run.finish()
    assert code == E.STOPPED, err
    one_error_line(err)
    after_fault(run.project, run.record["run_id"], code)


def test_log_dir_removed_mid_run(background) -> None:  # type: ignore[no-untyped-def]
    run = background("--no-web", "task", scenario="hang")
    shutil.rmtree(run.record["log_dir"])
    shown = invoke_bounded(["status", run.record["run_id"], "--project", str(run.project), "--json"])
    assert_clean(shown, {E.OK}, "status")
    assert json.loads(shown.out)["progress"]["problem"]
    missing = invoke_bounded(["result", run.record["run_id"], "--project", str(run.project)])
    assert_clean(missing, {E.STILL_RUNNING}, "result while running")
    run.proc.send_signal(signal.SIGTERM)
    code, _out, err = run.finish()
    assert code == E.STOPPED, err
    one_error_line(err)
    after_fault(run.project, run.record["run_id"], code)


def test_log_dir_removed_while_massgen_keeps_working(fake_massgen, project_dir) -> None:  # type: ignore[no-untyped-def]
    env = skill_env(fake_massgen.env(step_delay=0.3))
    proc = subprocess.Popen(
        [str(RUN_SH), "--no-web", "task"],
        env=env,
        cwd=project_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        record = wait_for(
            lambda: next(
                (
                    json.loads(p.read_text())
                    for p in (project_dir / ".massgen" / "skill_runs").glob("*.json")
                    if json.loads(p.read_text()).get("log_dir")
                ),
                None,
            )
        )
        shutil.rmtree(record["log_dir"], ignore_errors=True)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=10)
    assert proc.returncode in {int(code) for code in ExitCode} - {E.INTERNAL}, err
    assert relayed(out)["RESULT"], out
    one_error_line(err)
    after_fault(project_dir, record["run_id"], proc.returncode)


# --- the web port ------------------------------------------------------------------------------------------


def test_web_port_busy_is_one_line(fake_massgen, project_dir) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = run_skill(
            ["--web", "--web-port", str(port), "task"], skill_env(fake_massgen.env()), project_dir
        )
    assert done.returncode == E.USAGE
    one_error_line(done.stderr)
    assert len(done.stderr.strip().splitlines()) == 1 and f"--web-port {port}" in done.stderr
    assert fake_massgen.read_argv_log() == []
    for bad in ("0", "70000", "-1"):
        refused = run_skill(["--web", "--web-port", bad, "task"], skill_env(fake_massgen.env()), project_dir)
        assert refused.returncode == E.USAGE and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert not list((project_dir / ".massgen").glob("skill_runs/*.json"))


def test_default_port_held_announces_a_free_one(fake_massgen, project_dir) -> None:  # type: ignore[no-untyped-def]
    holder = socket.socket()
    try:
        holder.bind(("127.0.0.1", 8000))
        holder.listen()
    except OSError:
        pass  # something else holds 8000 already: just as good
    try:
        done = run_skill(["--web", "What is 6 times 7?"], skill_env(fake_massgen.env()), project_dir)
    finally:
        holder.close()
    assert done.returncode == E.OK, done.stderr
    lines = relayed(done.stdout)
    port = int(lines["WEB_UI"][0].rsplit(":", 1)[1].strip("/"))
    assert port != 8000 and f"the web UI uses port {port}" in done.stderr
    argv = fake_massgen.read_argv_log()[-1]["argv"]
    assert argv[argv.index("--web-port") + 1] == str(port)
    record = after_fault(project_dir, lines["RUN_ID"][0], done.returncode)
    assert record["web_port"] == port


# --- the review server -----------------------------------------------------------------------------------


class ErrorServer:
    """A review server that answers every request with one HTTP status (5xx by default)."""

    def __init__(self, status: int) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _reply(self) -> None:
                body = b"Service Unavailable"
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = _reply
            do_POST = _reply

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_review_server_5xx_then_gone(background) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    run = background(
        "--web", "--web-port", str(port), "--cwd-context", "rw", "Edit the README", scenario="review"
    )
    wait_for(lambda: run.state() == records.REVIEW_PENDING, what="the review gate")
    run_id, common = run.record["run_id"], ["--project", str(run.project), "--http-timeout", "3"]
    for status in (500, 503):
        broken = ErrorServer(status)
        try:
            for action in (
                ["show"],
                ["approve", "--confirm-timeout", "1"],
                ["reject", "--confirm-timeout", "1"],
            ):
                called = invoke_bounded(["review", *action, run_id, *common, "--url", broken.url])
                assert_clean(called, {E.SERVER_ERROR}, (status, action))
                assert f"HTTP {status}" in called.err
        finally:
            broken.close()
    shown = invoke_bounded(
        ["review", "show", run_id, *common]
    )  # the real (fake massgen's) server still waits
    assert_clean(shown, {E.OK}, "show")
    # the server goes away with massgen
    os.kill(run.record["pid"], signal.SIGKILL)
    code, _out, err = run.finish()
    one_error_line(err)
    gone = invoke_bounded(["review", "approve", run_id, *common, "--url", f"http://127.0.0.1:{port}"])
    assert_clean(gone, {E.SERVER_UNREACHABLE}, "approve after the server went away")
    ended = invoke_bounded(["review", "approve", run_id, *common])
    assert_clean(ended, {E.NO_REVIEW}, "approve a finished run")
    # massgen was killed, but the winner's answer had been written before the review opened
    record = after_fault(run.project, run_id, code)
    assert code == E.OK and record["outcome"] == "ok"

"""`massgen_run.sh` end to end against the fake massgen: markers, records, outcomes, signals, no orphans."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from runtools import ROOT, RUN_SH, free_port, group_alive, relayed, run_skill, skill, wait_for

from massgen_skill.exitcodes import ExitCode


def keys_in_order(stdout: str) -> list[str]:
    return [line.partition(": ")[0] for line in stdout.splitlines()]


def load_record(project: Path, run_id: str) -> dict:
    return json.loads((project / ".massgen" / "skill_runs" / f"{run_id}.json").read_text())


# --- outcomes -------------------------------------------------------------------------------------------


def test_cli_success_relays_markers_in_order_and_records_them(fake_massgen, project_dir):
    done = run_skill(["--no-web", "What is 6 times 7?"], fake_massgen.env(), project_dir)
    assert done.returncode == 0, done.stderr
    order = keys_in_order(done.stdout)
    assert order == ["RUN_ID", "LOG_DIR", "STATUS", "ANSWER", "RESULT"]
    lines = relayed(done.stdout)
    answer = Path(lines["ANSWER"][0])
    assert answer.is_absolute() and answer.is_file()
    assert answer.parts[-3:] == ("final", "agent_a", "answer.txt")
    assert Path(lines["LOG_DIR"][0]).name.startswith("log_")
    assert lines["RESULT"] == ["ok"]
    record = load_record(project_dir, lines["RUN_ID"][0])
    assert record["state"] == "finished" and record["exit_code"] == 0 and record["massgen_exit"] == 0
    assert record["answer_path"] == str(answer) and record["winner"] == "agent_a"
    assert Path(record["stdout_log"]).read_text().count("WINNER: agent_a") == 1  # massgen's own lines kept
    assert "WINNER" not in done.stdout  # … and not mixed into what the host agent reads


def test_web_success_reports_real_port_and_answer_massgen_never_printed(fake_massgen, project_dir):
    port = free_port()
    done = run_skill(["--web-port", str(port), "What is 6 times 7?"], fake_massgen.env(), project_dir)
    assert done.returncode == 0, done.stderr
    lines = relayed(done.stdout)
    assert lines["WEB_UI"] == [f"http://127.0.0.1:{port}/"]
    assert Path(lines["ANSWER"][0]).is_file()
    # web mode prints a relative attempt-level LOG_DIR; we relay the absolute session root
    assert Path(lines["LOG_DIR"][0]).is_absolute() and Path(lines["LOG_DIR"][0]).name.startswith("log_")
    argv = fake_massgen.read_argv_log()[-1]["argv"]
    assert ["--web-port", str(port)] == argv[argv.index("--web-port") : argv.index("--web-port") + 2]


@pytest.mark.parametrize(
    ("mode", "key", "name"),
    [("plan", "plan_file", "project_plan.json"), ("spec", "spec_file", "project_spec.json")],
)
def test_plan_and_spec_results_are_found(fake_massgen, project_dir, mode, key, name):
    done = run_skill(["--mode", mode, "Design the storage layer"], fake_massgen.env(), project_dir)
    assert done.returncode == 0, done.stderr
    assert "web UI off" in done.stderr  # --plan/--spec are ignored by massgen's web mode: say so, use the CLI
    result = skill(["result", "--json"], fake_massgen.env(), project_dir)
    data = json.loads(result.stdout)
    assert data[key] and Path(data[key]).name == name and Path(data[key]).is_file()
    assert Path(data["workspace"]).is_dir()


def test_all_agents_fail_is_no_answer_with_the_reason(fake_massgen, project_dir):
    done = run_skill(["--no-web", "task"], fake_massgen.env(scenario="all-fail"), project_dir)
    assert done.returncode == ExitCode.NO_ANSWER
    lines = relayed(done.stdout)
    assert lines["RESULT"] == ["no-answer"] and "ANSWER" not in lines
    assert "failed" in lines["REASON"][0].lower()


def test_all_agents_fail_without_status_json_takes_reason_from_stderr(fake_massgen, project_dir):
    done = run_skill(["--no-web", "task"], fake_massgen.env(scenario="all-fail", no_status=1), project_dir)
    assert done.returncode == ExitCode.NO_ANSWER
    assert "no successful agents" in relayed(done.stdout)["REASON"][0]


@pytest.mark.slow
def test_timeout_and_crash_outcomes(fake_massgen, project_dir):
    timed = run_skill(
        ["--no-web", "--timeout", "5", "task"], fake_massgen.env(scenario="timeout"), project_dir
    )
    assert timed.returncode == ExitCode.TIMED_OUT and relayed(timed.stdout)["RESULT"] == ["timed-out"]
    crashed = run_skill(["--no-web", "task"], fake_massgen.env(scenario="crash"), project_dir)
    assert crashed.returncode == ExitCode.CRASHED and relayed(crashed.stdout)["RESULT"] == ["crashed"]
    assert "LOG_DIR" in relayed(crashed.stdout)


def test_massgen_config_error_before_log_dir(fake_massgen, project_dir, tmp_path):
    # massgen validates the config's content itself and exits 1 before LOG_DIR (contract §2)
    stub = tmp_path / "massgen"
    stub.write_text(
        '#!/bin/sh\necho "\u274c Configuration error: agents[0].backend: unknown type" >&2\nexit 1\n'
    )
    stub.chmod(0o755)
    env = fake_massgen.env()
    env["MASSGEN_BIN"] = str(stub)
    done = run_skill(["--no-web", "task"], env, project_dir)
    lines = relayed(done.stdout)
    assert done.returncode == ExitCode.MASSGEN_CONFIG
    assert "LOG_DIR" not in lines and lines["RESULT"] == ["config-error"]
    assert "unknown type" in lines["REASON"][0]


def test_execute_plan_not_found_is_a_config_error_after_log_dir(fake_massgen, project_dir):
    argv = ["--mode", "execute-plan", "--cwd-context", "rw", "--target", "plan_missing"]  # rw confirmed
    done = run_skill(argv, fake_massgen.env(), project_dir)
    assert done.returncode == ExitCode.MASSGEN_CONFIG, done.stdout
    assert "LOG_DIR" in relayed(done.stdout)


def test_massgen_missing_and_config_missing_fail_fast_with_the_fix(fake_massgen, project_dir, tmp_path):
    env = fake_massgen.env()
    env["PATH"] = "/usr/bin:/bin"
    started = time.monotonic()
    missing = run_skill(["task"], env, project_dir)
    assert missing.returncode == ExitCode.ENV_NOT_READY
    assert "pip install massgen==0.1.97" in missing.stderr and "Traceback" not in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    no_config = run_skill(["task"], fake_massgen.env(), empty)
    assert no_config.returncode == ExitCode.ENV_NOT_READY
    assert "references/config_setup.md" in no_config.stderr
    assert time.monotonic() - started < 10
    assert fake_massgen.read_argv_log() == []  # massgen was never started


def test_restart_to_attempt_2_is_followed(fake_massgen, project_dir):
    done = run_skill(["--no-web", "task"], fake_massgen.env(scenario="restart"), project_dir)
    assert done.returncode == 0, done.stderr
    lines = relayed(done.stdout)
    assert "attempt_1" in lines["STATUS"][0]  # massgen's printed path goes stale …
    status = skill(["status", "--json"], fake_massgen.env(), project_dir)
    assert "attempt_2" in json.loads(status.stdout)["progress"]["path"]  # … status follows the newest attempt
    assert "RESTART" in lines


@pytest.mark.slow
def test_a_20_mb_stdout_burst_does_not_block_massgen(fake_massgen, project_dir):
    started = time.monotonic()
    done = run_skill(["--no-web", "task"], fake_massgen.env(scenario="burst"), project_dir, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert relayed(done.stdout)["RESULT"] == ["ok"]
    record = load_record(project_dir, relayed(done.stdout)["RUN_ID"][0])
    assert Path(record["stdout_log"]).stat().st_size > 19_000_000
    assert time.monotonic() - started < 100


@pytest.mark.slow
def test_twenty_concurrent_runs_each_report_their_own_log_dir_and_answer(fake_massgen, project_dir):
    env = fake_massgen.env(answer="ANSWER-OF-{pid}", step_delay=0.1)

    def one(i: int) -> subprocess.CompletedProcess:
        return run_skill(["--no-web", f"task number {i}"], env, project_dir, timeout=120)

    with ThreadPoolExecutor(max_workers=20) as pool:
        runs = list(pool.map(one, range(20)))
    assert all(r.returncode == 0 for r in runs), [
        (r.returncode, r.stdout, r.stderr) for r in runs if r.returncode
    ]
    log_dirs = {relayed(r.stdout)["LOG_DIR"][0] for r in runs}
    assert len(log_dirs) == 20
    for i, r in enumerate(runs):
        lines = relayed(r.stdout)
        assert lines["ANSWER"][0].startswith(lines["LOG_DIR"][0] + "/")
        record = load_record(project_dir, lines["RUN_ID"][0])
        assert record["log_dir"] == lines["LOG_DIR"][0]
        meta = (Path(lines["LOG_DIR"][0]) / "turn_1" / "attempt_1" / "execution_metadata.yaml").read_text()
        assert f"task number {i}" in meta


# --- the prompt is data ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "task",
    [
        "--help",
        "$(touch /tmp/pwned-by-massgen-skill)",
        "quotes ' \" `backticks` and globs * ? [a-z] ~",
        "line one\nline two\n\n  -- not a flag\n",
        "-starts with a dash",
    ],
)
def test_task_reaches_massgen_byte_for_byte(fake_massgen, project_dir, task):
    marker = Path("/tmp/pwned-by-massgen-skill")
    marker.unlink(missing_ok=True)
    done = run_skill(["--no-web", "--", task], fake_massgen.env(), project_dir)
    assert done.returncode == 0, done.stderr
    argv = fake_massgen.read_argv_log()[-1]["argv"]
    assert argv[-1] == task and argv[-2] == "--"
    assert not marker.exists()


def test_arguments_after_the_task_are_an_error_not_task_text(fake_massgen, project_dir):
    done = run_skill(["--no-web", "the task", "--quick"], fake_massgen.env(), project_dir)
    assert done.returncode == ExitCode.USAGE
    assert "after the task" in done.stderr and fake_massgen.read_argv_log() == []


def test_child_environment_and_signal_dispositions(fake_massgen, project_dir):
    env = fake_massgen.env()
    env["CLAUDECODE"] = "1"

    def ignore_sigint() -> None:  # as for a job started with `&` from a non-interactive shell
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    subprocess.run(
        [str(RUN_SH), "--no-web", "task"],
        env=env,
        cwd=project_dir,
        capture_output=True,
        timeout=60,
        preexec_fn=ignore_sigint,
        check=True,
    )
    entry = fake_massgen.read_argv_log()[-1]
    assert entry["env"]["CLAUDECODE"] in (False, None)
    assert entry["env"]["PYTHONUNBUFFERED"] == "1"
    assert entry["sigint_ignored"] is False
    assert entry["pgid"] == entry["pid"]  # its own process group


# --- signals, stop, lost runs -----------------------------------------------------------------------------


def start_background(fake_massgen, project_dir, *args: str) -> tuple[subprocess.Popen, dict]:
    proc = subprocess.Popen(
        [str(RUN_SH), "--no-web", "--stop-grace", "1", *args, "long task"],
        env=fake_massgen.env(scenario="hang"),
        cwd=project_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    runs = project_dir / ".massgen" / "skill_runs"

    def running() -> dict | None:
        for path in runs.glob("*.json"):
            data = json.loads(path.read_text())
            if data.get("pgid") and data.get("log_dir"):
                return data
        return None

    return proc, wait_for(running)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signal_to_the_wrapper_stops_the_whole_group(fake_massgen, project_dir, signum):
    proc, record = start_background(fake_massgen, project_dir)
    assert group_alive(record["pgid"])
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == ExitCode.STOPPED, err
    assert relayed(out)["RESULT"] == ["stopped"]
    assert not group_alive(record["pgid"])
    final = load_record(project_dir, record["run_id"])
    assert final["state"] == "stopped" and final["exit_code"] == ExitCode.STOPPED


def test_sigkilled_wrapper_leaves_a_lost_record_that_stop_cleans(fake_massgen, project_dir):
    proc, record = start_background(fake_massgen, project_dir)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=10)
    runs = skill(["runs", "--json"], fake_massgen.env(), project_dir, check=True)
    assert json.loads(runs.stdout)["runs"][-1]["state"] == "lost"
    stop = skill(["stop", record["run_id"], "--grace", "1"], fake_massgen.env(), project_dir)
    assert stop.returncode == 0, stop.stderr
    assert not group_alive(record["pgid"])
    assert load_record(project_dir, record["run_id"])["state"] == "stopped"


def test_stop_command_on_a_supervised_run(fake_massgen, project_dir):
    proc, record = start_background(fake_massgen, project_dir)
    stop = skill(["stop", "--json"], fake_massgen.env(), project_dir)
    assert stop.returncode == 0, stop.stderr
    assert json.loads(stop.stdout)["processes_left"] is False
    proc.communicate(timeout=30)
    assert proc.returncode == ExitCode.STOPPED
    assert not group_alive(record["pgid"])


def test_wait_reports_still_running_then_the_outcome(fake_massgen, project_dir):
    proc, _ = start_background(fake_massgen, project_dir)
    waited = skill(["wait", "--timeout", "0.5", "--json"], fake_massgen.env(), project_dir)
    assert waited.returncode == ExitCode.STILL_RUNNING
    assert json.loads(waited.stdout)["state"] == "running"
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    after = skill(["wait", "--timeout", "5"], fake_massgen.env(), project_dir)
    assert after.returncode == ExitCode.STOPPED


def test_wait_returns_zero_once_the_answer_exists(fake_massgen, project_dir):
    done = run_skill(["--no-web", "task"], fake_massgen.env(), project_dir)
    assert done.returncode == 0
    waited = skill(["wait", "--timeout", "5"], fake_massgen.env(), project_dir)
    assert waited.returncode == 0 and "ended: ok" in waited.stdout


def test_status_tolerates_a_garbage_status_file(fake_massgen, project_dir):
    done = run_skill(["--no-web", "task"], fake_massgen.env(), project_dir)
    status_path = Path(relayed(done.stdout)["STATUS"][0])
    status_path.write_text('{"finish_reason": "compl')
    shown = skill(["status"], fake_massgen.env(), project_dir)
    assert shown.returncode == 0 and "unreadable" in shown.stdout and "Traceback" not in shown.stderr


def test_python_module_entry_point_matches_the_shim(fake_massgen, project_dir):
    env = fake_massgen.env()
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-m", "massgen_skill", "run", "--dry-run", "--json", "task"],
        env=env,
        cwd=project_dir,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert json.loads(done.stdout)["argv"][0].endswith("massgen")


def test_dry_run_without_a_config_refuses_like_the_real_run(fake_massgen, tmp_path):
    empty = tmp_path / "no-config"
    empty.mkdir()
    done = run_skill(["--dry-run", "--json", "task"], fake_massgen.env(), empty)
    assert done.returncode == ExitCode.ENV_NOT_READY, done.stderr
    assert "no massgen config" in json.loads(done.stdout)["error"]

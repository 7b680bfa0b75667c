"""One run, one outcome: `run`, `wait`, `result`, `status --json` and `runs --json` agree (fake massgen), an
empty answer file is no answer, a time limit's fallback answer is partial, runs are found from anywhere in the
project, `run --detach` returns once massgen is launched, and the README's outcome table is the code's."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from runtools import group_alive, relayed, wait_for

from massgen_skill.exitcodes import RESULT_WORDS, ExitCode, outcome_table
from massgen_skill.follow import results
from massgen_skill.run import records
from massgen_skill.run.outcome import Outcome
from massgen_skill.run.relay import Emitter, RunRelay, RunSettings

ROOT = Path(__file__).resolve().parents[1]
RUN_SH = ROOT / "scripts" / "massgen_run.sh"
SKILL_SH = ROOT / "scripts" / "massgen_skill.sh"


def env_of(fake_massgen, tmp_path: Path, **knobs: object) -> dict[str, str]:
    env = fake_massgen.env(**knobs)
    env[records.STATE_DIR_ENV] = str(tmp_path / "state")  # the per-user run index, per test
    return env


def run_skill(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(RUN_SH), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def skill(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SKILL_SH), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def start_hanging(env: dict[str, str], cwd: Path) -> tuple[subprocess.Popen, dict]:
    proc = subprocess.Popen(
        [str(RUN_SH), "--no-web", "--stop-grace", "1", "long task"],
        env={**env, "FAKE_MASSGEN_SCENARIO": "hang"},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    folder = records.project_root(cwd) / records.RECORDS_DIR

    def running() -> dict | None:
        for path in folder.glob("*.json"):
            data = json.loads(path.read_text())
            if data.get("pgid") and data.get("log_dir"):
                return data
        return None

    return proc, wait_for(running, what="a running record")


def reports(run_id: str, env: dict[str, str], cwd: Path) -> dict[str, tuple[int | None, str | None]]:
    """(exit code, RESULT word) of one run as each follow-up command tells it."""
    waited = skill(["wait", run_id, "--timeout", "5", "--json"], env, cwd)
    result = skill(["result", run_id, "--json"], env, cwd)
    status = json.loads(skill(["status", run_id, "--json"], env, cwd).stdout)
    runs = {r["run_id"]: r for r in json.loads(skill(["runs", "--json"], env, cwd).stdout)["runs"]}
    return {
        "wait": (waited.returncode, json.loads(waited.stdout)["outcome"]),
        "result": (result.returncode, json.loads(result.stdout)["outcome"]),
        "status": (status["exit_code"], status["outcome"]),
        "runs": (runs[run_id]["exit_code"], runs[run_id]["outcome"]),
    }


def assert_agree(run_id: str, code: ExitCode, env: dict[str, str], cwd: Path) -> None:
    expected = (int(code), RESULT_WORDS[code])
    told = reports(run_id, env, cwd)
    assert all(value == expected for value in told.values()), told


# --- every command tells the same outcome ---


@pytest.mark.parametrize(
    ("args", "knobs", "code"),
    [
        (["--no-web"], {}, ExitCode.OK),
        ([], {}, ExitCode.OK),  # web mode
        (["--no-web"], {"scenario": "all-fail"}, ExitCode.NO_ANSWER),
        ([], {"scenario": "all-fail"}, ExitCode.NO_ANSWER),
        (["--no-web", "--timeout", "1"], {"scenario": "timeout"}, ExitCode.TIMED_OUT),
        (["--no-web"], {"scenario": "crash"}, ExitCode.CRASHED),
    ],
    ids=["ok", "ok-web", "no-answer", "no-answer-web", "timed-out", "crashed"],
)
def test_run_wait_result_status_runs_agree(fake_massgen, project_dir, tmp_path, args, knobs, code):
    env = env_of(fake_massgen, tmp_path, **knobs)
    done = run_skill([*args, "task"], env, project_dir)
    lines = relayed(done.stdout)
    assert (done.returncode, lines["RESULT"]) == (code, [RESULT_WORDS[code]]), done.stderr
    assert_agree(lines["RUN_ID"][0], code, env, project_dir)


def test_a_stopped_run_is_8_from_every_command(fake_massgen, project_dir, tmp_path):
    env = env_of(fake_massgen, tmp_path)
    proc, record = start_hanging(env, project_dir)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode == ExitCode.STOPPED
    assert_agree(record["run_id"], ExitCode.STOPPED, env, project_dir)


def test_a_sigkilled_wrapper_is_lost_from_every_command_until_stop(fake_massgen, project_dir, tmp_path):
    env = env_of(fake_massgen, tmp_path)
    proc, record = start_hanging(env, project_dir)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=10)
    try:
        assert_agree(record["run_id"], ExitCode.LOST, env, project_dir)
        status = json.loads(skill(["status", record["run_id"], "--json"], env, project_dir).stdout)
        assert status["state"] == records.LOST
    finally:
        stop = skill(["stop", record["run_id"], "--grace", "1"], env, project_dir)
    assert stop.returncode == 0, stop.stderr
    assert not group_alive(record["pgid"])
    assert_agree(record["run_id"], ExitCode.STOPPED, env, project_dir)


# --- evidence: empty answers, time limits ---


def _log_dir(project: Path, finish: str, answer: str | None) -> Path:
    """A web-mode log layout: status.json with `finish`, and turn_1/answer.txt holding `answer`."""
    root = project / ".massgen" / "massgen_logs" / "log_20261129_120000_000000"
    attempt = root / "turn_1" / "attempt_1"
    attempt.mkdir(parents=True)
    agents = {"agent_a": {"status": "timeout" if finish == "timeout" else "streaming", "answer_count": 1}}
    details = "Time limit exceeded (5.1s/5s)" if finish == "timeout" else "Phase: initial_answer"
    status = {"finish_reason": finish, "finish_reason_details": details, "agents": agents}
    (attempt / "status.json").write_text(json.dumps(status))
    if answer is not None:
        (root / "turn_1" / "answer.txt").write_text(answer)
    return root


def _finished_record(project: Path, root: Path, massgen_exit: int = 0) -> records.RunRecord:
    """A record whose wrapper ended without keeping an outcome: readers must decide it themselves."""
    record = records.RunRecord(records.new_run_id(), str(project), time.time(), cwd=str(project))
    record.state, record.log_dir, record.massgen_exit = records.FINISHED, str(root), massgen_exit
    records.create(record)
    return record


@pytest.mark.parametrize("answer", ["", "  \n\n", None])
def test_an_empty_answer_file_is_no_answer(tmp_path, monkeypatch, answer):
    monkeypatch.setenv(records.STATE_DIR_ENV, str(tmp_path / "state"))
    root = _log_dir(tmp_path, "in_progress", answer)
    assert results.find(root).answer_path is None
    outcome = results.outcome_of(_finished_record(tmp_path, root))
    assert outcome is not None and outcome.code == ExitCode.NO_ANSWER and not outcome.partial


def test_a_time_limit_with_a_fallback_answer_is_timed_out_with_a_partial_answer(
    fake_massgen, project_dir, tmp_path
):
    env = env_of(fake_massgen, tmp_path)
    root = _log_dir(project_dir, "timeout", "an agent's un-voted answer")
    record = _finished_record(project_dir, root)
    outcome = results.outcome_of(record)
    assert outcome == Outcome(ExitCode.TIMED_OUT, outcome.reason, partial=True)
    assert "Time limit exceeded" in outcome.reason
    shown = skill(["result", record.run_id, "--json"], env, project_dir)
    data = json.loads(shown.stdout)
    assert shown.returncode == ExitCode.TIMED_OUT
    assert data["answer_path"] is None and data["answer"] == ""
    assert data["partial_answer"] == str(root / "turn_1" / "answer.txt")
    assert data["partial_text"] == "an agent's un-voted answer"
    text = skill(["result", record.run_id], env, project_dir).stdout
    assert "PARTIAL_ANSWER: " in text and "\nANSWER_PATH" not in text and "RESULT: timed-out" in text
    assert_agree(record.run_id, ExitCode.TIMED_OUT, env, project_dir)


# --- runs are found from anywhere in the project ---


def test_a_run_started_in_a_subfolder_is_found_from_anywhere_in_the_project(
    fake_massgen, project_dir, tmp_path
):
    env = env_of(fake_massgen, tmp_path)
    deep = project_dir / "src" / "deep"
    deep.mkdir(parents=True)
    config = project_dir / ".massgen" / "config.yaml"  # massgen looks for ./.massgen/config.yaml in its cwd
    done = run_skill(["--no-web", "--config", str(config), "task"], env, deep)
    assert done.returncode == 0, done.stderr
    run_id = relayed(done.stdout)["RUN_ID"][0]
    assert fake_massgen.read_argv_log()[-1]["cwd"] == str(deep)  # massgen still runs where we started
    record = records.load(records.record_path(project_dir, run_id))
    assert record.cwd == str(deep) and record.project_dir == str(project_dir)
    assert not (deep / records.RECORDS_DIR).exists()
    for where in (project_dir, project_dir / "src", deep):
        listed = json.loads(skill(["runs", "--json"], env, where).stdout)["runs"]
        assert [r["run_id"] for r in listed] == [run_id], where
        assert skill(["result", run_id], env, where).returncode == 0
    table = skill(["runs"], env, project_dir).stdout.splitlines()
    assert table[0].split() == ["RUN_ID", "TURN", "STARTED", "STATE", "OUTCOME", "MODE", "FOLDER"]
    assert table[1].startswith(run_id) and table[1].endswith("src/deep")
    assert table[1].index("finished") == table[0].index("STATE")  # columns line up under their headers


def test_runs_all_lists_the_runs_of_every_project_from_the_user_index(fake_massgen, project_dir, tmp_path):
    env = env_of(fake_massgen, tmp_path)
    other = tmp_path / "other"  # no git: the folder itself is the project
    fake_massgen.write_config(other)
    ids = []
    for folder in (project_dir, other):
        done = run_skill(["--no-web", "task"], env, folder)
        ids.append(relayed(done.stdout)["RUN_ID"][0])
    everywhere = json.loads(skill(["runs", "--all", "--json"], env, tmp_path).stdout)["runs"]
    assert [(r["run_id"], r["project_dir"]) for r in everywhere] == [
        (ids[0], str(project_dir)),
        (ids[1], str(other)),
    ]
    assert [r["run_id"] for r in json.loads(skill(["runs", "--json"], env, other).stdout)["runs"]] == ids[1:]


# --- run --detach ---


def test_detach_returns_once_massgen_runs_and_wait_follows_that_run(fake_massgen, project_dir, tmp_path):
    env = env_of(fake_massgen, tmp_path, step_delay=0.3)
    started = run_skill(["--detach", "--no-web", "task"], env, project_dir)
    assert started.returncode == 0, started.stderr
    lines = relayed(started.stdout)
    assert list(lines) == ["RUN_ID", "RUN_DIR", "OUTPUT"]
    run_id = lines["RUN_ID"][0]
    record = records.load(records.record_path(project_dir, run_id))
    assert record.detached and record.pid and record.wrapper_pid  # massgen launched before we returned
    assert str(record.run_dir) == lines["RUN_DIR"][0]
    waited = skill(["wait", run_id, "--timeout", "30"], env, project_dir)
    assert waited.returncode == 0, waited.stdout
    output = Path(lines["OUTPUT"][0]).read_text()
    assert relayed(output)["RESULT"] == ["ok"] and relayed(output)["RUN_ID"] == [run_id]
    assert_agree(run_id, ExitCode.OK, env, project_dir)


def test_a_detached_run_is_stopped_by_stop(fake_massgen, project_dir, tmp_path):
    env = env_of(fake_massgen, tmp_path, scenario="hang")
    started = run_skill(["--detach", "--no-web", "--stop-grace", "1", "task"], env, project_dir)
    run_id = relayed(started.stdout)["RUN_ID"][0]
    record = records.load(records.record_path(project_dir, run_id))
    assert records.effective_state(record) in records.ACTIVE_STATES
    stop = skill(["stop", run_id, "--grace", "1"], env, project_dir)
    assert stop.returncode == 0, stop.stderr
    assert not group_alive(record.pgid)
    assert_agree(run_id, ExitCode.STOPPED, env, project_dir)


# --- plan / spec truth ---


def test_result_shows_the_plan_task_titles(fake_massgen, project_dir, tmp_path):
    env = env_of(fake_massgen, tmp_path)
    done = run_skill(["--mode", "plan", "Design the storage layer"], env, project_dir)
    assert done.returncode == 0 and "WARNING" not in relayed(done.stdout)
    data = json.loads(skill(["result", "--json"], env, project_dir).stdout)
    assert data["tasks"] == {
        "titles": ["T001: Understand the task", "T002: Implement", "T003: Verify"],
        "total": 3,
        "problem": None,
    }
    assert "  - T002: Implement" in skill(["result"], env, project_dir).stdout


def test_task_titles_are_bounded_and_one_line(tmp_path):
    plan = tmp_path / "project_plan.json"
    plan.write_text(json.dumps({"tasks": [{"name": f"step\n{i}" + "x" * 300} for i in range(50)]}))
    tasks = results.task_titles(plan, limit=5)
    assert tasks.total == 50 and len(tasks.titles) == 5
    assert all("\n" not in t and len(t) <= results.MAX_TITLE_CHARS for t in tasks.titles)
    plan.write_text("[1, 2")
    assert results.task_titles(plan).problem is not None


def test_a_plan_run_without_its_plan_file_warns_naming_the_file(tmp_path):
    record = records.RunRecord("r1", str(tmp_path), time.time(), mode="plan")
    out = io.StringIO()
    relay = RunRelay(record, RunSettings(tmp_path, {}, [], (0.1,)), Emitter(False, out))
    relay._check_artifact(Outcome(ExitCode.OK, "answer produced"), results.NOTHING)
    assert out.getvalue().startswith("WARNING: no project_plan.json was written")
    assert record.warnings and "project_plan.json" in record.warnings[0]


# --- the README's table is the code's ---


def test_readme_outcome_table_is_generated_from_exitcodes():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert outcome_table() in readme
    for code, word in RESULT_WORDS.items():
        assert f"| `{word}` | {int(code)} |" in readme


def test_a_massgen_that_cannot_start_is_env_not_ready_everywhere(fake_massgen, project_dir, tmp_path):
    broken = tmp_path / "broken-bin"
    broken.mkdir()
    (broken / "massgen").write_text("#!/nonexistent/interpreter\n")  # found on PATH, exec fails
    (broken / "massgen").chmod(0o755)
    env = env_of(fake_massgen, tmp_path)
    env["PATH"] = f"{broken}{os.pathsep}{env['PATH']}"
    done = run_skill(["--no-web", "task"], env, project_dir)
    assert done.returncode == ExitCode.ENV_NOT_READY, done.stderr
    assert "cannot start massgen" in done.stderr
    (record,) = records.list_records(project_dir)
    assert_agree(record.run_id, ExitCode.ENV_NOT_READY, env, project_dir)

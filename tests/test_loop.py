"""`loop`: build → structured evaluation → build on the next tasks, against the fake massgen."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

from evaluate_helpers import criteria_file, with_workspaces
from runtools import SKILL_SH, relayed, skill, skill_env, wait_for

from massgen_skill.exitcodes import ExitCode
from massgen_skill.loop.record import LOOPS_DIR

GOAL = "Write parse() in parser.py"


def _loop(fake_massgen, project: Path, *args: str, **knobs: object) -> subprocess.CompletedProcess[str]:
    env = skill_env(fake_massgen.env(**knobs))
    return skill(["loop", *args], env, project, timeout=120)


def _new_loop(fake_massgen, project: Path, *args: str, **knobs: object) -> subprocess.CompletedProcess[str]:
    with_workspaces(project)
    criteria = criteria_file(project.parent)
    return _loop(fake_massgen, project, "--criteria", str(criteria), *args, GOAL, **knobs)


def _questions(fake_massgen) -> list[str]:
    return [call["argv"][-1] for call in fake_massgen.read_argv_log()]


def _loop_record(project: Path, loop_id: str) -> dict:
    return json.loads((project / LOOPS_DIR / f"{loop_id}.json").read_text())


def test_loop_converges_in_two_rounds(fake_massgen, project_dir):
    done = _new_loop(
        fake_massgen, project_dir, "--no-web", "--cwd-context", "none", verdicts="iterate,converged"
    )
    assert done.returncode == 0, done.stderr
    lines = relayed(done.stdout)
    assert [r.split()[:2] for r in lines["ROUND"]] == [
        ["1/3", "build"],
        ["1/3", "evaluate"],
        ["2/3", "build"],
        ["2/3", "evaluate"],
    ]
    assert lines["VERDICT"] == ["iterate (round 1; E1=4 E2=7)", "converged (round 2; E1=9 E2=8)"]
    assert lines["LOOP"] == ["converged"] and lines["RESULT"] == ["ok"]
    questions = _questions(fake_massgen)
    assert len(questions) == 4
    assert questions[0] == GOAL  # round 1 builds on the goal alone
    assert "verdict.json" in questions[1] and GOAL in questions[1]
    assert questions[2].startswith(GOAL) and "fix_1: Handle the empty input" in questions[2]
    run_ids = [r.split()[2] for r in lines["ROUND"]]
    for run_id in run_ids:  # every round's runs are ordinary runs with records
        assert skill(["status", run_id, "--json"], fake_massgen.env(), project_dir).returncode == 0
    loop_id = lines["LOOP_ID"][0]
    assert loop_id.startswith("loop-")
    status = json.loads(skill(["status", loop_id, "--json"], fake_massgen.env(), project_dir).stdout)
    assert status["round"] == 2 and status["max_rounds"] == 3 and status["last_verdict"] == "converged"
    assert status["state"] == "converged" and status["exit_code"] == 0
    text = skill(["status", loop_id], fake_massgen.env(), project_dir).stdout
    assert "round: 2 of 3" in text and "last verdict: converged" in text


def test_loop_stops_after_max_rounds(fake_massgen, project_dir):
    done = _new_loop(
        fake_massgen,
        project_dir,
        "--no-web",
        "--cwd-context",
        "none",
        "--max-rounds",
        "2",
        verdicts="iterate",
    )
    assert done.returncode == 0, done.stderr
    lines = relayed(done.stdout)
    assert len(lines["ROUND"]) == 4 and lines["LOOP"] == ["max-rounds"]
    assert lines["VERDICT"][-1].startswith("iterate (round 2;")
    record = _loop_record(project_dir, lines["LOOP_ID"][0])
    assert record["state"] == "max-rounds" and [r["verdict"] for r in record["rounds"]] == ["iterate"] * 2


def test_invalid_verdict_stops_the_loop_with_a_warning(fake_massgen, project_dir):
    done = _new_loop(fake_massgen, project_dir, "--no-web", "--cwd-context", "none", verdicts="invalid")
    assert done.returncode == ExitCode.NO_ANSWER
    lines = relayed(done.stdout)
    assert any(w.startswith("round 1: verdict.json invalid") for w in lines["WARNING"])
    assert lines["LOOP"] == ["failed"] and "no usable verdict" in lines["REASON"][0]


def test_failed_round_ends_the_loop_with_its_outcome(fake_massgen, project_dir):
    done = _new_loop(fake_massgen, project_dir, "--no-web", "--cwd-context", "none", scenario="all-fail")
    assert done.returncode == ExitCode.NO_ANSWER
    lines = relayed(done.stdout)
    assert len(lines["ROUND"]) == 1 and lines["RESULT"] == ["no-answer"] and lines["LOOP"] == ["failed"]


def test_loop_waits_for_a_review_and_resumes_after_the_decision(fake_massgen, project_dir):
    knobs = {"verdicts": "converged", "scenario": "review", "review_files": "a.py:?", "review_timeout": 60}
    first = _new_loop(fake_massgen, project_dir, "--max-rounds", "1", **knobs)
    assert first.returncode == ExitCode.REVIEW_PENDING, first.stderr
    lines = relayed(first.stdout)
    loop_id, run_id = lines["LOOP_ID"][0], lines["REVIEW_RUN"][0]
    assert lines["LOOP"][0].startswith("review-pending")
    status = json.loads(skill(["status", loop_id, "--json"], fake_massgen.env(), project_dir).stdout)
    assert status["state"] == "review-pending" and status["current_run"] == run_id
    again = _loop(fake_massgen, project_dir, "--resume", loop_id, **knobs)  # still undecided: 11 again
    assert again.returncode == ExitCode.REVIEW_PENDING
    approved = skill(["review", "approve", run_id], skill_env(fake_massgen.env()), project_dir)
    assert approved.returncode == 0, approved.stderr
    resumed = _loop(fake_massgen, project_dir, "--resume", loop_id, **knobs)
    assert resumed.returncode == 0, resumed.stderr
    lines = relayed(resumed.stdout)
    assert lines["LOOP"] == ["converged"] and (project_dir / "a.py").is_file()
    assert [r.split()[1] for r in lines["ROUND"]] == ["evaluate"]
    ended = _loop(fake_massgen, project_dir, "--resume", loop_id, **knobs)
    assert ended.returncode == ExitCode.REFUSED and "already ended (converged)" in ended.stderr


def test_stop_loop_stops_the_round_and_the_loop(fake_massgen, project_dir, tmp_path):
    with_workspaces(project_dir)
    criteria = criteria_file(tmp_path)
    env = skill_env(fake_massgen.env(scenario="hang"))
    argv = [str(SKILL_SH), "loop", "--no-web", "--cwd-context", "none", "--criteria", str(criteria), GOAL]
    with subprocess.Popen(argv, cwd=project_dir, env=env, stdout=subprocess.PIPE, text=True) as proc:
        loops = project_dir / LOOPS_DIR
        wait_for(lambda: loops.is_dir() and any(loops.glob("loop-*.json")), 30, "the loop record")
        loop_id = next(loops.glob("loop-*.json")).stem
        wait_for(lambda: _loop_record(project_dir, loop_id)["rounds"], 30, "the first round")
        stopped = skill(["stop", loop_id, "--grace", "0.5"], env, project_dir)
        assert stopped.returncode == 0, stopped.stderr
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == ExitCode.STOPPED
    assert relayed(out)["LOOP"] == ["stopped"]
    assert _loop_record(project_dir, loop_id)["state"] == "stopped"


def test_new_loop_checks_before_any_run(fake_massgen, project_dir):
    no_criteria = _loop(fake_massgen, project_dir, GOAL)
    assert no_criteria.returncode == ExitCode.USAGE and "--criteria FILE is required" in no_criteria.stderr
    criteria = criteria_file(project_dir.parent)
    no_ws = _loop(fake_massgen, project_dir, "--criteria", str(criteria), GOAL)  # fixture config: no `cwd:`
    assert no_ws.returncode == ExitCode.ENV_NOT_READY and "no workspace" in no_ws.stderr
    assert fake_massgen.read_argv_log() == [] and not (project_dir / LOOPS_DIR).exists()


def test_interrupted_loop_is_lost_then_stop_ends_it_and_its_run(fake_massgen, project_dir, tmp_path):
    with_workspaces(project_dir)
    criteria = criteria_file(tmp_path)
    env = skill_env(fake_massgen.env(scenario="hang"))
    argv = [str(SKILL_SH), "loop", "--no-web", "--cwd-context", "none", "--criteria", str(criteria), GOAL]

    # SIGINT ignored as a background job of a non-interactive shell leaves it: the loop must still stop.
    def ignored() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    with subprocess.Popen(
        argv, cwd=project_dir, env=env, stdout=subprocess.DEVNULL, preexec_fn=ignored
    ) as proc:
        try:
            loops = project_dir / LOOPS_DIR
            wait_for(lambda: loops.is_dir() and any(loops.glob("loop-*.json")), 30, "the loop record")
            loop_id = next(loops.glob("loop-*.json")).stem
            wait_for(lambda: _loop_record(project_dir, loop_id)["rounds"], 30, "the first round")
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=30) == ExitCode.STOPPED
        finally:
            proc.kill()  # never leave the test waiting on a loop that did not stop
    status = json.loads(skill(["status", loop_id, "--json"], env, project_dir).stdout)
    assert status["state"] == "lost"
    run_id = status["current_run"]
    assert json.loads(skill(["status", run_id, "--json"], env, project_dir).stdout)["state"] == "running"
    stopped = skill(["stop", loop_id, "--grace", "0.5"], env, project_dir)
    assert stopped.returncode == 0, stopped.stderr
    assert _loop_record(project_dir, loop_id)["state"] == "stopped"
    assert json.loads(skill(["status", run_id, "--json"], env, project_dir).stdout)["state"] == "stopped"

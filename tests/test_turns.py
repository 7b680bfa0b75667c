"""`run --continue RUN`: follow-up turns of a massgen session, against the fake massgen (which keeps
sessions as massgen 0.1.97 does: tests/fake_massgen/sessions.py)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from runtools import free_port, relayed, run_skill, skill

from massgen_skill.exitcodes import ExitCode
from massgen_skill.massgen import flags, sessions

FIRST = "What is 6 times 7?"
FOLLOW_UP = "And 7 times 8?"


def load_record(project: Path, run_id: str) -> dict:
    return json.loads((project / ".massgen" / "skill_runs" / f"{run_id}.json").read_text())


def first_turn(fake_massgen, project: Path, *args: str, task: str = FIRST, **knobs: object) -> dict:
    done = run_skill(["--no-web", *args, task], fake_massgen.env(**knobs), project)
    assert done.returncode == 0, done.stdout + done.stderr
    return relayed(done.stdout)


def follow_up(fake_massgen, project: Path, ref: str, *args: str, task: str = FOLLOW_UP):
    return run_skill(["--continue", ref, *args, task], fake_massgen.env(), project)


def registry(fake_massgen) -> list[dict]:
    return json.loads(sessions.registry_path(fake_massgen.home).read_text())["sessions"]


# --- the follow-up turn -------------------------------------------------------------------------------------


def test_follow_up_is_the_next_turn_with_its_own_markers_and_record(fake_massgen, project_dir):
    first = first_turn(fake_massgen, project_dir)
    root = Path(first["LOG_DIR"][0])
    done = follow_up(fake_massgen, project_dir, "latest")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [line.partition(": ")[0] for line in done.stdout.splitlines()] == [
        "RUN_ID",
        "LOG_DIR",
        "STATUS",
        "ANSWER",
        "RESULT",
    ]
    lines = relayed(done.stdout)
    assert lines["RUN_ID"] != first["RUN_ID"] and lines["RESULT"] == ["ok"]
    # massgen printed none: its new log folder (named for our session in its start-up log), turn 2 in it
    turn_dir = Path(lines["LOG_DIR"][0])
    session = "skill_" + first["RUN_ID"][0]
    assert turn_dir.name == "turn_2" and turn_dir.parent.parent == root.parent and turn_dir.parent != root
    assert sessions.resumed_session(turn_dir.parent) == session
    assert lines["STATUS"] == [str(turn_dir / "attempt_1" / "status.json")]
    answer = Path(lines["ANSWER"][0])
    assert answer.is_file() and answer.is_relative_to(turn_dir)
    record = load_record(project_dir, lines["RUN_ID"][0])
    assert (record["turn"], record["session_id"], record["previous_run"]) == (2, session, first["RUN_ID"][0])
    assert record["first_run"] == first["RUN_ID"][0] and record["log_dir"] == str(turn_dir.parent)
    assert record["massgen_exit"] == 1  # massgen 0.1.97 exits 1 after every continued turn: still ok
    argv = fake_massgen.read_argv_log()[-1]
    assert [flags.SESSION_ID, session] == argv["argv"][argv["argv"].index(flags.SESSION_ID) :][:2]
    assert flags.WEB not in argv["argv"] and argv["argv"][-1] == FOLLOW_UP
    assert argv["cwd"] == str(project_dir)  # where the session is stored
    # The first turn's conversation, as massgen rebuilds it from the session's storage.
    saved = json.loads((project_dir / ".massgen/sessions" / session / "turn_1/metadata.json").read_text())
    assert saved["task"] == FIRST and saved["session_id"] == session
    stdout_log = Path(record["stdout_log"]).read_text()
    assert "Restored 1 previous turn(s) (2 messages)" in stdout_log and "Starting turn 2" in stdout_log


def test_third_turn_continues_the_same_session(fake_massgen, project_dir):
    first = first_turn(fake_massgen, project_dir)
    second = relayed(follow_up(fake_massgen, project_dir, first["RUN_ID"][0]).stdout)
    third = follow_up(fake_massgen, project_dir, second["RUN_ID"][0][:18], task="And 8 times 9?")
    assert third.returncode == 0, third.stdout + third.stderr
    lines = relayed(third.stdout)
    assert Path(lines["LOG_DIR"][0]).name == "turn_3" and lines["RESULT"] == ["ok"]
    record = load_record(project_dir, lines["RUN_ID"][0])
    assert (record["turn"], record["previous_run"], record["first_run"]) == (
        3,
        second["RUN_ID"][0],
        first["RUN_ID"][0],
    )
    assert record["session_id"] == load_record(project_dir, second["RUN_ID"][0])["session_id"]


def test_status_and_result_are_per_turn(fake_massgen, project_dir):
    first = first_turn(fake_massgen, project_dir, ANSWER="first answer")
    done = run_skill(
        ["--continue", "latest", FOLLOW_UP], fake_massgen.env(ANSWER="second answer"), project_dir
    )
    second = relayed(done.stdout)
    one = json.loads(skill(["result", first["RUN_ID"][0], "--json"], fake_massgen.env(), project_dir).stdout)
    two = json.loads(skill(["result", second["RUN_ID"][0], "--json"], fake_massgen.env(), project_dir).stdout)
    assert "first answer" in one["answer"] and "/turn_1/" in one["answer_path"] and one["turn"] == 1
    assert "second answer" in two["answer"] and "/turn_2/" in two["answer_path"] and two["turn"] == 2
    assert two["previous_run"] == first["RUN_ID"][0] and two["session_id"] == "skill_" + first["RUN_ID"][0]
    status = json.loads(
        skill(["status", first["RUN_ID"][0], "--json"], fake_massgen.env(), project_dir).stdout
    )
    assert "/turn_1/" in status["progress"]["path"] and status["turn"] == 1
    status = json.loads(skill(["status", "--json"], fake_massgen.env(), project_dir).stdout)
    assert "/turn_2/" in status["progress"]["path"] and status["turn"] == 2
    text = skill(["status"], fake_massgen.env(), project_dir).stdout
    assert f"turn 2 of session skill_{first['RUN_ID'][0]}, after {first['RUN_ID'][0]}" in text


def test_runs_groups_turns_under_their_session(fake_massgen, project_dir):
    first = first_turn(fake_massgen, project_dir)
    other = first_turn(fake_massgen, project_dir, task="Name a prime")
    follow_up(fake_massgen, project_dir, first["RUN_ID"][0])
    data = json.loads(skill(["runs", "--json"], fake_massgen.env(), project_dir).stdout)
    order = [
        (r["run_id"] == first["RUN_ID"][0], r["run_id"] == other["RUN_ID"][0], r["turn"])
        for r in data["runs"]
    ]
    assert order == [(True, False, 1), (False, False, 2), (False, True, 1)]  # the follow-up under its session
    (session,) = data["sessions"]
    assert session["first_run"] == first["RUN_ID"][0] and session["turns"] == [1, 2]
    assert session["runs"][0] == first["RUN_ID"][0] and session["session_id"].startswith("skill_")
    table = skill(["runs"], fake_massgen.env(), project_dir).stdout.splitlines()
    assert table[0].split()[:2] == ["RUN_ID", "TURN"]
    assert table[2].startswith("  ") and table[2].split()[:2] == [data["runs"][1]["run_id"], "2"]


# --- one-second session ids ---------------------------------------------------------------------------------


def test_runs_started_within_one_second_share_massgens_session_but_not_ours(fake_massgen, project_dir):
    """massgen names a new session `session_<YYYYmmdd_HHMMSS>`: two runs in one second get the same id, its
    registry keeps one entry (naming the later log folder) and its storage one turn_1 (the later answer).
    Each follow-up still continues its own run's conversation, in its own log folder."""
    same_second = "20261130_120000"

    def start(task: str) -> dict:
        return first_turn(fake_massgen, project_dir, task=task, SESSION_SECOND=same_second)

    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(start, ["Question A", "Question B"])
    ids = {load_record(project_dir, r["RUN_ID"][0])["massgen_session"] for r in (a, b)}
    assert ids == {f"session_{same_second}"}  # shared: massgen's own id cannot tell them apart
    assert [e["session_id"] for e in registry(fake_massgen)] == [f"session_{same_second}"]
    for run, task in ((a, "Question A"), (b, "Question B")):
        done = follow_up(fake_massgen, project_dir, run["RUN_ID"][0])
        assert done.returncode == 0, done.stdout + done.stderr
        turn_dir = Path(relayed(done.stdout)["LOG_DIR"][0])
        assert sessions.resumed_session(turn_dir.parent) == "skill_" + run["RUN_ID"][0]
        ours = project_dir / ".massgen/sessions" / ("skill_" + run["RUN_ID"][0])
        assert json.loads((ours / "turn_1/metadata.json").read_text())["task"] == task
    assert len({e["log_directory"] for e in registry(fake_massgen)}) == 3


# --- refusals -----------------------------------------------------------------------------------------------


def one_line_error(done) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    return lines[0]


def test_continue_with_web_is_refused_in_one_line(fake_massgen, project_dir):
    first_turn(fake_massgen, project_dir)
    done = follow_up(fake_massgen, project_dir, "latest", "--web")
    assert done.returncode == ExitCode.USAGE
    assert "--continue cannot be combined with --web" in one_line_error(done)


def test_unknown_run_is_not_found(fake_massgen, project_dir):
    first_turn(fake_massgen, project_dir)
    done = follow_up(fake_massgen, project_dir, "nosuchrun")
    assert done.returncode == ExitCode.NOT_FOUND and "no run 'nosuchrun'" in one_line_error(done)


def test_a_run_without_answer_cannot_be_continued(fake_massgen, project_dir):
    run_skill(["--no-web", FIRST], fake_massgen.env(scenario="all-fail"), project_dir)
    done = follow_up(fake_massgen, project_dir, "latest")
    assert done.returncode == ExitCode.REFUSED and "ended no-answer" in one_line_error(done)
    assert not sessions.registry_path(fake_massgen.home).exists() or all(
        not e["session_id"].startswith("skill_") for e in registry(fake_massgen)
    )


def test_only_the_newest_turn_can_be_continued(fake_massgen, project_dir):
    first = first_turn(fake_massgen, project_dir)
    second = relayed(follow_up(fake_massgen, project_dir, "latest").stdout)
    done = follow_up(fake_massgen, project_dir, first["RUN_ID"][0])
    assert done.returncode == ExitCode.REFUSED
    assert f"already continued by {second['RUN_ID'][0]}" in one_line_error(done)


def test_a_failed_follow_up_is_no_answer_and_the_run_can_be_continued_again(fake_massgen, project_dir):
    first = first_turn(fake_massgen, project_dir)
    env = fake_massgen.env(scenario="all-fail")
    failed = run_skill(["--continue", "latest", FOLLOW_UP], env, project_dir)
    assert failed.returncode == ExitCode.NO_ANSWER, failed.stdout + failed.stderr  # not massgen's exit 1
    assert relayed(failed.stdout)["RESULT"] == ["no-answer"]
    again = follow_up(fake_massgen, project_dir, first["RUN_ID"][0])  # no turn was saved: turn 2 again
    assert again.returncode == 0, again.stdout + again.stderr
    assert Path(relayed(again.stdout)["LOG_DIR"][0]).name == "turn_2"


@pytest.mark.parametrize("mode", ["plan-and-execute", "execute-plan"])
def test_modes_massgen_runs_outside_sessions_are_refused(fake_massgen, project_dir, mode):
    first_turn(fake_massgen, project_dir)
    done = follow_up(fake_massgen, project_dir, "latest", "--mode", mode)
    assert done.returncode == ExitCode.USAGE and "--continue cannot be combined with --mode" in done.stderr


def test_dry_run_shows_the_session_and_writes_nothing(fake_massgen, project_dir):
    first = first_turn(fake_massgen, project_dir)
    before = sessions.registry_path(fake_massgen.home).read_text()
    done = follow_up(fake_massgen, project_dir, "latest", "--dry-run", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    session = "skill_" + first["RUN_ID"][0]
    assert (data["continues"], data["session_id"], data["turn"], data["web"]) == (
        first["RUN_ID"][0],
        session,
        2,
        False,
    )
    assert data["argv"][data["argv"].index(flags.SESSION_ID) + 1] == session
    assert sessions.registry_path(fake_massgen.home).read_text() == before
    assert not (project_dir / ".massgen/sessions" / session).exists()


# --- a web first turn ---------------------------------------------------------------------------------------


def test_a_web_run_is_continued_on_the_cli_path(fake_massgen, project_dir):
    done = run_skill(["--web-port", str(free_port()), FIRST], fake_massgen.env(), project_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    first = relayed(done.stdout)
    follow = follow_up(fake_massgen, project_dir, "latest")
    assert follow.returncode == 0, follow.stdout + follow.stderr
    lines = relayed(follow.stdout)
    turn_dir = Path(lines["LOG_DIR"][0])
    assert turn_dir.name == "turn_2" and turn_dir.parent != Path(first["LOG_DIR"][0])
    assert Path(lines["ANSWER"][0]).is_relative_to(turn_dir) and lines["RESULT"] == ["ok"]


# --- damaged records ----------------------------------------------------------------------------------------


def test_a_hand_edited_link_to_another_run_is_refused(fake_massgen, project_dir):
    first = first_turn(fake_massgen, project_dir)
    path = project_dir / ".massgen/skill_runs" / f"{first['RUN_ID'][0]}.json"
    data = json.loads(path.read_text())
    data["previous_run"] = "../../../etc/passwd"
    path.write_text(json.dumps(data))
    done = skill(["status", first["RUN_ID"][0]], fake_massgen.env(), project_dir)
    assert done.returncode == ExitCode.INVALID_INPUT and "previous_run" in done.stderr

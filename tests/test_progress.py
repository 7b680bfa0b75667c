"""Live progress and the cost budget: events between two status.json looks, the terminal line, `status
--follow`, `run --max-cost` (RESULT: over-budget, exit 19): pure parts directly, the rest against the fake.
"""

from __future__ import annotations

import io
import json
import math
import os
import pty
import subprocess
from pathlib import Path

import pytest
from runtools import RUN_SH, group_alive, relayed, run_skill, skill

from massgen_skill.exitcodes import RESULT_WORDS, ExitCode, SkillError
from massgen_skill.follow import events
from massgen_skill.follow.events import RunEvent, derive
from massgen_skill.follow.progress import ProgressLine, compact
from massgen_skill.massgen.status import AgentProgress, Progress
from massgen_skill.prepare.request import RunRequest
from massgen_skill.run.outcome import Evidence, Spend, budget_passed, decide, usd

ATTEMPT_1 = "/logs/log_1/turn_1/attempt_1/status.json"
ATTEMPT_2 = "/logs/log_1/turn_1/attempt_2/status.json"


def agent(agent_id: str, answers: int = 0, vote: str | None = None, status: str = "working") -> AgentProgress:
    error = "boom" if status == "error" else None
    return AgentProgress(agent_id, status, answers, vote, error)


def progress(
    *agents: AgentProgress,
    path: str = ATTEMPT_1,
    phase: str | None = None,
    winner: str | None = None,
    review_pending: bool = False,
    cost: float | None = None,
) -> Progress:
    return Progress(
        path=path, agents=agents, phase=phase, winner=winner, review_pending=review_pending, cost=cost
    )


def kinds(found: list[RunEvent]) -> list[tuple[str, str | None]]:
    return [(e.kind, e.agent) for e in found]


# --- events: pure -----------------------------------------------------------------------------------------


def test_new_answers_and_votes_are_events_once():
    before = progress(agent("agent_a", 1), agent("agent_b"))
    after = progress(agent("agent_a", 1, vote="agent_b"), agent("agent_b", 1))
    assert kinds(derive(before, after)) == [(events.VOTE, "agent_a"), (events.ANSWER, "agent_b")]
    assert derive(after, after) == []  # nothing new, nothing said


def test_first_look_reports_everything_so_far():
    now = progress(agent("agent_a", 2, vote="agent_a"), agent("agent_b", 1))
    found = derive(None, now)
    assert kinds(found) == [(events.ANSWER, "agent_a"), (events.VOTE, "agent_a"), (events.ANSWER, "agent_b")]
    assert found[0].detail == "answer 2" and found[1].detail == "voted for agent_a"


def test_a_new_attempt_is_a_restart_and_counts_start_again():
    before = progress(agent("agent_a", 2), agent("agent_b", 1))
    after = progress(agent("agent_a", 1), agent("agent_b"), path=ATTEMPT_2)
    found = derive(before, after)
    assert kinds(found) == [(events.RESTART, None), (events.ANSWER, "agent_a")]
    assert "attempt_2" in found[0].detail


def test_agent_restart_error_presentation_and_review():
    before = progress(agent("agent_a", 1), agent("agent_b", 1), phase="enforcement")
    after = progress(
        agent("agent_a", 1, status="restarting"),
        agent("agent_b", 1, status="error"),
        phase=events.PRESENTATION_PHASE,
        winner="agent_a",
        review_pending=True,
    )
    found = derive(before, after)
    assert kinds(found) == [
        (events.RESTART, "agent_a"),
        (events.AGENT_ERROR, "agent_b"),
        (events.PRESENTATION, "agent_a"),
        (events.REVIEW, None),
    ]
    assert found[1].detail == "boom"
    assert derive(after, after) == []


def test_an_unreadable_look_says_nothing_and_the_next_good_one_compares_with_the_last_good():
    good = progress(agent("agent_a", 1))
    broken = Progress(path=ATTEMPT_1, problem="status.json unreadable (ValueError)")
    assert derive(good, broken) == []
    assert derive(broken, good) == derive(None, good)  # a broken `before` is no baseline


def test_event_text_and_json_forms():
    end = RunEvent(events.END, None, "over-budget", 19, "cost $0.03 passed the budget $0.02")
    assert end.text() == "end: over-budget (exit 19): cost $0.03 passed the budget $0.02"
    assert end.as_dict() == {
        "event": "end",
        "agent": None,
        "detail": "over-budget",
        "exit_code": 19,
        "reason": "cost $0.03 passed the budget $0.02",
    }
    vote = RunEvent(events.VOTE, "agent_a", "voted for agent_b")
    assert vote.text() == "vote: agent_a (voted for agent_b)" and "exit_code" not in vote.as_dict()


# --- the terminal line ------------------------------------------------------------------------------------


def test_compact_line_shows_phase_answers_votes_elapsed_and_cost_against_the_budget():
    now = progress(agent("agent_a", 2, vote="agent_b"), agent("agent_b", 1), phase="enforcement", cost=0.0123)
    assert compact(now, 41.4, 0.5) == "phase enforcement | 3 answers | 1 votes | 41s | $0.0123 of $0.50"
    assert compact(now, 41.4).endswith("| 41s | $0.0123")
    assert compact(Progress(None, problem="no LOG_DIR yet"), 3.0) == "3s | no LOG_DIR yet"


def test_progress_line_overwrites_itself_and_clears_once():
    stream = io.StringIO()
    line = ProgressLine(stream, width=20)
    line.show("phase x\nforged: line" + "y" * 50)
    line.clear()
    line.clear()  # nothing shown: nothing to clear
    text = stream.getvalue()
    assert text.count("\r\x1b[K") == 2 and "\n" not in text
    assert len(text) == 2 * len("\r\x1b[K") + 20  # bounded to its width


# --- budget: pure -----------------------------------------------------------------------------------------


def test_budget_passed_only_above_the_budget():
    assert budget_passed(0.5, 0.5) is None
    assert budget_passed(None, 0.5) is None and budget_passed(9.0, None) is None
    assert budget_passed(0.51, 0.5) == Spend(0.51, 0.5)


def test_over_budget_outcome_comes_first_and_offers_the_answer_as_partial():
    spend = Spend(0.03, 0.02)
    outcome = decide(Evidence(0, stopped_by_us=False, answer_exists=True, over_budget=spend))
    assert (outcome.code, outcome.word, outcome.partial) == (ExitCode.OVER_BUDGET, "over-budget", True)
    assert "cost $0.03 passed the budget $0.02" in outcome.reason
    shown = [usd(v) for v in (0, 0.5, 0.0123, 0.00001, 12.345)]
    assert shown == ["$0.00", "$0.50", "$0.0123", "$0.00001", "$12.345"]
    assert not decide(Evidence(-2, over_budget=spend)).partial
    assert int(ExitCode.OVER_BUDGET) == 19 and RESULT_WORDS[ExitCode.OVER_BUDGET] == "over-budget"


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf])
def test_max_cost_must_be_positive_dollars(bad: float, tmp_path: Path):
    with pytest.raises(SkillError) as caught:
        RunRequest(task="t", cwd=tmp_path, max_cost=bad).check()
    assert caught.value.code == ExitCode.USAGE and "--max-cost" in caught.value.message


def test_max_cost_not_a_number_is_a_usage_error(fake_massgen, project_dir):
    done = run_skill(["--max-cost", "lots", "task"], fake_massgen.env(), project_dir)
    assert done.returncode == ExitCode.USAGE and "--max-cost" in done.stderr
    assert "Traceback" not in done.stderr and not fake_massgen.read_argv_log()


def test_dry_run_json_shows_the_budget_and_massgen_never_sees_it(fake_massgen, project_dir):
    done = run_skill(["--dry-run", "--json", "--max-cost", "0.25", "task"], fake_massgen.env(), project_dir)
    data = json.loads(done.stdout)
    assert done.returncode == 0 and data["max_cost"] == 0.25
    assert not any("cost" in arg for arg in data["argv"])  # our budget, not a massgen flag


def test_status_timeout_without_follow_is_a_usage_error(fake_massgen, project_dir):
    done = skill(["status", "--timeout", "5"], fake_massgen.env(), project_dir)
    assert done.returncode == ExitCode.USAGE and "--follow" in done.stderr


# --- against the fake -------------------------------------------------------------------------------------


def test_fake_reports_cost_as_massgen_does(fake_massgen, project_dir):
    done = run_skill(["--no-web", "task"], fake_massgen.env(round_cost=0.001), project_dir)
    assert done.returncode == 0, done.stderr
    status = json.loads(Path(relayed(done.stdout)["STATUS"][0]).read_text())
    per_agent = [a["token_usage"]["estimated_cost"] for a in status["agents"].values()]
    assert all(cost > 0 for cost in per_agent)
    assert status["costs"]["total_estimated_cost"] == pytest.approx(sum(per_agent))


def test_budget_stop_is_over_budget_with_the_best_answer_so_far(fake_massgen, project_dir):
    env = fake_massgen.env(round_cost=0.01, step_delay=0.6)  # 3 answers cost $0.03, the presentation $0.07
    done = run_skill(["--no-web", "--max-cost", "0.02", "task"], env, project_dir)
    assert done.returncode == ExitCode.OVER_BUDGET, done.stderr
    lines = relayed(done.stdout)
    assert lines["RESULT"] == ["over-budget"] and "ANSWER" not in lines
    partial = Path(lines["PARTIAL_ANSWER"][0])
    assert partial.is_file() and partial.read_text().strip()
    assert "passed the budget $0.02" in lines["REASON"][0]
    run_id = lines["RUN_ID"][0]
    record = json.loads((project_dir / ".massgen" / "skill_runs" / f"{run_id}.json").read_text())
    assert (record["max_cost"], record["outcome"], record["exit_code"]) == (0.02, "over-budget", 19)
    assert record["partial_answer"] == str(partial)
    assert not group_alive(record["pgid"])  # stopped like `stop`: nothing left running
    info = json.loads(skill(["status", run_id, "--json"], env, project_dir).stdout)
    assert info["budget"]["max_cost"] == 0.02 and info["budget"]["over"] is True
    assert info["budget"]["spent"] > 0.02 and (info["outcome"], info["exit_code"]) == ("over-budget", 19)
    assert skill(["wait", run_id, "--timeout", "5"], env, project_dir).returncode == ExitCode.OVER_BUDGET


def test_run_within_budget_ends_ok_and_status_shows_the_spend(fake_massgen, project_dir):
    env = fake_massgen.env(round_cost=0.001)
    done = run_skill(["--no-web", "--max-cost", "5", "task"], env, project_dir)
    assert done.returncode == 0, done.stderr
    text = skill(["status"], env, project_dir).stdout
    assert "budget: $0.007 of $5.00" in text and "over the budget" not in text


def test_status_follow_prints_events_until_the_end_then_exits_with_the_outcome(fake_massgen, project_dir):
    env = fake_massgen.env(step_delay=0.3)
    started = run_skill(["--no-web", "--detach", "task"], env, project_dir)
    run_id = relayed(started.stdout)["RUN_ID"][0]
    done = skill(["status", run_id, "--follow", "--timeout", "60"], env, project_dir, timeout=90)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "end: ok (exit 0)"
    assert sum(line.startswith("answer: ") for line in lines) == 3
    assert sum(line.startswith("vote: ") for line in lines) == 3
    assert any(line.startswith("final-presentation: agent_a") for line in lines)
    again = skill(["status", run_id, "--follow", "--json"], env, project_dir)  # ended: replays, then the end
    rows = [json.loads(line) for line in again.stdout.splitlines()]
    assert rows[-1]["event"] == "end" and rows[-1]["exit_code"] == 0 and again.returncode == 0
    assert {row["run_id"] for row in rows} == {run_id}


def test_status_follow_timeout_exits_10_and_says_so(fake_massgen, project_dir):
    env = fake_massgen.env(scenario="hang")
    started = run_skill(["--no-web", "--detach", "task"], env, project_dir)
    run_id = relayed(started.stdout)["RUN_ID"][0]
    try:
        done = skill(["status", run_id, "--follow", "--timeout", "1", "--json"], env, project_dir)
        rows = [json.loads(line) for line in done.stdout.splitlines()]
        assert done.returncode == ExitCode.STILL_RUNNING
        assert rows[-1]["event"] == "timeout" and rows[-1]["exit_code"] == ExitCode.STILL_RUNNING
    finally:
        skill(["stop", run_id], env, project_dir)


def _run_on_a_terminal(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """massgen_run.sh with stderr on a pseudo-terminal: (exit code, stdout, what the terminal got)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([str(RUN_SH), *args], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    out, _ = proc.communicate(timeout=60)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the terminal's far end closed
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    return proc.returncode, out.decode(), seen.decode(errors="replace")


def test_a_terminal_gets_the_progress_line_a_pipe_and_json_do_not(fake_massgen, project_dir):
    env = fake_massgen.env(round_cost=0.001, step_delay=0.6)
    code, out, terminal = _run_on_a_terminal(["--no-web", "task"], env, project_dir)
    assert code == 0 and relayed(out)["RESULT"] == ["ok"]
    assert "\x1b[K" not in out  # stdout stays clean lines for the host agent
    assert "\r\x1b[Kphase " in terminal and " answers | " in terminal and "$0.00" in terminal
    assert terminal.rstrip("\r\n").endswith("\r\x1b[K")  # cleared at the end
    code, out, terminal = _run_on_a_terminal(["--no-web", "--json", "task"], env, project_dir)
    assert code == 0 and "\x1b[K" not in terminal
    piped = run_skill(["--no-web", "task"], env, project_dir)
    assert piped.returncode == 0 and "\x1b[K" not in piped.stderr

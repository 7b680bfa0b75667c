"""Review and steering truth with the REAL massgen 0.1.97 (offline, in the loopback-only namespace).

- default (web) mode: after a decision, massgen's status.json keeps `review_pending: true`, yet our `status`
  says decided; a watcher started after the decision reports it once and exits when the run has ended;
  `steer` refuses a web run (massgen reads no inbox there);
- CLI mode: a message sent to a team whose agents only answer and vote stays in the inbox to the end, and
  `status`/`result` report it; a team whose presenter calls a tool takes the message from the inbox.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from massgen_skill.exitcodes import ExitCode
from massgen_skill.follow.steering import WHEN_READ
from massgen_skill.massgen import layout

from . import harness
from .netns import NetNS
from .test_through_skill import SKILL_SH, Skill, relayed, skill, start_web_review  # noqa: F401 - `skill` is a fixture

pytestmark = pytest.mark.slow
STEER_TEXT = "Mention caching in the answer."


def _json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_web_review_decided_status_and_a_late_watcher(
    skill: Skill,  # noqa: F811 - the fixture imported above
    project: harness.Project,
    mg_netns: NetNS,
    llm_server_factory: Callable[..., harness.LLMServer],
) -> None:
    run, _ = start_web_review(skill, project, mg_netns, llm_server_factory)
    run_id = relayed(run.stdout()).one("RUN_ID")

    refused = skill.cmd("steer", run_id, STEER_TEXT)
    assert refused.returncode == ExitCode.REFUSED and "web UI" in refused.stderr, refused.describe()
    assert skill.cmd_json("status")["review"]["state"] == "pending"

    sent = skill.cmd("review", "reject", "--feedback", "not wanted")
    assert sent.returncode == 0, sent.describe()
    # Started after the decision, while the run may still be winding down.
    watch_out = project.artifacts / "late-watch.out"
    with watch_out.open("w", encoding="utf-8") as out:
        watcher = skill.popen_in_ns(
            [SKILL_SH, "watch-review", run_id, "--json", "--timeout", "120"], stdout=out, stderr=None
        )
    assert run.finish(timeout=90) == 0, run.describe()
    assert watcher.wait(timeout=30) == ExitCode.OK
    events = _json_lines(watch_out.read_text(encoding="utf-8"))
    assert [e["event"] for e in events] == ["watching", "review_complete", "ended"], events
    assert events[1]["approved"] is False and events[1]["decided_before_watch"] is True

    log_dir = Path(relayed(run.stdout()).one("LOG_DIR"))
    raw = harness.read_json(log_dir / "turn_1" / "attempt_1" / layout.STATUS_FILE)
    assert raw["review_pending"] is True  # massgen keeps its flag after the decision and the run's end
    info = skill.cmd_json("status")
    assert info["review"]["state"] == "rejected" and info["review"]["decision"]["resolved_by"] == "api"
    assert info["progress"]["review_pending"] is False, (raw.get("review_pending"), info)
    text = skill.cmd("status")
    assert "REVIEW PENDING" not in text.stdout and "  review: rejected (api)" in text.stdout.splitlines()

    again = skill.cmd("watch-review", run_id, "--json", "--timeout", "30")
    assert again.returncode == ExitCode.OK, again.describe()
    assert [e["event"] for e in _json_lines(again.stdout)] == ["watching", "review_complete", "ended"]


def _cli_run_with_a_message(
    skill: Skill,  # noqa: F811 - the fixture imported above
    project: harness.Project,
    config: Path,
    *extra: str,
) -> tuple[str, str, Path]:
    run = skill.start("--no-web", *extra, "--config", config, harness.QUESTION, name="cli")
    run.wait_for(lambda: "RUN_ID: " in run.stdout(), timeout=60, what="RUN_ID")
    run_id = relayed(run.stdout()).one("RUN_ID")
    steered = skill.cmd("steer", run_id, STEER_TEXT)  # massgen is still starting (~12 s): long before a tool
    assert steered.returncode == 0, steered.describe()
    assert WHEN_READ in steered.stderr
    assert run.finish(timeout=150) == 0, run.describe()
    log_dir = Path(relayed(run.stdout()).one("LOG_DIR"))
    return run_id, run.stdout(), log_dir


def _massgen_log(log_dir: Path) -> str:
    return "\n".join(
        path.read_text(encoding="utf-8", errors="replace") for path in log_dir.rglob(layout.MASSGEN_LOG_FILE)
    )


def test_cli_team_that_only_answers_and_votes_never_reads_the_message(
    skill: Skill,  # noqa: F811 - the fixture imported above
    project: harness.Project,
    llm_server_factory: Callable[..., harness.LLMServer],
) -> None:
    server = llm_server_factory()
    config = harness.write_three_agent_config(project, server.base_url)
    started = time.monotonic()
    run_id, stdout, log_dir = _cli_run_with_a_message(skill, project, config, "--cwd-context", "rw")
    assert relayed(stdout).one("RESULT") == "ok"
    assert "Injecting runtime inbox message" not in _massgen_log(log_dir)
    assert not any(STEER_TEXT in json.dumps(r) for r in server.requests())  # no agent ever saw it

    status = skill.cmd_json("status", run_id)
    unread = status["unread_steering"]
    assert unread["count"] == 1 and unread["ended"] is True, (unread, time.monotonic() - started)
    assert unread["messages"][0]["preview"] == STEER_TEXT
    assert "never read by the team" in skill.cmd("status", run_id).stdout
    result = skill.cmd("result", run_id)
    assert result.returncode == 0, result.describe()
    assert any(
        line.startswith("STEERING: 1 steering message(s) never read") for line in result.stdout.splitlines()
    )


def test_cli_team_whose_presenter_uses_a_tool_reads_the_message(
    skill: Skill,  # noqa: F811 - the fixture imported above
    project: harness.Project,
    llm_server_factory: Callable[..., harness.LLMServer],
) -> None:
    server = llm_server_factory(mode="write-file")
    config = harness.write_two_agent_fs_config(project, server.base_url)
    run_id, _, log_dir = _cli_run_with_a_message(skill, project, config, "--cwd-context", "rw")
    decisions = [note for _, _, note in server.decisions()]
    assert "presenter write" in decisions, decisions
    assert "Injecting runtime inbox message" in _massgen_log(log_dir)
    assert skill.cmd_json("status", run_id)["unread_steering"]["count"] == 0

"""Follow-up turns (`run --continue RUN`) with the REAL massgen 0.1.97, offline, through our scripts.

The first turn runs on the CLI path (massgen names its session `session_<YYYYmmdd_HHMMSS>`: one-second
resolution) or on the default web path; the follow-up continues the session on the CLI path with our own
`--session-id`. massgen logs it as `turn_2` of a new log folder, sends the model the first question with the
follow-up, and exits 1 after saving the turn (its own bug): the follow-up must still be relayed as ok.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from massgen_skill.massgen import layout, sessions

from . import harness
from .test_through_skill import OK, Skill, answer_text, load_record, relayed, skill

pytestmark = pytest.mark.slow
FIXTURES = (skill,)  # test_through_skill.py's `skill` fixture, registered here by the import

FIRST = "What is 6 times 7?"
FOLLOW_UP = "And what is that plus one?"


def _texts(server: harness.LLMServer) -> str:
    """Everything massgen sent the model, as one text (the conversation it rebuilt included)."""
    return json.dumps([r["body"].get("messages") for r in server.requests()])


def _follow_up(
    skill: Skill, project: harness.Project, llm_server_factory: Callable[..., Any], first: str
) -> str:
    """Continue run `first` against a fresh model server; check the turn; return the follow-up's run id."""
    server = llm_server_factory(vote_for="1")
    config = harness.write_three_agent_config(project, server.base_url, name="follow_up.yaml")
    res = skill.run("--continue", first, "--config", config, FOLLOW_UP, label="follow-up turn")
    assert res.returncode == 0, res.describe()
    lines = relayed(res.stdout)
    assert lines.order == ["RUN_ID", "LOG_DIR", "STATUS", "ANSWER", "RESULT"], res.describe()
    # no LOG_DIR from massgen: a new log folder of its own, turn_2 in it, its start-up log naming our session
    turn_dir = Path(lines.one("LOG_DIR"))
    root = turn_dir.parent
    assert turn_dir.name == "turn_2" and root.parent == project.path / layout.LOGS_SUBDIR
    assert root != Path(load_record(project, first).log_dir or "")
    assert sessions.resumed_session(root) == f"skill_{first}"
    assert Path(lines.one("STATUS")) == turn_dir / "attempt_1" / layout.STATUS_FILE
    answer = Path(lines.one("ANSWER"))
    assert answer.is_relative_to(turn_dir) and answer.read_text().strip() == answer_text("fake-a")
    assert lines.one("RESULT") == OK
    sent = _texts(server)
    assert FIRST in sent and FOLLOW_UP in sent  # the first turn is in the conversation massgen rebuilt
    record = load_record(project, lines.one("RUN_ID"))
    assert (record.turn, record.previous_run, record.session_id) == (2, first, f"skill_{first}")
    assert record.massgen_exit == 1  # 0.1.97 exits 1 after the saved turn (its unpacking bug): still ok
    info = skill.cmd_json("status", lines.one("RUN_ID"))
    assert info["turn"] == 2 and f"{root}/turn_2/" in (info["progress"]["path"] or "")
    earlier = skill.cmd_json("result", first)
    assert "/turn_1/" in earlier["answer_path"] and earlier["turn"] == 1  # turn 1 still answers for itself
    return lines.one("RUN_ID")


def test_cli_first_turn_then_follow_up(
    skill: Skill, project: harness.Project, llm_server_factory: Callable[..., Any]
) -> None:
    server = llm_server_factory(vote_for="2")
    config = harness.write_three_agent_config(project, server.base_url)
    res = skill.run("--no-web", "--config", config, FIRST, label="first turn (CLI)")
    assert res.returncode == 0, res.describe()
    first = relayed(res.stdout).one("RUN_ID")
    created = load_record(project, first).massgen_session
    assert created and re.fullmatch(r"session_\d{8}_\d{6}", created)  # massgen's ids: one-second resolution
    _follow_up(skill, project, llm_server_factory, first)
    listed = skill.cmd_json("runs")
    assert listed["sessions"][0]["turns"] == [1, 2] and listed["sessions"][0]["first_run"] == first
    registered = sessions.registered(Path(skill.env["HOME"]), f"skill_{first}")
    assert registered and registered["status"] == "completed"  # massgen ran the session and closed it


def test_web_first_turn_then_cli_follow_up(
    skill: Skill, project: harness.Project, llm_server_factory: Callable[..., Any]
) -> None:
    server = llm_server_factory(vote_for="2")
    config = harness.write_three_agent_config(project, server.base_url)
    res = skill.run("--config", config, FIRST, label="first turn (web)")
    assert res.returncode == 0, res.describe()
    first = relayed(res.stdout).one("RUN_ID")
    assert load_record(project, first).web
    _follow_up(skill, project, llm_server_factory, first)

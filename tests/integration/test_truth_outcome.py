"""The REAL massgen 0.1.97, default (web) mode and ``--no-web``: the outcome we report is what happened, and
``run``, ``wait``, ``result``, ``status --json`` and ``runs --json`` all tell the same one.

massgen exits 0 both when every agent failed (web mode then writes a 0-byte answer.txt and leaves status.json
``in_progress``) and when its time limit hit (it then writes an agent's un-voted answer): neither is ``ok``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from massgen_skill.exitcodes import RESULT_WORDS, ExitCode
from massgen_skill.massgen import layout

from . import harness
from .netns import NetNS
from .test_through_skill import QUESTION, Skill, relayed, skill  # noqa: F401 - `skill` is a fixture

pytestmark = pytest.mark.slow

MODES = [pytest.param(True, id="web"), pytest.param(False, id="no-web")]


def mode_args(web: bool, ns: NetNS) -> list[str]:
    return ["--web", "--web-port", str(ns.free_port())] if web else ["--no-web"]


def assert_agree(skill: Skill, run_id: str, code: ExitCode) -> None:  # noqa: F811 - the fixture's value
    """Every follow-up command reports the run's one outcome: (exit code, RESULT word)."""
    expected = (int(code), RESULT_WORDS[code])
    waited = skill.cmd_json("wait", run_id, "--timeout", "5", expect=int(code))
    result = skill.cmd_json("result", run_id, expect=int(code))
    status = skill.cmd_json("status", run_id)
    runs = {r["run_id"]: r for r in skill.cmd_json("runs")["runs"]}
    told = {
        "wait": (waited["wait_exit_code"], waited["outcome"]),
        "result": (result["exit_code"], result["outcome"]),
        "status": (status["exit_code"], status["outcome"]),
        "runs": (runs[run_id]["exit_code"], runs[run_id]["outcome"]),
    }
    assert all(value == expected for value in told.values()), told


@pytest.mark.parametrize("web", MODES)
def test_all_agents_fail_is_no_answer_in_both_modes(
    skill: Skill,  # noqa: F811 - the fixture
    project: harness.Project,
    mg_netns: NetNS,
    llm_server_factory: Callable[..., harness.LLMServer],
    web: bool,
) -> None:
    server = llm_server_factory(mode="never-tool")
    config = harness.write_config(project.configs / "two.yaml", server.base_url, agents=2)
    res = skill.run(*mode_args(web, mg_netns), "--config", config, QUESTION, label="all-fail run")
    assert res.returncode == ExitCode.NO_ANSWER, res.describe()
    lines = relayed(res.stdout)
    assert lines.one("RESULT") == RESULT_WORDS[ExitCode.NO_ANSWER]
    assert "ANSWER" not in lines.values and "PARTIAL_ANSWER" not in lines.values, res.describe()
    assert "no successful agents" in lines.one("REASON") or "failed" in lines.one("REASON").lower()
    if web:  # what made the old wrapper say ok: massgen's 0-byte answer file, status left in_progress, exit 0
        empty = Path(lines.one("LOG_DIR")) / "turn_1" / layout.ANSWER_FILE
        assert empty.is_file() and empty.stat().st_size == 0, res.describe()
        assert harness.read_json(Path(lines.one("STATUS")))["finish_reason"] == "in_progress"
    run_id = lines.one("RUN_ID")
    result = skill.cmd_json("result", run_id, expect=ExitCode.NO_ANSWER)
    assert (result["answer"], result["answer_path"], result["partial_answer"]) == ("", None, None)
    assert_agree(skill, run_id, ExitCode.NO_ANSWER)


@pytest.mark.parametrize("web", MODES)
def test_time_limit_is_timed_out_and_the_fallback_answer_only_partial(
    skill: Skill,  # noqa: F811 - the fixture
    project: harness.Project,
    mg_netns: NetNS,
    llm_server_factory: Callable[..., harness.LLMServer],
    web: bool,
) -> None:
    # Answers come ~6 s into coordination, votes could not before ~12 s: the 10 s limit hits in between.
    server = llm_server_factory(delay=6.0)
    config = harness.write_config(project.configs / "two.yaml", server.base_url, agents=2)
    res = skill.run(
        *mode_args(web, mg_netns), "--timeout", "10", "--config", config, QUESTION, label="time-limit run"
    )
    assert res.returncode == ExitCode.TIMED_OUT, res.describe()
    lines = relayed(res.stdout)
    assert lines.one("RESULT") == RESULT_WORDS[ExitCode.TIMED_OUT]
    assert "ANSWER" not in lines.values, res.describe()
    assert "Time limit exceeded" in lines.one("REASON")
    partial = Path(lines.one("PARTIAL_ANSWER"))
    assert partial.is_file() and "SCRIPTED ANSWER" in partial.read_text(encoding="utf-8")
    run_id = lines.one("RUN_ID")
    result = skill.cmd_json("result", run_id, expect=ExitCode.TIMED_OUT)
    assert (result["answer_path"], result["answer"]) == (None, "")
    assert result["partial_answer"] == str(partial) and "SCRIPTED ANSWER" in result["partial_text"]
    assert_agree(skill, run_id, ExitCode.TIMED_OUT)


def test_detached_default_mode_run_then_wait_on_its_id(
    skill: Skill,  # noqa: F811 - the fixture
    project: harness.Project,
    mg_netns: NetNS,
    llm_server: harness.LLMServer,
) -> None:
    config = harness.write_config(project.configs / "two.yaml", llm_server.base_url, agents=2)
    args = ["--web-port", str(mg_netns.free_port()), "--config", str(config), QUESTION]
    res = skill.run("--detach", *args, timeout=60, label="detach: start")
    assert res.returncode == 0, res.describe()
    lines = relayed(res.stdout)
    assert lines.order == ["RUN_ID", "RUN_DIR", "OUTPUT"], res.describe()
    run_id = lines.one("RUN_ID")
    waited = skill.cmd("wait", run_id, "--timeout", "150", timeout=170)
    assert waited.returncode == 0, waited.describe()
    output = relayed(Path(lines.one("OUTPUT")).read_text(encoding="utf-8"))
    assert output.one("RUN_ID") == run_id and output.one("RESULT") == RESULT_WORDS[ExitCode.OK]
    assert "SCRIPTED ANSWER" in Path(output.one("ANSWER")).read_text(encoding="utf-8")
    assert_agree(skill, run_id, ExitCode.OK)


def test_a_plan_run_whose_team_wrote_no_plan_file_warns_naming_it(
    skill: Skill,  # noqa: F811 - the fixture
    project: harness.Project,
    llm_server: harness.LLMServer,
) -> None:
    # The scripted agents answer in text and never write project_plan.json.
    config = harness.write_config(project.configs / "two.yaml", llm_server.base_url, agents=2)
    res = skill.run("--mode", "plan", "--config", config, "Plan the move to Postgres", label="plan, no file")
    assert res.returncode == ExitCode.OK, res.describe()
    lines = relayed(res.stdout)
    assert lines.order[-3:] == ["ANSWER", "WARNING", "RESULT"], res.describe()
    assert "no project_plan.json was written" in lines.one("WARNING")
    result = skill.cmd_json("result", lines.one("RUN_ID"))
    assert result["plan_file"] is None and result["tasks"] is None
    assert result["warnings"] == [lines.one("WARNING")]

"""The REAL massgen 0.1.97 offline: `status --follow` sees a run's answers and votes and exits with its
outcome; `run --max-cost` stops a run whose reported cost passes the budget (RESULT: over-budget, exit 19).

massgen prices a call with LiteLLM's cost map (offline: LITELLM_LOCAL_MODEL_COST_MAP=True); the scripted
server's `fake-*` models are unpriced and cost $0, so these configs name priced models (the server answers any
name the same way). gpt-4o-mini: $4.5e-6 per scripted call (10 in + 5 out tokens), gpt-4o: $7.5e-5.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from runtools import group_alive

from massgen_skill.exitcodes import RESULT_WORDS, ExitCode
from massgen_skill.run import records

from . import harness
from .netns import NetNS
from .test_through_skill import QUESTION, Skill, relayed, skill  # noqa: F401 - `skill` is a fixture
from .test_truth_outcome import assert_agree

pytestmark = pytest.mark.slow

PRICED_MODELS = ("gpt-4o-mini", "gpt-4o")


def priced_config(project: harness.Project, base_url: str) -> Path:
    """Two agents against the scripted server, under model names LiteLLM's local cost map prices."""
    path = harness.write_config(project.configs / "priced.yaml", base_url, agents=2)
    config = json.loads(path.read_text(encoding="utf-8"))  # written as JSON (valid YAML)
    for entry, model in zip(config["agents"], PRICED_MODELS, strict=True):
        entry["backend"]["model"] = model
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return path


def test_status_follow_sees_answers_and_votes_and_exits_with_the_outcome(
    skill: Skill,  # noqa: F811 - the fixture
    project: harness.Project,
    llm_server_factory: Callable[..., harness.LLMServer],
) -> None:
    server = llm_server_factory(delay=0.5)
    config = priced_config(project, server.base_url)
    run = skill.start("--no-web", "--config", config, QUESTION, name="followed")
    run_id = run.wait_for(lambda: relayed(run.stdout()).values.get("RUN_ID"), 30, "RUN_ID")[0]
    follow = skill.cmd("status", run_id, "--follow", "--json", "--timeout", "150", timeout=180)
    code = run.finish(timeout=60)
    assert (follow.returncode, code) == (0, 0), follow.describe() + run.describe()
    rows = [json.loads(line) for line in follow.stdout.splitlines()]
    kinds = [row["event"] for row in rows]
    assert {row["agent"] for row in rows if row["event"] == "answer"} == {"agent_a", "agent_b"}, kinds
    assert kinds.count("vote") == 2 and "final-presentation" in kinds, kinds
    assert rows[-1]["event"] == "end" and rows[-1]["detail"] == "ok" and rows[-1]["exit_code"] == 0
    status = skill.cmd_json("status", run_id)
    assert status["progress"]["cost"] > 0, status["progress"]  # massgen's own estimate, priced offline


def test_a_tiny_budget_stops_the_run_over_budget(
    skill: Skill,  # noqa: F811 - the fixture
    project: harness.Project,
    mg_netns: NetNS,
    llm_server_factory: Callable[..., harness.LLMServer],
) -> None:
    server = llm_server_factory(delay=1.0)  # slow replies: the run is still going when the cost passes
    config = priced_config(project, server.base_url)
    port = str(mg_netns.free_port())
    res = skill.run("--web-port", port, "--config", config, "--max-cost", "0.00001", QUESTION, label="budget")
    assert res.returncode == ExitCode.OVER_BUDGET, res.describe()
    lines = relayed(res.stdout)
    assert lines.one("RESULT") == RESULT_WORDS[ExitCode.OVER_BUDGET]
    assert "passed the budget $0.00001" in lines.one("REASON") and "ANSWER" not in lines.values
    run_id = lines.one("RUN_ID")
    status = skill.cmd_json("status", run_id)
    assert status["budget"]["max_cost"] == 0.00001 and status["budget"]["over"] is True, status["budget"]
    # the cost comes from calls that answered: an agent's answer is offered, never as the team's answer
    partial = Path(lines.one("PARTIAL_ANSWER"))
    assert partial.is_file() and partial.is_relative_to(Path(lines.one("LOG_DIR"))) and partial.read_text()
    assert_agree(skill, run_id, ExitCode.OVER_BUDGET)
    record = json.loads(records.record_path(project.path, run_id).read_text(encoding="utf-8"))
    assert record["max_cost"] == 0.00001 and record["outcome"] == "over-budget"
    assert not group_alive(record["pgid"]), "massgen's process group outlived the budget stop"

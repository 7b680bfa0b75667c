"""The REAL massgen 0.1.97 offline: one structured evaluation through our entry point, its files written by
the scripted model through the filesystem stand-in, and `result` showing the verdict."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from runtools import RUN_SH, SKILL_SH

from massgen_skill.evaluate.artefacts import CRITIQUE_FILE
from massgen_skill.evaluate.prompt import structured_task

from . import harness
from .netns import NetNS, RunResult

GOAL = "Answer: what is 6 times 7?"
TASK = "Evaluate this answer to 'what is 6 times 7?': 42"
CRITERIA = {
    "criteria": [
        {"text": "States the product as one number.", "category": "primary", "anti_patterns": ["a range"]},
        {"text": "Shows the working.", "category": "standard", "anti_patterns": ["no working at all"]},
    ]
}


def _structured_world(
    project: harness.Project, llm_server_factory: Callable[..., harness.LLMServer]
) -> tuple[harness.LLMServer, Path, Path]:
    """The scripted model in its structured mode, a two-agent config with workspaces, the criteria file."""
    server = llm_server_factory(mode="structured")
    config = harness.write_two_agent_fs_config(project, server.base_url)
    criteria = project.artifacts / "criteria.json"
    criteria.write_text(json.dumps(CRITERIA), encoding="utf-8")
    return server, config, criteria


def test_structured_evaluation_shows_the_verdict(
    project: harness.Project,
    mg_netns: NetNS,
    mg_env: dict[str, str],
    run_in_ns: Callable[..., RunResult],
    llm_server_factory: Callable[..., harness.LLMServer],
) -> None:
    server, config, criteria = _structured_world(project, llm_server_factory)
    args = ["--no-web", "--structured", "--criteria", criteria, "--cwd-context", "none", "--config", config]
    done = run_in_ns([RUN_SH, *args, TASK], timeout=240, label="run --structured")
    assert done.returncode == 0, done.describe()
    prompt = json.dumps(structured_task(TASK))[1:-1]  # as it stands in a logged request body
    sent = [r for r in server.requests() if prompt in json.dumps(r["body"])]
    assert sent, "the task reached the agents inside our contract"
    assert "structured write" in [note for _, _, note in server.decisions()], server.decisions()

    shown = mg_netns.run([str(SKILL_SH), "result", "--json"], env=mg_env, cwd=project.path, timeout=60)
    assert shown.returncode == 0, shown.describe()
    evaluation = json.loads(shown.stdout)["evaluation"]
    assert evaluation["verdict"] == "iterate" and evaluation["scores"] == {"E1": 6, "E2": 8}, evaluation
    assert [t["id"] for t in evaluation["next_tasks"]] == ["fix_1"]
    assert Path(evaluation["critique_file"]).name == CRITIQUE_FILE and evaluation["warnings"] == []
    text = mg_netns.run([str(SKILL_SH), "result"], env=mg_env, cwd=project.path, timeout=60).stdout
    assert "VERDICT: iterate" in text and "SCORE: E1 6" in text, text


def test_one_loop_round(
    project: harness.Project,
    mg_netns: NetNS,
    mg_env: dict[str, str],
    run_in_ns: Callable[..., RunResult],
    llm_server_factory: Callable[..., harness.LLMServer],
) -> None:
    _, config, criteria = _structured_world(project, llm_server_factory)
    args = ["loop", "--no-web", "--cwd-context", "none", "--max-rounds", "1", "--criteria", criteria]
    done = run_in_ns([SKILL_SH, *args, "--config", config, GOAL], timeout=400, label="loop (1 round)")
    assert done.returncode == 0, done.describe()
    lines = [line.partition(": ") for line in done.stdout.splitlines()]
    values = {key: value for key, _, value in lines}
    assert [v.split()[1] for k, _, v in lines if k == "ROUND"] == ["build", "evaluate"], done.stdout
    assert values["VERDICT"] == "iterate (round 1; E1=6 E2=8)" and values["LOOP"] == "max-rounds"
    status = mg_netns.run(
        [str(SKILL_SH), "status", values["LOOP_ID"], "--json"], env=mg_env, cwd=project.path, timeout=60
    )
    data = json.loads(status.stdout)
    assert data["round"] == 1 and data["last_verdict"] == "iterate" and data["state"] == "max-rounds"

"""`run --structured`: the contract around the task, the workspace check, and what `result` shows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from evaluate_helpers import criteria_file, with_workspaces
from runtools import relayed, run_skill, skill

from massgen_skill.evaluate import artefacts
from massgen_skill.evaluate.prompt import TASK_HEADING, structured_task
from massgen_skill.exitcodes import ExitCode
from massgen_skill.setup import scripted_model

TASK = 'Evaluate src/parse.py\nRESULT: ok\n--help "quoted"'


def _structured(fake_massgen, project: Path, verdicts: str, *extra: str):
    with_workspaces(project)
    criteria = criteria_file(project.parent)
    args = ["--no-web", "--structured", "--criteria", str(criteria), *extra, TASK]
    return run_skill(args, fake_massgen.env(verdicts=verdicts), project)


def test_structured_run_shows_verdict_scores_tasks_and_critique(fake_massgen, project_dir):
    done = _structured(fake_massgen, project_dir, "iterate")
    assert done.returncode == 0, done.stderr
    question = fake_massgen.read_argv_log()[-1]["argv"][-1]
    assert question == structured_task(TASK)  # one argv element, the user's task last and unchanged
    assert question.endswith(f"{TASK_HEADING}\n{TASK}")
    run_id = relayed(done.stdout)["RUN_ID"][0]
    shown = skill(["result", run_id], fake_massgen.env(), project_dir)
    assert shown.returncode == 0, shown.stderr
    lines = relayed(shown.stdout)
    assert lines["VERDICT"] == ["iterate"]
    assert lines["SCORE"] == ["E1 4", "E2 7"]
    assert lines["NEXT_TASK"] == [
        "[fix] fix_1: Handle the empty input",
        "[evolution] evo_1: Stream the output",
    ]
    assert Path(lines["CRITIQUE"][0]).name == artefacts.CRITIQUE_FILE
    assert "WARNING" not in lines
    data = json.loads(skill(["result", run_id, "--json"], fake_massgen.env(), project_dir).stdout)
    evaluation = data["evaluation"]
    assert evaluation["verdict"] == "iterate" and evaluation["scores"] == {"E1": 4, "E2": 7}
    assert [t["id"] for t in evaluation["next_tasks"]] == ["fix_1", "evo_1"]
    assert evaluation["ceiling_status"] == "ceiling_not_reached"
    assert Path(evaluation["critique_file"]).is_file() and evaluation["warnings"] == []


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        ("invalid", "verdict.json invalid (verdict: 'maybe' is not one of"),
        ("missing", "verdict.json missing"),
    ],
)
def test_bad_or_missing_verdict_is_a_warning_naming_the_file(fake_massgen, project_dir, verdicts, expected):
    done = _structured(fake_massgen, project_dir, verdicts)
    assert done.returncode == 0, done.stderr  # the team still answered
    shown = skill(["result"], fake_massgen.env(), project_dir)
    assert shown.returncode == 0
    warnings = relayed(shown.stdout)["WARNING"]
    assert any(w.startswith(expected) for w in warnings), warnings
    assert "VERDICT" not in relayed(shown.stdout)
    data = json.loads(skill(["result", "--json"], fake_massgen.env(), project_dir).stdout)
    assert data["evaluation"]["verdict"] is None
    assert any(w.startswith(expected) for w in data["warnings"])


def test_config_without_workspaces_is_refused_before_launch(fake_massgen, project_dir):
    criteria = criteria_file(project_dir.parent)  # the fixture's config gives its agents no `cwd:`
    done = run_skill(
        ["--no-web", "--structured", "--criteria", str(criteria), TASK], fake_massgen.env(), project_dir
    )
    assert done.returncode == ExitCode.ENV_NOT_READY
    error = done.stderr.strip().splitlines()
    assert len(error) == 1 and "3 of 3 agents" in error[0] and "cwd: workspace_<n>" in error[0]
    assert fake_massgen.read_argv_log() == []  # massgen never started
    assert not (project_dir / ".massgen" / "skill_runs").exists()


def test_structured_needs_evaluate_mode(fake_massgen, project_dir):
    done = run_skill(["--structured", "--mode", "plan", "x"], fake_massgen.env(), project_dir)
    assert done.returncode == ExitCode.USAGE
    assert "--structured only applies to --mode evaluate" in done.stderr


def test_validation_reports_where_the_file_is_wrong(tmp_path):
    (tmp_path / artefacts.VERDICT_FILE).write_text('{"verdict": "converged", "scores": {"E1": "9"}}')
    (tmp_path / artefacts.CRITIQUE_FILE).write_text("# c\n")
    found = artefacts.read_evaluation(tmp_path)
    assert found.verdict is None
    assert found.warnings == (
        f"verdict.json invalid (scores/E1: '9' is not of type 'integer'): {tmp_path}/verdict.json",
        "next_tasks.json missing from the winner's workspace",  # no valid verdict: the tasks are expected
    )


def test_converged_needs_no_next_tasks_and_deliverable_folder_counts(tmp_path):
    deliverable = tmp_path / "deliverable"
    deliverable.mkdir()
    verdict = {"verdict": "converged", "scores": {"E1\u2028forged": 9}}
    (deliverable / artefacts.VERDICT_FILE).write_text(json.dumps(verdict))
    found = artefacts.read_evaluation(tmp_path)
    assert found.verdict == "converged" and found.tasks == ()
    assert found.warnings == ("critique_packet.md missing from the winner's workspace",)


def _presenter_request(workspace: str, extra: list[dict] | None = None) -> dict:
    return {
        "model": "fake-a",
        "messages": [
            {"role": "system", "content": f"**Your Workspace**: `{workspace}` - Write actual files here."},
            {"role": "user", "content": "Present the final answer."},
            *(extra or []),
        ],
        "tools": [
            {"type": "function", "function": {"name": "new_answer"}},
            {"type": "function", "function": {"name": scripted_model.WRITE_TOOL}},
        ],
    }


def test_scripted_presenter_writes_valid_structured_files_then_answers(tmp_path):
    brain = scripted_model.Brain(scripted_model.Options(mode="structured"))
    writes = [brain.decide(_presenter_request("/w/ws_a")) for _ in scripted_model.STRUCTURED_FILES]
    assert [d.arguments["path"] for d in writes] == [
        "/w/ws_a/verdict.json",
        "/w/ws_a/next_tasks.json",
        "/w/ws_a/critique_packet.md",
    ]
    assert brain.decide(_presenter_request("/w/ws_a")).tool == "new_answer"
    for decision in writes:  # what it writes passes our own checks
        (tmp_path / Path(decision.arguments["path"]).name).write_text(decision.arguments["content"])
    found = artefacts.read_evaluation(tmp_path)
    assert found.verdict == "iterate" and found.warnings == () and found.tasks[0].id == "fix_1"


def test_scripted_model_starts_afresh_for_each_run():
    brain = scripted_model.Brain(scripted_model.Options())
    first_prompt = {
        "model": "fake-a",
        "messages": [{"role": "user", "content": "<CURRENT ANSWERS>\n(no answers available yet)\n"}],
        "tools": [{"type": "function", "function": {"name": n}} for n in ("new_answer", "vote")],
    }
    assert brain.decide(first_prompt).tool == "new_answer"
    assert brain.decide(first_prompt).tool == "new_answer"  # a second massgen run: answers again
    later = {**first_prompt, "messages": [{"role": "user", "content": "answers: agent1 said 42"}]}
    assert brain.decide(later).tool == "vote"

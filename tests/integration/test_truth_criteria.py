"""The REAL massgen 0.1.97 takes what our criteria check accepts: a file in massgen's own lenient shape (a
bare list, legacy categories, no anti-patterns — the shape of the official skill's evaluate example) passes
`criteria check` with warnings, and a run with it reaches a winner."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from massgen_skill.exitcodes import ExitCode
from massgen_skill.prepare import criteria
from massgen_skill.run import records
from massgen_skill.run.outcome import RESULT_WORDS

from . import harness
from .netns import RunResult

pytestmark = pytest.mark.slow

RUN_SH = harness.REPO_ROOT / "scripts" / "massgen_run.sh"
SKILL_SH = harness.REPO_ROOT / "scripts" / "massgen_skill.sh"
LENIENT = [
    {"text": "States the product of 6 and 7 as one number.", "category": "must"},
    {"text": "Shows the multiplication it did.", "category": "should"},
    {"text": "Stays under three sentences.", "category": "could"},
    {"text": "Names no other operation."},
]


def test_a_legacy_criteria_file_is_accepted_and_massgen_runs_with_it(
    project: harness.Project,
    run_in_ns: Callable[..., RunResult],
    llm_server: harness.LLMServer,
) -> None:
    source = project.configs / "legacy_criteria.json"
    source.write_text(json.dumps(LENIENT), encoding="utf-8")
    check = run_in_ns([SKILL_SH, "criteria", "check", source, "--json"], label="criteria check")
    assert check.returncode == 0, check.describe()
    assert json.loads(check.stdout)["ok"] is True and json.loads(check.stdout)["warnings"]

    config = harness.write_three_agent_config(project, llm_server.base_url)
    res = run_in_ns(
        [
            RUN_SH,
            "--no-web",
            "--cwd-context",
            "none",
            "--config",
            config,
            "--criteria",
            source,
            harness.QUESTION,
        ],
        timeout=150,
        label="legacy criteria run",
    )
    assert res.returncode == ExitCode.OK, res.describe()
    assert f"RESULT: {RESULT_WORDS[ExitCode.OK]}" in res.stdout
    (record,) = records.list_records(project.path)
    translated = json.loads(Path(record.criteria_file or "").read_text(encoding="utf-8"))
    assert [c["category"] for c in translated["criteria"]] == ["standard", "standard", "stretch", "standard"]
    assert all(isinstance(v, str) for c in translated["criteria"] for v in c.values())
    assert Path(record.criteria_file or "").name == criteria.TRANSLATED_NAME

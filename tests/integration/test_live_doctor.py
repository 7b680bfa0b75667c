"""`doctor --live` and `first-run` with the real massgen 0.1.97, offline in the private network namespace."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from massgen_skill.exitcodes import ExitCode

from . import harness
from .netns import NetNS, RunResult

pytestmark = pytest.mark.real_massgen

SKILL_SH = harness.REPO_ROOT / "scripts" / "massgen_skill.sh"
FIRST_RUN_SH = harness.REPO_ROOT / "scripts" / "first_run.sh"


def _live_folders(tmp: Path) -> list[Path]:
    return sorted(tmp.glob("massgen-skill-live-*"))


def test_doctor_live_proves_the_chain_and_leaves_nothing(
    mg_netns: NetNS, run_in_ns: Callable[..., RunResult], project: harness.Project, tmp_path: Path
) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    res = run_in_ns([SKILL_SH, "doctor", "--live", "--json"], env={"TMPDIR": str(tmp)}, timeout=240)
    assert res.returncode == 0, res.describe()
    report = json.loads(res.stdout)
    steps = {step["name"]: step for step in report["steps"]}
    assert list(steps) == ["massgen", "project", "answer", "review round", "clean stop"], report
    assert all(step["status"] == "ok" for step in steps.values()), report
    assert "SCRIPTED ANSWER" in steps["answer"]["detail"]
    assert "landed" in steps["review round"]["detail"]
    assert sum(step["seconds"] for step in steps.values()) < 180
    assert _live_folders(tmp) == []  # the temporary project is gone
    assert mg_netns.pids_inside() == [], "a process of the live check survived"
    assert not (project.path / ".massgen").exists()  # the user's project is never used


def test_first_run_with_massgen_present_says_what_next(run_in_ns: Callable[..., RunResult]) -> None:
    # (the live check it runs by default is the test above; --no-live keeps the suite's time down)
    res = run_in_ns([FIRST_RUN_SH, "--no-live"], timeout=60)
    assert res.returncode == 0, res.describe()
    assert "massgen: " in res.stderr and "setup" in res.stderr and "massgen_run.sh" in res.stderr


def test_first_run_with_a_task_but_no_config_says_how_to_make_one(
    run_in_ns: Callable[..., RunResult],
) -> None:
    res = run_in_ns([FIRST_RUN_SH, "--no-live", "Say hello"], timeout=60)
    assert res.returncode == ExitCode.ENV_NOT_READY, res.describe()
    assert "config" in res.stderr and "\n" not in res.stderr.strip().splitlines()[-1]

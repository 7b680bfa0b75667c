"""The REAL massgen 0.1.97 driven through an INSTALLED copy of the skill, inside the loopback-only namespace:
install -> a 3-agent run through the installed scripts -> uninstall leaves nothing -> install, no --force."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from massgen_skill.exitcodes import ExitCode
from massgen_skill.run.outcome import RESULT_WORDS
from massgen_skill.setup.installer import (
    MANIFEST,
    PYTHON_RECORD,
    cache_source,
    install_copy,
    locate_bundle,
    uninstall,
)

from . import harness
from .netns import RunResult

pytestmark = pytest.mark.slow

OK = RESULT_WORDS[ExitCode.OK]
SCRIPTED_ANSWER = "SCRIPTED ANSWER: 42 [model=fake-b]"  # llm_server.Options.answer_text, agent_b's model
INFO = {"agent": None, "scope": "user"}
WRITES_BYTECODE = {"PYTHONDONTWRITEBYTECODE": ""}  # as on a user's machine (the harness turns it off)


def test_installed_skill_runs_the_real_massgen_and_uninstalls_cleanly(
    project: harness.Project,
    run_in_ns: Callable[..., RunResult],
    llm_server_factory: Callable[..., Any],
    tmp_path: Path,
) -> None:
    dest = tmp_path / "skills" / "massgen"
    bundle = locate_bundle()
    outcome = install_copy(bundle, dest, force=False, dry_run=False, info=INFO, python=sys.executable)
    assert outcome.action == "installed" and (dest / PYTHON_RECORD).is_file()

    server = llm_server_factory(vote_for="2")
    config = harness.write_three_agent_config(project, server.base_url)
    res = run_in_ns(
        [dest / "scripts" / "massgen_run.sh", "--no-web", "--config", config, "What is 6 times 7?"],
        env=WRITES_BYTECODE,
        timeout=150,
        label="installed 3-agent run",
    )
    assert res.returncode == 0, res.describe()
    lines = dict(line.split(": ", 1) for line in res.stdout.splitlines() if ": " in line)
    assert lines["RESULT"] == OK, res.describe()
    assert Path(lines["ANSWER"]).read_text(encoding="utf-8").strip() == SCRIPTED_ANSWER

    result = run_in_ns([dest / "scripts" / "massgen_skill.sh", "result", "--json"], timeout=60)
    assert result.returncode == 0 and json.loads(result.stdout)["winner"] == "agent_b", result.describe()

    caches = [p for p in dest.rglob("*.pyc") if cache_source(p.relative_to(dest).as_posix())]
    assert caches, "the installed skill ran, so Python wrote its caches into the skill folder"
    removed = uninstall(dest, force=False, dry_run=False)
    assert removed.foreign == [] and removed.kept_modified == [] and not dest.exists()
    again = install_copy(bundle, dest, force=False, dry_run=False, info=INFO, python=sys.executable)
    assert again.action == "installed" and (dest / MANIFEST).is_file()

"""Issue 11 against the REAL massgen 0.1.97 (offline namespace): what a hostile environment must not break.

A variable named like a secret (`SSH_KEY_DIR`) that holds a folder above the project used to turn every path
below it into `***` before the markers were parsed, so a good run ended as no-answer. And the API key's value
must never reach the logs we write.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from massgen_skill.massgen import layout

from . import harness
from .netns import RunResult

pytestmark = pytest.mark.slow
RUN_SH = harness.REPO_ROOT / "scripts" / "massgen_run.sh"
API_KEY = "sk-hostile-test-0123456789"


def test_secret_named_variables_leave_paths_alone_and_keys_stay_out_of_logs(
    project: harness.Project,
    run_in_ns: Callable[..., RunResult],
    llm_server_factory: Callable[..., Any],
) -> None:
    server = llm_server_factory()
    config = harness.write_config(project.configs / "one.yaml", server.base_url, agents=1)
    env = {
        "SSH_KEY_DIR": str(project.path.parent),
        "MY_TOKEN_DIR": str(project.path),
        "OPENAI_API_KEY": API_KEY,
    }
    res = run_in_ns(
        [RUN_SH, "--no-web", "--config", config, "--", "What is 6 times 7?"],
        env=env,
        timeout=150,
        label="run",
    )
    assert res.returncode == 0, res.describe()
    lines = dict(line.split(": ", 1) for line in res.stdout.splitlines() if ": " in line)
    assert lines["RESULT"] == "ok" and "***" not in res.stdout, res.describe()
    log_dir = Path(lines["LOG_DIR"])
    assert log_dir.parent == project.path / layout.LOGS_SUBDIR and log_dir.is_dir()
    assert Path(lines["ANSWER"]).is_file()
    ours = project.path / ".massgen" / "skill_runs"
    for log in ours.rglob("massgen.std*.log"):
        assert API_KEY not in log.read_text(encoding="utf-8", errors="replace"), log

"""One experiment cell with the REAL massgen 0.1.97, offline (scripted model, loopback-only namespace):
the cell is a supervised run in a folder of its own, and the experiment's database and report hold what the
analysis of that real run found."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runtools import SKILL_SH, relayed

from massgen_skill.exitcodes import RESULT_WORDS, ExitCode
from massgen_skill.experiment import record as experiment

from . import harness
from .netns import RunResult


def test_one_real_cell_is_a_supervised_run_with_its_figures_in_the_database(
    project: harness.Project,
    run_in_ns: Callable[..., RunResult],
    llm_server_factory: Callable[..., Any],
) -> None:
    server = llm_server_factory()  # answer, everyone votes for the first agent, present
    config = harness.write_three_agent_config(project, server.base_url)
    res = run_in_ns(
        [SKILL_SH, "experiment", "--task", harness.QUESTION, "--config", config, "--timeout", "120"],
        timeout=200,
        label="experiment (1 cell)",
    )
    assert res.returncode == 0, res.describe()
    lines = relayed(res.stdout)
    assert lines["RESULT"] == [RESULT_WORDS[ExitCode.OK]] and lines["CELLS"] == ["1 ok, 0 failed, 0 left"]
    folder = Path(lines["DIR"][0])
    assert folder.parent == project.path / experiment.EXPERIMENTS_DIR

    with sqlite3.connect(folder / experiment.DATABASE_NAME) as db:
        db.row_factory = sqlite3.Row
        [row] = db.execute("SELECT * FROM cells").fetchall()
    assert (row["outcome"], row["ok"], row["winner"]) == ("ok", 1, "agent_a")
    assert row["votes_total"] == 3 and row["agreement"] == 1.0
    assert row["elapsed_s"] > 0 and Path(row["report"]).is_file()
    log_dir = Path(row["log_dir"])  # massgen logged inside the cell's own folder, not the project's
    assert log_dir.is_relative_to(folder / experiment.CELLS_DIR / "t1-c1-r1")
    assert (project.path / ".massgen" / "skill_runs" / f"{row['run_id']}.json").is_file()
    report = (folder / experiment.REPORT_NAME).read_text(encoding="utf-8")
    assert "1/1 (100%)" in report and "agent_a ×1" in report

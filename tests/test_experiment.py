"""`massgen-skill experiment` against the fake massgen: the matrix completes, stops, resumes, reports every
config truthfully, and its database answers the SQL documented in references/experiments.md."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import xml.dom.minidom
from pathlib import Path

import pytest
from runtools import ROOT, SKILL_SH, group_alive, relayed, skill, skill_env, wait_for

from massgen_skill.exitcodes import RESULT_WORDS, ExitCode
from massgen_skill.experiment import chart, summary
from massgen_skill.experiment.database import CellRow
from massgen_skill.experiment.record import ExperimentRecord, matrix
from massgen_skill.experiment.runner import Progress

QUERIES_DOC = ROOT / "references" / "experiments.md"
TASK = "What is 6 times 7?"


def configs(project: Path, names: tuple[str, ...] = ("small.yaml", "large.yaml")) -> list[str]:
    """Copies of the project's config under other names (the fake answers the same for each)."""
    source = (project / ".massgen" / "config.yaml").read_text(encoding="utf-8")
    for name in names:
        (project / name).write_text(source, encoding="utf-8")
    return [arg for name in names for arg in ("--config", name)]


def experiment(fake, project: Path, *args: str, timeout: float = 120, **knobs: object):
    return skill(["experiment", *args], skill_env(fake.env(**knobs)), project, timeout=timeout)


def folder_of(project: Path, exp_id: str) -> Path:
    return project / ".massgen" / "skill_experiments" / exp_id


def status_json(fake, project: Path, exp_id: str) -> dict:
    done = skill(["status", exp_id, "--json"], skill_env(fake.env()), project, check=True)
    return json.loads(done.stdout)


def db_rows(
    project: Path, exp_id: str, query: str = "SELECT * FROM cells ORDER BY cell"
) -> list[sqlite3.Row]:
    with sqlite3.connect(folder_of(project, exp_id) / "experiment.sqlite") as db:
        db.row_factory = sqlite3.Row
        return db.execute(query).fetchall()


def documented_queries() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", QUERIES_DOC.read_text(encoding="utf-8"), re.S)


# --- end to end ---------------------------------------------------------------------------------------------


def test_two_configs_two_repeats_complete_report_both_and_answer_the_documented_sql(
    fake_massgen, project_dir
):
    done = experiment(
        fake_massgen, project_dir, "--task", TASK, *configs(project_dir), "--repeat", "2", "--parallel", "2"
    )
    assert done.returncode == 0, done.stderr
    lines = relayed(done.stdout)
    exp_id = lines["EXPERIMENT"][0]
    assert exp_id.startswith("exp-") and lines["RESULT"] == ["ok"]
    assert lines["CELLS"] == ["4 ok, 0 failed, 0 left"]

    rows = db_rows(project_dir, exp_id)
    assert [r["cell"] for r in rows] == ["t1-c1-r1", "t1-c1-r2", "t1-c2-r1", "t1-c2-r2"]
    run_ids = {r["run_id"] for r in rows}
    assert len(run_ids) == 4  # four runs, each with its own record and folder
    for row in rows:
        assert row["outcome"] == "ok" and row["ok"] == 1 and row["winner"] == "agent_a"
        assert row["tokens"] == row["input_tokens"] + row["output_tokens"] > 0
        assert row["elapsed_s"] > 0 and 0 < row["agreement"] <= 1
        assert Path(row["report"]).is_file()  # the run's ANALYSIS_REPORT.md, by the analyze core
        assert (project_dir / ".massgen" / "skill_runs" / f"{row['run_id']}.json").is_file()
    assert len({r["log_dir"] for r in rows}) == 4  # no folder shared between cells

    report = (folder_of(project_dir, exp_id) / "EXPERIMENT_REPORT.md").read_text(encoding="utf-8")
    assert "| C1 | " in report and "| C2 | " in report and report.count("2/2 (100%)") == 2
    assert "small.yaml" in report and "large.yaml" in report
    assert "(experiment_chart.svg)" in report and "No difference between configs beyond noise" in report
    assert report.count("[report](<cells/") == 4
    svg = folder_of(project_dir, exp_id) / "experiment_chart.svg"
    assert xml.dom.minidom.parse(str(svg)).documentElement.tagName == "svg"

    state = status_json(fake_massgen, project_dir, exp_id)
    assert (state["state"], state["done"], state["failed"], state["left"]) == ("finished", 4, 0, 0)

    queries = documented_queries()
    assert len(queries) >= 6
    with sqlite3.connect(folder_of(project_dir, exp_id) / "experiment.sqlite") as db:
        answers = [db.execute(query).fetchall() for query in queries]
    assert answers[0] == [
        (str(project_dir / "small.yaml"), 2, 2, 1.0),
        (str(project_dir / "large.yaml"), 2, 2, 1.0),
    ]
    assert all(answers[:-1]) and answers[-1] == []  # the last one lists failed cells: none here
    with sqlite3.connect(folder_of(project_dir, exp_id) / "experiment.sqlite") as db:
        cell_runs = {run for (run,) in db.execute("SELECT run_id FROM cells")}
        analysed = {run for (run,) in db.execute("SELECT run_id FROM runs")}
    assert len(cell_runs) == 4 and analysed == cell_runs  # each cell's run, with the per-run tables


def test_a_failing_cell_is_reported_truthfully(fake_massgen, project_dir):
    done = experiment(
        fake_massgen, project_dir, "--task", TASK, *configs(project_dir, ("only.yaml",)), scenario="all-fail"
    )
    assert done.returncode == ExitCode.NO_ANSWER, done.stderr
    lines = relayed(done.stdout)
    assert lines["RESULT"] == [RESULT_WORDS[ExitCode.NO_ANSWER]] and lines["CELLS"] == [
        "0 ok, 1 failed, 0 left"
    ]
    [row] = db_rows(project_dir, lines["EXPERIMENT"][0])
    assert (row["outcome"], row["ok"], row["exit_code"]) == ("no-answer", 0, int(ExitCode.NO_ANSWER))
    assert row["reason"] and row["winner"] is None and row["run_id"]
    failures = db_rows(project_dir, lines["EXPERIMENT"][0], documented_queries()[-1])
    assert [f["cell"] for f in failures] == ["t1-c1-r1"]
    report = (folder_of(project_dir, lines["EXPERIMENT"][0]) / "EXPERIMENT_REPORT.md").read_text()
    assert "0/1 (0%)" in report and "no-answer" in report


def test_stop_midway_then_resume_runs_only_the_cells_left(fake_massgen, project_dir):
    env = skill_env(fake_massgen.env(step_delay=0.2))
    args = ["experiment", "--task", TASK, *configs(project_dir), "--repeat", "2", "--stop-grace", "1"]
    # its own session: `stop` refuses to signal the group it runs in
    background = {"stdout": subprocess.PIPE, "text": True, "start_new_session": True}
    proc = subprocess.Popen([str(SKILL_SH), *args], env=env, cwd=project_dir, **background)
    try:
        root = project_dir / ".massgen" / "skill_experiments"
        exp_id = wait_for(
            lambda: next((p.name for p in root.glob("exp-*")), None), 30, "the experiment folder"
        )
        wait_for(lambda: status_json(fake_massgen, project_dir, exp_id)["done"] >= 1, 60, "a first cell done")
        stopped = skill(["stop", exp_id], env, project_dir, timeout=60)
        assert stopped.returncode == 0, stopped.stderr
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == ExitCode.STOPPED and relayed(out)["RESULT"] == ["stopped"]
    before = status_json(fake_massgen, project_dir, exp_id)
    assert before["state"] == "stopped" and before["done"] >= 1 and before["left"] >= 1
    kept = {c["cell"]: c["run_id"] for c in before["matrix"] if c["outcome"] == "ok"}
    runs = [json.loads(p.read_text()) for p in (project_dir / ".massgen" / "skill_runs").glob("*.json")]
    assert all(not r["pgid"] or not group_alive(r["pgid"]) for r in runs)  # no massgen left running
    assert {r["state"] for r in runs} <= {"finished", "stopped"}

    resumed = skill(["experiment", "--resume", exp_id], env, project_dir, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    after = status_json(fake_massgen, project_dir, exp_id)
    assert (after["state"], after["done"], after["left"]) == ("finished", 4, 0)
    assert {c["cell"]: c["run_id"] for c in after["matrix"] if c["cell"] in kept} == kept  # done: skipped
    assert len(db_rows(project_dir, exp_id)) == 4


# --- bad input ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "names"),
    [
        (["--task", TASK], ExitCode.USAGE, "--config"),
        (["--task", TASK, "--config", "missing.yaml"], ExitCode.INVALID_INPUT, "--config missing.yaml"),
        (["--config", "x.yaml"], ExitCode.USAGE, "--task"),
        (["--resume", "exp-20260101-000000-abcdef"], ExitCode.NOT_FOUND, "exp-20260101-000000-abcdef"),
        (["--resume", "exp-1", "--task", TASK], ExitCode.USAGE, "--resume"),
        (["--tasks", "nowhere.txt", "--config", "x.yaml"], ExitCode.INVALID_INPUT, "--tasks nowhere.txt"),
    ],
)
def test_bad_input_is_one_line_with_its_code_and_writes_nothing(fake_massgen, project_dir, args, code, names):
    (project_dir / "x.yaml").write_text("agents: []\n", encoding="utf-8")
    done = experiment(fake_massgen, project_dir, *args)
    assert done.returncode == code, done.stderr
    assert done.stderr.count("\n") == 1 and names in done.stderr and "Traceback" not in done.stderr
    assert not (project_dir / ".massgen" / "skill_experiments").exists()


def test_dry_run_lists_the_cells_and_writes_nothing(fake_massgen, project_dir):
    done = experiment(
        fake_massgen,
        project_dir,
        "--dry-run",
        "--json",
        "--task",
        "a",
        "--task",
        "b",
        *configs(project_dir),
        "--repeat",
        "3",
    )
    assert done.returncode == 0, done.stderr
    cells = json.loads(done.stdout)["cells"]
    assert len(cells) == 12 and cells[0]["cell"] == "t1-c1-r1" and cells[-1]["cell"] == "t2-c2-r3"
    assert not (project_dir / ".massgen" / "skill_experiments").exists() and not fake_massgen.read_argv_log()


def test_status_and_stop_of_an_unknown_experiment_say_so(fake_massgen, project_dir):
    for command in ("status", "stop"):
        done = skill([command, "exp-nothing"], skill_env(fake_massgen.env()), project_dir)
        assert done.returncode == ExitCode.NOT_FOUND and "exp-nothing" in done.stderr


# --- pure parts: the rule, the chart ------------------------------------------------------------------------


def row(config: int, ok: bool, elapsed: float, cost: float = 0.01) -> CellRow:
    return CellRow(
        f"t1-c{config + 1}-r1",
        0,
        "t",
        config,
        f"c{config}.yaml",
        1,
        "r",
        "ok" if ok else "no-answer",
        0 if ok else 4,
        int(ok),
        "",
        elapsed,
        10,
        5,
        15,
        cost,
        "agent_a" if ok else None,
        2,
        2,
        1.0,
        0,
        0,
        None,
        None,
    )


def test_findings_follow_the_stated_rule():
    same = [row(0, True, t) for t in (10, 20, 30)] + [row(1, True, t) for t in (15, 25, 35)]
    assert summary.findings(summary.summarise(same, ["a", "b"])) == []
    apart = [row(0, True, t) for t in (10, 11, 12)] + [row(1, True, t) for t in (20, 21, 22)]
    [found] = summary.findings(summary.summarise(apart, ["a", "b"]))
    assert found.startswith("time: every successful run of C1 (3 runs")
    rates = [row(0, True, 10) for _ in range(6)] + [row(1, False, 10) for _ in range(6)]
    [found] = summary.findings(summary.summarise(rates, ["a", "b"]))
    assert found.startswith("success: C1 6/6 vs C2 0/6")
    few = [row(0, True, 10) for _ in range(2)] + [row(1, False, 10) for _ in range(2)]
    assert summary.findings(summary.summarise(few, ["a", "b"])) == []  # 2 vs 0 of 2: within noise


def test_chart_labels_are_escaped_user_data():
    hostile = "<b x=\"1\">&'q'\u2028n\x00\uffff.yaml"  # no '/': the chart shows a path's last part
    rows = [row(0, True, 12.5), row(1, False, 3)]
    svg = chart.render(summary.summarise(rows, [hostile, "plain.yaml"]))
    document = xml.dom.minidom.parseString(svg)  # well-formed whatever the names hold
    texts = [t.firstChild.data for t in document.getElementsByTagName("text") if t.firstChild]
    assert not document.getElementsByTagName("b") and "<b " not in svg
    assert any("\\u2028" in t and '<b x="1">' in t for t in texts)  # shown, as text, on one line
    assert "no successful run" in texts


def test_killed_supervisor_is_lost_and_resume_finishes_without_a_second_massgen(fake_massgen, project_dir):
    env = skill_env(fake_massgen.env(step_delay=0.2))
    args = [
        "experiment",
        "--task",
        TASK,
        *configs(project_dir, ("one.yaml",)),
        "--repeat",
        "2",
        "--stop-grace",
        "1",
    ]
    proc = subprocess.Popen([str(SKILL_SH), *args], env=env, cwd=project_dir, stdout=subprocess.DEVNULL)
    try:
        root = project_dir / ".massgen" / "skill_experiments"
        exp_id = wait_for(
            lambda: next((p.name for p in root.glob("exp-*")), None), 30, "the experiment folder"
        )
        cell = folder_of(project_dir, exp_id) / "cells" / "t1-c1-r1"
        wait_for(lambda: (cell / "relay.out").is_file() and "LOG_DIR" in (cell / "relay.out").read_text(), 30)
        supervisor = json.loads((folder_of(project_dir, exp_id) / "experiment.json").read_text())[
            "wrapper_pid"
        ]
        os.kill(supervisor, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert status_json(fake_massgen, project_dir, exp_id)["state"] == "lost"

    resumed = skill(["experiment", "--resume", exp_id], env, project_dir, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    after = status_json(fake_massgen, project_dir, exp_id)
    assert (after["state"], after["done"], after["left"]) == ("finished", 2, 0)
    runs = [json.loads(p.read_text()) for p in (project_dir / ".massgen" / "skill_runs").glob("*.json")]
    assert {r["state"] for r in runs} <= {"finished", "stopped"}  # the orphaned cell was kept or stopped
    assert all(not r["pgid"] or not group_alive(r["pgid"]) for r in runs)
    assert len(db_rows(project_dir, exp_id)) == 2


def test_parallel_web_cells_get_ports_of_their_own(fake_massgen, project_dir):
    done = experiment(
        fake_massgen, project_dir, "--task", TASK, *configs(project_dir), "--web", "--parallel", "2"
    )
    assert done.returncode == 0, done.stderr
    cells = folder_of(project_dir, relayed(done.stdout)["EXPERIMENT"][0]) / "cells"
    ports = [
        relayed((cells / name / "relay.out").read_text())["WEB_UI"][0] for name in ("t1-c1-r1", "t1-c2-r1")
    ]
    assert len(set(ports)) == 2


def test_progress_line_is_rewritten_in_place_only_on_a_terminal():
    record = ExperimentRecord("exp-x", "/p", 0.0, ["t"], ["c"], 1, cells=matrix(1, 1, 2))
    record.cells[0].state, record.cells[0].outcome = "ended", "ok"
    shown = io.StringIO()
    Progress(shown, enabled=True).show(record)
    assert shown.getvalue() == "\r\x1b[Kexp-x: 1 ok, 0 failed, 0 running, 1 waiting of 2"
    quiet = io.StringIO()
    Progress(quiet, enabled=False).show(record)
    assert quiet.getvalue() == ""


@pytest.mark.parametrize(
    "edit",
    [
        lambda r: r.update(tasks="one task"),
        lambda r: r.update(repeats=0),
        lambda r: r["cells"][0].update(config_index=9),
        lambda r: r.update(project_dir="/elsewhere"),
    ],
)
def test_a_hand_edited_record_is_one_line_never_a_traceback(fake_massgen, project_dir, edit):
    done = experiment(fake_massgen, project_dir, "--task", TASK, *configs(project_dir, ("one.yaml",)))
    exp_id = relayed(done.stdout)["EXPERIMENT"][0]
    path = folder_of(project_dir, exp_id) / "experiment.json"
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    for args in (["status", exp_id], ["experiment", "--resume", exp_id]):
        shown = skill(args, skill_env(fake_massgen.env()), project_dir)
        assert shown.returncode in (ExitCode.INVALID_INPUT, ExitCode.REFUSED), shown.stderr
        assert shown.stderr.count("\n") == 1 and "Traceback" not in shown.stderr

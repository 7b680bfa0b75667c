"""`analyze --into FILE`: one SQLite database across runs, keyed by run id (built from the recorded runs)."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import types
from pathlib import Path
from typing import Any

import pytest
import yaml
from runtools import RECORDED_RUNS, ROOT, copy_sample_logs, sample_log_root

from massgen_skill import analysis
from massgen_skill.analysis import sqlite_export
from massgen_skill.cli import main
from massgen_skill.commands import analyze as analyze_command
from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen import layout


def _rows(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(db)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def _run_rows(db: Path, run_id: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of one run, table by table (runs.analysed_at left out: it is the time of the append)."""
    found = {
        table: sorted(_rows(db, f"SELECT * FROM {table} WHERE run_id = ?", run_id), key=repr)
        for table in analysis.SQLITE_TABLES
        if table != "runs"
    }
    found["runs"] = _rows(
        db, "SELECT run_id, log_dir, config, turns, winner, answered FROM runs WHERE run_id = ?", run_id
    )
    return found


def _agents_in_config(sample: str) -> int:
    """How many agents the recorded run's execution_metadata.yaml configured (`agents:` or one `agent:`)."""
    (metadata,) = sample_log_root(sample).glob(f"turn_1/attempt_1/{layout.EXECUTION_METADATA_FILE}")
    config = yaml.safe_load(metadata.read_text())["config"]
    return len(config["agents"]) if "agents" in config else 1


def test_two_runs_are_both_kept(tmp_path: Path) -> None:
    db = tmp_path / "runs.sqlite"
    sqlite_export.append_run(db, "one", sample_log_root("multi"))
    sqlite_export.append_run(db, "two", sample_log_root("web-review"))
    assert sorted(_rows(db, "SELECT run_id, log_dir FROM runs")) == [
        ("one", str(sample_log_root("multi"))),
        ("two", str(sample_log_root("web-review"))),
    ]
    agents = dict(_rows(db, "SELECT run_id, COUNT(*) FROM agents GROUP BY run_id"))
    assert agents == {"one": _agents_in_config("multi"), "two": _agents_in_config("web-review")}
    events = dict(
        _rows(db, "SELECT run_id, COUNT(*) FROM events WHERE source = 'events.jsonl' GROUP BY run_id")
    )
    for run_id, sample in (("one", "multi"), ("two", "web-review")):
        lines = (
            (sample_log_root(sample) / "turn_1" / "attempt_1" / layout.EVENTS_FILE).read_text().splitlines()
        )
        assert events[run_id] == len(lines)
    for table in analysis.SQLITE_TABLES:  # every table carries the run id, and no row lacks one
        assert _rows(db, f"SELECT COUNT(*) FROM {table} WHERE run_id IS NULL") == [(0,)]


def test_re_adding_a_run_replaces_only_that_run(tmp_path: Path) -> None:
    db = tmp_path / "runs.sqlite"
    sqlite_export.append_run(db, "kept", sample_log_root("web-review"))
    sqlite_export.append_run(db, "again", sample_log_root("multi"))
    kept_before, again_before = _run_rows(db, "kept"), _run_rows(db, "again")
    sqlite_export.append_run(db, "again", sample_log_root("multi"))
    assert _run_rows(db, "kept") == kept_before and _run_rows(db, "again") == again_before  # not doubled
    sqlite_export.append_run(db, "again", sample_log_root("all-agents-fail"))  # the same id, another run
    assert _run_rows(db, "kept") == kept_before
    assert _rows(db, "SELECT winner, answered, log_dir FROM runs WHERE run_id = 'again'") == [
        (None, 0, str(sample_log_root("all-agents-fail")))
    ]
    assert _rows(db, "SELECT COUNT(*) FROM agents WHERE run_id = 'again'") == [
        (_agents_in_config("all-agents-fail"),)
    ]
    assert _rows(db, "SELECT COUNT(*) FROM runs") == [(2,)]


def test_a_failed_append_keeps_the_earlier_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "runs.sqlite"
    sqlite_export.append_run(db, "r", sample_log_root("multi"))
    before = _run_rows(db, "r")

    def broken(_analysis: object) -> Any:
        yield "agents", [("too", "few", "columns")]

    monkeypatch.setattr(sqlite_export, "_rows", broken)
    with pytest.raises(SkillError) as failed:
        sqlite_export.append_run(db, "r", sample_log_root("multi"))
    assert failed.value.code == ExitCode.INVALID_INPUT
    assert _run_rows(db, "r") == before  # the deletes were rolled back with the failed inserts


@pytest.mark.parametrize("kind", ["other sqlite", "text", "newer schema"])
def test_a_foreign_file_is_refused_untouched(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "theirs.sqlite"
    if kind == "text":
        target.write_text("not a database at all\n")
    else:
        connection = sqlite3.connect(target)
        connection.execute("CREATE TABLE notes (body TEXT)")
        connection.execute("INSERT INTO notes VALUES ('mine')")
        if kind == "newer schema":
            connection.execute(f"PRAGMA application_id = {sqlite_export.APPLICATION_ID}")
            connection.execute(f"PRAGMA user_version = {sqlite_export.SCHEMA_VERSION + 1}")
        connection.commit()
        connection.close()
    before, mtime = target.read_bytes(), target.stat().st_mtime_ns
    root = copy_sample_logs("multi", tmp_path)
    assert main(["analyze", str(root), "--into", str(target)]) == ExitCode.INVALID_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a massgen-skill analysis database" in err and str(target) in err
    assert target.read_bytes() == before and target.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in tmp_path.iterdir()) == ["multi", "theirs.sqlite"]  # no journal, no temp
    assert not (root / "turn_1" / analysis.REPORT_NAME).exists()  # refused before anything was written


def test_an_empty_file_and_other_tables_are_accepted(tmp_path: Path) -> None:
    db = tmp_path / "empty.sqlite"
    db.touch()
    sqlite_export.append_run(db, "a", sample_log_root("multi"))
    connection = sqlite3.connect(db)  # an experiment keeps its own table in the same file
    connection.execute("CREATE TABLE cells (run_id TEXT, config TEXT)")
    connection.execute("INSERT INTO cells VALUES ('a', 'x.yaml')")
    connection.commit()
    connection.close()
    sqlite_export.append_run(db, "b", sample_log_root("web-review"))
    assert _rows(db, "SELECT run_id FROM runs ORDER BY run_id") == [("a",), ("b",)]
    assert _rows(db, "SELECT * FROM cells") == [("a", "x.yaml")]


def test_parallel_appends_to_a_new_file_keep_every_run(tmp_path: Path) -> None:
    db = tmp_path / "shared.sqlite"
    errors: list[BaseException] = []

    def add(sample: str) -> None:
        try:
            sqlite_export.append_run(db, sample, sample_log_root(sample))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(sample,)) for sample in RECORDED_RUNS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors and not any(thread.is_alive() for thread in threads)
    assert sorted(r for (r,) in _rows(db, "SELECT run_id FROM runs")) == sorted(RECORDED_RUNS)
    assert [p.name for p in tmp_path.iterdir()] == ["shared.sqlite"]


def test_one_schema_for_the_per_run_export_and_the_shared_file(tmp_path: Path) -> None:
    single, shared = tmp_path / "one.sqlite", tmp_path / "many.sqlite"
    result = analysis.analyze_log_dir(sample_log_root("multi"))
    analysis.export_sqlite(result, single)
    analysis.append_analysis(shared, "r", result)

    def columns(db: Path) -> dict[str, list[str]]:
        return {t: [c[1] for c in _rows(db, f"PRAGMA table_info({t})")] for t in analysis.SQLITE_TABLES}

    assert columns(single) == columns(shared)
    assert _rows(single, "SELECT run_id FROM runs") == [(Path(result.log_dir).name,)]


def test_cli_into_names_the_run_and_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_sample_logs("multi", tmp_path)
    db = tmp_path / "runs.sqlite"
    assert main(["analyze", str(root), "--into", str(db), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["into"], data["run_id"], data["runs_in_file"]) == (str(db), root.name, 1)

    def resolve_run(ref: str | None, _project: Path) -> object:  # a run id resolves through the records
        return types.SimpleNamespace(log_dir=str(sample_log_root("web-review")), run_id="run-0042")

    monkeypatch.setattr(analyze_command, "resolve_run", resolve_run)
    assert main(["analyze", "run-0042", "--into", str(db), "--stdout"]) == 0
    capsys.readouterr()
    assert main(["analyze", str(root), "--into", str(db)]) == 0
    out = capsys.readouterr().out
    assert f"INTO: {db} (run {root.name}; 2 run(s) in the file)" in out
    assert sorted(r for (r,) in _rows(db, "SELECT run_id FROM runs")) == sorted([root.name, "run-0042"])


def test_into_a_missing_folder_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "no" / "such" / "runs.sqlite"
    assert main(["analyze", str(sample_log_root("multi")), "--into", str(target), "--stdout"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err
    assert not target.parent.exists()


# --- the documented queries, run against a database of every recorded run ---------------------------------


def _documented_queries() -> dict[str, str]:
    """references/analysis.md's queries across runs, by the word before the colon of their first line."""
    text = (ROOT / "references" / "analysis.md").read_text()
    blocks = re.findall(r"```sql\n(.*?)```", text[text.index("## Questions across runs") :], re.S)
    return {block.split(":", 1)[0].removeprefix("-- "): block for block in blocks}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, analysis.Analysis]]:
    """A database holding every recorded run (run id = the sample's name), and each run's analysis."""
    db = tmp_path_factory.mktemp("across") / "runs.sqlite"
    for sample in RECORDED_RUNS:
        sqlite_export.append_run(db, sample, sample_log_root(sample))
    return db, {sample: analysis.analyze_log_dir(sample_log_root(sample)) for sample in RECORDED_RUNS}


def _query(db: Path, sql: str) -> list[dict[str, Any]]:
    connection = sqlite3.connect(db)
    try:
        cursor = connection.execute(sql)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        connection.close()


def _by_config(db: Path) -> dict[str, str]:
    return dict(_rows(db, "SELECT run_id, config FROM runs"))


def _attempts(result: analysis.Analysis) -> list[analysis.AttemptAnalysis]:
    return [a for turn in result.turns for a in turn.attempts]


def test_every_documented_query_runs(recorded: tuple[Path, dict[str, analysis.Analysis]]) -> None:
    db, _ = recorded
    queries = _documented_queries()
    assert set(queries) >= {"runs", "success", "winners", "models", "cost", "phases", "agreement", "trouble"}
    for name, sql in queries.items():
        assert _query(db, sql), f"query {name!r} returned nothing"


def test_the_config_of_each_run_is_its_config_file(
    recorded: tuple[Path, dict[str, analysis.Analysis]],
) -> None:
    db, _ = recorded
    configs = _by_config(db)
    for sample in RECORDED_RUNS:
        (metadata,) = sample_log_root(sample).glob(f"turn_1/attempt_1/{layout.EXECUTION_METADATA_FILE}")
        path = yaml.safe_load(metadata.read_text()).get("config_path")
        assert configs[sample] == path if path else configs[sample].startswith("(no config file: ")


def test_success_and_cost_per_answer_by_config(recorded: tuple[Path, dict[str, analysis.Analysis]]) -> None:
    db, results = recorded
    configs = _by_config(db)
    runs: dict[str, int] = {}
    answers: dict[str, int] = {}
    tokens: dict[str, int] = {}
    for sample, result in results.items():
        config = configs[sample]
        runs[config] = runs.get(config, 0) + 1
        answers[config] = answers.get(config, 0) + int(result.turns[-1].final_answer_path is not None)
        used = sum(a.totals.input_tokens + a.totals.output_tokens for a in _attempts(result))
        tokens[config] = tokens.get(config, 0) + used
    success = {r["config"]: (r["runs"], r["answered"]) for r in _query(db, _documented_queries()["success"])}
    assert success == {c: (runs[c], answers[c]) for c in runs}
    cost = {r["config"]: r["tokens_per_answer"] for r in _query(db, _documented_queries()["cost"])}
    assert cost == {c: (round(tokens[c] / answers[c], 1) if answers[c] else None) for c in runs}


def test_wins_by_model_and_votes_agreement(recorded: tuple[Path, dict[str, analysis.Analysis]]) -> None:
    db, results = recorded
    configs = _by_config(db)
    wins: dict[str, int] = {}
    votes: dict[str, list[int]] = {}
    for sample, result in results.items():
        for attempt in _attempts(result):
            for agent in attempt.agents:
                wins[agent.model] = wins.get(agent.model, 0) + int(agent.agent_id == attempt.winner)
            if attempt.votes:
                tally = votes.setdefault(configs[sample], [0, 0])
                tally[0] += len(attempt.votes)
                tally[1] += sum(v.voted_for == attempt.winner for v in attempt.votes)
    assert {r["model"]: r["wins"] for r in _query(db, _documented_queries()["models"])} == wins
    agreement = {
        r["config"]: (r["votes"], r["agreement"]) for r in _query(db, _documented_queries()["agreement"])
    }
    assert agreement == {c: (n, round(k / n, 3)) for c, (n, k) in votes.items()}


def test_time_per_phase_by_config(recorded: tuple[Path, dict[str, analysis.Analysis]]) -> None:
    db, results = recorded
    configs = _by_config(db)
    seconds: dict[tuple[str, str], list[float]] = {}
    for sample, result in results.items():
        for attempt in _attempts(result):
            for phase in attempt.phases:
                seconds.setdefault((configs[sample], phase.name), []).append(phase.seconds or 0.0)
    rows = _query(db, _documented_queries()["phases"])
    means = {(r["config"], r["phase"]): r["mean_s"] for r in rows}
    expected = {key: sum(found) / len(found) for key, found in seconds.items()}
    assert means == pytest.approx(expected, abs=1e-3)  # SQLite and Python round halves differently
    first = [r["phase"] for r in rows if r["config"] == configs["multi"]]
    assert first[:3] == ["answering", "voting", "final presentation"]


def test_into_and_sqlite_naming_one_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "runs.sqlite"
    args = [
        "analyze",
        str(sample_log_root("multi")),
        "--into",
        str(db),
        "--sqlite",
        str(tmp_path / "." / db.name),
    ]
    assert main([*args, "--stdout"]) == ExitCode.USAGE
    assert "--into and --sqlite" in capsys.readouterr().err and not db.exists()

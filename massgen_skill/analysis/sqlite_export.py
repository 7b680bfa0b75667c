"""The SQLite export: the analysis and the raw log rows as tables for SQL, one schema for both uses.

`--sqlite FILE` writes a fresh database holding one run (atomically replacing FILE). `--into FILE`
(`append_run`) adds a run to a database shared across runs: every table has a `run_id` column, the `runs`
table has one row per run, and re-adding a run replaces that run's rows only, in one transaction. A database
we wrote carries our `application_id`; any other file is refused and left as it was.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from massgen_skill import atomic
from massgen_skill.analysis.model import Analysis, AttemptAnalysis
from massgen_skill.analysis.session import analyze_log_dir
from massgen_skill.analysis.write import write_error
from massgen_skill.exitcodes import ExitCode, SkillError

# SQLite tables, with what one row is. The report and `--help` name them.
SQLITE_TABLES: dict[str, str] = {
    "runs": "one row per run: run_id, log folder, config, last winner, whether it answered, when analysed",
    "attempts": "one row per turn/attempt: question, finish reason, winner, duration, token and tool totals",
    "agents": "one row per agent per attempt: model, status, answers, votes, restarts, tokens, cost, error",
    "rounds": "one row per agent round (status.json round_history): type, outcome, tokens, cost, duration",
    "votes": "one row per recorded vote: voter, voted_for, label, reason, time",
    "phases": "one row per phase of an attempt: answering, voting, final presentation, review, total",
    "tool_calls": "one row per tool execution (metrics_events.json): agent, tool, duration, success, error",
    "events": "every line of events.jsonl and every coordination_events.json entry; data as JSON text",
    "findings": "what the report flags: severity, code, message",
}

# Marks a database written by massgen-skill ("MGSA"); SCHEMA_VERSION grows when a column changes.
APPLICATION_ID = 0x4D475341
SCHEMA_VERSION = 1
LOCK_WAIT_S = 30.0  # how long an append waits for another writer (an experiment's parallel cells)

_SCHEMA = {
    "runs": "run_id TEXT PRIMARY KEY, log_dir TEXT, config TEXT, turns INTEGER, winner TEXT, "
    "answered INTEGER, analysed_at REAL",
    "attempts": "run_id TEXT, turn INTEGER, attempt INTEGER, log_dir TEXT, path TEXT, question TEXT, "
    "finish_reason TEXT, finish_details TEXT, winner TEXT, is_tie INTEGER, start_time REAL, "
    "start_local TEXT, elapsed_s REAL, input_tokens INTEGER, output_tokens INTEGER, "
    "reasoning_tokens INTEGER, estimated_cost REAL, tool_calls INTEGER, tool_failures INTEGER, "
    "review_outcome TEXT, massgen_version TEXT, config_path TEXT",
    "agents": "run_id TEXT, turn INTEGER, attempt INTEGER, agent_id TEXT, backend TEXT, model TEXT, "
    "status TEXT, answers INTEGER, votes_received INTEGER, voted_for TEXT, vote_reason TEXT, "
    "restarts INTEGER, is_winner INTEGER, input_tokens INTEGER, output_tokens INTEGER, "
    "reasoning_tokens INTEGER, cached_input_tokens INTEGER, estimated_cost REAL, tool_calls INTEGER, "
    "tool_failures INTEGER, error_type TEXT, error_message TEXT",
    "rounds": "run_id TEXT, turn INTEGER, attempt INTEGER, agent_id TEXT, round_number INTEGER, "
    "round_type TEXT, outcome TEXT, input_tokens INTEGER, output_tokens INTEGER, estimated_cost REAL, "
    "duration_ms REAL, tool_calls INTEGER, start_time REAL, end_time REAL",
    "votes": "run_id TEXT, turn INTEGER, attempt INTEGER, voter TEXT, voted_for TEXT, voted_for_label TEXT, "
    "reason TEXT, time REAL, time_local TEXT",
    "phases": "run_id TEXT, turn INTEGER, attempt INTEGER, phase TEXT, start_time REAL, end_time REAL, "
    "seconds REAL, start_local TEXT, end_local TEXT",
    "tool_calls": "run_id TEXT, turn INTEGER, attempt INTEGER, agent_id TEXT, tool TEXT, tool_type TEXT, "
    "round_number INTEGER, time REAL, time_local TEXT, execution_ms REAL, success INTEGER, error TEXT",
    "events": "run_id TEXT, turn INTEGER, attempt INTEGER, source TEXT, seq INTEGER, time REAL, "
    "time_local TEXT, event_type TEXT, agent_id TEXT, round_number INTEGER, detail TEXT, data TEXT",
    "findings": "run_id TEXT, turn INTEGER, attempt INTEGER, severity TEXT, code TEXT, message TEXT",
}


def default_run_id(analysis: Analysis) -> str:
    """A log folder analysed without a run record is named by its session folder (log_<timestamp>)."""
    return Path(analysis.log_dir).name


def export_sqlite(analysis: Analysis, path: Path, run_id: str | None = None) -> list[str]:
    """Write a fresh SQLite database (atomically replacing `path`); returns the table names."""
    path = _checked_target(path)
    try:
        with atomic.replacing(path) as temp:
            _build(temp, run_id or default_run_id(analysis), analysis)
    except OSError as exc:
        raise write_error(path, exc) from None
    except sqlite3.Error as exc:
        raise SkillError(f"cannot write {path}: {exc}", ExitCode.INVALID_INPUT) from None
    return list(SQLITE_TABLES)


def append_run(db: Path, run_id: str, log_dir: Path) -> None:
    """Analyse the run in `log_dir` and add it to the shared database `db` under `run_id`."""
    append_analysis(db, run_id, analyze_log_dir(log_dir))


def append_analysis(db: Path, run_id: str, analysis: Analysis) -> int:
    """Add one analysed run to `db` (created if missing), replacing only an earlier copy of the same run;
    returns how many runs the database holds."""
    if not run_id:
        raise SkillError("run id must not be empty", ExitCode.USAGE)
    path = _checked_target(db)
    try:
        if not path.exists() and _create(path, run_id, analysis):
            return 1
        return _append_existing(path, run_id, analysis)
    except OSError as exc:
        raise write_error(path, exc) from None


def _checked_target(path: Path) -> Path:
    path = path.expanduser().resolve()
    if not path.parent.is_dir():
        raise SkillError(f"cannot write {path}: folder {path.parent} does not exist", ExitCode.INVALID_INPUT)
    return path


def _create(path: Path, run_id: str, analysis: Analysis) -> bool:
    """A new database, built aside and linked into place (never replacing one another process just made);
    False when `path` appeared meanwhile."""
    temp = atomic.temp_path(path)
    try:
        _build(temp, run_id, analysis)
        os.link(temp, path)
    except FileExistsError:
        return False
    except sqlite3.Error as exc:
        raise SkillError(f"cannot write {path}: {exc}", ExitCode.INVALID_INPUT) from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temp)
    return True


def _build(path: Path, run_id: str, analysis: Analysis) -> None:
    connection = sqlite3.connect(path)  # sqlite creates the file with the usual permissions
    try:
        with connection:
            create_schema(connection)
            _insert(connection, run_id, analysis)
    finally:
        connection.close()


def _append_existing(path: Path, run_id: str, analysis: Analysis) -> int:
    connection = sqlite3.connect(path, timeout=LOCK_WAIT_S, isolation_level=None)
    try:
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise _foreign(path, str(exc)) from None
        try:
            _check_ours(connection, path)
            create_schema(connection)
            for table in _SCHEMA:
                connection.execute(f"DELETE FROM {table} WHERE run_id = ?", (run_id,))
            _insert(connection, run_id, analysis)
            (runs,) = connection.execute("SELECT COUNT(*) FROM runs").fetchone()
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        raise SkillError(f"cannot add the run to {path}: {exc}", ExitCode.INVALID_INPUT) from None
    finally:
        connection.close()
    return int(runs)


def _check_ours(db: sqlite3.Connection, path: Path) -> None:
    """Ours: our application_id and a schema version we know; an empty database is ours to fill."""
    (app_id,) = db.execute("PRAGMA application_id").fetchone()
    (version,) = db.execute("PRAGMA user_version").fetchone()
    if app_id == 0 and db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone() == (0,):
        return
    if app_id != APPLICATION_ID:
        raise _foreign(path, f"application_id {app_id}")
    if version != SCHEMA_VERSION:
        raise _foreign(path, f"schema version {version}, this massgen-skill writes {SCHEMA_VERSION}")


def _foreign(path: Path, why: str) -> SkillError:
    return SkillError(
        f"cannot add the run to {path}: not a massgen-skill analysis database ({why}); left unchanged: "
        "give a new file or one written by `analyze --into`",
        ExitCode.INVALID_INPUT,
    )


def create_schema(db: sqlite3.Connection) -> None:
    """Our mark and every per-run table (idempotent), also in a file others share (an experiment's)."""
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    for name, columns in _SCHEMA.items():
        db.execute(f"CREATE TABLE IF NOT EXISTS {name} ({columns})")
        if name != "runs":
            db.execute(f"CREATE INDEX IF NOT EXISTS {name}_run ON {name} (run_id)")


def _insert(db: sqlite3.Connection, run_id: str, analysis: Analysis) -> None:
    db.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?)", _run_row(run_id, analysis))
    for table, rows in _rows(analysis):
        if rows:
            marks = ",".join("?" * (len(rows[0]) + 1))
            db.executemany(f"INSERT INTO {table} VALUES ({marks})", [(run_id, *row) for row in rows])


def _run_row(run_id: str, analysis: Analysis) -> tuple[Any, ...]:
    """The run's config (file, else the agents' backend/model) and how its last turn ended."""
    attempts = [a for turn in analysis.turns for a in turn.attempts]
    config = next((a.config_path for a in attempts if a.config_path), None)
    if config is None and attempts:
        models = ", ".join(sorted({f"{g.backend}/{g.model}".strip("/") for g in attempts[0].agents}))
        config = f"(no config file: {models})" if models else None
    last_turn = analysis.turns[-1] if analysis.turns else None
    winner = last_turn.last.winner if last_turn and last_turn.last else None
    answered = int(bool(last_turn and last_turn.final_answer_path))
    return (run_id, analysis.log_dir, config, len(analysis.turns), winner, answered, time.time())


def _rows(analysis: Analysis) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    """(table, rows) in insertion order: per turn its findings, then per attempt its tables."""
    for turn in analysis.turns:
        n = turn.turn
        yield "findings", [(n, f.attempt, f.severity, f.code, f.message) for f in turn.findings]
        for attempt in turn.attempts:
            yield "attempts", [_attempt_row(n, analysis.log_dir, attempt)]
            yield from _attempt_tables(n, attempt)


def _attempt_row(n: int, log_dir: str, a: AttemptAnalysis) -> tuple[Any, ...]:
    m, t = a.attempt, a.totals
    review = a.review.outcome if a.review else None
    return (
        n, m, log_dir, a.path, a.question, a.finish_reason, a.finish_details, a.winner, int(a.is_tie),
        a.start_time, a.start_clock, a.elapsed_s, t.input_tokens, t.output_tokens, t.reasoning_tokens,
        t.estimated_cost, t.tool_calls, t.tool_failures, review, a.massgen_version, a.config_path,
    )  # fmt: skip


def _attempt_tables(n: int, a: AttemptAnalysis) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    m = a.attempt
    yield "agents", [
        (n, m, g.agent_id, g.backend, g.model, g.status, g.answers, g.votes_received, g.voted_for,
         g.vote_reason, g.restarts, int(g.agent_id == a.winner), g.input_tokens, g.output_tokens,
         g.reasoning_tokens, g.cached_input_tokens, g.estimated_cost, g.tool_calls, g.tool_failures,
         g.error_type, g.error_message)
        for g in a.agents
    ]  # fmt: skip
    yield "rounds", [
        (n, m, r.agent, r.round_number, r.round_type, r.outcome, r.input_tokens, r.output_tokens,
         r.estimated_cost, r.duration_ms, r.tool_calls, r.start_time, r.end_time)
        for r in a.rounds
    ]  # fmt: skip
    yield (
        "votes",
        [(n, m, v.voter, v.voted_for, v.voted_for_label, v.reason, v.time, v.clock) for v in a.votes],
    )
    yield "phases", [(n, m, p.name, p.start, p.end, p.seconds, p.start_clock, p.end_clock) for p in a.phases]
    yield "tool_calls", [
        (n, m, c.agent, c.tool, c.tool_type, c.round_number, c.time, c.clock, c.execution_ms, int(c.success),
         c.error)
        for c in a.tool_calls
    ]  # fmt: skip
    yield "events", [
        (n, m, e["source"], e["seq"], e["time"], e["time_local"], e["event_type"], e["agent_id"],
         e["round_number"], e["detail"], e["data"])
        for e in a.raw_events
    ]  # fmt: skip

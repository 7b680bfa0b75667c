"""The SQLite export (`--sqlite FILE`): the analysis and the raw log rows as tables for SQL.

A fresh database atomically replaces FILE. Every table has `turn` and `attempt` columns; `events.data` is
JSON.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from massgen_skill import atomic
from massgen_skill.analysis.model import Analysis, AttemptAnalysis
from massgen_skill.analysis.write import write_error
from massgen_skill.exitcodes import ExitCode, SkillError

# SQLite tables written by `export_sqlite`, with what one row is. The report names them.
SQLITE_TABLES: dict[str, str] = {
    "attempts": "one row per turn/attempt: question, finish reason, winner, duration, token and tool totals",
    "agents": "one row per agent per attempt: model, status, answers, votes, restarts, tokens, cost, error",
    "rounds": "one row per agent round (status.json round_history): type, outcome, tokens, cost, duration",
    "votes": "one row per recorded vote: voter, voted_for, label, reason, time",
    "tool_calls": "one row per tool execution (metrics_events.json): agent, tool, duration, success, error",
    "events": "every line of events.jsonl and every coordination_events.json entry; data as JSON text",
    "findings": "what the report flags: severity, code, message",
}

_SCHEMA = {
    "attempts": "turn INTEGER, attempt INTEGER, log_dir TEXT, path TEXT, question TEXT, finish_reason TEXT, "
    "finish_details TEXT, winner TEXT, is_tie INTEGER, start_time REAL, start_local TEXT, elapsed_s REAL, "
    "input_tokens INTEGER, output_tokens INTEGER, reasoning_tokens INTEGER, estimated_cost REAL, "
    "tool_calls INTEGER, tool_failures INTEGER, review_outcome TEXT, massgen_version TEXT",
    "agents": "turn INTEGER, attempt INTEGER, agent_id TEXT, backend TEXT, model TEXT, status TEXT, "
    "answers INTEGER, votes_received INTEGER, voted_for TEXT, vote_reason TEXT, restarts INTEGER, "
    "is_winner INTEGER, input_tokens INTEGER, output_tokens INTEGER, reasoning_tokens INTEGER, "
    "cached_input_tokens INTEGER, estimated_cost REAL, tool_calls INTEGER, tool_failures INTEGER, "
    "error_type TEXT, error_message TEXT",
    "rounds": "turn INTEGER, attempt INTEGER, agent_id TEXT, round_number INTEGER, round_type TEXT, "
    "outcome TEXT, input_tokens INTEGER, output_tokens INTEGER, estimated_cost REAL, duration_ms REAL, "
    "tool_calls INTEGER, start_time REAL, end_time REAL",
    "votes": "turn INTEGER, attempt INTEGER, voter TEXT, voted_for TEXT, voted_for_label TEXT, reason TEXT, "
    "time REAL, time_local TEXT",
    "tool_calls": "turn INTEGER, attempt INTEGER, agent_id TEXT, tool TEXT, tool_type TEXT, "
    "round_number INTEGER, time REAL, time_local TEXT, execution_ms REAL, success INTEGER, error TEXT",
    "events": "turn INTEGER, attempt INTEGER, source TEXT, seq INTEGER, time REAL, time_local TEXT, "
    "event_type TEXT, agent_id TEXT, round_number INTEGER, detail TEXT, data TEXT",
    "findings": "turn INTEGER, attempt INTEGER, severity TEXT, code TEXT, message TEXT",
}


def export_sqlite(analysis: Analysis, path: Path) -> list[str]:
    """Write a fresh SQLite database (atomically replacing `path`); returns the table names."""
    path = path.expanduser().resolve()
    if not path.parent.is_dir():
        raise SkillError(f"cannot write {path}: folder {path.parent} does not exist", ExitCode.INVALID_INPUT)
    try:
        with atomic.replacing(path) as temp:
            connection = sqlite3.connect(temp)  # sqlite creates the file with the usual permissions
            try:
                with connection:
                    _fill(connection, analysis)
            finally:
                connection.close()
    except OSError as exc:
        raise write_error(path, exc) from None
    except sqlite3.Error as exc:
        raise SkillError(f"cannot write {path}: {exc}", ExitCode.INVALID_INPUT) from None
    return list(SQLITE_TABLES)


def _fill(db: sqlite3.Connection, analysis: Analysis) -> None:
    for name, columns in _SCHEMA.items():
        db.execute(f"CREATE TABLE {name} ({columns})")
    for table, rows in _rows(analysis):
        if rows:
            marks = ",".join("?" * len(rows[0]))
            db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)


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
        t.estimated_cost, t.tool_calls, t.tool_failures, review, a.massgen_version,
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

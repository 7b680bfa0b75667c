"""`experiment.sqlite`: one database per experiment, one `cells` row per cell that ended with an outcome.

Each row is written in one transaction (SQLite: readers see a cell whole or not at all), keyed by the cell,
so a cell run again on --resume replaces its own row and never another's. The SQL to ask it the usual
questions is in references/experiments.md (a test runs every query there).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import astuple, dataclass, fields
from pathlib import Path

from massgen_skill.analysis.sqlite_export import append_run, create_schema
from massgen_skill.exitcodes import ExitCode, SkillError

from .record import DATABASE_NAME

__all__ = ["DATABASE_NAME", "CellRow", "read_cells", "write_cell"]

TABLE = "cells"


@dataclass(frozen=True)
class CellRow:
    """One row of `cells`: the matrix position, the run and its outcome, and the run's figures."""

    cell: str  # t<task>-c<config>-r<repeat>
    task_index: int
    task: str
    config_index: int
    config: str  # as given to --config
    repeat: int
    run_id: str | None  # None: the run was refused before launch (see reason)
    outcome: str  # the run's RESULT word
    exit_code: int
    ok: int  # 1 when outcome is ok
    reason: str
    elapsed_s: float | None
    input_tokens: int
    output_tokens: int
    tokens: int
    cost: float
    winner: str | None
    votes_for_winner: int
    votes_total: int
    agreement: float | None  # votes_for_winner / votes_total
    restarts: int
    agent_restarts: int
    report: str | None  # the run's ANALYSIS_REPORT.md
    log_dir: str | None


_TYPES = {int: "INTEGER", float: "REAL", str: "TEXT"}
_KEY = "cell"


def _column(name: str, annotation: str) -> str:
    kind = next((sql for py, sql in _TYPES.items() if annotation.startswith(py.__name__)), "TEXT")
    return f"{name} {kind}{' PRIMARY KEY' if name == _KEY else ''}"


SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    + ", ".join(_column(f.name, str(f.type)) for f in fields(CellRow))
    + ")"
)
COLUMNS = tuple(f.name for f in fields(CellRow))


@contextmanager
def _connected(db: Path) -> Iterator[sqlite3.Connection]:
    try:
        with closing(sqlite3.connect(db)) as connection, connection:
            create_schema(connection)  # the per-run tables of `analyze --into`, and their mark
            connection.execute(SCHEMA)
            yield connection
    except sqlite3.Error as exc:
        raise SkillError(f"cannot write {db}: {exc}", ExitCode.ENV_NOT_READY) from None


def write_cell(db: Path, row: CellRow) -> None:
    """Add (or replace) the row of one ended cell, then its run's own tables (keyed by run id)."""
    marks = ", ".join("?" for _ in COLUMNS)
    with _connected(db) as connection:
        connection.execute(
            f"INSERT OR REPLACE INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({marks})", astuple(row)
        )
    if row.run_id and row.log_dir:
        with suppress(SkillError):  # a log folder analyze cannot read: the cells row still tells the cell
            append_run(db, row.run_id, Path(row.log_dir))


def read_cells(db: Path) -> list[CellRow]:
    """Every row, in matrix order; none when the database does not exist yet."""
    if not db.is_file():
        return []
    with _connected(db) as connection:
        rows = connection.execute(
            f"SELECT {', '.join(COLUMNS)} FROM {TABLE} ORDER BY repeat, task_index, config_index"
        ).fetchall()
    return [CellRow(*row) for row in rows]

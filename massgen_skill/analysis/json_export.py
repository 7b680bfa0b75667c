"""The analysis as plain data: what `massgen-skill analyze --json` prints (without the raw log rows)."""

from __future__ import annotations

from dataclasses import asdict, fields, is_dataclass
from typing import Any

from massgen_skill.analysis.model import Analysis, AttemptAnalysis, TurnAnalysis

# AttemptAnalysis fields that hold raw log rows for the SQLite export, not the analysis.
_RAW_FIELDS = ("rounds", "tool_calls", "raw_events")


def to_dict(analysis: Analysis, markdown: dict[int, str] | None = None) -> dict[str, Any]:
    """The analysis as plain data (what --json prints), without the raw log rows; with each turn's report
    text when `markdown` (turn number → text) is given."""
    return {"log_dir": analysis.log_dir, "turns": [_turn(turn, markdown) for turn in analysis.turns]}


def _turn(turn: TurnAnalysis, markdown: dict[int, str] | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "turn": turn.turn,
        "path": turn.path,
        "report_path": turn.report_path,
        "timeline_path": turn.timeline_path,
        "final_answer_path": turn.final_answer_path,
        "findings": [asdict(f) for f in turn.findings],
        "attempts": [_attempt(attempt) for attempt in turn.attempts],
    }
    if markdown is not None and turn.turn in markdown:
        entry["markdown"] = markdown[turn.turn]
    return entry


def _attempt(attempt: AttemptAnalysis) -> dict[str, Any]:
    data = {f.name: _plain(getattr(attempt, f.name)) for f in fields(attempt) if f.name not in _RAW_FIELDS}
    data["files"] = [{"name": f.name, "state": f.state, "line": f.line} for f in attempt.files]
    return data


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value

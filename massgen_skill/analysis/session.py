"""Analysing a session: every turn (or the one asked for) of the run a log path belongs to."""

from __future__ import annotations

from pathlib import Path

from massgen_skill.analysis.answer import turn_answer_path
from massgen_skill.analysis.attempt import analyze_attempt
from massgen_skill.analysis.findings import turn_findings
from massgen_skill.analysis.model import Analysis, TurnAnalysis
from massgen_skill.analysis.target import locate, looks_like_attempt
from massgen_skill.massgen import layout


def analyze_log_dir(path: Path, turn: int | None = None) -> Analysis:
    """Analyse every turn (or the one asked for) of the session a log path belongs to."""
    target = locate(path, turn)
    return Analysis(str(target.session_root), [analyze_turn(n, p) for n, p in target.turns])


def analyze_turn(number: int, folder: Path) -> TurnAnalysis:
    """All attempts of one turn folder (or the folder itself when it is an attempt)."""
    attempts = layout.attempts(folder)
    if not attempts and looks_like_attempt(folder):
        attempts = [(1, folder)]
    turn = TurnAnalysis(number, str(folder), [analyze_attempt(path, n) for n, path in attempts])
    turn.findings = turn_findings(turn, folder)
    turn.final_answer_path = turn_answer_path(turn, folder)
    for attempt in turn.attempts:
        turn.findings.extend(attempt.findings)
    return turn

"""Where the final answer is (attempt and turn level) and the start of its text."""

from __future__ import annotations

from pathlib import Path

from massgen_skill.analysis.coerce import as_dict, as_str
from massgen_skill.analysis.model import AttemptAnalysis, TurnAnalysis
from massgen_skill.analysis.read import AttemptFiles, read_small
from massgen_skill.massgen import layout

PREVIEW_CHARS = 400  # of the final answer, shown in the report (twice that is kept)


def add_final_answer(result: AttemptAnalysis, files: AttemptFiles) -> None:
    """The winner's final/<winner>/answer.txt and its first characters, else status.json's preview."""
    results = as_dict(as_dict(files.status).get("results"))
    answer_path = (
        files.folder / layout.FINAL_DIR / result.winner / layout.ANSWER_FILE if result.winner else None
    )
    if answer_path is not None and answer_path.is_file():
        result.final_answer_path = str(answer_path)
        result.final_answer_preview = (read_small(answer_path, PREVIEW_CHARS * 2) or "").strip()
    elif results.get("final_answer_preview"):
        result.final_answer_preview = as_str(results.get("final_answer_preview")) or ""


def turn_answer_path(turn: TurnAnalysis, folder: Path) -> str | None:
    """The turn's answer: turn_N/final/<winner>/answer.txt (CLI), turn_N/answer.txt (web), else the last
    attempt's."""
    last = turn.last
    if not last or not last.winner:
        return None
    for candidate in (
        folder / layout.FINAL_DIR / last.winner / layout.ANSWER_FILE,
        folder / layout.ANSWER_FILE,
    ):
        if candidate.is_file():
            return str(candidate)
    return last.final_answer_path

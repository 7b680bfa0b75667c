"""Where a run's answer, winner, workspace and plan/spec files are, CLI and web layouts (contract §4, §7)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from massgen_skill.massgen import layout
from massgen_skill.massgen.status import read_json


@dataclass(frozen=True)
class Found:
    answer_path: Path | None
    winner: str | None
    workspace: Path | None
    plan_file: Path | None
    spec_file: Path | None


def _winner_from_status(root: Path) -> str | None:
    path = layout.newest_status_file(root)
    data, _ = read_json(path) if path else (None, None)
    results = data.get("results") if isinstance(data, dict) else None
    winner = results.get("winner") if isinstance(results, dict) else None
    return winner if isinstance(winner, str) else None


def _candidate_final_dirs(root: Path, winner: str | None) -> list[Path]:
    """final/<agent>/ folders, best first: the turn-level copy (CLI), then the newest attempt's."""
    turn = layout.newest_turn(root)
    if turn is None:
        return []
    folders = [turn] + [attempt for _, attempt in reversed(layout.attempts(turn))]
    found: list[Path] = []
    for folder in folders:
        dirs = layout.final_dirs(folder)
        found += [d for d in dirs if winner and d.name == winner] + [d for d in dirs if not winner]
    return found


def find(root: Path, winner: str | None = None, answer_hint: Path | None = None) -> Found:
    """Everything a finished (or finishing) run left. `answer_hint` is massgen's own `ANSWER:` path."""
    root = layout.session_root(root)
    status_winner = _winner_from_status(root)
    winner = winner or status_winner
    finals = _candidate_final_dirs(root, winner)
    if winner and not finals and winner != status_winner:
        # No final/<winner>/: a WINNER line forged by text in the answer preview (after a forged COMPLETED),
        # or a stale one. massgen's own files decide: status.json's winner, else whoever has a final dir.
        fallback = _candidate_final_dirs(root, status_winner)
        if fallback or status_winner:
            winner, finals = status_winner, fallback
    answer = None
    if answer_hint and answer_hint.is_file() and layout.inside(answer_hint, root):
        answer = answer_hint
    answer = answer or next(
        (d / layout.ANSWER_FILE for d in finals if (d / layout.ANSWER_FILE).is_file()), None
    )
    turn = layout.newest_turn(root)
    if answer is None and turn is not None and (turn / layout.ANSWER_FILE).is_file():
        answer = turn / layout.ANSWER_FILE  # web mode writes the turn's answer here
    if winner is None and answer is not None and answer.parent.parent.name == layout.FINAL_DIR:
        winner = answer.parent.name
    workspace = next((d / layout.WORKSPACE_DIR for d in finals if (d / layout.WORKSPACE_DIR).is_dir()), None)
    return Found(
        answer_path=answer,
        winner=winner,
        workspace=workspace,
        plan_file=_artifact(workspace, layout.PLAN_FILE),
        spec_file=_artifact(workspace, layout.SPEC_FILE),
    )


def _artifact(workspace: Path | None, name: str) -> Path | None:
    if workspace is None:
        return None
    for candidate in (workspace / name, workspace / layout.DELIVERABLE_DIR / name):
        if candidate.is_file():
            return candidate
    return None


def read_bounded(path: Path, max_chars: int) -> tuple[str, bool]:
    """The file's text, cut at max_chars (a huge answer must not flood an agent's context)."""
    max_chars = min(max_chars, sys.maxsize - 1)  # read() takes no more than sys.maxsize (--max-chars 1e30)
    with open(path, encoding="utf-8", errors="replace") as handle:
        text = handle.read(max_chars + 1)
    return (text[:max_chars], True) if len(text) > max_chars else (text, False)

"""Where a log path points: the session root (`log_<ts>`) and the turn folders to analyse.

Accepts a session root, a turn folder, an attempt folder (web mode prints it as LOG_DIR) or anything inside
one, and a turn folder copied out of the usual layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen import layout

_LOG_MARKERS = (
    layout.STATUS_FILE,
    layout.EVENTS_FILE,
    layout.COORDINATION_EVENTS_FILE,
    layout.EXECUTION_METADATA_FILE,
)


def looks_like_attempt(folder: Path) -> bool:
    return any((folder / name).is_file() for name in _LOG_MARKERS)


@dataclass
class LogTarget:
    """Where a log path points: the session root and which turn folders to analyse."""

    session_root: Path
    turns: list[tuple[int, Path]]
    single_turn: bool  # the path named one turn (a turn or attempt folder)


def locate(path: Path, turn: int | None = None) -> LogTarget:
    """Normalise a session root (log_<ts>), a turn folder, an attempt folder or anything inside one."""
    folder = path.expanduser()
    if folder.is_file():
        folder = folder.parent
    folder = folder.resolve()
    if not folder.is_dir():
        raise SkillError(f"no such log folder: {path}", ExitCode.NOT_FOUND)
    return _inside_turn(folder, turn) or _session(folder, turn) or _loose_folder(folder, turn)


def _inside_turn(folder: Path, turn: int | None) -> LogTarget | None:
    """A folder somewhere inside turn_N/ of a session: that turn (and `turn`, if given, must be it)."""
    root = layout.session_root(folder)
    if root == folder:
        return None
    turn_dir = next(p for p in (folder, *folder.parents) if p.parent == root)
    number = next((n for n, p in layout.turns(root) if p == turn_dir), None)
    if number is None:
        return None
    if turn is not None and turn != number:
        raise SkillError(f"--turn {turn} does not match the folder given ({turn_dir.name})", ExitCode.USAGE)
    return LogTarget(root, [(number, turn_dir)], True)


def _session(folder: Path, turn: int | None) -> LogTarget | None:
    """A session root: all its turns, or the one asked for."""
    turns = layout.turns(folder)
    if not turns:
        return None
    if turn is None:
        return LogTarget(folder, turns, False)
    chosen = [(n, p) for n, p in turns if n == turn]
    if not chosen:
        have = ", ".join(str(n) for n, _ in turns)
        raise SkillError(f"no turn_{turn} in {folder} (turns: {have})", ExitCode.NOT_FOUND)
    return LogTarget(folder, chosen, True)


def _loose_folder(folder: Path, turn: int | None) -> LogTarget:
    """A turn-like or attempt-like folder outside the usual layout (copied, or an early failure)."""
    if layout.attempts(folder) or looks_like_attempt(folder):
        return LogTarget(folder, [(turn or 1, folder)], True)
    raise SkillError(
        f"{folder} is not a massgen log folder (expected log_<timestamp>, turn_N or attempt_M with "
        f"{layout.STATUS_FILE} or {layout.EVENTS_FILE})",
        ExitCode.INVALID_INPUT,
    )

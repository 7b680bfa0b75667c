"""Writing the analysis's files (reports, the SQLite export): atomically; a failure is one SkillError line."""

from __future__ import annotations

from pathlib import Path

from massgen_skill import atomic
from massgen_skill.exitcodes import ExitCode, SkillError


def atomic_write_text(path: Path, text: str) -> None:
    """Write atomically; a failure is one SkillError line."""
    try:
        atomic.write_text(path, text)
    except OSError as exc:
        raise write_error(path, exc) from None


def write_error(path: Path, exc: OSError) -> SkillError:
    """The one-line error for a file that cannot be written, with what to do instead."""
    reason = exc.strerror or str(exc)
    return SkillError(
        f"cannot write {path}: {reason} (copy the log folder somewhere writable, or use --stdout)",
        ExitCode.INVALID_INPUT,
    )

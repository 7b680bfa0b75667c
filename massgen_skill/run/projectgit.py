"""What changed in the project during a headless rw run (no review gate): `git status` before and after."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def _status(cwd: Path) -> list[str] | None:
    git = shutil.which("git")
    if git is None:
        return None
    try:
        out = subprocess.run(
            [git, "status", "--porcelain", "-z", "--untracked-files=all"],
            cwd=cwd,
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    paths = []
    entries = out.stdout.decode("utf-8", "replace").split("\0")
    skip = False
    for entry in entries:
        if skip:  # the second path of a rename
            skip = False
            continue
        if len(entry) > 3:
            paths.append(entry[3:])
            skip = entry[0] in "RC"
    return paths


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return -1.0


def snapshot(cwd: Path) -> dict[str, float] | None:
    """Dirty files and their mtimes; None when this is not a git work tree."""
    paths = _status(cwd)
    if paths is None:
        return None
    return {p: _mtime(cwd / p) for p in paths if not p.startswith(".massgen/")}


def changed_since(cwd: Path, before: dict[str, float] | None) -> list[str]:
    """Files dirty now that were clean before, or whose mtime moved."""
    after = snapshot(cwd)
    if after is None or before is None:
        return []
    return sorted(p for p, mtime in after.items() if p not in before or before[p] != mtime)

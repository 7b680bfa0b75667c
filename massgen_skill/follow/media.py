"""The media files a run left in its winner's workspace: one `MEDIA:` line each (path quoted, kind, size).

Only regular files found by walking the workspace itself count: a symlink (to a file or a folder) could
point anywhere, so it is never followed or listed. The listing is bounded: a workspace may hold thousands.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from massgen_skill.massgen.media import EXTENSIONS

MAX_FILES = 50  # listed per run; `result --json` says how many more there were
MAX_SCANNED = 20_000  # names looked at: a workspace holding a whole dependency tree must not stall `run`
_SKIPPED_DIRS = frozenset({".git", "node_modules", "__pycache__", ".venv"})


@dataclass(frozen=True)
class MediaFile:
    path: Path
    kind: str  # image | video | audio
    size: int  # bytes

    def line(self) -> str:
        return media_line(str(self.path), self.kind, self.size)

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "kind": self.kind, "size": self.size}


@dataclass(frozen=True)
class Listing:
    files: tuple[MediaFile, ...]
    more: int  # media files beyond MAX_FILES, not listed
    complete: bool = True  # False: the walk stopped after MAX_SCANNED names (there may be more)


NONE = Listing((), 0)


def media_line(path: str, kind: str, size: int) -> str:
    """`"<path>" <kind> <bytes>`: the path JSON-quoted, so spaces, quotes and backslashes survive (print it
    through the one-line sanitiser: JSON leaves U+2028 and other line boundaries raw)."""
    return f"{json.dumps(path, ensure_ascii=False)} {kind} {size}"


def kind_of(name: str) -> str | None:
    _, dot, ext = name.rpartition(".")
    return EXTENSIONS.get(ext.lower()) if dot else None


def list_media(workspace: Path | None, limit: int = MAX_FILES, scan: int = MAX_SCANNED) -> Listing:
    """Media files under the workspace, sorted by path; no symlink is followed or listed."""
    if workspace is None or workspace.is_symlink() or not workspace.is_dir():
        return NONE
    found: list[MediaFile] = []
    scanned = 0
    for folder, dirs, names in os.walk(workspace):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS)
        scanned += len(names) + len(dirs)
        if scanned > scan:
            return _listing(found, limit, complete=False)
        for name in names:
            kind = kind_of(name)
            if kind is None:
                continue
            path = Path(folder) / name
            try:
                info = path.lstat()
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode):  # lstat: a symlink is never a regular file here
                found.append(MediaFile(path, kind, info.st_size))
    return _listing(found, limit)


def _listing(found: list[MediaFile], limit: int, complete: bool = True) -> Listing:
    found.sort(key=lambda f: str(f.path))
    return Listing(tuple(found[:limit]), max(0, len(found) - limit), complete)

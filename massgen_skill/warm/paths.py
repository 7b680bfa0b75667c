"""Where the warm server lives: a private per-user folder (0700, ours, no symlink) and one socket per massgen
install in it. Also the switches a user or a test sets in the environment."""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

WARM_DIR_ENV = "MASSGEN_SKILL_WARM_DIR"  # overrides the folder (tests use their own)
WARM_OFF_ENV = "MASSGEN_SKILL_WARM"  # "0": never use a warm server
EXIT_STATUS_FILE = "massgen_exit.json"  # in the run's folder: the warm child's exit status
SERVER_LOG = "server.log"
_MAX_SOCKET_PATH = 100  # sockaddr_un holds 108 bytes on Linux, 104 on macOS


def warm_dir(env: Mapping[str, str]) -> Path:
    override = env.get(WARM_DIR_ENV)
    if override:
        return Path(override)
    base = env.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(base) / f"massgen-skill-{os.getuid()}" / "warm"


def switched_off(env: Mapping[str, str]) -> bool:
    return env.get(WARM_OFF_ENV, "").strip().lower() in ("0", "no", "off", "false")


def unsafe(folder: Path) -> str | None:
    """Why `folder` may not hold our socket (None: it is ours alone)."""
    try:
        info = os.lstat(folder)
    except OSError as exc:
        return f"{folder}: {exc.strerror or exc}"
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        return f"{folder}: not a folder owned by this user"
    if info.st_mode & 0o077:
        return f"{folder}: open to other users (mode {stat.S_IMODE(info.st_mode):o}, expected 700)"
    return None


def make_private(folder: Path) -> str | None:
    """Create the folder (0700) if missing; the reason it is unusable, or None."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        return f"{folder}: {exc.strerror or exc}"
    return unsafe(folder)


def socket_path(folder: Path, massgen_script: str) -> Path:
    """One server per massgen install: the socket is named after the script's real path."""
    digest = hashlib.sha256(os.path.realpath(massgen_script).encode()).hexdigest()[:12]
    return folder / f"s-{digest}.sock"


def too_long(path: Path) -> bool:
    return len(os.fsencode(path)) > _MAX_SOCKET_PATH

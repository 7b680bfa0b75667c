"""Which port the web UI gets: one a bind test shows free, reserved for this run against concurrent starts.

massgen binds its port ~15 s after launch, so a bind test alone races: two runs started together (in any
project) would both see 8000 free. A per-user folder holds one reservation file per port, written under a
lock and naming the process that holds it (pid + start time). A reservation counts while that process lives;
`Reservation.release` ends it when the run ends, and a dead holder's file is ignored and cleaned up.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from massgen_skill import atomic
from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen.flags import DEFAULT_WEB_PORT, WEB_HOST_DEFAULT, WEB_PORT
from massgen_skill.run.records import is_alive, open_lock, process_start_time

LOCK_NAME = "ports.lock"
RESERVATION_PREFIX = "port-"
RANDOM_TRIES = 50


@dataclass
class Reservation:
    port: int
    path: Path
    holder: str  # the file's content: "<pid> <start time>"

    def release(self) -> None:
        """End the reservation if it is still ours (never remove another run's file)."""
        with contextlib.suppress(OSError):
            if self.path.read_text(encoding="ascii") == self.holder:
                self.path.unlink()

    def adopt(self) -> None:
        """Hand the reservation to this process (a detached supervisor outlives the one that reserved)."""
        start = process_start_time(os.getpid())
        holder = f"{os.getpid()} {-1 if start is None else start}"
        with contextlib.suppress(OSError):
            if self.path.read_text(encoding="ascii") == self.holder:
                atomic.write_text(self.path, holder)
                self.holder = holder


@dataclass(frozen=True)
class PortChoice:
    port: int
    note: str | None  # why it is not the default port, when it is not
    reservation: Reservation | None  # None for a dry run (nothing written)


def is_free(port: int, host: str = WEB_HOST_DEFAULT) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def any_free(host: str = WEB_HOST_DEFAULT) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def reservations_dir() -> Path:
    """Per user: $XDG_RUNTIME_DIR when set, else the temp folder (a name with our uid)."""
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(base) / f"massgen-skill-{os.getuid()}" / "ports"


def _own_folder(folder: Path) -> Path:
    """Create `folder` (mode 0700), or accept it only when it is ours: a shared temp folder is open to all."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        found = [(path, os.lstat(path)) for path in (folder.parent, folder)]
    except OSError as exc:
        raise SkillError(
            f"port reservations {folder}: {exc.strerror or exc}", ExitCode.ENV_NOT_READY
        ) from None
    for path, info in found:
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            raise SkillError(
                f"port reservations {path}: not a folder owned by this user; remove it",
                ExitCode.ENV_NOT_READY,
            )
    return folder


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    with os.fdopen(open_lock(folder / LOCK_NAME), "a") as handle:  # never blocks on a FIFO in its place
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _holder_alive(text: str) -> bool:
    parts = text.split()
    if len(parts) != 2 or not all(p.lstrip("-").isdigit() for p in parts):
        return False
    return is_alive(int(parts[0]), int(parts[1]))


def held_ports(folder: Path, clean: bool = False) -> set[int]:
    """Ports reserved by live holders; `clean`: remove the files of dead ones (only under the lock)."""
    held: set[int] = set()
    with contextlib.suppress(OSError):
        for entry in folder.glob(f"{RESERVATION_PREFIX}*"):
            number = entry.name[len(RESERVATION_PREFIX) :]
            try:
                text = entry.read_text(encoding="ascii") if entry.is_file() else ""
            except (OSError, UnicodeDecodeError):
                text = ""
            if number.isdigit() and _holder_alive(text):
                held.add(int(number))
            elif clean:
                with contextlib.suppress(OSError):
                    entry.unlink()
    return held


def _pick(requested: int | None, held: set[int]) -> tuple[int, str | None]:
    if requested is not None:
        if requested in held or not is_free(requested):
            raise SkillError(
                f"{WEB_PORT} {requested}: the port is in use or reserved by another run; pick another or "
                "omit the flag",
                ExitCode.USAGE,
            )
        return requested, None
    if DEFAULT_WEB_PORT not in held and is_free(DEFAULT_WEB_PORT):
        return DEFAULT_WEB_PORT, None
    for _ in range(RANDOM_TRIES):
        port = any_free()
        if port not in held:
            return port, f"port {DEFAULT_WEB_PORT} is taken; the web UI uses port {port}"
    raise SkillError("no free port for the web UI", ExitCode.ENV_NOT_READY)


def choose(requested: int | None, reserve: bool) -> PortChoice:
    """The asked-for port, else the default, else a free one; none that a live run reserved or a bind test
    shows taken. `reserve`: hold it for this process (a dry run only looks)."""
    folder = reservations_dir()
    if not reserve:
        port, note = _pick(requested, held_ports(folder))
        return PortChoice(port, note, None)
    folder = _own_folder(folder)
    with _locked(folder):
        port, note = _pick(requested, held_ports(folder, clean=True))
        start = process_start_time(os.getpid())
        holder = f"{os.getpid()} {-1 if start is None else start}"  # -1: no /proc, the pid alone counts
        path = folder / f"{RESERVATION_PREFIX}{port}"
        try:
            atomic.write_text(path, holder)
        except OSError as exc:
            raise SkillError(
                f"port reservation {path}: {exc.strerror or exc}", ExitCode.ENV_NOT_READY
            ) from None
    return PortChoice(port, note, Reservation(port, path, holder))

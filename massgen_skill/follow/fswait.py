"""Sleep until something changes in a few folders, or a timeout: Linux inotify through ctypes.

A watcher that wakes only when massgen writes a file costs nothing while it waits and notices a review at
once, where a poll loop pays for every wake-up. Where inotify is missing, `create()` returns None and
`waiter()` falls back to `PollWaiter`, which just sleeps (its sleep is injectable, for tests).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

_IN_NONBLOCK = 0o4000
_IN_CLOEXEC = 0o2000000
# Files created, written, renamed into place or removed, and the folder itself going away.
_MASK = 0x2 | 0x8 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800  # MODIFY CLOSE_WRITE MOVED_TO CREATE DELETE …SELF


class Waiter(Protocol):
    wakes_on_change: bool  # True: `wait` returns early when a watched folder changes

    def watch(self, folders: Iterable[Path | None]) -> None: ...

    def wait(self, timeout: float) -> bool: ...

    def close(self) -> None: ...


class PollWaiter:
    """No change notification: `wait` sleeps the whole timeout and the caller polls."""

    wakes_on_change = False

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self._sleep = sleep

    def watch(self, folders: Iterable[Path | None]) -> None:
        """Nothing to register: every folder is looked at on each poll."""

    def wait(self, timeout: float) -> bool:
        self._sleep(max(0.0, timeout))
        return False

    def close(self) -> None:
        """Nothing to release."""


class DirWaiter:
    wakes_on_change = True

    def __init__(self, libc: ctypes.CDLL, fd: int) -> None:
        self._libc = libc
        self._fd = fd
        self._watched: set[str] = set()

    @classmethod
    def create(cls) -> DirWaiter | None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        except (OSError, AttributeError):
            return None
        return cls(libc, fd) if fd >= 0 else None

    def watch(self, folders: Iterable[Path | None]) -> None:
        """Add folders not yet watched (a folder that vanished is simply not watched)."""
        for folder in folders:
            key = str(folder) if folder is not None else ""
            if (
                key
                and key not in self._watched
                and self._libc.inotify_add_watch(self._fd, key.encode(), _MASK) >= 0
            ):
                self._watched.add(key)

    def wait(self, timeout: float) -> bool:
        """Block until a watched folder changes (True) or `timeout` seconds pass (False)."""
        ready, _, _ = select.select([self._fd], [], [], max(0.0, timeout))
        if not ready:
            return False
        with contextlib.suppress(BlockingIOError, OSError):
            while os.read(self._fd, 65536):
                pass
        return True

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)


def waiter() -> Waiter:
    """inotify where the system has it, else polling."""
    return DirWaiter.create() or PollWaiter()

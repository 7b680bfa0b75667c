"""Atomic file writes: a temp file in the same folder, then a rename. Readers see the old file or the whole
new one, never half of one, and a failure leaves no temp file behind. The one place the project does this.

No `tempfile` import: it costs milliseconds on every start; a pid + random suffix with O_EXCL is enough.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


def temp_path(target: Path) -> Path:
    """A fresh name beside `target` (hidden, ends in .tmp), unique across processes."""
    return target.with_name(f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")


@contextlib.contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """Yield a temp path to fill (by any means, e.g. SQLite); on success it replaces `target`."""
    temp = temp_path(target)
    try:
        yield temp
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


@contextlib.contextmanager
def open_atomic(
    target: Path, binary: bool = False, fsync: bool = False, mode: int | None = None
) -> Iterator[IO[Any]]:
    """Open a temp file for writing; rename it over `target` on success. Permissions: `mode` exactly when
    given, else the usual ones for a new file (0o666 less the umask)."""
    with replacing(target) as temp:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as handle:
            yield handle
            handle.flush()
            if fsync:
                os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temp, mode)


def write_text(target: Path, text: str, fsync: bool = False) -> None:
    with open_atomic(target, fsync=fsync) as handle:
        handle.write(text)

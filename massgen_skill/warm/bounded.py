"""A short massgen invocation (`--validate`, `--list-backends`, the headless quickstart) through the warm
server when one fits; None means: run it cold (`run.procs.run_bounded`), as before."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from massgen_skill.massgen.program import MassgenProgram
from massgen_skill.run import procs
from massgen_skill.warm import paths
from massgen_skill.warm.client import WarmProcess, WarmUnavailable, launch

_POLL = 0.05
_READER_JOIN = 5.0  # seconds for the readers after the end: a helper may hold the pipes open


def run_bounded_warm(
    program: MassgenProgram, argv: Sequence[str], cwd: Path, timeout: float, env: Mapping[str, str]
) -> procs.Completed | None:
    argv = [str(a) for a in argv]
    if paths.switched_off(env) or tuple(argv[: len(program.argv)]) != program.argv:
        return None
    status = paths.warm_dir(env) / f".exit-{os.getpid()}-{os.urandom(4).hex()}.json"
    try:
        child = launch(program, argv, cwd, env, status)
    except WarmUnavailable:
        return None
    try:
        out, err, timed_out = _collect(child, timeout)
    finally:
        with contextlib.suppress(OSError):
            status.unlink()
    return procs.Completed(argv, None if timed_out else child.returncode, out, err, timed_out=timed_out)


def _collect(child: WarmProcess, timeout: float) -> tuple[str, str, bool]:
    """Both pipes read to the end, the child waited for; its whole group stopped past `timeout`."""
    chunks: dict[str, bytes] = {}
    readers = [
        threading.Thread(target=_read_all, args=(pipe, name, chunks), daemon=True)
        for name, pipe in (("out", child.stdout), ("err", child.stderr))
    ]
    for reader in readers:
        reader.start()
    deadline = time.monotonic() + max(0.1, timeout)
    while child.poll() is None and time.monotonic() < deadline:
        time.sleep(_POLL)
    timed_out = child.returncode is None
    if timed_out:
        procs.stop([procs.Target(child.pid, child.start, group=True)], procs.BOUNDED_GRACES)
        child.wait()
    for reader in readers:
        reader.join(_READER_JOIN)
    text = {k: v.decode("utf-8", errors="replace") for k, v in chunks.items()}
    return text.get("out", ""), text.get("err", ""), timed_out


def _read_all(pipe: IO[bytes], name: str, into: dict[str, bytes]) -> None:
    with pipe:
        into[name] = pipe.read()

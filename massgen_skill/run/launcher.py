"""Start, watch and stop one massgen process group. Knows processes and pipes, not what massgen means.

Habits from honcho/nox/tox: the child gets its own session (so we can signal the whole group), an explicit
environment, no shell; both pipes are drained by threads so a chatty child never blocks; stopping goes in
stages (SIGINT so massgen saves its logs, then SIGTERM, then SIGKILL), ignoring "no such process".
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from massgen_skill import PACKAGE_DIR
from massgen_skill.massgen.markers import LineSplitter

STDOUT = "stdout"
STDERR = "stderr"
EXITED = "exited"
DEFAULT_GRACES = (5.0, 3.0)  # seconds after SIGINT, after SIGTERM; then SIGKILL
_PR_SET_PDEATHSIG = 1


_BUNDLE_ROOT = str(PACKAGE_DIR.parent)


def child_env(base: Mapping[str, str]) -> dict[str, str]:
    """The child's environment: ours, minus what would confuse massgen, plus unbuffered output.

    The shell entry points put the skill folder on PYTHONPATH for our own start; massgen must not inherit it.
    """
    env = {k: v for k, v in base.items() if k != "CLAUDECODE"}
    env["PYTHONUNBUFFERED"] = "1"
    kept = [
        p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and str(Path(p).resolve()) != _BUNDLE_ROOT
    ]
    if kept:
        env["PYTHONPATH"] = os.pathsep.join(kept)
    else:
        env.pop("PYTHONPATH", None)
    return env


def _die_with_parent() -> Callable[[], None] | None:
    """Linux: the child's pre-exec step, so that massgen gets SIGTERM instead of living on if the wrapper is
    killed outright (SIGKILL). `prctl` is looked up here, in the wrapper: importing ctypes in the forked child
    would delay every launch by a few milliseconds. None where there is no prctl."""
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def set_parent_death_signal() -> None:  # pragma: no cover - runs in the child between fork and exec
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return set_parent_death_signal


class _Log:
    """An append-only log file that turns its first write error into a note and then stays quiet."""

    def __init__(self, path: Path, what: str, errors: dict[str, str]) -> None:
        self.what = what
        self.errors = errors
        self.handle: IO[str] | None = None
        try:
            self.handle = open(path, "a", encoding="utf-8", errors="replace")  # noqa: SIM115 - kept open for the run
        except OSError as exc:
            self._failed(exc)

    def _failed(self, exc: OSError) -> None:
        self.errors[self.what] = exc.strerror or str(exc)
        handle, self.handle = self.handle, None
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.close()  # the buffered rest fails the same way

    def write(self, text: str) -> None:
        if self.handle is not None:
            try:
                self.handle.write(text)
            except OSError as exc:
                self._failed(exc)

    def flush(self) -> None:
        if self.handle is not None:
            try:
                self.handle.flush()
            except OSError as exc:
                self._failed(exc)

    def close(self) -> None:
        self.flush()
        if self.handle is not None:
            with contextlib.suppress(OSError):
                self.handle.close()


def signal_group(pgid: int, signum: int) -> bool:
    """Signal a whole process group; False when it is already gone."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    return True


def group_exists(pgid: int) -> bool:
    return signal_group(pgid, 0)


def stop_group(
    pgid: int,
    graces: Sequence[float] = DEFAULT_GRACES,
    is_done: Callable[[], bool] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """SIGINT, then SIGTERM, then SIGKILL to the group, each after a grace. Returns the last signal sent."""
    done = is_done or (lambda: not group_exists(pgid))
    last = "none"
    for signum, grace in zip((signal.SIGINT, signal.SIGTERM), graces, strict=False):
        if done() or not signal_group(pgid, signum):
            return last
        last = signum.name
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if done():
                return last
            sleep(0.05)
    if not done() and signal_group(pgid, signal.SIGKILL):
        last = "SIGKILL"
    return last


@dataclass
class Event:
    kind: str  # STDOUT | STDERR | EXITED
    text: str = ""
    code: int | None = None
    complete: bool = True  # False: the last line, cut off by massgen's exit (no newline)


class Supervisor:
    """One massgen process: lines arrive on `events`, whole, in order per stream."""

    def __init__(
        self,
        argv: Sequence[str],
        cwd: Path,
        env: Mapping[str, str],
        stdout_log: Path,
        stderr_log: Path,
        redact: Callable[[str], str] = lambda s: s,
    ) -> None:
        self.argv = list(argv)
        self.cwd = cwd
        self.env = dict(env)
        self.logs = {STDOUT: stdout_log, STDERR: stderr_log}
        self.redact = redact
        self.events: queue.Queue[Event] = queue.Queue()
        self.stderr_tail: deque[str] = deque(maxlen=80)
        self.write_errors: dict[str, str] = {}  # which log could not be written → why (disk full, …)
        self.proc: subprocess.Popen[bytes] | None = None
        self._readers: list[threading.Thread] = []

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        """Spawn the child in a new session. Raises OSError when it cannot be started."""
        self.proc = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # own group: we stop all of it, a terminal's ^C does not
            preexec_fn=_die_with_parent(),
        )
        for name, pipe in ((STDOUT, self.proc.stdout), (STDERR, self.proc.stderr)):
            thread = threading.Thread(target=self._pump, args=(name, pipe), daemon=True)
            thread.start()
            self._readers.append(thread)
        threading.Thread(target=self._reap, daemon=True).start()

    def _pump(self, name: str, pipe: IO[bytes]) -> None:
        """Read a pipe to EOF: log every line (secrets scrubbed), queue it, never block the child.

        A log that cannot be written (disk full, read-only) is noted and dropped; reading goes on, so massgen
        never blocks on a full pipe and its markers still arrive."""
        splitter = LineSplitter()
        fd = pipe.fileno()
        log = _Log(self.logs[name], f"massgen's {name} log", self.write_errors)
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            lines = list(splitter.feed(chunk)) if chunk else list(splitter.flush())
            for line in lines:
                clean = self.redact(line)
                log.write(clean + "\n")
                if name == STDERR:
                    self.stderr_tail.append(clean)
                self.events.put(Event(name, clean, complete=bool(chunk)))
            if not chunk:
                break
            log.flush()
        log.close()
        pipe.close()

    def _reap(self) -> None:
        assert self.proc is not None
        code = self.proc.wait()
        # Give the readers a moment to drain what massgen printed last; helpers it left behind may keep the
        # pipes open, so do not wait for EOF forever.
        for reader in self._readers:
            reader.join(timeout=2.0)
        self.events.put(Event(EXITED, code=code))

    def readers_done(self) -> bool:
        return all(not r.is_alive() for r in self._readers)

    def stop(self, graces: Sequence[float] = DEFAULT_GRACES) -> str:
        """Staged stop of the whole group (blocking)."""
        if self.proc is None:
            return "none"
        return stop_group(self.proc.pid, graces)

    def cleanup_group(self, grace: float = 1.0) -> None:
        """After massgen exits: end anything it left in its group (MCP servers, helpers)."""
        if self.proc is None or not group_exists(self.proc.pid):
            return
        signal_group(self.proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and group_exists(self.proc.pid):
            time.sleep(0.05)
        with contextlib.suppress(OSError):
            signal_group(self.proc.pid, signal.SIGKILL)

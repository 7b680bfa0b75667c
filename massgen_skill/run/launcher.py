"""Start, watch and stop one massgen process group. Knows processes and pipes, not what massgen means.

Habits from honcho/nox/tox: the child gets its own session (so we can signal the whole group), an explicit
environment, no shell; both pipes are drained by threads so a chatty child never blocks; stopping goes in
stages (SIGINT so massgen saves its logs, then SIGTERM, then SIGKILL), ignoring "no such process".
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import queue
import signal
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from massgen_skill import PACKAGE_DIR
from massgen_skill.massgen.markers import LineSplitter
from massgen_skill.massgen.program import MassgenProgram
from massgen_skill.run import procs
from massgen_skill.warm.client import WarmProcess, WarmUnavailable, launch

STDOUT = "stdout"
STDERR = "stderr"
EXITED = "exited"
DEFAULT_GRACES = procs.DEFAULT_GRACES
LEFTOVER_GRACES = (0.0, 1.0)  # massgen has exited: its helpers get SIGINT and SIGTERM at once, SIGKILL 1 s on
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


@dataclass
class Event:
    kind: str  # STDOUT | STDERR | EXITED
    text: str = ""
    code: int | None = None
    complete: bool = True  # False: the last line, cut off by massgen's exit (no newline)


@dataclass(frozen=True)
class WarmStart:
    """Try the warm server (massgen_skill/warm) first; `status`: where the forked child writes its exit."""

    program: MassgenProgram
    status: Path


COLD = "cold"
WARM = "warm"


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
        run_id: str | None = None,
        tree_file: Path | None = None,
        warm: WarmStart | None = None,
    ) -> None:
        self.argv = list(argv)
        self.cwd = cwd
        self.run_id = run_id
        self.env = procs.marked_env(env, run_id) if run_id else dict(env)
        self.logs = {STDOUT: stdout_log, STDERR: stderr_log}
        self.redact = redact
        self.events: queue.Queue[Event] = queue.Queue()
        self.stderr_tail: deque[str] = deque(maxlen=80)
        self.write_errors: dict[str, str] = {}  # which log could not be written → why (disk full, …)
        self.proc: subprocess.Popen[bytes] | WarmProcess | None = None
        self.warm = warm
        self.launch_note = COLD  # "warm", or "cold: <why not warm>" when a warm start was tried
        self.start_time: int | None = None  # with the pid, massgen's identity (read before it can be reaped)
        self.tree_file = tree_file
        self.tree: procs.TreeRecorder | None = None  # massgen's descendants, seen while the run lives
        self._readers: list[threading.Thread] = []

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        """Spawn the child in a new session. Raises OSError when it cannot be started."""
        self.proc = self._spawn()
        if isinstance(self.proc, WarmProcess):
            self.start_time = self.proc.start
        else:
            self.start_time = procs.process_start_time(self.proc.pid)
        if self.tree_file is not None:
            self.tree = procs.TreeRecorder(self.proc.pid, self.tree_file)
            self.tree.start()
        for name, pipe in ((STDOUT, self.proc.stdout), (STDERR, self.proc.stderr)):
            thread = threading.Thread(target=self._pump, args=(name, pipe), daemon=True)
            thread.start()
            self._readers.append(thread)
        threading.Thread(target=self._reap, daemon=True).start()

    def _spawn(self) -> subprocess.Popen[bytes] | WarmProcess:
        """A fork of the warm server when one fits this run; else (and on any error) a cold start, with why.
        Either way massgen leads a session of its own and ends when we die (a lifeline stands in for the
        parent-death signal of a cold child)."""
        if self.warm is not None:
            try:
                child = launch(self.warm.program, self.argv, self.cwd, self.env, self.warm.status)
            except (WarmUnavailable, OSError) as exc:  # never a failed run: cold, saying why
                self.launch_note = f"{COLD}: {exc}"
            else:
                self.launch_note = WARM
                return child
        return procs.spawn_group(self.argv, self.cwd, self.env, _die_with_parent())

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
        """Staged stop of massgen's group, then of what it left behind (blocking). Returns the last signal."""
        if self.proc is None:
            return "none"
        report = procs.stop_child(self.proc, self.start_time, graces)
        self.cleanup_group()
        return report.last_signal

    def cleanup_group(self) -> None:
        """After massgen exits: end anything it left in its group, and its descendants that moved to a
        session of their own (MCP servers do) — as recorded while it lived, or by the run marker."""
        if self.proc is None:
            return
        targets = procs.leftovers(self.proc.pid, self.start_time)
        if self.tree is not None:
            self.tree.stop()
            targets += self.tree.targets()
        if self.run_id:
            marked = procs.marked_processes(self.run_id, self.start_time)  # massgen's descendants: not older
            targets += [procs.Target(p.pid, p.start) for p in marked]
        if targets:
            procs.stop(list(set(targets)), LEFTOVER_GRACES)

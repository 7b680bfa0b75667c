"""Talk to the warm server: ask for one forked massgen run, or its status, or its end.

A warm child is not our child: it is followed by pid + start time (`run.procs`), its exit status read from the
run's folder (missing after its death: killed or crashed). Every failure here is a `WarmUnavailable` carrying
the reason, so the launcher starts massgen cold instead and says why.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from massgen_skill.massgen.program import MassgenProgram
from massgen_skill.run import procs
from massgen_skill.warm import paths, server

CONNECT_TIMEOUT = 2.0
REPLY_TIMEOUT = 15.0  # a fork answers in milliseconds; a loaded machine may take longer
PROJECT_ENV_FILE = "configs/.env"  # massgen reads it at import, from its current folder
STATUS_GRACE = 2.0  # after the child's death: time for it (or the server that reaps it) to write its status
_POLL = 0.05


NO_SERVER = "no warm server running (start one: massgen-skill warm start)"


class WarmUnavailable(Exception):
    """No warm start for this run; the message is the reason (for --json and the run record)."""


@dataclass(frozen=True)
class Installation:
    """The massgen a server stands in for: its script and the interpreter that runs it."""

    script: str
    interpreter: str

    def fingerprint(self, env: Mapping[str, str]) -> dict[str, Any]:
        return server.fingerprint(self.script, self.interpreter, env)


def installation(program: MassgenProgram) -> Installation:
    if not program.path or not program.interpreter or len(program.argv) != 1:
        raise WarmUnavailable(f"massgen found via {program.how} is not a Python script we can run warm")
    return Installation(program.path, program.interpreter)


def server_socket(env: Mapping[str, str], inst: Installation) -> Path:
    folder = paths.warm_dir(env)
    path = paths.socket_path(folder, inst.script)
    if paths.too_long(path):
        raise WarmUnavailable(f"socket path too long: {path}")
    return path


def ask(
    path: Path, message: Mapping[str, Any], fds: Sequence[int] = (), timeout: float = REPLY_TIMEOUT
) -> dict:
    """One request, one answer. Raises WarmUnavailable on any socket error or refusal."""
    if not os.path.lexists(path.parent) or not os.path.lexists(path):
        raise WarmUnavailable(NO_SERVER)
    reason = paths.unsafe(path.parent)
    if reason:
        raise WarmUnavailable(reason)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(CONNECT_TIMEOUT)
            sock.connect(str(path))
            sock.settimeout(timeout)
            server.send_message(sock, message, list(fds))
            reply, _ = server.recv_message(sock)
    except (OSError, ValueError) as exc:
        raise WarmUnavailable(f"warm server did not answer: {exc}") from None
    if not reply.get("ok"):
        raise WarmUnavailable(f"warm server refused: {reply.get('reason', 'no reason given')}")
    return reply


class WarmProcess:
    """A forked massgen, shaped like the `Popen` the launcher knows: pid, stdout, stderr, poll, wait."""

    def __init__(
        self, pid: int, start: int | None, pipes: tuple[int, int], lifeline: int, status: Path
    ) -> None:
        self.pid = pid
        self.start = start
        self.stdout: IO[bytes] = open(pipes[0], "rb", buffering=0)  # noqa: SIM115 - read to EOF by the launcher
        self.stderr: IO[bytes] = open(pipes[1], "rb", buffering=0)  # noqa: SIM115
        self.returncode: int | None = None
        self._lifeline: int | None = lifeline  # our end; closing it (or our death) ends the child
        self._status = status
        self._lock = threading.Lock()

    def poll(self, sleep: Callable[[float], None] = time.sleep) -> int | None:
        with self._lock:
            if self.returncode is None and not procs.is_alive(self.pid, self.start):
                self.returncode = self._exit_status(sleep)
                self._cut_lifeline()
            return self.returncode

    def wait(self, sleep: Callable[[float], None] = time.sleep) -> int:
        while (code := self.poll(sleep)) is None:
            sleep(_POLL)
        return code

    def _cut_lifeline(self) -> None:
        if self._lifeline is not None:
            with contextlib.suppress(OSError):
                os.close(self._lifeline)
            self._lifeline = None

    def _exit_status(self, sleep: Callable[[float], None]) -> int:
        """Popen's convention: the exit code, or minus the signal. No status at all: killed (SIGKILL)."""
        deadline = time.monotonic() + STATUS_GRACE
        while True:
            found = read_status(self._status)
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                return -int(signal.SIGKILL)
            sleep(_POLL)


def read_status(path: Path) -> int | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(data, dict) and isinstance(data.get("exit"), int):
        return int(data["exit"])
    if isinstance(data, dict) and isinstance(data.get("signal"), int):
        return -int(data["signal"])
    return None


def project_env_problem(cwd: Path) -> str | None:
    """Import-time variables set by `configs/.env` under the caller's folder: massgen loads that file at
    import from its current folder, which for the server was not the caller's."""
    try:
        text = (cwd / PROJECT_ENV_FILE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    names = []
    for line in text.splitlines():
        name = line.strip().removeprefix("export ").partition("=")[0].strip()
        if name and server.import_time_env({name: ""}):
            names.append(name)
    return f"{PROJECT_ENV_FILE} sets import-time variables: {', '.join(names)}" if names else None


def launch(
    program: MassgenProgram, argv: Sequence[str], cwd: Path, env: Mapping[str, str], status: Path
) -> WarmProcess:
    """Ask the server for a run; a WarmProcess on success, WarmUnavailable (with the reason) otherwise."""
    inst = installation(program)
    path = server_socket(env, inst)
    if not os.path.lexists(path):  # the common case without a server: no pipes, no fingerprint
        raise WarmUnavailable(NO_SERVER)
    if problem := project_env_problem(cwd):
        raise WarmUnavailable(problem)
    with contextlib.suppress(OSError):  # a stale status cannot stay: the child replaces it atomically
        status.unlink()
    try:
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        life_r, life_w = os.pipe()
    except OSError as exc:  # out of file descriptors: the pipes made so far are closed with the process
        raise WarmUnavailable(f"no pipes for a warm run: {exc.strerror or exc}") from None
    request = {
        "op": "run",
        "argv": list(argv),
        "cwd": str(cwd),
        "env": dict(env),
        "status": str(status),
        "fingerprint": inst.fingerprint(env),
    }
    try:
        reply = ask(path, request, (out_w, err_w, life_r))
        pid, start = int(reply["pid"]), reply.get("start")
    except (WarmUnavailable, KeyError, TypeError, ValueError) as exc:
        for fd in (out_r, err_r, life_w):  # a child forked before the error dies with the lifeline
            os.close(fd)
        if isinstance(exc, WarmUnavailable):
            raise
        raise WarmUnavailable(f"warm server gave a bad answer: {exc!r}") from None
    finally:
        for fd in (out_w, err_w, life_r):
            os.close(fd)
    return WarmProcess(pid, start if isinstance(start, int) else None, (out_r, err_r), life_w, status)

"""Start, describe and stop the warm server for one massgen install (`massgen-skill warm …`, `run --warm`)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from massgen_skill.massgen.program import MassgenProgram
from massgen_skill.run import procs
from massgen_skill.run.launcher import child_env
from massgen_skill.warm import paths, server
from massgen_skill.warm.client import WarmUnavailable, ask, installation, server_socket

START_TIMEOUT = 180.0  # seconds: the server imports massgen (13-19 s on 2 cores, more under load)
STOP_GRACES = (0.0, 5.0)  # after a refused stop request: SIGTERM at once, SIGKILL 5 s on


@dataclass
class ServerState:
    running: bool
    socket: str
    reason: str = ""  # why not running / why not usable
    details: dict[str, Any] = field(default_factory=dict)  # the server's own status (pid, rss_mb, …)
    differs: list[str] = field(default_factory=list)  # fingerprint parts that differ from this caller's

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.details.items() if k != "fingerprint"}
        return {
            "running": self.running,
            "usable": self.running and not self.differs,
            "socket": self.socket,
            "reason": self.reason,
            "differs": self.differs,
            **data,
        }


def status(program: MassgenProgram, env: Mapping[str, str]) -> ServerState:
    inst = installation(program)
    path = server_socket(env, inst)
    try:
        reply = ask(path, {"op": "status"}, timeout=5.0)
    except WarmUnavailable as exc:
        return ServerState(False, str(path), str(exc))
    # compared with what a run would give massgen (the launcher's child environment), as the server was
    differs = server.differences(reply.get("fingerprint") or {}, inst.fingerprint(child_env(env)))
    reason = f"differs from this shell: {', '.join(differs)}" if differs else ""
    return ServerState(True, str(path), reason, reply, differs)


def spawn(program: MassgenProgram, env: Mapping[str, str], idle: float, max_rss_mb: int) -> int:
    """Start a server in the background (its own session, output to server.log); its pid."""
    inst = installation(program)
    path = server_socket(env, inst)
    reason = paths.make_private(path.parent)
    if reason:
        raise WarmUnavailable(reason)
    argv = [
        inst.interpreter,
        server.__file__,
        "--socket",
        str(path),
        "--massgen",
        inst.script,
        "--idle",
        f"{idle:g}",
        "--max-rss-mb",
        str(max_rss_mb),
    ]
    fd = os.open(path.parent / paths.SERVER_LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        proc = procs.spawn_group(argv, path.parent, child_env(env), stdout=fd, stderr=fd)
    except OSError as exc:
        raise WarmUnavailable(f"cannot start the warm server: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    return proc.pid


def start(
    program: MassgenProgram,
    env: Mapping[str, str],
    idle: float = server.DEFAULT_IDLE,
    max_rss_mb: int = server.DEFAULT_MAX_RSS_MB,
    timeout: float = START_TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
) -> ServerState:
    """Start a server unless a usable one runs, and wait until it answers (or dies, or `timeout`)."""
    now = status(program, env)
    if now.running and not now.differs:
        return now
    if now.running:
        stop(program, env)
    pid = spawn(program, env, idle, max_rss_mb)
    start_time = procs.process_start_time(pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sleep(0.2)
        now = status(program, env)
        if now.running or not procs.is_alive(pid, start_time):
            break
    if not now.running:
        procs.stop([procs.Target(pid, start_time, group=True)], STOP_GRACES)
        log = Path(now.socket).parent / paths.SERVER_LOG
        now.reason = f"the warm server did not come up ({now.reason}); see {log}"
    return now


def _recorded(path: Path) -> procs.Target | None:
    """The server named in its state file, if that process still lives."""
    try:
        data = json.loads(server.state_path(path).read_text(encoding="utf-8"))
        target = procs.Target(int(data["pid"]), int(data["start"]), group=True)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return target if target.alive() else None


def stop(program: MassgenProgram, env: Mapping[str, str], timeout: float = 10.0) -> ServerState:
    """Ask the server to end; signal it when it does not. Warm runs already forked are not the server's:
    they go on (and are stopped like any run)."""
    inst = installation(program)
    path = server_socket(env, inst)
    target = _recorded(path)
    try:
        ask(path, {"op": "stop"}, timeout=5.0)
    except WarmUnavailable as exc:
        if target is None:
            return ServerState(False, str(path), str(exc))
    if target is not None:
        deadline = time.monotonic() + timeout
        while target.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        procs.stop([target], STOP_GRACES)
    for leftover in (path, server.state_path(path)):
        if target is not None and leftover.exists():
            leftover.unlink(missing_ok=True)
    return ServerState(False, str(path), "stopped")

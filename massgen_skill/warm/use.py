"""Whether a run tries the warm server, and `run --warm`'s start of one (in the background: this run goes
cold, the next ones are warm)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path

from massgen_skill.massgen.program import MassgenProgram
from massgen_skill.run import records
from massgen_skill.run.launcher import COLD, WARM, WarmStart
from massgen_skill.warm import control, paths, server
from massgen_skill.warm.client import WarmUnavailable, installation, project_env_problem, server_socket

KEEP_FILE = "warm.keep"


def warm_start(
    program: MassgenProgram, env: Mapping[str, str], run_dir: Path, start_if_missing: bool
) -> WarmStart | None:
    """What the launcher needs to try a warm start; None when the user switched warm starts off."""
    if paths.switched_off(env):
        return None
    if start_if_missing or keep_file().exists():
        with contextlib.suppress(WarmUnavailable):  # the launcher reports the reason when it tries
            start_in_background(program, env)
    return WarmStart(program, run_dir / paths.EXIT_STATUS_FILE)


def preview(program: MassgenProgram, env: Mapping[str, str], cwd: Path) -> str:
    """How a run would start now (`run --dry-run --json`): "warm", "cold" (switched off) or "cold: <why>"."""
    if paths.switched_off(env):
        return COLD
    try:
        state = control.status(program, env)
    except WarmUnavailable as exc:
        return f"{COLD}: {exc}"
    if not state.running or state.differs:
        return f"{COLD}: {state.reason}"
    problem = project_env_problem(cwd)
    return f"{COLD}: {problem}" if problem else WARM


def keep_file() -> Path:
    """Present after `install --warm`: every run starts the server when none runs (`warm stop` removes it).
    In the per-user state folder, so it outlives a reboot that empties the socket folder."""
    return records.state_dir() / KEEP_FILE


def keep_running(program: MassgenProgram, env: Mapping[str, str]) -> bool:
    """`install --warm`: remember to keep a server, and start one now (True: started now)."""
    path = keep_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("massgen-skill install --warm: runs start the warm server when none runs\n")
    return start_in_background(program, env)


def start_in_background(program: MassgenProgram, env: Mapping[str, str]) -> bool:
    """Start a server unless its socket is there; True when one was started now."""
    if server_socket(env, installation(program)).exists():
        return False
    control.spawn(program, env, server.DEFAULT_IDLE, server.DEFAULT_MAX_RSS_MB)
    return True

"""Helpers shared by the tests that drive processes: ports, bounded waits, process groups, relayed lines."""

from __future__ import annotations

import os
import shutil
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BUNDLE_PARTS = ("SKILL.md", "scripts", "references", "massgen_skill")


def free_port() -> int:
    """An ephemeral port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(
    check: Callable[[], Any], timeout: float = 20.0, what: str = "condition", interval: float = 0.05
) -> Any:
    """Poll `check` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def group_alive(pgid: int) -> bool:
    """Whether any process of the group still lives. Zombies do not count: an orphan's zombie waits for an
    init that may reap late (or never, in a container)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for entry in proc.iterdir():
        try:
            stat = (entry / "stat").read_text()
        except (OSError, ValueError):
            continue
        state, _ppid, group = stat[stat.rfind(")") + 2 :].split()[:3]
        if int(group) == pgid and state not in ("Z", "X"):
            return True
    return False


def relayed(stdout: str) -> dict[str, list[str]]:
    """`KEY: value` lines of the run command's output, grouped by key in order."""
    lines: dict[str, list[str]] = {}
    for line in stdout.splitlines():
        key, _, value = line.partition(": ")
        lines.setdefault(key, []).append(value)
    return lines


def copy_bundle(dest: Path) -> Path:
    """The skill as installed: a folder named `massgen` (its `name`) holding only the bundle's parts."""
    skill = dest / "massgen"
    skill.mkdir(parents=True)
    for part in BUNDLE_PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(
                src, skill / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "_bundle")
            )
        else:
            shutil.copy2(src, skill / part)
    return skill

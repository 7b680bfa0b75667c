"""Process truth with the REAL massgen 0.1.97 on the default (web) path: after the wrapper is SIGKILLed,
`stop` ends massgen and its MCP servers (own sessions, no marker: found by the recorded tree), leaves no
process carrying the run marker, and says what it did."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from massgen_skill.exitcodes import ExitCode
from massgen_skill.run import procs, records

from . import harness
from .conftest import record_timing
from .netns import NetNS
from .test_through_skill import (
    QUESTION,
    Skill,
    only_record,
    skill,  # noqa: F401  (the fixture, used by name)
)

pytestmark = pytest.mark.slow


def marked_inside(ns: NetNS, run_id: str) -> dict[int, procs.ProcInfo]:
    """Living processes of the namespace whose environment carries the run's marker (read independently of
    the code under test: /proc/<pid>/environ)."""
    entry = f"{procs.RUN_MARKER}={run_id}".encode()
    found = {}
    for pid in ns.pids_inside():
        with contextlib.suppress(OSError):
            if entry in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                now = procs.info(pid)
                if now is not None and not now.dead:
                    found[pid] = now
    return found


def _cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:120]
    return "?"


def mcp_config(project: harness.Project, base_url: str) -> Path:
    """Two agents, each with one stdio MCP server (our filesystem stand-in, run directly), as a user's
    config would have: massgen's `mcp` client starts it in a session of its own with a minimal environment."""
    path = harness.write_config(project.configs / "two_agents_mcp.yaml", base_url, agents=2)
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    for agent in config["agents"]:
        agent["backend"]["mcp_servers"] = [
            {
                "name": "probe_fs",
                "type": "stdio",
                "command": sys.executable,
                "args": [str(harness.FS_MCP_SERVER), str(project.path)],
            }
        ]
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def mcp_servers_inside(ns: NetNS) -> dict[int, procs.ProcInfo]:
    found = {}
    for pid in ns.pids_inside():
        now = procs.info(pid)
        if now is not None and not now.dead and harness.FS_MCP_SERVER.name in _cmdline(pid):
            found[pid] = now
    return found


def test_web_run_sigkilled_wrapper_then_stop_ends_massgen_and_its_mcp_servers(
    skill: Skill,  # noqa: F811  (the imported fixture)
    project: harness.Project,
    mg_netns: NetNS,
    llm_server_factory: Callable[..., harness.LLMServer],
) -> None:
    server = llm_server_factory(delay=60.0)  # the agents wait on the LLM until the run is killed
    config = mcp_config(project, server.base_url)
    run = skill.start("--config", config, QUESTION, name="web-sigkill")  # default: web mode
    run.wait_for(lambda: server.requests(), timeout=150, what="the first LLM request")
    record = only_record(project)
    assert record.web and record.pid and record.wrapper_pid == run.proc.pid, record
    servers = run.wait_for(lambda: mcp_servers_inside(mg_netns), timeout=60, what="massgen's MCP servers")
    marked = marked_inside(mg_netns, record.run_id)
    print(f"MCP servers: {servers}; marked: { {pid: _cmdline(pid) for pid in marked} }")
    assert record.pid in marked and record.wrapper_pid not in marked  # massgen carries the marker, we do not
    # massgen 0.1.97 (through the `mcp` library): own session, minimal environment, so no marker
    assert all(p.pgid != record.pgid and pid not in marked for pid, p in servers.items()), servers
    tree = record.run_dir / procs.TREE_FILE
    run.wait_for(
        lambda: set(servers) <= {t.pid for t in procs.load_tree(tree)}, 30, what="the wrapper to record them"
    )

    os.kill(record.wrapper_pid, signal.SIGKILL)  # not reaped here: a zombie wrapper
    harness.wait_for(lambda: not procs.is_alive(record.wrapper_pid, None), 10, what="the wrapper to die")
    assert records.effective_state(records.load(record.path)) == records.LOST
    alive_before = {pid for pid, p in servers.items() if procs.is_alive(pid, p.start)}

    t_stop = time.monotonic()
    stopped = skill.cmd("stop", record.run_id, "--json", "--grace", "3")
    record_timing(skill.nodeid, "  ..stop after SIGKILL", time.monotonic() - t_stop)
    assert stopped.returncode == 0, stopped.describe()
    said = json.loads(stopped.stdout)
    print(f"MCP servers alive when stop began: {sorted(alive_before)}; stop said: {said}")
    assert (said["state"], said["processes_left"], said["refused"]) == (records.STOPPED, False, []), said
    assert alive_before <= set(said["signalled"]), said
    assert not mcp_servers_inside(mg_netns), "an MCP server survived `stop`"
    assert not marked_inside(mg_netns, record.run_id), "a marked process survived `stop`"
    final = records.load(record.path)
    assert (final.state, final.exit_code) == (records.STOPPED, ExitCode.STOPPED)

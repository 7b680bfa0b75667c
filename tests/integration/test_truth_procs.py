"""Process truth with the REAL massgen 0.1.97 on the default (web) path: after the wrapper is SIGKILLed,
`stop` ends massgen and every descendant carrying the run marker, and says what it did."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

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


def test_web_run_sigkilled_wrapper_then_stop_leaves_no_marked_process(
    skill: Skill,  # noqa: F811  (the imported fixture)
    project: harness.Project,
    mg_netns: NetNS,
    llm_server_factory: Callable[..., harness.LLMServer],
) -> None:
    server = llm_server_factory(delay=30.0)  # slow replies: the run is still going when it is killed
    config = harness.write_two_agent_fs_config(project, server.base_url)
    run = skill.start("--config", config, QUESTION, name="web-sigkill")  # default: web mode
    run.wait_for(lambda: server.requests(), timeout=120, what="the first LLM request")
    record = only_record(project)
    assert record.web and record.pid and record.wrapper_pid == run.proc.pid, record
    # massgen starts the filesystem MCP server (our stand-in) per agent: wait until one carries the marker
    before = run.wait_for(
        lambda: (found := marked_inside(mg_netns, record.run_id)) and len(found) > 1 and found,
        timeout=180,  # after the first LLM reply (the scripted server holds each one `delay` s), under load
        what="a descendant of massgen carrying the run marker",
    )
    assert record.pid in before, before  # massgen itself carries the marker
    assert record.wrapper_pid not in before  # the wrapper does not: stop must not find it that way
    apart = {pid: p.pgid for pid, p in before.items() if p.pgid != record.pgid}
    print(f"marked before SIGKILL: { {pid: _cmdline(pid) for pid in before} }; outside its group: {apart}")

    os.kill(record.wrapper_pid, signal.SIGKILL)  # not reaped here: a zombie wrapper
    harness.wait_for(lambda: not procs.is_alive(record.wrapper_pid, None), 10, what="the wrapper to die")
    assert records.effective_state(records.load(record.path)) == records.LOST

    t_stop = time.monotonic()
    stopped = skill.cmd("stop", record.run_id, "--json", "--grace", "3")
    record_timing(skill.nodeid, "  ..stop after SIGKILL", time.monotonic() - t_stop)
    assert stopped.returncode == 0, stopped.describe()
    said = json.loads(stopped.stdout)
    print(f"stop said: {said}")
    assert (said["state"], said["processes_left"], said["refused"]) == (records.STOPPED, False, []), said
    assert said["signalled"] or "nothing was left running" in said["how"], said
    assert not marked_inside(mg_netns, record.run_id), "processes of the run survived `stop`"
    final = records.load(record.path)
    assert (final.state, final.exit_code) == (records.STOPPED, ExitCode.STOPPED)

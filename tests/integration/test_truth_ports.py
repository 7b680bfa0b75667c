"""The REAL massgen 0.1.97 in default (web) mode: each run gets a port that is really free, reserved against
concurrent starts in any project, and a port taken before massgen binds is reported as `port-busy` (17).

Runs go through ``scripts/massgen_run.sh`` inside the private loopback-only namespace (see conftest.py), so
the namespace's own port 8000 is the default port every run first asks for.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from massgen_skill.exitcodes import ExitCode
from massgen_skill.massgen import flags
from massgen_skill.run import records
from massgen_skill.run.outcome import RESULT_WORDS

from . import harness
from .conftest import record_timing
from .netns import NetNS, NsProcess

pytestmark = pytest.mark.slow

RUN_SH = harness.REPO_ROOT / "scripts" / "massgen_run.sh"
OK = RESULT_WORDS[ExitCode.OK]
BUSY = RESULT_WORDS[ExitCode.PORT_BUSY]
RUN_TIMEOUT = 150.0

# Holds a port in the namespace until killed; touches READY once it listens.
HOLDER = """
import pathlib, socket, sys, time
sock = socket.socket()
sock.bind(("127.0.0.1", int(sys.argv[1])))
sock.listen()
pathlib.Path(sys.argv[2]).touch()
time.sleep(600)
"""


def lines_of(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.split("\n"):
        key, sep, value = line.partition(": ")
        if sep and key.isupper():
            found.setdefault(key, []).append(value)
    return found


def hold_port(popen_in_ns: Callable[..., NsProcess], port: int, ready: Path) -> NsProcess:
    holder = popen_in_ns([sys.executable, "-c", HOLDER, str(port), str(ready)])
    harness.wait_for(ready.exists, timeout=20, what=f"a holder listening on {port}")
    return holder


def start_run(
    popen_in_ns: Callable[..., NsProcess], project: harness.Project, env: dict[str, str], *args: str
) -> tuple[NsProcess, Path, Path]:
    """Default (web) mode; no cwd context, so no review gate waits for a human (the task says "create")."""
    out = project.artifacts / "run.out"
    err = project.artifacts / "run.err"
    argv = [RUN_SH, "--cwd-context", "none", *args]
    with out.open("w", encoding="utf-8") as fo, err.open("w", encoding="utf-8") as fe:
        proc = popen_in_ns(argv, env=env, cwd=project.path, stdout=fo, stderr=fe)
    return proc, out, err


def describe(out: Path, err: Path) -> str:
    return f"--- stdout ---\n{out.read_text()}\n--- stderr (tail) ---\n{err.read_text()[-3000:]}"


@pytest.fixture
def runtime(tmp_path: Path) -> dict[str, str]:
    """One per-user reservation folder for every run of the test (as one user's runs share it)."""
    return {"XDG_RUNTIME_DIR": str(tmp_path / "runtime")}


def test_two_default_runs_in_two_projects_at_once_get_their_own_ports(
    project: harness.Project,
    tmp_path: Path,
    mg_env: dict[str, str],
    popen_in_ns: Callable[..., NsProcess],
    llm_server_factory: Callable[..., harness.LLMServer],
    runtime: dict[str, str],
) -> None:
    second = harness.make_project(tmp_path / "second")
    started = time.monotonic()
    runs = []
    for where in (project, second):
        server = llm_server_factory()
        config = harness.write_three_agent_config(where, server.base_url)
        env = {**mg_env, **runtime, "HOME": str(where.home)}
        runs.append((where, *start_run(popen_in_ns, where, env, "--config", str(config), harness.QUESTION)))
    for _, proc, out, err in runs:
        assert proc.wait(timeout=RUN_TIMEOUT) == 0, describe(out, err)
    record_timing("test_truth_ports", "two web runs at once", time.monotonic() - started)

    ports = []
    for where, _, out, err in runs:
        found = lines_of(out.read_text())
        assert found["RESULT"] == [OK], describe(out, err)
        (record,) = records.list_records(where.path)
        assert record.web and record.web_port and record.outcome == OK
        assert found["WEB_UI"] == [f"http://{flags.WEB_HOST_DEFAULT}:{record.web_port}/"], describe(out, err)
        assert Path(found["ANSWER"][0]).read_text(encoding="utf-8").strip(), describe(out, err)
        ports.append(record.web_port)
    assert len(set(ports)) == 2 and flags.DEFAULT_WEB_PORT in ports, ports
    assert not list((tmp_path / "runtime").glob("*/ports/port-*"))  # reservations end with their runs


def test_a_port_held_by_another_process_is_never_given(
    project: harness.Project,
    tmp_path: Path,
    mg_env: dict[str, str],
    popen_in_ns: Callable[..., NsProcess],
    llm_server: harness.LLMServer,
    runtime: dict[str, str],
) -> None:
    holder = hold_port(popen_in_ns, flags.DEFAULT_WEB_PORT, tmp_path / "holder.ready")
    config = harness.write_three_agent_config(project, llm_server.base_url)
    proc, out, err = start_run(
        popen_in_ns, project, {**mg_env, **runtime}, "--config", str(config), harness.QUESTION
    )
    assert proc.wait(timeout=RUN_TIMEOUT) == 0, describe(out, err)
    assert holder.poll() is None  # the holder kept its port all along
    (record,) = records.list_records(project.path)
    assert record.web and record.web_port not in (None, flags.DEFAULT_WEB_PORT)
    assert lines_of(out.read_text())["RESULT"] == [OK], describe(out, err)
    assert f"port {flags.DEFAULT_WEB_PORT} is taken" in err.read_text()


def test_a_port_taken_before_massgen_binds_is_port_busy_not_timed_out(
    project: harness.Project,
    tmp_path: Path,
    mg_netns: NetNS,
    mg_env: dict[str, str],
    popen_in_ns: Callable[..., NsProcess],
    llm_server: harness.LLMServer,
    runtime: dict[str, str],
) -> None:
    config = harness.write_three_agent_config(project, llm_server.base_url)
    port = mg_netns.free_port()
    proc, out, err = start_run(
        popen_in_ns,
        project,
        {**mg_env, **runtime},
        "--web-port",
        str(port),
        "--config",
        str(config),
        harness.QUESTION,
    )
    # massgen needs ~15 s of imports before it binds: another program takes the port meanwhile.
    harness.wait_for(lambda: records.list_records(project.path), timeout=30, what="the run record")
    hold_port(popen_in_ns, port, tmp_path / "thief.ready")
    rc = proc.wait(timeout=RUN_TIMEOUT)
    found = lines_of(out.read_text())
    assert rc == ExitCode.PORT_BUSY, describe(out, err)
    assert found["RESULT"] == [BUSY] and str(port) in found["REASON"][0], describe(out, err)
    assert "timed" not in found["REASON"][0]
    (record,) = records.list_records(project.path)
    assert (record.outcome, record.exit_code) == (BUSY, int(ExitCode.PORT_BUSY))
    stderr_log = Path(record.stderr_log or "").read_text(encoding="utf-8")
    assert "address already in use" in stderr_log  # what massgen itself said
    assert json.loads(record.path.read_text())["web_port"] == port

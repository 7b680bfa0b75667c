"""Warm start with the REAL massgen 0.1.97, offline, inside the private namespace.

One warm server per module, started with ``massgen_skill.sh warm start`` inside the namespace, in a
socket folder of its own (a user's server is never touched). The core scenarios of ``test_through_skill.py``
run again here, warm, with the same assertions (same answer, status.json, log layout), and each must have
been forked by the server (`launch == "warm"` in the run record). Then the fallbacks: another environment,
another network namespace, a stopped server; killing the wrapper ends a warm run; ``warm stop`` leaves no
process.

The whole module shares one HOME: it is an import-time variable (massgen reads ~/.massgen/.env at import),
so a server only serves callers with its own HOME.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from runtools import SKILL_SH

from massgen_skill.exitcodes import ExitCode
from massgen_skill.massgen.private_env import MassgenVenv
from massgen_skill.massgen.program import find_massgen
from massgen_skill.run import records
from massgen_skill.run.launcher import WARM
from massgen_skill.warm import client, paths

from . import harness
from . import test_through_skill as cold
from .conftest import record_timing
from .netns import NetNS, RunResult

pytestmark = pytest.mark.slow
skill = cold.skill  # the same driver of our scripts, over this module's environment


@pytest.fixture(scope="module")
def warm_env(
    massgen_venv: MassgenVenv, harness_bin: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    root = tmp_path_factory.mktemp("warm")
    (root / "home").mkdir()
    return harness.make_env(
        massgen_venv.bin, harness_bin, root / "home", {paths.WARM_DIR_ENV: str(root / "sock")}
    )


@pytest.fixture(scope="module")
def warm_server(mg_netns: NetNS, warm_env: dict[str, str]) -> Iterator[dict[str, Any]]:
    """`warm start` inside the namespace; stopped (and checked gone) at the end of the module."""
    started = mg_netns.run([str(SKILL_SH), "warm", "start", "--json"], env=warm_env, timeout=240)
    assert started.returncode == 0, started.describe()
    state: dict[str, Any] = json.loads(started.stdout)
    record_timing("warm", "warm start (import)", started.duration)
    assert state["running"] and state["usable"] and state["pid"] in mg_netns.pids_inside(), state
    yield state
    _stop_server(mg_netns, warm_env, state["pid"])


def _stop_server(ns: NetNS, env: dict[str, str], pid: int) -> None:
    stopped = ns.run([str(SKILL_SH), "warm", "stop", "--json"], env=env, timeout=60)
    assert stopped.returncode == 0, stopped.describe()
    assert _dead(pid)  # gone, or a zombie waiting for init (dead all the same)


@pytest.fixture
def mg_env(warm_env: dict[str, str]) -> dict[str, str]:
    return dict(warm_env)


@pytest.fixture
def _ns_cleanup(mg_netns: NetNS, warm_server: dict[str, Any]) -> Iterator[None]:
    """As conftest's, but the module's warm server lives on."""
    yield
    for proc in mg_netns.processes:
        proc.kill_group(grace=3)
    mg_netns.processes.clear()
    for pid in mg_netns.pids_inside():
        if pid != warm_server["pid"]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _launched_warm(project: harness.Project) -> records.RunRecord:
    record = cold.only_record(project)
    assert record.launch == WARM, record.launch
    return record


# --- the core scenarios, warm: same assertions as cold ----------------------------------------------------
def test_warm_cli_run_same_as_cold(
    skill: cold.Skill,
    project: harness.Project,
    massgen_venv: MassgenVenv,
    llm_server_factory: Callable[..., Any],
) -> None:
    cold.test_cli_run_relays_markers_and_follow_up_commands_agree(
        skill, project, massgen_venv, llm_server_factory
    )
    _launched_warm(project)


def test_warm_review_round_same_as_cold(
    skill: cold.Skill,
    project: harness.Project,
    mg_netns: NetNS,
    llm_server_factory: Callable[..., harness.LLMServer],
) -> None:
    cold.test_web_rw_review_through_our_commands("approve", skill, project, mg_netns, llm_server_factory)
    _launched_warm(project)


def test_warm_all_agents_fail_same_as_cold(
    skill: cold.Skill, project: harness.Project, llm_server_factory: Callable[..., harness.LLMServer]
) -> None:
    cold.test_all_agents_fail_is_no_answer(skill, project, llm_server_factory)
    _launched_warm(project)


def _slow_run(
    skill: cold.Skill, project: harness.Project, factory: Callable[..., harness.LLMServer], name: str
) -> tuple[cold.BackgroundRun, harness.LLMServer]:
    """A warm 3-agent run in the background whose model answers only after 60 s (stopped by the test)."""
    server = factory(delay=60.0)
    config = harness.write_three_agent_config(project, server.base_url)
    return skill.start("--no-web", "--config", config, cold.QUESTION, name=name), server


def test_warm_log_dir_comes_at_once_and_stop_leaves_no_process(
    skill: cold.Skill,
    project: harness.Project,
    mg_netns: NetNS,
    llm_server_factory: Callable[..., harness.LLMServer],
    warm_server: dict[str, Any],
) -> None:
    run, server = _slow_run(skill, project, llm_server_factory, "warm-stop")
    run.wait_for(lambda: "LOG_DIR: " in run.stdout(), timeout=60, what="LOG_DIR")
    record_timing(skill.nodeid, "warm: launch to LOG_DIR", time.monotonic() - run.started)
    record = _launched_warm(project)
    run.wait_for(lambda: server.requests(), timeout=60, what="the first LLM request")
    stopped = skill.cmd("stop", "--json", "--grace", "3")
    assert stopped.returncode == 0, stopped.describe()
    assert json.loads(stopped.stdout)["processes_left"] is False, stopped.describe()
    assert run.finish(timeout=30) == ExitCode.STOPPED, run.describe()
    assert cold.relayed(run.stdout()).one("RESULT") == cold.RESULT_WORDS[ExitCode.STOPPED]
    # the group is gone once the server has reaped massgen (it looks every 0.2 s): a zombie until then
    harness.wait_for(lambda: not _group_exists(int(record.pgid or 0)), timeout=5, what="the run's group gone")
    servers = {server.process.pid, warm_server["pid"]}
    left = {p: cold._cmdline(p) for p in mg_netns.pids_inside() if p not in servers}
    assert not left, f"processes of the run survived: {left}"


def test_killing_the_wrapper_ends_a_warm_run(
    skill: cold.Skill, project: harness.Project, llm_server_factory: Callable[..., harness.LLMServer]
) -> None:
    run, server = _slow_run(skill, project, llm_server_factory, "kill-wrapper")
    run.wait_for(lambda: server.requests(), timeout=60, what="the first LLM request")
    record = _launched_warm(project)
    assert record.pid and record.wrapper_pid
    os.kill(record.wrapper_pid, signal.SIGKILL)
    gone = harness.wait_for(lambda: _dead(record.pid or 0), timeout=20, what="the warm massgen's end")
    assert gone


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _dead(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rfind(")") + 2] in "ZX"


def _python(run_in_ns: Callable[..., RunResult], code: str, *args: str) -> RunResult:
    """Our package's code, run inside the namespace (as the skill's scripts run it)."""
    env = {"PYTHONPATH": str(harness.REPO_ROOT)}
    return run_in_ns(["python3", "-c", code, *args], env=env, timeout=120, label="python3 probe")


def test_validate_goes_through_the_warm_server(
    project: harness.Project,
    llm_server_factory: Callable[..., harness.LLMServer],
    warm_server: dict[str, Any],
    run_in_ns: Callable[..., RunResult],
    mg_netns: NetNS,
    warm_env: dict[str, str],
) -> None:
    """`doctor`'s and setup's `massgen --validate` (massgen/inspection.py) use the server too."""
    config = harness.write_three_agent_config(project, llm_server_factory().base_url)
    probe = (
        "import json,sys\nfrom pathlib import Path\n"
        "from massgen_skill.massgen.inspection import validate_config\n"
        "from massgen_skill.massgen.program import find_massgen\n"
        "v = validate_config(find_massgen(), sys.argv[1], Path('.'))\n"
        "print(json.dumps({'valid': v.valid, 'seconds': v.seconds, 'problem': v.problem}))\n"
    )
    res = _python(run_in_ns, probe, str(config))
    data = json.loads(res.stdout)
    record_timing("warm", "warm --validate", data["seconds"])
    assert data["valid"] is True, res.describe()
    status = mg_netns.run([str(SKILL_SH), "warm", "status", "--json"], env=warm_env, timeout=60)
    assert json.loads(status.stdout)["runs"] >= 1, status.describe()


# --- fallbacks: cold, with the reason -----------------------------------------------------------------------
def test_changed_environment_runs_cold_with_the_reason(
    skill: cold.Skill, project: harness.Project, llm_server_factory: Callable[..., harness.LLMServer]
) -> None:
    server = llm_server_factory()
    config = harness.write_three_agent_config(project, server.base_url)
    res = skill.run_in_ns(
        [cold.RUN_SH, "--no-web", "--config", config, cold.QUESTION],
        env={"LITELLM_LOG": "ERROR"},
        timeout=180,
        label="cold fallback run",
    )
    assert res.returncode == 0, res.describe()
    record = cold.only_record(project)
    assert record.launch and record.launch.startswith("cold: "), record.launch
    assert "env:LITELLM_LOG" in record.launch and "ERROR" not in record.launch, record.launch


def test_another_network_namespace_is_refused(warm_env: dict[str, str], warm_server: dict[str, Any]) -> None:
    """This test process is outside the namespace: the server's socket is reachable, its netns is not ours."""
    program = find_massgen(warm_env)
    out = Path(warm_env["HOME"]) / "never.json"
    with pytest.raises(client.WarmUnavailable, match="netns"):
        client.launch(program, [str(program.path), "--help"], Path(warm_env["HOME"]), warm_env, out)
    assert not out.exists()


def test_stopped_server_falls_back_and_leaves_no_process(
    mg_netns: NetNS,
    warm_env: dict[str, str],
    warm_server: dict[str, Any],
    run_in_ns: Callable[..., RunResult],
) -> None:
    _stop_server(mg_netns, warm_env, warm_server["pid"])
    assert warm_server["pid"] not in mg_netns.pids_inside()
    status = mg_netns.run([str(SKILL_SH), "warm", "status", "--json"], env=warm_env, timeout=60)
    assert status.returncode == ExitCode.NOT_FOUND, status.describe()
    assert json.loads(status.stdout)["reason"].startswith("no warm server running")
    probe = (
        "import os,sys\nfrom pathlib import Path\n"
        "from massgen_skill.massgen.program import find_massgen\n"
        "from massgen_skill.warm import client\n"
        "p = find_massgen()\n"
        "try:\n    client.launch(p, [p.path], Path('.'), os.environ, Path('x.json'))\n"
        "except client.WarmUnavailable as e:\n    print(e)\n"
    )
    res = _python(run_in_ns, probe)
    assert res.stdout.startswith("no warm server running"), res.describe()

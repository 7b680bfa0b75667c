"""Fixtures for running the REAL massgen 0.1.97 offline, inside one private loopback-only network namespace.

Every test in this folder is marked ``real_massgen``. Tests are skipped (with the reason) when no network
namespace can be made; massgen is never run unconfined.

Session fixtures: ``mg_netns`` (the namespace), ``massgen_venv`` (cached venv, installed on first use),
``harness_bin`` (dir with our ``mcp-server-filesystem`` stand-in; first on PATH).
Per-test fixtures: ``project``, ``mg_env``, ``run_in_ns``, ``popen_in_ns``, ``run_massgen``,
``llm_server_factory``, ``llm_server``. Every process a test started in the namespace is killed when it ends.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from massgen_skill.massgen.private_env import MassgenEnvUnavailable, MassgenVenv, ensure

from . import harness
from .netns import NetNS, NetNSUnavailable, NsProcess, RunResult, available

HERE = Path(__file__).resolve().parent
REPO_ROOT = harness.REPO_ROOT
if str(REPO_ROOT) not in sys.path:  # tests import facts (flags, markers) from massgen_skill
    sys.path.insert(0, str(REPO_ROOT))

_TIMINGS: list[tuple[str, str, float]] = []


def record_timing(nodeid: str, label: str, seconds: float) -> None:
    _TIMINGS.append((nodeid, label, seconds))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.real_massgen)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not _TIMINGS:
        return
    terminalreporter.section("real massgen timings")
    for nodeid, label, seconds in _TIMINGS:
        terminalreporter.write_line(f"{seconds:7.1f}s  {label:<28} {nodeid}")


# --- session ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def mg_netns() -> Iterator[NetNS]:
    ok, reason = available()
    if not ok:
        pytest.skip(reason)
    try:
        ns = NetNS.create()
    except NetNSUnavailable as exc:
        pytest.skip(f"no private network namespace available: {exc}")
    try:
        yield ns
    finally:
        ns.close()


@pytest.fixture(scope="session")
def massgen_venv(mg_netns: NetNS, request: pytest.FixtureRequest) -> MassgenVenv:
    """The cached massgen venv (after the namespace check, so a skip costs no install)."""
    start = time.monotonic()
    try:
        venv = ensure()
    except MassgenEnvUnavailable as exc:
        if os.environ.get("MASSGEN_SKILL_NO_INSTALL"):
            pytest.skip(str(exc))
        pytest.fail(f"cannot prepare the massgen venv: {exc}", pytrace=False)
    label = "venv install" if venv.installed_now else "venv check (cached)"
    record_timing("session", label, time.monotonic() - start)
    return venv


@pytest.fixture(scope="session")
def harness_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Directory put first on PATH: holds ``mcp-server-filesystem`` (our stdlib stand-in). Its call log is
    ``<harness_bin>/../fs_mcp_calls.jsonl``."""
    root = tmp_path_factory.mktemp("harness")
    bin_dir = root / "bin"
    harness.install_fs_standin(bin_dir, log_path=root / "fs_mcp_calls.jsonl")
    return bin_dir


# --- per test -----------------------------------------------------------------------------------------------
@pytest.fixture
def project(tmp_path: Path) -> harness.Project:
    """A temp git repo (README committed, ``.massgen/`` git-ignored) plus home/configs/artifacts dirs."""
    return harness.make_project(tmp_path)


@pytest.fixture
def mg_env(massgen_venv: MassgenVenv, harness_bin: Path, project: harness.Project) -> dict[str, str]:
    """Env for the namespace: PATH = harness_bin, venv bin, …; HOME = project.home; offline litellm
    cost map; NO_PROXY; OPENAI_API_KEY=anything; proxies and other provider keys removed."""
    return harness.make_env(massgen_venv.bin, harness_bin, project.home)


@pytest.fixture
def _ns_cleanup(mg_netns: NetNS) -> Iterator[None]:
    yield
    mg_netns.kill_all()  # everything the test left running in the namespace (all of it is ours)


@pytest.fixture
def run_in_ns(
    mg_netns: NetNS,
    mg_env: dict[str, str],
    project: harness.Project,
    request: pytest.FixtureRequest,
    _ns_cleanup: None,
) -> Callable[..., RunResult]:
    """``run_in_ns(argv, env=None, cwd=None, timeout=120, label=None) -> RunResult``.

    Runs inside the namespace; ``env`` defaults to ``mg_env`` (a mapping passed is merged over it), ``cwd`` to
    the project. On timeout the process group is killed and ``result.timed_out`` is set."""

    def run(
        argv: Sequence[str | os.PathLike[str]],
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        timeout: float = 120,
        label: str | None = None,
    ) -> RunResult:
        full_env = {**mg_env, **(env or {})}
        result = mg_netns.run([str(a) for a in argv], env=full_env, cwd=cwd or project.path, timeout=timeout)
        record_timing(request.node.nodeid, label or Path(str(argv[0])).name, result.duration)
        return result

    return run


@pytest.fixture
def popen_in_ns(
    mg_netns: NetNS, mg_env: dict[str, str], project: harness.Project, _ns_cleanup: None
) -> Callable[..., NsProcess]:
    """``popen_in_ns(argv, env=None, cwd=None, stdout=PIPE, stderr=PIPE) -> NsProcess`` (own process group,
    SIGINT at default); killed at teardown."""

    def start(
        argv: Sequence[str | os.PathLike[str]],
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        **kwargs: Any,
    ) -> NsProcess:
        return mg_netns.popen(
            [str(a) for a in argv], env={**mg_env, **(env or {})}, cwd=cwd or project.path, **kwargs
        )

    return start


@pytest.fixture
def run_massgen(run_in_ns: Callable[..., RunResult], massgen_venv: MassgenVenv) -> Callable[..., RunResult]:
    """``run_massgen(*args, timeout=120, env=None, cwd=None, label="massgen") -> RunResult``: the real CLI."""

    def run(
        *args: str | os.PathLike[str],
        timeout: float = 120,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        label: str = "massgen",
    ) -> RunResult:
        return run_in_ns([massgen_venv.massgen, *args], env=env, cwd=cwd, timeout=timeout, label=label)

    return run


@pytest.fixture
def llm_server_factory(
    mg_netns: NetNS, project: harness.Project, _ns_cleanup: None
) -> Iterator[Callable[..., harness.LLMServer]]:
    """``llm_server_factory(mode="normal", vote_for=None, final="tool", delay=0.0, write_name=…,
    write_content=…) -> LLMServer`` started inside the namespace; request log in ``project.artifacts``."""
    servers: list[harness.LLMServer] = []

    def start(**kwargs: Any) -> harness.LLMServer:
        server = harness.start_llm_server(mg_netns, project.artifacts, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def llm_server(llm_server_factory: Callable[..., harness.LLMServer]) -> harness.LLMServer:
    """A scripted server in ``normal`` mode (answer, vote for the first agent, present)."""
    return llm_server_factory()

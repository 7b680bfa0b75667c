"""`massgen-skill run --dry-run` via cli.main: the printed command, errors in one line, nothing launched."""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

import pytest
from runtools import free_port

from massgen_skill.cli import main
from massgen_skill.exitcodes import ExitCode
from massgen_skill.prepare import ports

FLAGS = ["--automation", "--no-parse-at-references"]


def web() -> list[str]:
    return ["--web", "--no-browser", "--web-port", str(ports.DEFAULT_WEB_PORT)]


def base() -> list[str]:
    """The program (the fake massgen on PATH) and the flags every command starts with."""
    return [str(Path(os.environ["PATH"]) / "massgen"), *FLAGS]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project as cwd, a `massgen` on PATH that must never run, a user config in a private HOME,
    private port reservations and a default port that is free (8000 itself may be busy on this machine)."""
    folder = tmp_path / "project"
    folder.mkdir()
    (tmp_path / "bin").mkdir()
    config = tmp_path / "home" / ".config" / "massgen" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text("agents: []\n")
    monkeypatch.chdir(folder)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setattr(ports, "DEFAULT_WEB_PORT", free_port())
    for name in ("MASSGEN_BIN", "MASSGEN_SKILL_PYTHON"):
        monkeypatch.delenv(name, raising=False)
    fake_massgen(folder)
    return folder


def fake_massgen(project: Path) -> Path:
    """A `massgen` on PATH that leaves a trace if anything ever runs it."""
    script = project.parent / "bin" / "massgen"
    trace = project.parent / "massgen-was-run"
    script.write_text(f"#!/bin/sh\ntouch '{trace}'\n")
    script.chmod(0o755)
    return trace


def tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    code = main(["run", "--dry-run", "--json", *args])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if "error" in line]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_dry_run_prints_a_command_that_splits_back(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--dry-run", "task"]) == 0
    captured = capsys.readouterr()
    (command,) = captured.out.splitlines()
    assert shlex.split(command) == [*base(), *web(), "--", "task"]
    assert "mode general" in captured.err  # the reasons go to stderr


@pytest.mark.parametrize(
    "task",
    [
        "Review src/ for \"races\" and 'locks'",
        "$(touch pwned) `touch pwned2` ${HOME} *.py",
        "multi\nline\ttask\n",
        "-starts with a dash",
        "emoji 🚀 and ünïcödé",
    ],
)
def test_dry_run_text_and_json_agree(project: Path, capsys: pytest.CaptureFixture[str], task: str) -> None:
    assert main(["run", "--dry-run", "--", task]) == 0
    text_argv = shlex.split(capsys.readouterr().out)
    data = run_json(capsys, "--", task)
    assert text_argv == data["argv"]
    assert data["argv"][-2:] == ["--", task]
    assert shlex.split(data["command"]) == data["argv"]
    assert not list(project.parent.rglob("pwned*"))


def test_dry_run_json_has_reasons(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "Review src/app.py for race conditions")
    assert data["ok"] is True and data["dry_run"] is True
    assert data["mode"] == "evaluate" and data["cwd_context"] == "ro" and data["preset"] == "evaluation"
    assert data["reasons"] == [
        "mode evaluate: the main action is 'review'",
        "cwd context ro: the task refers to the project ('src/app.py') but asks for no change",
        "criteria preset evaluation: evaluate mode without custom criteria",
    ]
    assert data["web"] is True and data["web_port"] == ports.DEFAULT_WEB_PORT and data["review_gate"] is False
    assert data["argv"] == [
        *base(),
        *web(),
        "--cwd-context",
        "ro",
        "--checklist-criteria-preset",
        "evaluation",
        "--",
        "Review src/app.py for race conditions",
    ]


def test_dry_run_json_notes_and_warnings(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "--quick", "--cwd-context", "rw", "Fix the bug in src/app.py")
    assert data["web"] is False and data["review_gate"] is False
    assert len(data["notes"]) == 1 and "--quick" in data["notes"][0]
    assert len(data["warnings"]) == 1 and "no review gate" in data["warnings"][0]
    inbox = data["argv"][data["argv"].index("--inbox-dir") + 1]
    assert inbox.startswith(str(project / ".massgen" / "skill_runs")) and inbox.endswith("/inbox")


def test_dry_run_writes_nothing(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--dry-run", "--cwd-context", "rw", "Fix src/app.py"]) == 0
    assert main(["run", "--dry-run", "--no-web", "Fix src/app.py"]) == 0
    capsys.readouterr()
    assert tree(project) == []


def test_dry_run_in_a_read_only_project(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if os.geteuid() == 0:
        pytest.skip("root can write anywhere")
    project.chmod(0o555)
    try:
        assert main(["run", "--dry-run", "task"]) == 0
    finally:
        project.chmod(0o755)


def test_dry_run_finds_massgen_but_never_runs_it(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trace = fake_massgen(project)
    data = run_json(capsys, "task")
    assert data["argv"][0] == str(project.parent / "bin" / "massgen")
    assert not trace.exists()


def test_run_help_shows_exit_codes_and_runs_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = fake_massgen(project)
    assert main(["run", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: massgen-skill run")
    assert "exit codes:" in out
    for code in ExitCode:
        assert f"  {int(code):>2}  " in out
    assert "RESULT: ok|no-answer" in out
    assert not trace.exists()
    assert tree(project) == []


def test_arguments_after_the_task(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trace = fake_massgen(project)
    assert main(["run", "task", "--quick"]) == int(ExitCode.USAGE)
    captured = capsys.readouterr()
    line = one_error_line(captured.err)
    assert line.startswith("massgen-skill: error: arguments after the task: '--quick'")
    assert captured.out == ""
    assert not trace.exists()


def test_help_after_double_dash_is_the_task(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "--", "--help")
    assert data["argv"][-2:] == ["--", "--help"]
    assert data["argv"][: len(base())] == base()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--mode", "bogus", "task"], "invalid choice: 'bogus'"),
        (["--cwd-context", "write", "task"], "invalid choice: 'write'"),
        (["--plan-steps", "0", "task"], "expected a whole number > 0, got 0"),
        (["--plan-chunks", "x", "task"], "expected a whole number > 0, got 'x'"),
        (["--web", "--no-web", "task"], "not allowed with argument"),
        (["--no-such-flag", "task"], "unrecognized arguments: --no-such-flag"),
    ],
)
def test_argparse_errors_are_one_line(
    project: Path, capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    assert main(["run", "--dry-run", *args]) == int(ExitCode.USAGE)
    captured = capsys.readouterr()
    line = one_error_line(captured.err)
    assert needle in line and line.endswith("(see --help)")
    assert captured.out == ""


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["--web", "--quick", "task"], ExitCode.USAGE, "--web cannot be combined with --quick"),
        (["--web", "--mode", "plan", "task"], ExitCode.USAGE, "--web cannot be combined with --plan"),
        (["--target", "latest", "task"], ExitCode.USAGE, "--target only applies"),
        (["--timeout", "0", "task"], ExitCode.USAGE, "--timeout: expected seconds > 0"),
        (["--preset", "evaluaton", "task"], ExitCode.USAGE, "unknown preset 'evaluaton'"),
        (["--mode", "plan"], ExitCode.USAGE, "a task is required for mode plan"),
        ([], ExitCode.USAGE, "a task is required for mode general"),
        (["--task-file", "missing.txt"], ExitCode.INVALID_INPUT, "--task-file missing.txt"),
        (["--task-file", "t.txt", "task"], ExitCode.USAGE, "not both"),
    ],
)
def test_skill_errors_are_one_line(
    project: Path, capsys: pytest.CaptureFixture[str], args: list[str], code: ExitCode, needle: str
) -> None:
    (project / "t.txt").write_text("x")
    assert main(["run", "--dry-run", *args]) == int(code)
    captured = capsys.readouterr()
    line = one_error_line(captured.err)
    assert line.startswith("massgen-skill: error: ") and needle in line
    assert captured.out == ""


def test_errors_with_json_print_an_error_object(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--dry-run", "--json", "--web", "--quick", "task"]) == int(ExitCode.USAGE)
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and data["exit_code"] == 2 and data["kind"] == "usage"


def test_execute_plan_needs_no_task(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "--mode", "execute-plan")
    inbox = data["argv"][-1]
    assert data["argv"] == [*base(), "--execute-plan", "latest", "--cwd-context", "rw", "--inbox-dir", inbox]
    assert data["needs_confirmation"] is True  # rw chosen by auto, no review gate (issue 12)
    assert data["web"] is False
    data = run_json(capsys, "--mode", "execute-spec", "--target", "plan_1", "--cwd-context", "none")
    assert data["argv"][:-2] == [*base(), "--execute-spec", "plan_1"]


TASK_BYTES = b"first line\n$(touch pwned)\n`touch pwned2`\n'single' \"double\" \\ * ?\n\ttabbed \xc3\xa9\n"


def test_task_file_bytes_reach_argv_exactly(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "task.txt").write_bytes(TASK_BYTES)
    data = run_json(capsys, "--task-file", "task.txt")
    assert data["argv"][-1].encode("utf-8") == TASK_BYTES
    assert data["argv"][-2] == "--"
    assert main(["run", "--dry-run", "--task-file", "task.txt"]) == 0
    assert shlex.split(capsys.readouterr().out)[-1].encode("utf-8") == TASK_BYTES
    assert not list(project.parent.rglob("pwned*"))


def test_task_file_from_stdin(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(TASK_BYTES)))
    data = run_json(capsys, "--task-file", "-")
    assert data["argv"][-1].encode("utf-8") == TASK_BYTES


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "is empty"),
        (b'{"criteria": [{"text": 5}]}', "criteria file"),
        (b"\xff\xfe", "criteria file"),
    ],
    ids=["syntax", "empty", "schema", "binary"],
)
def test_bad_criteria_file_in_dry_run(
    project: Path, capsys: pytest.CaptureFixture[str], content: bytes, needle: str
) -> None:
    (project / "criteria.json").write_bytes(content)
    code = main(["run", "--dry-run", "--mode", "evaluate", "--criteria", "criteria.json", "Review src/"])
    assert code == int(ExitCode.INVALID_INPUT)
    captured = capsys.readouterr()
    line = one_error_line(captured.err)
    assert line.startswith("massgen-skill: error: ") and needle in line
    assert captured.out == ""
    assert tree(project) == ["criteria.json"]


def test_missing_criteria_file_in_dry_run(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--dry-run", "--criteria", "nope.json", "Review src/"]) == int(ExitCode.INVALID_INPUT)
    assert "not found" in one_error_line(capsys.readouterr().err)


def test_good_criteria_file_in_dry_run(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    anti = ["hand-waves without evidence", "misses the obvious case"]
    criteria = {
        "aspiration": "A review a maintainer can act on today.",
        "criteria": [
            {"text": "Finds every data race", "category": "primary", "anti_patterns": anti},
            {"text": "Explains each fix", "category": "standard", "anti_patterns": anti},
            {"text": "Cites line numbers", "category": "standard", "anti_patterns": anti},
            {"text": "Suggests tests", "category": "stretch", "anti_patterns": anti},
        ],
    }
    (project / "criteria.json").write_text(json.dumps(criteria))
    data = run_json(capsys, "--mode", "evaluate", "--criteria", "criteria.json", "Review src/")
    assert data["preset"] is None
    assert "--checklist-criteria-preset" not in data["argv"]
    translated = Path(data["argv"][data["argv"].index("--eval-criteria") + 1])
    assert translated.name == "eval_criteria.json"
    assert translated.is_relative_to(project / ".massgen" / "skill_runs")
    assert not translated.exists()  # a dry run writes nothing
    assert tree(project) == ["criteria.json"]

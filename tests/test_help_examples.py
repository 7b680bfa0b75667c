"""Every example line of every `--help` runs: none fails with a usage error, an internal error or a traceback.

Each example runs as a user would type it, in a scratch git project with the fake massgen first on PATH and
HOME in a temp folder. Commands with effects beyond that scratch world get `--dry-run` (run, setup)."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from fake_massgen.harness import FakeMassgen

from massgen_skill.cli import COMMANDS, _top_parser, build_parser
from massgen_skill.exitcodes import ExitCode

DRY_RUN_FIRST = ("run", "setup")  # they would start massgen / its quickstart for real
TIMEOUT = 60


def example_lines(epilog: str) -> list[str]:
    """The lines under `examples:` that start with the program name, as typed (comments and notes cut)."""
    lines, inside = [], False
    for line in epilog.splitlines():
        if line.startswith("examples:"):
            inside = True
            continue
        if inside and line and not line.startswith(" "):
            inside = False
        if inside and line.strip().startswith("massgen-skill "):
            lines.append(line.strip())
    return lines


def all_examples() -> list[tuple[str, str]]:
    found = [("(top)", line) for line in example_lines(_top_parser().epilog or "")]
    for name in COMMANDS:
        parser, _ = build_parser(name)
        found += [(name, line) for line in example_lines(parser.epilog or "")]
    return found


def to_argv(line: str) -> list[str]:
    """The argv a shell would pass: drop `# comments`, a trailing `(note)` and a `> file` redirection."""
    words = shlex.split(line, comments=True)
    if ">" in words:
        words = words[: words.index(">")]
    while words and words[-1].endswith(")") and any(w.startswith("(") for w in words):
        start = max(i for i, w in enumerate(words) if w.startswith("("))
        words = words[:start]
    args = words[1:]
    if args and args[0] in DRY_RUN_FIRST and "--dry-run" not in args:
        args.insert(1, "--dry-run")
        if args[0] == "setup" and "--headless" not in args and "--browser" not in args:
            args.insert(1, "--headless")
    return args


EXAMPLES = all_examples()


def test_every_command_has_examples():
    commands = {name for name, _ in EXAMPLES}
    assert commands == {"(top)", *COMMANDS}
    assert len(EXAMPLES) >= 2 * len(COMMANDS)


def test_to_argv_cuts_what_a_shell_would_not_pass():
    redirected = "massgen-skill criteria translate c.json > out.json"
    assert to_argv(redirected) == ["criteria", "translate", "c.json"]
    assert to_argv("massgen-skill analyze   # the latest run") == ["analyze"]
    assert to_argv("massgen-skill review approve R --files a.py      (RUN before --files)") == [
        "review",
        "approve",
        "R",
        "--files",
        "a.py",
    ]
    assert to_argv('massgen-skill run "a task"') == ["run", "--dry-run", "a task"]


@pytest.mark.parametrize(("command", "line"), EXAMPLES, ids=[f"{c}: {line}" for c, line in EXAMPLES])
def test_help_example_runs_without_a_usage_error(
    command: str, line: str, fake_massgen: FakeMassgen, project_dir: Path
):
    (project_dir / "criteria.json").write_text(
        '{"criteria": [{"text": "Correct under concurrency.", "category": "primary",'
        ' "anti_patterns": ["a lock held across await"]}]}',
        encoding="utf-8",
    )
    argv = [sys.executable, "-m", "massgen_skill", *to_argv(line)]
    done = subprocess.run(
        argv,
        cwd=project_dir,
        env=fake_massgen.env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode != ExitCode.USAGE, f"{line}\n{done.stderr}"
    assert done.returncode != ExitCode.INTERNAL, f"{line}\n{done.stderr}"
    assert "Traceback" not in done.stderr and "(see --help)" not in done.stderr, done.stderr

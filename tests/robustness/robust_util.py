"""Shared pieces of the robustness suite: in-process CLI calls, the "clean failure" check, a scratch project.

Every generated bad input must end as a documented exit code (ExitCode) with nothing but one-line messages on
stderr — never a traceback and never INTERNAL (which `cli.main` uses for an exception it did not expect).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from massgen_skill import cli
from massgen_skill.exitcodes import ExitCode
from massgen_skill.run import records


def fuzz(examples: int) -> settings:
    """Hypothesis settings for this suite: an explicit example count, no deadline (2 slow cores).

    MASSGEN_SKILL_FUZZ_SCALE=10 multiplies every count, for a longer hunt on a developer machine."""
    scale = float(os.environ.get("MASSGEN_SKILL_FUZZ_SCALE") or 1)
    return settings(
        max_examples=max(1, int(examples * scale)),
        deadline=None,
        database=None,  # nothing written into the scratch projects or the checkout
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,  # fixtures here are set up once and reused by every example
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


DOCUMENTED = frozenset(int(code) for code in ExitCode)
# Codes that only come from a SkillError or a usage error, so they always come with their one error line.
_ONE_ERROR_LINE = frozenset(
    {
        ExitCode.USAGE,
        ExitCode.ENV_NOT_READY,
        ExitCode.NOT_FOUND,
        ExitCode.SERVER_UNREACHABLE,
        ExitCode.SERVER_ERROR,
        ExitCode.NO_REVIEW,
        ExitCode.REFUSED,
    }
)
# A line on stderr is one of: `massgen-skill[ sub…]: …` (errors, notes, warnings), or a criteria issue line.
_STDERR_LINE = re.compile(r"^(massgen-skill(?: [\w-]+)*: |error: |warning: )")


@dataclass
class Called:
    code: int
    out: str
    err: str

    def lines(self) -> list[str]:
        return self.err.splitlines()


def invoke(argv: Sequence[str], stdin: bytes = b"") -> Called:
    """`massgen-skill ARGV` in this process, stdout/stderr captured; SystemExit becomes its code."""
    # Streams configured like a real process's (UTF-8; stdout strict, stderr backslashreplace), so text that
    # cannot be encoded fails here as it would in a terminal or a pipe.
    out_bytes, err_bytes = io.BytesIO(), io.BytesIO()
    out = io.TextIOWrapper(out_bytes, encoding="utf-8", errors="strict", write_through=True)
    err = io.TextIOWrapper(err_bytes, encoding="utf-8", errors="backslashreplace", write_through=True)
    fake_stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    saved_stdin, sys.stdin = sys.stdin, fake_stdin
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(list(argv))
            except SystemExit as exit_:  # the top-level parser exits for an unknown command or --version
                code = exit_.code if isinstance(exit_.code, int) else int(ExitCode.USAGE)
    finally:
        sys.stdin = saved_stdin
    out.flush()
    err.flush()
    text = (out_bytes.getvalue().decode("utf-8", "replace"), err_bytes.getvalue().decode("utf-8", "replace"))
    return Called(int(code), *text)


def assert_clean(called: Called, allowed: Iterable[int] | None = None, what: object = "") -> None:
    """A documented code (from `allowed` when given), never INTERNAL, no traceback, one line per message."""
    allowed_set = set(DOCUMENTED if allowed is None else (int(c) for c in allowed))
    context = f"{what!r}: code {called.code}\nstdout: {called.out[-2000:]}\nstderr: {called.err[-2000:]}"
    assert called.code in DOCUMENTED, context
    assert called.code != ExitCode.INTERNAL, context
    assert called.code in allowed_set, context
    assert "Traceback" not in called.err and "Traceback" not in called.out, context
    for line in called.lines():
        assert _STDERR_LINE.match(line), f"stderr line is not a one-line message: {line!r}\n{context}"
    errors = [line for line in called.lines() if ": error: " in line]
    assert len(errors) <= 1, context
    if called.code in _ONE_ERROR_LINE:
        assert len(errors) == 1, context  # a refused command says why, in one line


@dataclass
class Project:
    """A scratch project as the current directory, with PATH holding no massgen (nothing can be launched)."""

    root: Path
    home: Path

    def write(self, name: str, data: bytes | str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)
        return path


def make_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    root = tmp_path / "proj"
    home = tmp_path / "home"
    empty_bin = tmp_path / "empty_bin"
    for folder in (root / ".massgen", home, empty_bin):
        folder.mkdir(parents=True)
    (root / ".massgen" / "config.yaml").write_text("agents: []\n", encoding="utf-8")
    monkeypatch.chdir(root)
    monkeypatch.setenv("PATH", str(empty_bin))
    monkeypatch.setenv("HOME", str(home))
    for name in ("MASSGEN_BIN", "MASSGEN_SKILL_PYTHON", "CLAUDECODE"):
        monkeypatch.delenv(name, raising=False)
    return Project(root, home)


class Hung(BaseException):
    """The watchdog fired: a command did not return in time (a BaseException, so `cli.main` cannot eat it)."""


@contextlib.contextmanager
def watchdog(seconds: float) -> Iterator[None]:
    """Fail (raise Hung) when the block runs longer than `seconds`: every in-process call is bounded."""

    def expired(_signum: int, _frame: object) -> None:
        raise Hung(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def invoke_bounded(argv: Sequence[str], seconds: float = 20.0, stdin: bytes = b"") -> Called:
    with watchdog(seconds):
        return invoke(argv, stdin)


# --- records and log dirs ----------------------------------------------------------------------------------


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", ""])
    proc.wait(timeout=10)
    return proc.pid


def make_log_dir(project: Path, name: str = "log_20261125_101500_000001", answer: str | None = None) -> Path:
    """Make <project>/.massgen/massgen_logs/<name>/turn_1/attempt_1 (+ final/agent_a/answer.txt).

    Returns the session root."""
    root = project / ".massgen" / "massgen_logs" / name
    attempt = root / "turn_1" / "attempt_1"
    attempt.mkdir(parents=True, exist_ok=True)
    if answer is not None:
        final = attempt / "final" / "agent_a"
        (final / "workspace").mkdir(parents=True, exist_ok=True)
        (final / "answer.txt").write_text(answer, encoding="utf-8")
    return root


def make_record(project: Path, run_id: str, **fields: object) -> records.RunRecord:
    """A run record that cannot point at a live process: no pgid, and a wrapper pid that has exited."""
    record = records.RunRecord(run_id=run_id, project_dir=str(project), created_at=time.time())
    record.wrapper_pid = dead_pid()
    record.wrapper_start = 1
    for key, value in fields.items():
        setattr(record, key, value)
    records.save(record)
    return record

"""The tests' one helpers module: the repository's places, the recorded massgen runs, the skill's entry
points, ports, bounded waits, process groups, relayed lines and the tools the test command installed."""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from massgen_skill.prepare.argv import JobFlags, RunOptions

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
RUN_SH = SCRIPTS / "massgen_run.sh"
SKILL_SH = SCRIPTS / "massgen_skill.sh"
BUNDLE_PARTS = ("SKILL.md", "scripts", "references", "massgen_skill")

# massgen 0.1.97's real outputs, copied into the repository (see tests/fixtures/massgen_0.1.97/README.md).
FIXTURES = ROOT / "tests" / "fixtures" / "massgen_0.1.97"
SAMPLES = FIXTURES / "runs"
SAMPLES_README = SAMPLES / "README.md"
CONTRACT = FIXTURES / "contract_extract.md"

RECORDED_RUNS = ("multi", "web-review", "cwd-rw-headless", "all-agents-fail")  # the folders under SAMPLES


def sample_log_root(sample: str, logs: Path | None = None) -> Path:
    """The session root (log_<ts>) of one recorded run, under `logs` (default: the read-only sample)."""
    folder = logs if logs is not None else SAMPLES / sample / "project" / ".massgen" / "massgen_logs"
    (root,) = sorted(folder.glob("log_*"))
    return root


def copy_sample_logs(sample: str, dest: Path) -> Path:
    """Copy one recorded run's log tree into dest/sample (writable); returns its session root."""
    target = dest / sample
    shutil.copytree(SAMPLES / sample / "project" / ".massgen" / "massgen_logs", target)
    for folder, dirs, _files in os.walk(target):  # the samples are read-only; the copies must not be
        os.chmod(folder, 0o755)
        for name in dirs:
            os.chmod(Path(folder) / name, 0o755)
    return sample_log_root(sample, target)


# `bash tests/run.sh` installs shellcheck, agentskills and ruff next to the interpreter running pytest.
VENV_BIN = Path(sys.executable).parent


def skill_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """`base` (default os.environ) with the skill's scripts told to run this interpreter on this checkout."""
    env = dict(os.environ if base is None else base)
    env["MASSGEN_SKILL_PYTHON"] = sys.executable
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _script(
    script: Path, args: list[str], env: dict[str, str], cwd: Path, timeout: float, check: bool
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(script), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=check
    )


def run_skill(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`scripts/massgen_run.sh ARGS` with exactly `env` (wrap it in skill_env() to pin the interpreter)."""
    return _script(RUN_SH, args, env, cwd, timeout, False)


def skill(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = 30, check: bool = False
) -> subprocess.CompletedProcess[str]:
    """`scripts/massgen_skill.sh ARGS` (status, wait, result, runs, stop, review, …) with exactly `env`."""
    return _script(SKILL_SH, args, env, cwd, timeout, check)


def free_port() -> int:
    """An ephemeral port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(
    check: Callable[[], Any], timeout: float = 20.0, what: str = "condition", interval: float = 0.05
) -> Any:
    """Poll `check` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def group_alive(pgid: int) -> bool:
    """Whether any process of the group still lives. Zombies do not count: an orphan's zombie waits for an
    init that may reap late (or never, in a container)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for entry in proc.iterdir():
        try:
            stat = (entry / "stat").read_text()
        except (OSError, ValueError):
            continue
        state, _ppid, group = stat[stat.rfind(")") + 2 :].split()[:3]
        if int(group) == pgid and state not in ("Z", "X"):
            return True
    return False


def relayed(stdout: str) -> dict[str, list[str]]:
    """`KEY: value` lines of the run command's output, grouped by key in order."""
    lines: dict[str, list[str]] = {}
    for line in stdout.splitlines():
        key, _, value = line.partition(": ")
        lines.setdefault(key, []).append(value)
    return lines


def copy_bundle(dest: Path) -> Path:
    """The skill as installed: a folder named `massgen` (its `name`) holding only the bundle's parts."""
    skill = dest / "massgen"
    skill.mkdir(parents=True)
    for part in BUNDLE_PARTS:
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(
                src, skill / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "_bundle")
            )
        else:
            shutil.copy2(src, skill / part)
    return skill


def run_options(**values: Any) -> RunOptions:
    """RunOptions from flat keywords: the job flags' names (`quick`, `timeout`, …) go into its JobFlags."""
    names = {f.name for f in dataclasses.fields(JobFlags)}
    job = JobFlags(**{k: v for k, v in values.items() if k in names})
    return RunOptions(job=job, **{k: v for k, v in values.items() if k not in names})

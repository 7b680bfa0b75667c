"""Driving `massgen-skill run` against the hostile fake massgen (tests/fake_massgen/hostile.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HOSTILE_BIN = Path(__file__).resolve().parents[1] / "fake_massgen" / "bin" / "hostile_massgen"
ANSWER = "{log}/turn_1/final/agent_a/answer.txt"
# Every line `run` may print on stdout starts with one of these keys (run.py's epilog, relay.py).
RELAYED_KEYS = frozenset(
    {
        "RUN_ID",
        "LOG_DIR",
        "STATUS",
        "WEB_UI",
        "ANSWER",
        "OUTPUT_FILE",
        "WORKSPACE",
        "CHANGED",
        "RESTART",
        "PLAN_DIR",
        "PLAN_ID",
        "SPEC_DIR",
        "SPEC_ID",
        "WRITE_ERROR",
        "REASON",
        "RESULT",
    }
)


def hostile_env(home: Path, script: list[dict[str, Any]] | None = None, **extra: str) -> dict[str, str]:
    """Our environment minus anything that would change the run (API keys, massgen's log base), with
    MASSGEN_BIN = the hostile fake and its script."""
    dropped = ("MASSGEN_LOG_BASE_DIR", "CLAUDECODE", "MASSGEN_SKILL_PYTHON")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith("_API_KEY") and not k.startswith("HOSTILE_MASSGEN_") and k not in dropped
    }
    env["MASSGEN_BIN"] = str(HOSTILE_BIN)
    env["HOME"] = str(home)
    if script is not None:
        env["HOSTILE_MASSGEN_SCRIPT"] = json.dumps(script)
    env.update(extra)
    return env


def skill_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "massgen_skill", *args]


def run_hostile(
    project: Path, env: dict[str, str], *options: str, task: str = "task", timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        skill_cmd("run", "--no-web", "--stop-grace", "1", *options, "--", task),
        env=env,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def strict_lines(stdout: str) -> list[tuple[str, str]]:
    """stdout split the strictest way (str.splitlines), each line as (key, value); fails on a line that is
    not a relayed key, or when RESULT is not the one last line."""
    lines = stdout.splitlines()
    pairs = []
    for line in lines:
        key, _, value = line.partition(": ")  # an empty value is printed as the bare key
        assert key in RELAYED_KEYS, f"not a relayed line: {line!r}\n{stdout!r}"
        pairs.append((key, value))
    assert [k for k, _ in pairs].count("RESULT") == 1 and pairs[-1][0] == "RESULT", stdout
    return pairs


def values(pairs: list[tuple[str, str]], key: str) -> list[str]:
    return [v for k, v in pairs if k == key]


def record_of(project: Path) -> dict[str, Any]:
    paths = sorted((project / ".massgen" / "skill_runs").glob("*.json"))
    assert len(paths) == 1, paths
    return dict(json.loads(paths[0].read_text(encoding="utf-8")))

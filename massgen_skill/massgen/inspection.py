"""Short, bounded massgen invocations that inspect rather than run: `--validate`, `--list-backends`, the
headless quickstart, and a version probe through massgen's own interpreter.

Each runs through the process layer (`run.procs.run_bounded`): its own process group, no stdin, a time
limit (massgen takes ~15 s just to start), the whole group stopped on timeout. Nothing here is a run: no
record, no relay.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from massgen_skill.massgen import flags
from massgen_skill.massgen.program import MassgenProgram
from massgen_skill.output import one_line
from massgen_skill.run import procs
from massgen_skill.run.launcher import child_env
from massgen_skill.run.procs import Completed
from massgen_skill.warm.bounded import run_bounded_warm

VALIDATE_TIMEOUT = 90.0  # seconds: ~15 s of imports, then a fast check
PROBE_TIMEOUT = 30.0


def run_bounded(
    argv: Sequence[str],
    cwd: Path,
    timeout: float,
    env: Mapping[str, str] | None = None,
    program: MassgenProgram | None = None,
) -> Completed:
    """Run massgen (or its interpreter) with the environment a run would give it, bounded by `timeout`.
    With `program`: through the warm server when one fits (massgen's import is then paid already)."""
    child = child_env(os.environ if env is None else env)
    warm = run_bounded_warm(program, argv, cwd, timeout, child) if program is not None else None
    return warm or procs.run_bounded(argv, cwd, timeout, child)


# --- massgen --validate FILE --json ----------------------------------------------------------------------


@dataclass(frozen=True)
class Validation:
    valid: bool | None  # None: massgen could not say (crashed, timed out, printed no JSON)
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    problem: str | None = None
    seconds: float = 0.0
    timed_out: bool = False

    def summary(self, limit: int = 3) -> str:
        """One line: 'valid (1 warning)' or the first errors with their locations."""
        if self.valid is None:
            return self.problem or "massgen could not validate the config"
        notes = f"{len(self.warnings)} warning{'s' if len(self.warnings) != 1 else ''}"
        if self.valid:
            return f"valid ({notes})"
        shown = "; ".join(_issue(e) for e in self.errors[:limit])
        more = f" (+{len(self.errors) - limit} more)" if len(self.errors) > limit else ""
        return f"invalid: {shown}{more}"


def _issue(item: dict[str, Any]) -> str:
    text = str(item.get("message", "")).strip() or "error"
    where = item.get("location")
    return f"{where}: {text}" if where else text


def parse_validation(stdout: str) -> dict[str, Any] | None:
    """The JSON object `--validate --json` prints (contract §8), tolerating noise before it."""
    text = stdout.strip()
    candidates = [text] + [
        text[i:] for i in range(len(text)) if text[i] == "{" and (i == 0 or text[i - 1] == "\n")
    ]
    for candidate in candidates:
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get("valid"), bool):
            return data
    return None


def validate_config(
    program: MassgenProgram,
    config_path: str,
    cwd: Path,
    timeout: float = VALIDATE_TIMEOUT,
    env: Mapping[str, str] | None = None,
) -> Validation:
    argv = [*program.argv, flags.VALIDATE, config_path, flags.JSON]
    started = time.monotonic()
    done = run_bounded(argv, cwd, timeout, env, program)
    seconds = time.monotonic() - started
    if done.start_error:
        return Validation(None, problem=f"could not start massgen: {done.start_error}", seconds=seconds)
    if done.timed_out:
        return Validation(
            None,
            problem=f"`massgen --validate` gave no answer within {timeout:g} s",
            seconds=seconds,
            timed_out=True,
        )
    data = parse_validation(done.stdout)
    if data is None:
        return Validation(
            None,
            problem=f"`massgen --validate` printed no result (exit {done.returncode}): "
            + one_line(done.tail()),
            seconds=seconds,
        )
    errors = [e for e in data.get("errors") or [] if isinstance(e, dict)]
    warnings = [w for w in data.get("warnings") or [] if isinstance(w, dict)]
    return Validation(bool(data["valid"]), errors, warnings, seconds=seconds)


# --- versions from massgen's own interpreter ------------------------------------------------------------

_PROBE = (
    "import importlib.metadata as m, json\n"
    "out = {}\n"
    "for name in ('massgen', 'mcp'):\n"
    "    try:\n"
    "        out[name] = m.version(name)\n"
    "    except Exception:\n"
    "        out[name] = None\n"
    "print(json.dumps(out))\n"
)


def probe_versions(
    program: MassgenProgram, cwd: Path, timeout: float = PROBE_TIMEOUT
) -> dict[str, str | None]:
    """massgen's and mcp's versions as massgen's interpreter sees them (never `massgen --version`: it has
    none). Empty when there is no interpreter to ask (uvx, a non-Python MASSGEN_BIN)."""
    if program.interpreter:
        argv = [program.interpreter, "-c", _PROBE]
    elif program.how == "uv":
        argv = [program.argv[0], "run", "--no-sync", "python", "-c", _PROBE]
    else:
        return {}
    done = run_bounded(argv, cwd, timeout)
    if done.returncode != 0:
        return {}
    try:
        data = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}

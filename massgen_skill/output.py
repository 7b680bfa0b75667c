"""How results reach the user: JSON on stdout for agents, text on stdout for people, diagnostics on stderr."""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Any

from massgen_skill.exitcodes import ExitCode, SkillError

PROG = "massgen-skill"


def tolerant_streams() -> None:
    """Never fail on text the terminal cannot encode (a lone surrogate from a file or a non-UTF-8 argv):
    write it as a backslash escape instead, which inside a JSON string is still valid JSON."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):  # a stream that cannot be reconfigured
                reconfigure(errors="backslashreplace")


def one_line(text: str, limit: int = 500) -> str:
    """Collapse any text to a single bounded line (for errors and previews)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def info(message: str) -> None:
    """A diagnostic for people: stderr, so stdout stays machine-readable."""
    sys.stderr.write(f"{PROG}: {message}\n")
    sys.stderr.flush()


def warn(message: str) -> None:
    sys.stderr.write(f"{PROG}: warning: {one_line(message, 1000)}\n")
    sys.stderr.flush()


def report_error(error: SkillError, as_json: bool = False) -> int:
    """Print one line for the error (and a JSON object when asked) and return its exit code."""
    message = one_line(error.message, 1000)
    sys.stderr.write(f"{PROG}: error: {message}\n")
    sys.stderr.flush()
    if as_json:
        print_json(
            {"ok": False, "error": message, "exit_code": int(error.code), "kind": error.code.name.lower()}
        )
    return int(error.code)


def fail(message: str, code: ExitCode = ExitCode.USAGE) -> SkillError:
    """Shorthand: `raise fail("…", ExitCode.X)`."""
    return SkillError(message, code)

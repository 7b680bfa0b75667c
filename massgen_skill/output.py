"""How results reach the user: JSON on stdout for agents, text on stdout for people, diagnostics on stderr."""

from __future__ import annotations

import contextlib
import json
import re
import sys
import unicodedata
from typing import Any

from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen.markers import strip_ansi

PROG = "massgen-skill"


def tolerant_streams() -> None:
    """Never fail on text the terminal cannot encode (a lone surrogate from a file or a non-UTF-8 argv):
    write it as a backslash escape instead, which inside a JSON string is still valid JSON."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):  # a stream that cannot be reconfigured
                reconfigure(errors="backslashreplace")


# Characters a reader may take for a line break or that rewrite a terminal line: controls (C0, C1, so also
# CR, VT, FF, FS/GS/RS, NEL, NUL, ESC), U+2028/2029, lone surrogates, and bidi overrides (they reorder text).
_UNSAFE_CATEGORIES = frozenset({"Cc", "Zl", "Zp", "Cs"})
_TAB = "\t"  # a control character, but no line boundary: kept
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_PLAIN_SPACE = re.compile(r"[ \t\n]+")


def _visible(char: str) -> str:
    if char != _TAB and (unicodedata.category(char) in _UNSAFE_CATEGORIES or char in _BIDI):
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return char


def one_line(text: object, limit: int = 500, collapse: bool = True) -> str:
    """Any text as one bounded line under every line splitter (`str.splitlines()` included): ANSI escapes
    dropped, every other control or line-boundary character shown as a visible escape (`\\r`, `\\u2028`).

    collapse=True (messages): runs of spaces, tabs and newlines become one space. collapse=False (paths and
    other values): ordinary spaces are kept as they are, so a path with two spaces is printed unchanged."""
    flat = strip_ansi(str(text))
    if collapse:
        flat = _PLAIN_SPACE.sub(" ", flat).strip()
    flat = "".join(_visible(c) for c in flat) if not flat.isprintable() else flat
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def content_lines(text: str, prefix: str = "  ") -> list[str]:
    """Multi-line content (an answer body) for a text block: split at `\\n` only, each line prefixed so none
    starts at column 0 (no content line can pass for a `RESULT:` line), other line boundaries escaped."""
    return [prefix + one_line(line, len(line) * 6 + 1, collapse=False) for line in text.split("\n")]


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def info(message: str) -> None:
    """A diagnostic for people: stderr, so stdout stays machine-readable."""
    sys.stderr.write(f"{PROG}: {one_line(message, 2000)}\n")
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

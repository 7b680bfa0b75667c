"""The errors massgen logged: loguru lines `HH:MM:SS | ERROR | message` in massgen.log (or the debug log)."""

from __future__ import annotations

import re

from massgen_skill.output import one_line

LOGGED_ERRORS_MAX = 20

_LOG_ERROR_RE = re.compile(r"\|\s*(ERROR|CRITICAL)\s*\|\s*(.*)$")
_ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def logged_errors(lines: list[str] | None) -> list[str]:
    """`22:51:59 ERROR: message` for the first distinct error lines (at most LOGGED_ERRORS_MAX)."""
    errors: list[str] = []
    seen: set[str] = set()
    for line in lines or []:
        match = _LOG_ERROR_RE.search(_ANSI_RE.sub("", line))
        if not match:
            continue
        text = re.sub(r"^\[(ERROR|CRITICAL)\]\s*", "", one_line(match.group(2), 300))
        if text in seen:
            continue
        seen.add(text)
        if len(errors) < LOGGED_ERRORS_MAX:
            stamp = line[:8] if re.match(r"\d\d:\d\d:\d\d", line) else ""
            errors.append(f"{stamp} {match.group(1)}: {text}".strip())
    return errors

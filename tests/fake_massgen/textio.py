"""Small writers shared by the fake: atomic JSON files, a minimal YAML emitter, timestamps, coloured noise."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

# The bytes litellm prints on stdout for an unknown model (samples): "\n<line>\n" plus print's "\n".
PROVIDER_NOISE = "\n\x1b[1;31mProvider List: https://docs.litellm.ai/docs/providers\x1b[0m\n"

# The ~5 lines of third-party deprecation warnings every real run writes to stderr first (samples).
DEPRECATION_LINES = (
    "{site}/fastmcp/server/auth/providers/jwt.py:10: AuthlibDeprecationWarning: authlib.jose module is"
    " deprecated, please use joserfc instead.",
    "It will be compatible before version 2.0.0.",
    "  from authlib.jose import JsonWebKey, JsonWebToken",
    "{site}/litellm/litellm_core_utils/get_model_cost_map.py:24: DeprecationWarning: open_text is deprecated."
    " Use files() instead. Refer to https://importlib-resources.readthedocs.io/en/latest/using.html"
    "#migrating-from-legacy for migration advice.",
    "  with importlib.resources.open_text(",
)


def site_dir() -> str:
    return f"{sys.prefix}/lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages"


def now_stamp() -> str:
    """YYYYMMDD_HHMMSS_ffffff, the stamp of log dirs and per-answer dirs."""
    return datetime.now().strftime("%Y%m%d_%H%M%S_%f")


def iso_now() -> str:
    return datetime.now().isoformat()


def hms() -> str:
    return time.strftime("%H:%M:%S")


def loguru_line(level: str, message: str) -> str:
    """A loguru-style stderr line with ANSI colours, as massgen prints WARNING+ even when not a TTY."""
    colour = "\x1b[31m\x1b[1m" if level == "ERROR" else "\x1b[33m\x1b[1m"
    return f"\x1b[32m{hms()}\x1b[0m | {colour}{level:<8}\x1b[0m | {colour}{message}\x1b[0m"


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2))


def write_json_atomic(path: Path, data: Any, tmp_name: str | None = None) -> None:
    """Write `<name>.tmp` in the same dir, then os.replace: readers only ever see whole files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(tmp_name or path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(data, indent=2))
    os.replace(tmp, path)


def append_jsonl(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(data, ensure_ascii=False) + "\n")


_PLAIN = re.compile(r"^[A-Za-z_./][A-Za-z0-9_./@+-]*$")
_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _RESERVED:
        return text
    return json.dumps(text, ensure_ascii=False)


def to_yaml(data: Any, indent: int = 0) -> str:
    """A minimal block-style YAML emitter for dicts, lists and scalars (enough for execution metadata)."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, (dict, list)) and value:
                lines.append(f"{pad}{key}:")
                lines.append(to_yaml(value, indent + 2 if isinstance(value, dict) else indent))
            elif isinstance(value, RawYaml):
                lines.append(f"{pad}{key}:")
                lines.append(value.indented(indent + 2))
            else:
                empty = "{}" if isinstance(value, dict) else "[]" if isinstance(value, list) else None
                lines.append(f"{pad}{key}: {empty or _yaml_scalar(value)}")
    elif isinstance(data, list):
        for item in data:
            if isinstance(item, dict) and item:
                inner = to_yaml(item, indent + 2).splitlines()
                lines.append(f"{pad}- {inner[0].lstrip()}")
                lines.extend(inner[1:])
            else:
                lines.append(f"{pad}- {_yaml_scalar(item)}")
    else:
        lines.append(f"{pad}{_yaml_scalar(data)}")
    return "\n".join(lines)


class RawYaml:
    """A block of YAML text (a config file) embedded verbatim under a key, `${VAR}` left unexpanded."""

    def __init__(self, text: str) -> None:
        self.text = text

    def indented(self, indent: int) -> str:
        pad = " " * indent
        body = [
            line
            for line in self.text.splitlines()
            if line.strip() and not line.lstrip().startswith("#") and line.strip() not in ("---", "...")
        ]
        return "\n".join(pad + line for line in body) if body else pad + "{}"

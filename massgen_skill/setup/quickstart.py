"""Read what massgen's setup commands print (contract §8), without running anything.

- `massgen --list-backends`: a fixed-width table (a long cell runs straight into the next column, with no
  space) and a `MODELS PER BACKEND` list. Parsed into `BackendInfo` rows, robust to the glued cells.
- `massgen --quickstart --headless`: a summary block that ends in its own `STATUS: SUCCESS|NEEDS_CONFIG`.
  That `STATUS:` is the quickstart's verdict, NOT the run's status-file marker: it is only ever read from
  inside the block that starts at `MASSGEN HEADLESS QUICKSTART`, and never relayed under that name.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from massgen_skill.massgen.config import API_KEY_NAMES
from massgen_skill.massgen.markers import strip_ansi

LIST_TITLE = "MASSGEN SUPPORTED BACKENDS"
MODELS_TITLE = "MODELS PER BACKEND"
HEADER_START = "Backend Type"
QUICKSTART_TITLE = "MASSGEN HEADLESS QUICKSTART"
QUICKSTART_SUCCESS = "SUCCESS"
QUICKSTART_NEEDS_CONFIG = "NEEDS_CONFIG"

_BACKEND = re.compile(r"^[a-z][a-z0-9_]*$")
_KEY = re.compile(r"[A-Z][A-Z0-9_]*_(?:API_KEY|TOKEN)(?![A-Za-z0-9_])")
_MODELS_LINE = re.compile(r"^\s+([a-z][a-z0-9_]*):\s*(.*)$")
_MORE = re.compile(r"\s*\(\+\d+ more\)\s*$")


@dataclass(frozen=True)
class BackendInfo:
    type: str
    default_model: str | None
    key: str | None  # the API-key variable it reads; None: local server, login or subscription
    login_ok: bool  # the Auth cell also allows a CLI login
    models: tuple[str, ...] = ()


def _known_keys() -> set[str]:

    return set(API_KEY_NAMES)


def _find_key(row: str, start: int, known: Collection[str]) -> tuple[str, int] | None:
    """(key name, where its cell starts). A key glued to a long model cell ('…FP8TOGETHER_API_KEY') is
    cut back to the longest known name it ends with."""
    for match in _KEY.finditer(row, start):
        name, begin = match.group(), match.start()
        glued = begin > 0 and not row[begin - 1].isspace()
        if glued or name not in known:
            suffix = next((name[i:] for i in range(len(name)) if name[i:] in known), None)
            if suffix:
                begin += len(name) - len(suffix)
                name = suffix
        return name, begin
    return None


def _model_from(token: str, models: Iterable[str]) -> str:
    """A model cell may have a long provider cell glued in front of it ('(Generic)custom')."""
    if token in models:
        return token
    ends = [m for m in models if token.endswith(m)]
    return max(ends, key=len) if ends else token


def parse_list_backends(text: str) -> list[BackendInfo]:
    """Rows of `massgen --list-backends`, in printed order (empty when the text is not that output)."""
    lines = [strip_ansi(line).rstrip() for line in text.splitlines()]
    header_at = next((i for i, line in enumerate(lines) if line.startswith(HEADER_START)), None)
    if header_at is None:
        return []
    header = lines[header_at]
    model_col = header.find("Default Model")
    auth_col = header.find("Auth")
    models_at = next((i for i, line in enumerate(lines) if line.strip() == MODELS_TITLE), len(lines))
    models: dict[str, tuple[str, ...]] = {}
    for line in lines[models_at + 1 :]:
        match = _MODELS_LINE.match(line)
        if match:
            listed = _MORE.sub("", match.group(2))
            models[match.group(1)] = tuple(m.strip() for m in listed.split(",") if m.strip())
    known = _known_keys()
    rows: list[BackendInfo] = []
    for row in lines[header_at + 1 : models_at]:
        first = row.split(maxsplit=1)[0] if row.strip() else ""
        if not _BACKEND.match(first) or set(row.strip()) <= {"-", "="}:
            continue
        own_models = models.get(first, ())
        found = _find_key(row, len(first), known)
        model: str | None = None
        if found:
            key, begin = found
            before = row[len(first) : begin].split()
            model = _model_from(before[-1], own_models) if before else None
            login_ok = "login" in row[begin:].split("  ")[0].lower()
        else:
            key, login_ok = None, "login" in row.lower()
            if 0 < model_col < auth_col and row[model_col - 1 : model_col] == " ":
                cell = row[model_col:auth_col]
                model = cell.strip() if cell.endswith(" ") or len(row) <= auth_col else None
            if model is None:
                model = next((m for m in own_models if m in row[len(first) :]), None)
        rows.append(BackendInfo(first, model or None, key, login_ok, own_models))
    return rows


def order_choices(backends: Iterable[BackendInfo], keys_set: Collection[str]) -> list[BackendInfo]:
    """Backends whose key is set first, then those needing no key, then the rest (each in printed order)."""
    items = list(backends)

    def rank(b: BackendInfo) -> int:
        if b.key and b.key in keys_set:
            return 0
        return 1 if b.key is None else 2

    return sorted(items, key=rank)  # stable: printed order within a rank


# --- the headless quickstart's summary block -------------------------------------------------------------


@dataclass
class QuickstartSummary:
    status: str | None = None  # SUCCESS | NEEDS_CONFIG | None (no verdict line in the block)
    keys: dict[str, bool] = field(default_factory=dict)  # key NAME -> available
    selected: list[tuple[str, str]] = field(default_factory=list)  # (backend, model)
    config_path: str | None = None
    env_template: str | None = None
    docker: str | None = None
    skills: str | None = None
    steps: list[str] = field(default_factory=list)  # the `  -> …` lines after NEEDS_CONFIG


_PAIR = re.compile(r"^\s*(?:-\s+)?(\S+)\s+/\s+(.+?)\s*$")
_KEY_LINE = re.compile(r"^\s+([A-Z][A-Z0-9_]*):\s*(available|not set)\s*$")
_VERDICT = re.compile(r"^STATUS:\s*([A-Z_]+)\s*$")


def parse_quickstart(text: str) -> QuickstartSummary | None:
    """The summary block of `massgen --quickstart --headless`, or None when there is none in `text`."""
    lines = [strip_ansi(line).rstrip() for line in text.splitlines()]
    start = next((i for i, line in enumerate(lines) if line.strip() == QUICKSTART_TITLE), None)
    if start is None:
        return None
    summary = QuickstartSummary()
    section = ""
    for line in lines[start + 1 :]:
        stripped = line.strip()
        if not stripped or set(stripped) <= {"=", "-"}:
            continue
        verdict = _VERDICT.match(stripped) if not line[:1].isspace() else None
        if verdict and summary.status is None:
            summary.status, section = verdict.group(1), "verdict"
            continue
        if section == "verdict":
            if stripped.startswith("->"):
                summary.steps.append(stripped[2:].strip())
            continue
        if stripped == "API Keys:":
            section = "keys"
            continue
        label, _, value = stripped.partition(":")
        value = value.strip()
        if not line[:1].isspace() and label.startswith("Selected"):
            section = "selected"
            pair = _PAIR.match(value)
            if pair and not value.startswith("none"):
                summary.selected.append((pair.group(1), pair.group(2)))
            continue
        if not line[:1].isspace() and label in ("Config", "Env template", "Docker", "Skills"):
            section = ""
            attr = {"Config": "config_path", "Env template": "env_template"}.get(label, label.lower())
            setattr(summary, attr, value)
            continue
        if section == "keys":
            key = _KEY_LINE.match(line)
            if key:
                summary.keys[key.group(1)] = key.group(2) == "available"
            continue
        if section == "selected":
            pair = _PAIR.match(line)
            if pair:
                summary.selected.append((pair.group(1), pair.group(2)))
    return summary

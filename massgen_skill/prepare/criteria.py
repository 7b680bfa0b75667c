"""Evaluation criteria: load, validate, lint and translate them for massgen. Pure logic; nothing is printed.

The documented format (see `criteria.schema.json` next to this module)::

    {"aspiration": "…", "criteria": [{"text": "…", "category": "primary|standard|stretch",
                                       "anti_patterns": ["…", "…"], "verify_by": "…"}]}

massgen 0.1.97 cannot take that file as is (contract §6, §13): any value that is not a string (the
`anti_patterns` list) makes the run die with exit 2, and `aspiration` is dropped without a word. So a run
never passes the user's file: `prepare_for_massgen` writes a translated copy in which every value is a
string, the anti-patterns are folded into each criterion's text and the aspiration into the primary
criterion's text.

massgen 0.1.97 itself is lenient (contract §6): any category (`must`/`core` → standard, `could` → stretch,
anything else or none → standard), several primaries, no anti-patterns. So are we: what massgen accepts is
accepted and translated the way massgen reads it, with a warning that says how it was read.
"""

from __future__ import annotations

import difflib
import functools
import json
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from massgen_skill import atomic
from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen import flags

# massgen 0.1.97's built-in criteria sets (flags.CRITERIA_PRESET), with their sizes (contract §6).
PRESETS: dict[str, int] = {
    "analysis": 5,
    "decomposition": 5,
    "evaluation": 5,
    "persona": 5,
    "planning": 7,
    "prompt": 5,
    "round_evaluator": 7,
    "spec": 6,
}

PRIMARY = "primary"
CATEGORIES: tuple[str, ...] = (PRIMARY, "standard", "stretch")  # ours, in the file format
TEXT_ALIASES: tuple[str, ...] = ("description", "name")  # massgen reads these when `text` is absent, in order
MAX_BYTES = 1024 * 1024
RECOMMENDED_MIN, RECOMMENDED_MAX = 4, 7
TRANSLATED_NAME = "eval_criteria.json"  # the file `prepare_for_massgen` writes into its dest_dir
SCHEMA_NAME = "criteria.schema.json"

STANDARD = "standard"
# massgen's legacy category names (contract §6, `criteria_from_inline`); anything else, or none: standard.
LEGACY_CATEGORIES = {"must": STANDARD, "core": STANDARD, "could": "stretch"}
ANTI_PATTERNS_MIN, ANTI_PATTERNS_MAX = 2, 4
CRITERION_KEYS = ("text", "category", "anti_patterns", "verify_by")
TOP_KEYS = ("aspiration", "criteria")
# Canonical key order, used to sort issues into reading order.
_KEY_ORDER = ("aspiration", "criteria", "text", "category", "anti_patterns", "verify_by")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

Severity = Literal["error", "warning"]
JsonPath = tuple[str | int, ...]


@dataclass
class Issue:
    """One problem in a criteria file: where (a JSON path such as `criteria[2].category`) and what."""

    path: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


@dataclass
class Criterion:
    text: str
    category: str
    anti_patterns: list[str] = field(default_factory=list)
    verify_by: str | None = None


@dataclass
class CriteriaReport:
    """The result of checking one file. `criteria` holds the criteria that had no error of their own."""

    path: Path
    criteria: list[Criterion]
    aspiration: str | None
    errors: list[Issue]
    warnings: list[Issue]
    item_count: int = 0  # how many entries the file's criteria list has, valid or not

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        """One line naming every error (used when a run is refused)."""
        count = len(self.errors)
        noun = "error" if count == 1 else "errors"
        details = "; ".join(str(issue) for issue in self.errors)
        return f"criteria file {self.path}: {count} {noun}: {details}"


# ---------------------------------------------------------------------------------------------------- presets


def check_preset(name: str) -> str:
    """Return `name` if massgen knows the preset, else refuse now (massgen would fail every agent, exit 0)."""
    if name in PRESETS:
        return name
    close = difflib.get_close_matches(name, list(PRESETS), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise SkillError(
        f"{flags.CRITERIA_PRESET}: unknown preset {name!r}{hint}; expected one of {', '.join(PRESETS)}",
        ExitCode.USAGE,
    )


# ---------------------------------------------------------------------------------------------------- loading


@functools.lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    """The JSON Schema shipped in the package (from a checkout, an install or a zip import alike)."""
    text = resources.files(__package__ or "massgen_skill.prepare").joinpath(SCHEMA_NAME).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _read_regular(path: Path) -> bytes:
    """At most MAX_BYTES + 1 bytes of a regular file. A FIFO or a device is refused without blocking: the
    open does not wait for a writer (O_NONBLOCK) and the type is checked before any read."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with open(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(path)
        if not stat.S_ISREG(mode):
            raise NotRegularError(path)
        return handle.read(MAX_BYTES + 1)


class NotRegularError(OSError):
    """A FIFO, socket or device where a file was expected."""


def _read_document(path: Path) -> Any:
    """Read and parse the file, or raise one line (INVALID_INPUT) saying why it cannot be used."""
    where = f"criteria file {path}"

    def bad(reason: str) -> SkillError:
        return SkillError(f"{where}: {reason}", ExitCode.INVALID_INPUT)

    try:
        raw = _read_regular(path)
    except FileNotFoundError:
        raise bad("not found") from None
    except IsADirectoryError:
        raise bad("is a directory, expected a JSON file") from None
    except NotRegularError:
        raise bad("not a regular file (a FIFO, socket or device), expected a JSON file") from None
    except PermissionError:
        raise bad("permission denied") from None
    except OSError as exc:
        raise bad(f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise bad(f"larger than 1 MiB ({MAX_BYTES} bytes), expected a small JSON file")
    try:
        text = raw.decode("utf-8-sig")  # a leading byte-order mark is tolerated
    except UnicodeDecodeError as exc:
        raise bad(f"not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from None
    if not text.strip():
        raise bad("is empty, expected a JSON object")

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise ValueError(f"duplicate key {key!r} (one value would silently replace the other)")
            result[key] = value
        return result

    try:
        return json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        raise bad(f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except ValueError as exc:
        raise bad(f"not valid JSON: {exc}") from None
    except RecursionError:
        raise bad("not valid JSON: nested too deeply") from None


def load_criteria(path: Path) -> CriteriaReport:
    """Check one criteria file: an unusable file raises SkillError(INVALID_INPUT); the rest is reported."""
    path = Path(path)
    return check_document(_read_document(path), path)


# --------------------------------------------------------------------------------------------------- checking


def _describe(value: Any) -> str:
    """A short phrase for a JSON value, as in `found 'must'` or `found a list of 3 items`."""
    if isinstance(value, str):
        if not value:
            return "an empty string"
        if not value.strip():
            return "a blank string"
        shown = value if len(value) <= 40 else value[:39] + "…"
        return repr(shown)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, list):
        if not value:
            return "an empty list"
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref` (the only kind our schema uses), keeping the node's own keywords."""
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return node
    target: Any = schema
    for part in ref[2:].split("/"):
        target = target[part]
    return {**target, **{k: v for k, v in node.items() if k != "$ref"}}


def _expected(schema: dict[str, Any], node: dict[str, Any]) -> str:
    node = _resolve(schema, node)
    if "x-expected" in node:
        return str(node["x-expected"])
    if "enum" in node:
        return "one of " + ", ".join(str(v) for v in node["enum"])
    return f"a {node.get('type', 'value')}"


def _schema_issues(document: Any, schema: dict[str, Any]) -> Iterable[tuple[JsonPath, str]]:
    """Every schema violation as (path, 'found …, expected …'), none left out."""
    try:
        from jsonschema import Draft202012Validator
    except ImportError:  # a broken install: say what to do, in one line
        raise SkillError(
            "the Python package jsonschema is missing; install it with: pip install jsonschema",
            ExitCode.ENV_NOT_READY,
        ) from None

    for error in Draft202012Validator(schema).iter_errors(document):
        where: JsonPath = tuple(error.absolute_path)
        node = error.schema if isinstance(error.schema, dict) else {}
        instance = error.instance
        kind = error.validator
        if kind == "required" and isinstance(instance, dict):
            properties = node.get("properties", {})
            for key in error.validator_value:
                if key not in instance:
                    expected = _expected(schema, properties.get(key, {}))
                    yield (*where, key), f"missing, expected {expected}"
        elif kind == "additionalProperties" and isinstance(instance, dict):
            allowed = list(node.get("properties", {}))
            for key in instance:
                if key not in allowed:
                    yield (*where, key), f"unknown key {key!r}, expected only {', '.join(allowed)}"
        elif kind in ("minItems", "maxItems", "enum", "type", "pattern", "minLength"):
            yield where, f"found {_describe(instance)}, expected {_expected(schema, node)}"
        else:  # pragma: no cover - a keyword our schema does not use
            yield where, error.message


def _path_key(path: JsonPath) -> tuple[tuple[int, int | str], ...]:
    """Sort key: list positions in order, keys in the documented order, unknown keys last by name."""
    key: list[tuple[int, int | str]] = []
    for part in path:
        if isinstance(part, int):
            key.append((0, part))
        elif part in _KEY_ORDER:
            key.append((1, _KEY_ORDER.index(part)))
        else:
            key.append((2, part))
    return tuple(key)


class _Paths:
    """Turns a path in the normalised document back into the path the user sees in their own file."""

    def __init__(self, bare: bool, renamed: dict[int, str]) -> None:
        self.bare = bare
        self.renamed = renamed  # criterion index -> the alias key the user wrote instead of `text`

    def show(self, path: JsonPath) -> str:
        parts = list(path)
        index = parts[1] if len(parts) >= 3 and parts[0] == "criteria" and parts[2] == "text" else None
        if isinstance(index, int) and index in self.renamed:
            parts[2] = self.renamed[index]
        if self.bare and parts and parts[0] == "criteria":
            parts = parts[1:]
        text = ""
        for part in parts:
            if isinstance(part, int):
                text += f"[{part}]"
            elif _IDENTIFIER.match(part):
                text += f".{part}" if text else part
            else:
                text += f"[{json.dumps(part, ensure_ascii=False)}]"
        if not text or text.startswith("["):
            text = "$" + text
        return text


def check_document(document: Any, path: Path) -> CriteriaReport:
    """Validate an already parsed document (see `load_criteria`)."""
    errors: list[tuple[JsonPath, str]] = []
    warnings: list[tuple[JsonPath, str]] = []
    bare = isinstance(document, list)
    renamed: dict[int, str] = {}
    paths = _Paths(bare, renamed)

    def report(aspiration: str | None, criteria: list[Criterion], count: int) -> CriteriaReport:
        def issues(found: list[tuple[JsonPath, str]], severity: Severity) -> list[Issue]:
            ordered = sorted(found, key=lambda item: _path_key(item[0]))
            return [Issue(paths.show(where), message, severity) for where, message in ordered]

        return CriteriaReport(
            path=path,
            criteria=criteria,
            aspiration=aspiration,
            errors=issues(errors, "error"),
            warnings=issues(warnings, "warning"),
            item_count=count,
        )

    # 1. The top level: massgen's bare array is accepted (with a warning), anything else but an object is not.
    if bare:
        warnings.append(
            (
                (),
                'found a bare list of criteria (massgen\'s short form), expected an object {"aspiration": …, '
                '"criteria": […]}; accepted, but the team gets no aspiration',
            )
        )
        normalised: Any = {"criteria": document}
    elif isinstance(document, dict):
        normalised = dict(document)
        if "aspiration" not in document:
            warnings.append(
                (
                    ("aspiration",),
                    "missing, expected one or two sentences on what an excellent answer achieves as a whole",
                )
            )
    else:
        errors.append(
            (
                (),
                f"found {_describe(document)}, expected an object "
                '{"aspiration": …, "criteria": […]} (or a bare list of criteria)',
            )
        )
        return report(None, [], 0)

    # 2. Items: `description` / `name` stand in for a missing `text`, as in massgen (with a warning).
    items = normalised.get("criteria")
    if isinstance(items, list):
        items = list(items)
        for index, item in enumerate(items):
            if isinstance(item, dict) and "text" not in item:
                alias = next((key for key in TEXT_ALIASES if key in item), None)
                if alias is not None:
                    renamed[index] = alias
                    items[index] = {("text" if key == alias else key): value for key, value in item.items()}
                    warnings.append(
                        (
                            ("criteria", index, "text"),
                            f"found {alias!r}, expected 'text'; accepted as massgen's alias of 'text'",
                        )
                    )
        normalised["criteria"] = items

    # 3. The schema: every violation, all at once.
    errors.extend(dict.fromkeys(_schema_issues(normalised, load_schema())))  # `required` repeats per key

    # 4. What massgen accepts but reads its own way, and advice: warnings, never errors.
    count = len(items) if isinstance(items, list) else 0
    if isinstance(normalised, dict):
        warnings.extend(_unknown_keys((), normalised, TOP_KEYS))
        if "aspiration" in normalised and not _non_blank(normalised["aspiration"]):
            found = _describe(normalised["aspiration"])
            warnings.append((("aspiration",), f"found {found}, expected one or two sentences; ignored"))
    if isinstance(items, list) and items:
        warnings.extend(_item_warnings(items))
        warnings.extend(_set_warnings(items, paths))

    # 5. The criteria that came through clean, in massgen's reading.
    bad_items = {where[1] for where, _ in errors if len(where) >= 2 and where[0] == "criteria"}
    criteria = [
        _criterion(item)
        for index, item in enumerate(items if isinstance(items, list) else [])
        if index not in bad_items and isinstance(item, dict)
    ]
    aspiration = normalised.get("aspiration")
    return report(aspiration if _non_blank(aspiration) else None, criteria, count)


def _non_blank(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def massgen_category(value: Any) -> str:
    """The category massgen 0.1.97 gives a criterion (`criteria_from_inline`): one of ours."""
    raw = str(value if value is not None else STANDARD).strip().lower()
    if raw in CATEGORIES:
        return raw
    return LEGACY_CATEGORIES.get(raw, STANDARD)


def _criterion(item: dict[str, Any]) -> Criterion:
    patterns = item.get("anti_patterns", [])
    if isinstance(patterns, str):  # one anti-pattern written as a string (massgen would ignore it)
        patterns = [patterns] if patterns.strip() else []
    verify_by = item.get("verify_by")
    return Criterion(
        text=item["text"],
        category=massgen_category(item.get("category")),
        anti_patterns=list(patterns),
        verify_by=verify_by if _non_blank(verify_by) else None,
    )


def _unknown_keys(
    where: JsonPath, node: dict[str, Any], known: tuple[str, ...]
) -> list[tuple[JsonPath, str]]:
    return [
        ((*where, key), f"unknown key {key!r}, expected only {', '.join(known)}; not passed to massgen")
        for key in node
        if key not in known
    ]


def _category_warning(item: dict[str, Any]) -> str | None:
    if "category" not in item:
        return f"missing, expected one of {', '.join(CATEGORIES)}; read as {STANDARD!r}, as massgen does"
    value = item["category"]
    if not isinstance(value, str) or value in CATEGORIES:
        return None  # a wrong type is a schema error
    read_as = massgen_category(value)
    if value.strip().lower() in LEGACY_CATEGORIES:
        why = "massgen's legacy name"
    elif value.strip().lower() in CATEGORIES:
        why = "written differently"
    else:
        why = "not a category massgen knows; it reads it"
    return f"found {_describe(value)}, expected one of {', '.join(CATEGORIES)}; read as {read_as!r} ({why})"


def _anti_patterns_warning(item: dict[str, Any]) -> str | None:
    patterns = item.get("anti_patterns")
    if patterns is None:
        return (
            f"missing, expected {ANTI_PATTERNS_MIN}–{ANTI_PATTERNS_MAX} ways an answer can look fine yet "
            "fail; accepted (massgen does not need them)"
        )
    if isinstance(patterns, str):
        read = "read as one anti-pattern" if patterns.strip() else "ignored"
        return f"found {_describe(patterns)}, expected a list of strings; {read}"
    if isinstance(patterns, list) and not ANTI_PATTERNS_MIN <= len(patterns) <= ANTI_PATTERNS_MAX:
        return f"found {_describe(patterns)}, expected {ANTI_PATTERNS_MIN}–{ANTI_PATTERNS_MAX}; accepted"
    return None


def _item_warnings(items: list[Any]) -> list[tuple[JsonPath, str]]:
    found: list[tuple[JsonPath, str]] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        where: JsonPath = ("criteria", index)
        found.extend(_unknown_keys(where, item, CRITERION_KEYS))
        category = _category_warning(item)
        if category:
            found.append(((*where, "category"), category))
        anti = _anti_patterns_warning(item)
        if anti:
            found.append(((*where, "anti_patterns"), anti))
        verify_by = item.get("verify_by")
        if isinstance(verify_by, str) and not verify_by.strip():
            found.append(((*where, "verify_by"), f"found {_describe(verify_by)}; ignored, as massgen does"))
    return found


def _set_warnings(items: list[Any], paths: _Paths) -> list[tuple[JsonPath, str]]:
    """The primary count and the size of the set: advice only."""
    found: list[tuple[JsonPath, str]] = []
    primaries = [
        i
        for i, it in enumerate(items)
        if isinstance(it, dict) and massgen_category(it.get("category")) == PRIMARY
    ]
    first = paths.show(("criteria", primaries[0])) if primaries else ""
    for extra in primaries[1:]:
        found.append(
            (
                ("criteria", extra, "category"),
                f"found a second 'primary' ({first} is primary already), expected at most one; "
                "accepted (massgen keeps every primary)",
            )
        )
    if not primaries:
        found.append(
            (
                ("criteria",),
                "found no 'primary' criterion, expected one: what the answer must get right above all",
            )
        )
    count = len(items)
    if not RECOMMENDED_MIN <= count <= RECOMMENDED_MAX:
        why = (
            "too few leave important qualities unchecked"
            if count < RECOMMENDED_MIN
            else "too many dilute the team's focus"
        )
        noun = "criterion" if count == 1 else "criteria"
        found.append(
            (("criteria",), f"found {count} {noun}, expected {RECOMMENDED_MIN}–{RECOMMENDED_MAX} ({why})")
        )
    return found


# ------------------------------------------------------------------------------------------------ translation


def _folded_text(criterion: Criterion, aspiration: str | None) -> str:
    parts = [criterion.text.strip()]
    if criterion.anti_patterns:
        listed = "\n".join(f"- {pattern.strip()}" for pattern in criterion.anti_patterns)
        parts.append(f"The answer fails this criterion if it shows any of these anti-patterns:\n{listed}")
    if aspiration is not None:
        parts.append(f"Aspiration for the work as a whole: {aspiration.strip()}")
    return "\n\n".join(parts)


def translate(report: CriteriaReport) -> dict[str, list[dict[str, str]]]:
    """The massgen-safe document: `{"criteria": [{"text", "category", "verify_by"?}]}`, every value a string.

    Anti-patterns are folded into each criterion's text; the aspiration into the primary criterion's text
    (the first criterion's when there is no primary), so nothing the user wrote is lost.
    """
    if not report.ok:
        raise SkillError(report.summary(), ExitCode.INVALID_INPUT)
    if not report.criteria:  # cannot happen for a report without errors; guard the invariant anyway
        raise SkillError(f"criteria file {report.path}: no criteria to translate", ExitCode.INVALID_INPUT)
    carrier = next((i for i, c in enumerate(report.criteria) if c.category == PRIMARY), 0)
    translated: list[dict[str, str]] = []
    for index, criterion in enumerate(report.criteria):
        entry = {
            "text": _folded_text(criterion, report.aspiration if index == carrier else None),
            "category": criterion.category,
        }
        if criterion.verify_by is not None:
            entry["verify_by"] = criterion.verify_by
        translated.append(entry)
    return {"criteria": translated}


def prepare_for_massgen(path: Path, dest_dir: Path) -> tuple[Path, CriteriaReport]:
    """Validate `path`; refuse it in one line if it has errors, else write its translation into `dest_dir`.

    Returns the written file (pass it to massgen's `--eval-criteria`) and the report (for its warnings).
    The file is pure ASCII JSON, so massgen reads it whatever its locale. OSError from writing propagates.
    """
    report = load_criteria(Path(path))
    document = translate(report)  # raises SkillError(INVALID_INPUT) with every error in one line
    return write_translation(document, Path(dest_dir)), report


def write_translation(document: dict[str, list[dict[str, str]]], dest_dir: Path) -> Path:
    """Write a translated document into `dest_dir` as pure ASCII JSON; OSError propagates."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    destination = dest_dir / TRANSLATED_NAME
    atomic.write_text(destination, json.dumps(document, indent=2, ensure_ascii=True) + "\n", fsync=True)
    return destination

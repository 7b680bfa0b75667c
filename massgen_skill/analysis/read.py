"""Reading the files massgen recorded for one attempt, and noting how each read went.

Every input file may be missing, half written or damaged; each problem is noted as a `FileState`
(`status.json: missing`, `events.jsonl: line 12 is not JSON`) and the analysis goes on with whatever else was
recorded. Layout (contract §4) and file names come from `layout.py`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from massgen_skill.analysis.coerce import as_dict, as_float
from massgen_skill.analysis.model import FileState
from massgen_skill.massgen import layout

NOT_AGENT_DIRS = frozenset({layout.FINAL_DIR, "agent_outputs", "streaming_buffers"})

# Files the report always accounts for (missing ones are listed); review files only when present.
EXPECTED_FILES = (
    layout.STATUS_FILE,
    layout.EVENTS_FILE,
    layout.COORDINATION_EVENTS_FILE,
    layout.METRICS_SUMMARY_FILE,
    layout.METRICS_EVENTS_FILE,
    layout.EXECUTION_METADATA_FILE,
    layout.SNAPSHOT_MAPPINGS_FILE,
    layout.MASSGEN_LOG_FILE,
)
OPTIONAL_FILES = (layout.REVIEW_REQUEST, layout.REVIEW_RESULT, layout.MASSGEN_DEBUG_LOG_FILE)

_TRACE_MODEL_RE = re.compile(r"\*\*Model\*\*:\s*([^|\n]+?)\s*(?:\||$)", re.MULTILINE)


class Reader:
    """Reads the files of one folder and remembers how each read went."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.states: dict[str, FileState] = {}

    def _text(self, name: str) -> str | None:
        path = self.folder / name
        if not path.is_file():
            self.states[name] = FileState(name, "missing")
            return None
        try:
            return path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            self.states[name] = FileState(name, "unreadable", f"unreadable ({exc.strerror or exc})")
            return None

    def json(self, name: str) -> dict[str, Any] | None:
        return self._mapping(name, _parse_json, "a JSON object")

    def jsonl(self, name: str) -> list[tuple[int, dict[str, Any]]]:
        """(line number, object) for every line that holds a JSON object."""
        text = self._text(name)
        if text is None:
            return []
        rows: list[tuple[int, dict[str, Any]]] = []
        bad: list[int] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                bad.append(number)
                continue
            if isinstance(row, dict):
                rows.append((number, row))
            else:
                bad.append(number)
        if not bad:
            self.states[name] = FileState(name, "ok")
        else:
            self.states[name] = FileState(name, "damaged", _bad_lines(bad, len(rows)))
        return rows

    def yaml(self, name: str) -> dict[str, Any] | None:
        return self._mapping(name, _parse_yaml, "a YAML mapping")

    def _mapping(self, name: str, parse: Callable[[str], object], kind: str) -> dict[str, Any] | None:
        """The file as a mapping, noting how the read went: missing, unreadable, damaged (why) or ok."""
        text = self._text(name)
        if text is None:
            return None
        try:
            data = parse(text)
        except _NotRead as exc:
            self.states[name] = FileState(name, "not read", f"not read ({exc})")
            return None
        except ValueError as exc:
            self.states[name] = FileState(name, "damaged", str(exc))
            return None
        if not isinstance(data, dict):
            found = "" if kind.endswith("mapping") else f" (found {type(data).__name__})"
            self.states[name] = FileState(name, "damaged", f"not {kind}{found}")
            return None
        self.states[name] = FileState(name, "ok")
        return data

    def lines(self, name: str) -> list[str] | None:
        text = self._text(name)
        if text is None:
            return None
        self.states[name] = FileState(name, "ok")
        return text.splitlines()


class _NotRead(ValueError):
    """The file could not be parsed here at all (a library is missing); not the file's fault."""


def _parse_json(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        why = f"not valid JSON (line {exc.lineno}: {exc.msg})" if text.strip() else "empty file"
        raise ValueError(why) from None


def _parse_yaml(text: str) -> object:
    try:
        import yaml  # lazy: only this command needs it
    except ImportError:
        raise _NotRead("PyYAML is not installed") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ValueError(f"not valid YAML{f' (line {mark.line + 1})' if mark is not None else ''}") from None


def _bad_lines(bad: list[int], good: int) -> str:
    """`line 12 is not JSON (40 good lines read)`, `lines 3, 4 and 1 more are not JSON (…)`."""
    shown = ", ".join(str(n) for n in bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
    what = f"line {shown} is" if len(bad) == 1 else f"lines {shown} are"
    return f"{what} not JSON ({good} good lines read)"


def read_small(path: Path, limit: int = 64_000) -> str | None:
    """At most `limit` characters of a file; None when it cannot be read."""
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            return handle.read(limit)
    except OSError:
        return None


def load_json_file(path: Path) -> dict[str, Any] | None:
    """A JSON object from a file outside the file-state bookkeeping (vote.json); None when it is not one."""
    text = read_small(path, 1_000_000)
    if text is None:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


@dataclass
class AttemptFiles:
    """What was read from one attempt folder; a missing or damaged file is None (or empty)."""

    folder: Path
    status: dict[str, Any] | None
    event_rows: list[tuple[int, dict[str, Any]]]
    coordination: dict[str, Any] | None
    summary: dict[str, Any] | None
    metrics_events: dict[str, Any] | None
    metadata: dict[str, Any] | None
    mappings: dict[str, Any] | None
    log_lines: list[str] | None
    review_request: dict[str, Any] | None
    review_result: dict[str, Any] | None
    review_requested: bool  # review_request.json exists (even when damaged)
    agent_folders: dict[str, dict[str, list[Path]]]
    votes: list[tuple[str, dict[str, Any]]]  # (agent folder, parsed vote.json)
    states: list[FileState]  # how each read went, in a fixed order

    @property
    def meta(self) -> dict[str, Any]:
        """status.json `meta`."""
        return as_dict(as_dict(self.status).get("meta"))

    @property
    def session(self) -> dict[str, Any]:
        """coordination_events.json `session_metadata`."""
        return as_dict(as_dict(self.coordination).get("session_metadata"))

    @property
    def cli(self) -> dict[str, Any]:
        """execution_metadata.yaml `cli_args`."""
        return as_dict(as_dict(self.metadata).get("cli_args"))

    @property
    def start_epoch(self) -> float | None:
        """When coordination started, as status.json or coordination_events.json recorded it."""
        return as_float(self.meta.get("start_time")) or as_float(self.session.get("start_time"))


# AttemptFiles fields read as JSON objects: always, and only when the file exists (review files).
_JSON_FIELDS = {
    "status": layout.STATUS_FILE,
    "coordination": layout.COORDINATION_EVENTS_FILE,
    "summary": layout.METRICS_SUMMARY_FILE,
    "metrics_events": layout.METRICS_EVENTS_FILE,
    "mappings": layout.SNAPSHOT_MAPPINGS_FILE,
}
_JSON_IF_PRESENT = {"review_request": layout.REVIEW_REQUEST, "review_result": layout.REVIEW_RESULT}


def read_attempt(folder: Path) -> AttemptFiles:
    """Read every file massgen records in an attempt folder (`turn_N/attempt_M/`)."""
    reader = Reader(folder)
    jsons = {field: reader.json(name) for field, name in _JSON_FIELDS.items()}
    for field, name in _JSON_IF_PRESENT.items():
        jsons[field] = reader.json(name) if (folder / name).exists() else None
    log_lines = reader.lines(layout.MASSGEN_LOG_FILE)
    if log_lines is None and (folder / layout.MASSGEN_DEBUG_LOG_FILE).is_file():
        log_lines = reader.lines(layout.MASSGEN_DEBUG_LOG_FILE)
    agent_folders = scan_agent_folders(folder)
    return AttemptFiles(
        folder=folder,
        event_rows=reader.jsonl(layout.EVENTS_FILE),
        metadata=reader.yaml(layout.EXECUTION_METADATA_FILE),
        log_lines=log_lines,
        review_requested=(folder / layout.REVIEW_REQUEST).exists(),
        agent_folders=agent_folders,
        votes=_read_votes(agent_folders),
        states=_file_states(reader.states),
        **jsons,
    )


def _file_states(states: dict[str, FileState]) -> list[FileState]:
    """The expected files in a fixed order (massgen_debug.log standing in for a missing massgen.log), then
    the optional ones that were read."""
    listed = [states.get(name, FileState(name, "missing")) for name in EXPECTED_FILES]
    main_log, debug_log = layout.MASSGEN_LOG_FILE, layout.MASSGEN_DEBUG_LOG_FILE
    if main_log in states and states[main_log].state == "missing" and debug_log in states:
        listed = [f for f in listed if f.name != main_log]
    return listed + [states[name] for name in OPTIONAL_FILES if name in states]


def scan_agent_folders(folder: Path) -> dict[str, dict[str, list[Path]]]:
    """`<agent>/<timestamp>/answer.txt|vote.json` → {agent: {"answers": [...], "votes": [...]}} (sorted)."""
    found: dict[str, dict[str, list[Path]]] = {}
    try:
        children = sorted(p for p in folder.iterdir() if p.is_dir() and p.name not in NOT_AGENT_DIRS)
    except OSError:
        return found
    nested_attempts = {p for _n, p in layout.attempts(folder)}
    for child in children:
        if child in nested_attempts:
            continue
        try:
            stamps = sorted(p for p in child.iterdir() if p.is_dir() and layout.ANSWER_DIR_RE.match(p.name))
        except OSError:
            continue
        answers = [p / layout.ANSWER_FILE for p in stamps if (p / layout.ANSWER_FILE).is_file()]
        votes = [p / layout.VOTE_FILE for p in stamps if (p / layout.VOTE_FILE).is_file()]
        if answers or votes:
            found[child.name] = {"answers": answers, "votes": votes}
    return found


def _read_votes(agent_folders: dict[str, dict[str, list[Path]]]) -> list[tuple[str, dict[str, Any]]]:
    """Every readable vote.json, parsed once (they also calibrate the clock)."""
    votes: list[tuple[str, dict[str, Any]]] = []
    for agent_id, found in agent_folders.items():
        for vote_path in found["votes"]:
            data = load_json_file(vote_path)
            if data is not None:
                votes.append((agent_id, data))
    return votes


def model_from_trace(agent_folder: Path) -> str:
    """The model an agent used, from its execution_trace.md (when the config did not say)."""
    try:
        traces = sorted(agent_folder.glob(f"*/{layout.EXECUTION_TRACE_FILE}"))
    except OSError:
        return ""
    for trace in traces[:3]:
        text = read_small(trace, 2000) or ""
        match = _TRACE_MODEL_RE.search(text)
        if match:
            return match.group(1).strip()
    return ""

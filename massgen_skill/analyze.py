"""Read what massgen recorded for a run, turn by turn, and explain it: Markdown report, data, SQLite export.

Pure reading: nothing here starts massgen or talks to it. Every input file may be missing, half written or
damaged; each problem is noted as a `FileState` (`status.json: missing`, `events.jsonl: line 12 is not JSON`)
and the analysis goes on with whatever else was recorded. Layout and formats: contract §3 (status.json) and
§4 (log layout), checked against the recorded runs in `massgen-samples/0.1.97/`.

Times: status.json, coordination_events.json, vote.json and review_result.json hold epoch seconds;
events.jsonl, answer folder names and massgen.log hold the recording machine's wall clock without a zone.
Everything is kept as epoch seconds and shown in the recording machine's clock (the zone offset is inferred
from a file that holds both forms), so times in the report match massgen's own logs.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from massgen_skill import atomic, layout
from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.output import one_line

# --- massgen's log layout (contract §4), spelled in layout.py ----------------------------------------------

STATUS_JSON = layout.STATUS_FILE
ANSWER_TXT = layout.ANSWER_FILE
FINAL_DIR = layout.FINAL_DIR
REVIEW_REQUEST_JSON = layout.REVIEW_REQUEST
REVIEW_RESULT_JSON = layout.REVIEW_RESULT
EVENTS_JSONL = layout.EVENTS_FILE
COORDINATION_EVENTS_JSON = layout.COORDINATION_EVENTS_FILE
METRICS_SUMMARY_JSON = layout.METRICS_SUMMARY_FILE
METRICS_EVENTS_JSON = layout.METRICS_EVENTS_FILE
EXECUTION_METADATA_YAML = layout.EXECUTION_METADATA_FILE
SNAPSHOT_MAPPINGS_JSON = layout.SNAPSHOT_MAPPINGS_FILE
MASSGEN_LOG = layout.MASSGEN_LOG_FILE
MASSGEN_DEBUG_LOG = layout.MASSGEN_DEBUG_LOG_FILE
VOTE_JSON = layout.VOTE_FILE
EXECUTION_TRACE_MD = layout.EXECUTION_TRACE_FILE
ANSWER_DIR_RE = re.compile(r"^\d{8}_\d{6}_\d{6}$")  # <agent_id>/<YYYYMMDD_HHMMSS_ffffff>/
NOT_AGENT_DIRS = frozenset({FINAL_DIR, "agent_outputs", "streaming_buffers"})

REPORT_NAME = "ANALYSIS_REPORT.md"

# Files the report always accounts for (missing ones are listed); review files only when present.
EXPECTED_FILES = (
    STATUS_JSON,
    EVENTS_JSONL,
    COORDINATION_EVENTS_JSON,
    METRICS_SUMMARY_JSON,
    METRICS_EVENTS_JSON,
    EXECUTION_METADATA_YAML,
    SNAPSHOT_MAPPINGS_JSON,
    MASSGEN_LOG,
)
OPTIONAL_FILES = (REVIEW_REQUEST_JSON, REVIEW_RESULT_JSON, MASSGEN_DEBUG_LOG)

# SQLite tables written by `export_sqlite`, with what one row is. The report names them.
SQLITE_TABLES: dict[str, str] = {
    "attempts": "one row per turn/attempt: question, finish reason, winner, duration, token and tool totals",
    "agents": "one row per agent per attempt: model, status, answers, votes, restarts, tokens, cost, error",
    "rounds": "one row per agent round (status.json round_history): type, outcome, tokens, cost, duration",
    "votes": "one row per recorded vote: voter, voted_for, label, reason, time",
    "tool_calls": "one row per tool execution (metrics_events.json): agent, tool, duration, success, error",
    "events": "every line of events.jsonl and every coordination_events.json entry; data as JSON text",
    "findings": "what the report flags: severity, code, message",
}

TIMELINE_ROWS_MAX = 200
PREVIEW_CHARS = 400
QUESTION_CHARS = 300
LOGGED_ERRORS_MAX = 20


# --- data ---------------------------------------------------------------------------------------------------


@dataclass
class FileState:
    """How reading one recorded file went."""

    name: str
    state: str  # ok | missing | damaged | unreadable | not read
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.state == "ok"

    @property
    def line(self) -> str:
        """`status.json: missing`, `events.jsonl: line 12 is not JSON`."""
        return f"{self.name}: {self.detail or self.state}"


@dataclass
class Finding:
    severity: str  # error | warning | info
    code: str
    message: str
    attempt: int | None = None


@dataclass
class TimelineEntry:
    time: float | None  # epoch seconds
    clock: str  # HH:MM:SS.mmm on the recording machine
    offset_s: float | None  # seconds since the attempt started
    agent: str | None
    kind: str  # start | answer | vote | vote ignored | restart | retry | error | timeout | tool failure | …
    detail: str


@dataclass
class Vote:
    voter: str
    voted_for: str | None
    voted_for_label: str | None
    reason: str
    time: float | None
    clock: str


@dataclass
class ToolStat:
    name: str
    tool_type: str
    calls: int
    failures: int
    total_ms: float


@dataclass
class ToolCall:
    agent: str | None
    tool: str
    tool_type: str
    round_number: int | None
    time: float | None
    clock: str
    execution_ms: float | None
    success: bool
    error: str


@dataclass
class RoundRow:
    agent: str
    round_number: int | None
    round_type: str
    outcome: str
    input_tokens: int
    output_tokens: int
    estimated_cost: float
    duration_ms: float | None
    tool_calls: int
    start_time: float | None
    end_time: float | None


@dataclass
class Phase:
    name: str
    start: float | None
    end: float | None
    seconds: float | None
    start_clock: str = ""
    end_clock: str = ""


@dataclass
class AgentReport:
    agent_id: str
    backend: str = ""
    model: str = ""
    status: str = "unknown"
    answers: int = 0
    votes_received: int = 0
    voted_for: str | None = None
    vote_reason: str = ""
    restarts: int = 0
    error_type: str | None = None
    error_message: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cached_input_tokens: int = 0
    estimated_cost: float = 0.0
    tool_calls: int = 0
    tool_failures: int = 0
    seconds_by_round_type: dict[str, float] = field(default_factory=dict)


@dataclass
class Review:
    requested: bool
    files: list[str]
    decided: bool
    outcome: str  # approved | partly approved | rejected | timed out | pending
    approved: bool | None = None
    approved_files: list[str] | None = None
    action: str | None = None
    resolved_by: str | None = None
    time: float | None = None
    clock: str = ""


@dataclass
class Totals:
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    estimated_cost: float = 0.0
    tool_calls: int = 0
    tool_failures: int = 0
    tool_time_ms: float = 0.0


@dataclass
class AttemptAnalysis:
    attempt: int
    path: str
    files: list[FileState] = field(default_factory=list)
    question: str = ""
    finish_reason: str = "unknown"
    finish_details: str = ""
    is_complete: bool | None = None
    review_pending: bool = False
    start_time: float | None = None
    start_clock: str = ""
    elapsed_s: float | None = None
    agents: list[AgentReport] = field(default_factory=list)
    winner: str | None = None
    vote_counts: dict[str, int] = field(default_factory=dict)
    is_tie: bool = False
    votes: list[Vote] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    totals: Totals = field(default_factory=Totals)
    tools: list[ToolStat] = field(default_factory=list)
    tool_failures: list[ToolCall] = field(default_factory=list)
    phases: list[Phase] = field(default_factory=list)
    review: Review | None = None
    applied_changes: list[str] = field(default_factory=list)
    final_answer_path: str | None = None
    final_answer_preview: str = ""
    logged_errors: list[str] = field(default_factory=list)
    failure_stage: str | None = None
    failure_error: str | None = None
    massgen_version: str | None = None
    config_path: str | None = None
    findings: list[Finding] = field(default_factory=list)
    # Raw rows for the SQLite export (left out of --json, which carries the analysis, not the logs).
    rounds: list[RoundRow] = field(default_factory=list, repr=False)
    tool_calls: list[ToolCall] = field(default_factory=list, repr=False)
    raw_events: list[dict[str, Any]] = field(default_factory=list, repr=False)


@dataclass
class TurnAnalysis:
    turn: int
    path: str
    attempts: list[AttemptAnalysis]
    findings: list[Finding] = field(default_factory=list)
    final_answer_path: str | None = None
    report_path: str | None = None

    @property
    def last(self) -> AttemptAnalysis | None:
        return self.attempts[-1] if self.attempts else None


@dataclass
class Analysis:
    log_dir: str
    turns: list[TurnAnalysis]


# --- small safe accessors (every field of every file may be absent or of the wrong type) --------------------


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _s(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _f(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    return None


def _i(value: Any) -> int:
    number = _f(value)
    return int(number) if number is not None else 0


def _b(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


# --- clock --------------------------------------------------------------------------------------------------


class _Clock:
    """Converts between epoch seconds and the recording machine's zone-less wall clock."""

    def __init__(self, utc_offset_s: float = 0.0) -> None:
        self.offset = utc_offset_s

    @staticmethod
    def infer(pairs: list[tuple[float, datetime]]) -> _Clock:
        """From (epoch, naive local time) pairs of the same instant: offset rounded to a quarter hour."""
        for epoch, naive in pairs:
            guess = naive.replace(tzinfo=timezone.utc).timestamp() - epoch
            if abs(guess) <= 15 * 3600:
                return _Clock(round(guess / 900) * 900)
        return _Clock(0.0)

    def from_naive(self, naive: datetime) -> float:
        return naive.replace(tzinfo=timezone.utc).timestamp() - self.offset

    def show(self, epoch: float | None, with_date: bool = False) -> str:
        if epoch is None:
            return ""
        try:
            moment = datetime.fromtimestamp(epoch + self.offset, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return ""
        text = moment.strftime("%Y-%m-%d %H:%M:%S.%f" if with_date else "%H:%M:%S.%f")
        return text[:-3]


def _parse_iso(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is not None:  # keep the wall clock, drop the zone (massgen writes none)
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def _parse_stamp(text: str) -> datetime | None:
    """`20261125_225158_216686` (answer folder names, vote.json `timestamp`)."""
    try:
        return datetime.strptime(text, "%Y%m%d_%H%M%S_%f")
    except ValueError:
        return None


# --- reading files ------------------------------------------------------------------------------------------


class _Reader:
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
        text = self._text(name)
        if text is None:
            return None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            detail = "empty file" if not text.strip() else f"not valid JSON (line {exc.lineno}: {exc.msg})"
            self.states[name] = FileState(name, "damaged", detail)
            return None
        if not isinstance(data, dict):
            self.states[name] = FileState(name, "damaged", f"not a JSON object (found {type(data).__name__})")
            return None
        self.states[name] = FileState(name, "ok")
        return data

    def jsonl(self, name: str) -> list[tuple[int, dict[str, Any]]]:
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
            shown = ", ".join(str(n) for n in bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
            what = f"line {shown} is" if len(bad) == 1 else f"lines {shown} are"
            self.states[name] = FileState(name, "damaged", f"{what} not JSON ({len(rows)} good lines read)")
        return rows

    def yaml(self, name: str) -> dict[str, Any] | None:
        text = self._text(name)
        if text is None:
            return None
        try:
            import yaml  # lazy: only this command needs it
        except ImportError:
            self.states[name] = FileState(name, "not read", "not read (PyYAML is not installed)")
            return None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            self.states[name] = FileState(name, "damaged", f"not valid YAML{where}")
            return None
        if not isinstance(data, dict):
            self.states[name] = FileState(name, "damaged", "not a YAML mapping")
            return None
        self.states[name] = FileState(name, "ok")
        return data

    def lines(self, name: str) -> list[str] | None:
        text = self._text(name)
        if text is None:
            return None
        self.states[name] = FileState(name, "ok")
        return text.splitlines()


def _read_small(path: Path, limit: int = 64_000) -> str | None:
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            return handle.read(limit)
    except OSError:
        return None


def _load_json_file(path: Path) -> dict[str, Any] | None:
    text = _read_small(path, 1_000_000)
    if text is None:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


# --- locating the log folders -------------------------------------------------------------------------------

_LOG_MARKERS = (STATUS_JSON, EVENTS_JSONL, COORDINATION_EVENTS_JSON, EXECUTION_METADATA_YAML)


def _looks_like_attempt(folder: Path) -> bool:
    return any((folder / name).is_file() for name in _LOG_MARKERS)


@dataclass
class LogTarget:
    """Where a log path points: the session root and which turn folders to analyse."""

    session_root: Path
    turns: list[tuple[int, Path]]
    single_turn: bool  # the path named one turn (a turn or attempt folder)


def locate(path: Path, turn: int | None = None) -> LogTarget:
    """Normalise a session root (log_<ts>), a turn folder, an attempt folder or anything inside one."""
    folder = path.expanduser()
    if folder.is_file():
        folder = folder.parent
    folder = folder.resolve()
    if not folder.is_dir():
        raise SkillError(f"no such log folder: {path}", ExitCode.NOT_FOUND)
    root = layout.session_root(folder)
    if root != folder:  # somewhere inside turn_N/
        turn_dir = next(p for p in (folder, *folder.parents) if p.parent == root)
        number = next((n for n, p in layout.turns(root) if p == turn_dir), None)
        if number is not None:
            if turn is not None and turn != number:
                raise SkillError(
                    f"--turn {turn} does not match the folder given ({turn_dir.name})", ExitCode.USAGE
                )
            return LogTarget(root, [(number, turn_dir)], True)
    turns = layout.turns(folder)
    if turns:
        if turn is not None:
            chosen = [(n, p) for n, p in turns if n == turn]
            if not chosen:
                have = ", ".join(str(n) for n, _ in turns)
                raise SkillError(f"no turn_{turn} in {folder} (turns: {have})", ExitCode.NOT_FOUND)
            return LogTarget(folder, chosen, True)
        return LogTarget(folder, turns, False)
    if layout.attempts(folder) or _looks_like_attempt(folder):
        # A turn-like or attempt-like folder outside the usual layout (copied, or an early failure).
        return LogTarget(folder, [(turn or 1, folder)], True)
    raise SkillError(
        f"{folder} is not a massgen log folder (expected log_<timestamp>, turn_N or attempt_M with "
        f"{STATUS_JSON} or {EVENTS_JSONL})",
        ExitCode.INVALID_INPUT,
    )


# --- analysing one attempt ----------------------------------------------------------------------------------


def _scan_agent_folders(folder: Path) -> dict[str, dict[str, list[Path]]]:
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
            stamps = sorted(p for p in child.iterdir() if p.is_dir() and ANSWER_DIR_RE.match(p.name))
        except OSError:
            continue
        answers = [p / ANSWER_TXT for p in stamps if (p / ANSWER_TXT).is_file()]
        votes = [p / VOTE_JSON for p in stamps if (p / VOTE_JSON).is_file()]
        if answers or votes:
            found[child.name] = {"answers": answers, "votes": votes}
    return found


def _config_agents(metadata: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(id, backend type, model) from execution_metadata.yaml `config` (`agents:` list or one `agent:`)."""
    config = _d(metadata.get("config"))
    entries = _l(config.get("agents")) or ([config["agent"]] if isinstance(config.get("agent"), dict) else [])
    result = []
    cli = _d(metadata.get("cli_args"))
    for entry in entries:
        entry = _d(entry)
        agent_id = _s(entry.get("id"))
        if not agent_id:
            continue
        backend = _d(entry.get("backend"))
        result.append(
            (
                agent_id,
                _s(backend.get("type")) or _s(cli.get("backend")) or "",
                _s(backend.get("model")) or "",
            )
        )
    return result


_TRACE_MODEL_RE = re.compile(r"\*\*Model\*\*:\s*([^|\n]+?)\s*(?:\||$)", re.MULTILINE)
_LOG_ERROR_RE = re.compile(r"\|\s*(ERROR|CRITICAL)\s*\|\s*(.*)$")
_ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_APPLIED_RE = re.compile(r"^Applied (\d+) file change\(s\):\s*(.*)$")


def _model_from_trace(agent_folder: Path) -> str:
    try:
        traces = sorted(agent_folder.glob(f"*/{EXECUTION_TRACE_MD}"))
    except OSError:
        return ""
    for trace in traces[:3]:
        text = _read_small(trace, 2000) or ""
        match = _TRACE_MODEL_RE.search(text)
        if match:
            return match.group(1).strip()
    return ""


def analyze_attempt(folder: Path, number: int) -> AttemptAnalysis:
    """Everything massgen recorded in one attempt folder (`turn_N/attempt_M/`)."""
    reader = _Reader(folder)
    result = AttemptAnalysis(attempt=number, path=str(folder))

    status = reader.json(STATUS_JSON)
    event_rows = reader.jsonl(EVENTS_JSONL)
    coordination = reader.json(COORDINATION_EVENTS_JSON)
    summary = reader.json(METRICS_SUMMARY_JSON)
    metrics_events = reader.json(METRICS_EVENTS_JSON)
    metadata = reader.yaml(EXECUTION_METADATA_YAML)
    mappings = reader.json(SNAPSHOT_MAPPINGS_JSON)
    log_lines = reader.lines(MASSGEN_LOG)
    if log_lines is None and (folder / MASSGEN_DEBUG_LOG).is_file():
        log_lines = reader.lines(MASSGEN_DEBUG_LOG)
    review_request = reader.json(REVIEW_REQUEST_JSON) if (folder / REVIEW_REQUEST_JSON).exists() else None
    review_result = reader.json(REVIEW_RESULT_JSON) if (folder / REVIEW_RESULT_JSON).exists() else None
    agent_folders = _scan_agent_folders(folder)

    status_d, coord_meta = _d(status), _d(_d(coordination).get("session_metadata"))
    meta = _d(status_d.get("meta"))
    summary_d, metadata_d = _d(summary), _d(metadata)

    # Parse vote files once (they also calibrate the clock: epoch and wall clock of the same instant).
    vote_files: list[tuple[str, dict[str, Any]]] = []
    for agent_id, found in agent_folders.items():
        for vote_path in found["votes"]:
            data = _load_json_file(vote_path)
            if data is not None:
                vote_files.append((agent_id, data))

    events = [(n, row, _parse_iso(row.get("timestamp"))) for n, row in event_rows]
    pairs: list[tuple[float, datetime]] = []
    for _agent, data in vote_files:
        epoch, stamp = _f(data.get("unix_timestamp")), _parse_stamp(_s(data.get("timestamp")) or "")
        if epoch is not None and stamp is not None:
            pairs.append((epoch, stamp))
    first_naive = next((moment for _n, _row, moment in events if moment is not None), None)
    start_epoch = _f(meta.get("start_time")) or _f(coord_meta.get("start_time"))
    if start_epoch is not None and first_naive is not None:
        pairs.append((start_epoch, first_naive))
    clock = _Clock.infer(pairs)

    timed_events = [(n, row, clock.from_naive(m) if m else None) for n, row, m in events]
    first_event_time = next((t for _n, _r, t in timed_events if t is not None), None)
    result.start_time = start_epoch if start_epoch is not None else first_event_time
    result.start_clock = clock.show(result.start_time, with_date=True)

    def offset(epoch: float | None) -> float | None:
        if epoch is None or result.start_time is None:
            return None
        return round(epoch - result.start_time, 3)

    # Question, finish, version.
    cli = _d(metadata_d.get("cli_args"))
    result.question = (
        _s(meta.get("question"))
        or _s(_d(summary_d.get("meta")).get("question"))
        or _s(coord_meta.get("user_prompt"))
        or _s(metadata_d.get("query"))
        or _s(cli.get("question"))
        or ""
    )
    result.massgen_version = _s(metadata_d.get("massgen_version"))
    result.config_path = _s(metadata_d.get("config_path")) or _s(cli.get("config"))
    result.failure_stage = _s(cli.get("failure_stage")) or _s(metadata_d.get("failure_stage"))
    result.failure_error = _s(cli.get("failure_error")) or _s(metadata_d.get("failure_error"))
    if status is not None:
        result.finish_reason = _s(status_d.get("finish_reason")) or "unknown"
        result.finish_details = _s(status_d.get("finish_reason_details")) or ""
        result.is_complete = _b(status_d.get("is_complete"))
        result.review_pending = bool(_b(status_d.get("review_pending")))
    result.elapsed_s = _f(meta.get("elapsed_seconds"))
    if result.elapsed_s is None:
        end = _f(coord_meta.get("end_time"))
        if end is not None and start_epoch is not None:
            result.elapsed_s = round(end - start_epoch, 3)
    if result.elapsed_s is None and first_event_time is not None:
        last = max((t for _n, _r, t in timed_events if t is not None), default=first_event_time)
        result.elapsed_s = round(last - first_event_time, 3)

    # Agents: config order first, then whatever else recorded an agent.
    agents: dict[str, AgentReport] = {}

    def agent(agent_id: str) -> AgentReport:
        if agent_id not in agents:
            agents[agent_id] = AgentReport(agent_id)
        return agents[agent_id]

    for agent_id, backend, model in _config_agents(metadata_d):
        report = agent(agent_id)
        report.backend, report.model = backend, model
    status_agents = _d(status_d.get("agents"))
    for agent_id in status_agents:
        agent(str(agent_id))
    for agent_id in _l(coord_meta.get("agent_ids")):
        if isinstance(agent_id, str):
            agent(agent_id)
    for agent_id in agent_folders:
        agent(agent_id)
    for _n, row, _t in timed_events:
        agent_id = _s(row.get("agent_id"))
        if agent_id:
            agent(agent_id)
    for agent_id, report in agents.items():
        if not report.model and (folder / agent_id).is_dir():
            report.model = _model_from_trace(folder / agent_id)
    if len(agents) == 1 and not next(iter(agents.values())).model:
        only = next(iter(agents.values()))
        only.model = _s(cli.get("model")) or ""
        only.backend = only.backend or _s(cli.get("backend")) or ""

    # Answer labels → agent.
    label_agent: dict[str, str] = {}
    for label, entry in _d(mappings).items():
        entry = _d(entry)
        if _s(entry.get("type")) == "answer" and _s(entry.get("agent_id")):
            label_agent[str(label)] = str(entry["agent_id"])
    for entry in _l(status_d.get("historical_workspaces")):
        entry = _d(entry)
        if _s(entry.get("answerLabel")) and _s(entry.get("agentId")):
            label_agent[str(entry["answerLabel"])] = str(entry["agentId"])
    for _agent, data in vote_files:
        for label, agent_id in _d(data.get("answer_label_to_agent")).items():
            if isinstance(agent_id, str):
                label_agent.setdefault(str(label), agent_id)

    # Per-agent figures: status.json first, metrics_summary.json as the fallback.
    summary_agents = _d(summary_d.get("agents"))
    events_restarts: dict[str, int] = {}
    events_answers: dict[str, int] = {}
    for _n, row, _t in timed_events:
        agent_id = _s(row.get("agent_id"))
        if not agent_id:
            continue
        kind = row.get("event_type")
        if kind == "agent_restart":
            events_restarts[agent_id] = events_restarts.get(agent_id, 0) + 1
        elif kind == "answer_submitted":
            events_answers[agent_id] = events_answers.get(agent_id, 0) + 1
    for agent_id, report in agents.items():
        entry = _d(status_agents.get(agent_id))
        fallback = _d(summary_agents.get(agent_id))
        report.status = _s(entry.get("status")) or report.status
        folder_answers = len(agent_folders.get(agent_id, {}).get("answers", []))
        report.answers = (
            (_i(entry.get("answer_count")) if "answer_count" in entry else 0)
            or folder_answers
            or events_answers.get(agent_id, 0)
        )
        report.restarts = (
            _i(entry.get("times_restarted"))
            if "times_restarted" in entry
            else events_restarts.get(agent_id, 0)
        )
        error = _d(entry.get("error"))
        if error:
            report.error_type = _s(error.get("type")) or "error"
            report.error_message = _s(error.get("message")) or ""
        usage = _d(entry.get("token_usage")) or _d(fallback.get("token_usage"))
        report.input_tokens = _i(usage.get("input_tokens"))
        report.output_tokens = _i(usage.get("output_tokens"))
        report.reasoning_tokens = _i(usage.get("reasoning_tokens"))
        report.cached_input_tokens = _i(usage.get("cached_input_tokens"))
        report.estimated_cost = _f(usage.get("estimated_cost")) or 0.0
        tools = _d(entry.get("tool_metrics")) or _d(fallback.get("tool_metrics"))
        report.tool_calls = _i(tools.get("total_calls"))
        report.tool_failures = _i(tools.get("total_failures"))
        history = _l(entry.get("round_history")) or _l(fallback.get("round_history"))
        for item in history:
            item = _d(item)
            row = RoundRow(
                agent=agent_id,
                round_number=_i(item.get("round_number"))
                if _f(item.get("round_number")) is not None
                else None,
                round_type=_s(item.get("round_type")) or "",
                outcome=_s(item.get("outcome")) or "",
                input_tokens=_i(item.get("input_tokens")),
                output_tokens=_i(item.get("output_tokens")),
                estimated_cost=_f(item.get("estimated_cost")) or 0.0,
                duration_ms=_f(item.get("duration_ms")),
                tool_calls=_i(item.get("tool_calls_count")),
                start_time=_f(item.get("start_time")),
                end_time=_f(item.get("end_time")),
            )
            result.rounds.append(row)
            if row.duration_ms is not None and row.round_type:
                seconds = report.seconds_by_round_type.get(row.round_type, 0.0) + row.duration_ms / 1000
                report.seconds_by_round_type[row.round_type] = round(seconds, 3)
    if not result.rounds:  # no status.json / summary: metrics_events.json still lists completed rounds
        for item in _l(_d(metrics_events).get("round_completions")):
            item = _d(item)
            agent_id = _s(item.get("agent_id"))
            if not agent_id:
                continue
            duration = _f(item.get("duration_ms"))
            round_type = _s(item.get("round_type")) or ""
            result.rounds.append(
                RoundRow(
                    agent_id,
                    _i(item.get("round_number")),
                    round_type,
                    _s(item.get("outcome")) or "",
                    _i(item.get("input_tokens")),
                    _i(item.get("output_tokens")),
                    _f(item.get("estimated_cost")) or 0.0,
                    duration,
                    _i(item.get("tool_calls_count")),
                    _f(item.get("start_time")),
                    _f(item.get("end_time")),
                )
            )
            if duration is not None and round_type:
                report = agent(agent_id)
                seconds = report.seconds_by_round_type.get(round_type, 0.0) + duration / 1000
                report.seconds_by_round_type[round_type] = round(seconds, 3)

    # Votes: vote.json files (full reasons), else events.jsonl, else status.json's vote_cast.
    votes: list[Vote] = []
    for voter, data in vote_files:
        epoch = _f(data.get("unix_timestamp"))
        if epoch is None and (stamp := _parse_stamp(_s(data.get("timestamp")) or "")) is not None:
            epoch = clock.from_naive(stamp)
        votes.append(
            Vote(
                voter=_s(data.get("voter_id")) or voter,
                voted_for=_s(data.get("voted_for")),
                voted_for_label=_s(data.get("voted_for_label")),
                reason=_s(data.get("reason")) or "",
                time=epoch,
                clock=clock.show(epoch),
            )
        )
    if not votes:
        for _n, row, epoch in timed_events:
            if row.get("event_type") == "vote":
                data = _d(row.get("data"))
                votes.append(
                    Vote(
                        _s(row.get("agent_id")) or "?",
                        _s(data.get("target_id")),
                        _s(data.get("voted_for_label")),
                        _s(data.get("reason")) or "",
                        epoch,
                        clock.show(epoch),
                    )
                )
    if not votes:
        for agent_id, entry in status_agents.items():
            cast = _d(_d(entry).get("vote_cast"))
            if cast:
                votes.append(
                    Vote(
                        str(agent_id),
                        _s(cast.get("voted_for_agent")),
                        _s(cast.get("voted_for_label")),
                        _s(cast.get("reason_preview")) or "",
                        None,
                        "",
                    )
                )
    votes.sort(key=lambda v: (v.time is None, v.time or 0.0))
    result.votes = votes
    for vote in votes:
        voter = agent(vote.voter)
        voter.voted_for, voter.vote_reason = vote.voted_for, vote.reason

    # Winner and vote counts.
    presentation_start = next(
        ((row, t) for _n, row, t in timed_events if row.get("event_type") == "final_presentation_start"), None
    )
    results = _d(status_d.get("results"))
    final_dirs = [p.name for p in layout.final_dirs(folder)]
    result.winner = (
        _s(results.get("winner"))
        or _s(coord_meta.get("final_winner"))
        or (_s(presentation_start[0].get("agent_id")) if presentation_start else None)
        or (final_dirs[0] if len(final_dirs) == 1 else None)
    )
    counts: dict[str, int] = {}
    if presentation_start:
        data = _d(presentation_start[0].get("data"))
        counts = {str(k): _i(v) for k, v in _d(data.get("vote_counts")).items()}
        result.is_tie = bool(_b(data.get("is_tie")))
    if not counts:
        for label, count in _d(results.get("votes")).items():
            owner = label_agent.get(str(label), str(label))
            counts[owner] = counts.get(owner, 0) + _i(count)
    if not counts:
        for vote in votes:
            if vote.voted_for:
                counts[vote.voted_for] = counts.get(vote.voted_for, 0) + 1
    result.vote_counts = counts
    for agent_id, count in counts.items():
        agent(agent_id).votes_received = count

    # Agent status and errors when status.json did not say.
    for _n, row, _t in timed_events:
        agent_id = _s(row.get("agent_id"))
        kind = _s(row.get("event_type")) or ""
        data = _d(row.get("data"))
        if not agent_id:
            continue
        report = agent(agent_id)
        message = ""
        if kind == "error":
            message = _s(data.get("error")) or _s(data.get("message")) or "error"
        elif kind == "text":
            content = (_s(data.get("content")) or "").strip()
            if content.startswith("❌") and not content.startswith("❌ Retry"):
                message = content.lstrip("❌ ").strip()
        if message and not report.error_message:
            report.error_type = report.error_type or "error"
            report.error_message = message
    for report in agents.values():
        if report.status == "unknown":
            if report.error_message:
                report.status = report.error_type or "error"
            elif report.voted_for:
                report.status = "voted"
            elif report.answers:
                report.status = "answered"
    result.agents = list(agents.values())

    # Totals and tools.
    costs, totals_fallback = _d(status_d.get("costs")), _d(summary_d.get("totals"))
    result.totals.input_tokens = _i(costs.get("total_input_tokens")) or _i(
        totals_fallback.get("input_tokens")
    )
    result.totals.output_tokens = _i(costs.get("total_output_tokens")) or _i(
        totals_fallback.get("output_tokens")
    )
    result.totals.reasoning_tokens = _i(totals_fallback.get("reasoning_tokens")) or sum(
        a.reasoning_tokens for a in result.agents
    )
    cost = _f(costs.get("total_estimated_cost"))
    result.totals.estimated_cost = (
        cost if cost is not None else (_f(totals_fallback.get("estimated_cost")) or 0.0)
    )
    if not costs and not totals_fallback:
        result.totals.input_tokens = sum(a.input_tokens for a in result.agents)
        result.totals.output_tokens = sum(a.output_tokens for a in result.agents)
        result.totals.estimated_cost = sum(a.estimated_cost for a in result.agents)
    tools = _d(status_d.get("tools")) or _d(summary_d.get("tools"))
    result.totals.tool_calls = _i(tools.get("total_calls"))
    result.totals.tool_failures = _i(tools.get("total_failures"))
    result.totals.tool_time_ms = _f(tools.get("total_execution_time_ms")) or 0.0
    for name, stat in sorted(_d(tools.get("by_tool")).items()):
        stat = _d(stat)
        result.tools.append(
            ToolStat(
                str(name),
                _s(stat.get("tool_type")) or "",
                _i(stat.get("call_count")),
                _i(stat.get("failure_count")),
                round(_f(stat.get("total_execution_time_ms")) or 0.0, 2),
            )
        )
    for item in _l(_d(metrics_events).get("tool_executions")):
        item = _d(item)
        start = _f(item.get("start_time"))
        success = _b(item.get("success"))
        result.tool_calls.append(
            ToolCall(
                _s(item.get("agent_id")),
                _s(item.get("tool_name")) or "?",
                _s(item.get("tool_type")) or "",
                _i(item.get("round_number")) if _f(item.get("round_number")) is not None else None,
                start,
                clock.show(start),
                _f(item.get("execution_time_ms")),
                success is not False,
                _s(item.get("error_message")) or "",
            )
        )
    if not result.tool_calls:  # events.jsonl pairs tool_start / tool_complete
        for _n, row, epoch in timed_events:
            if row.get("event_type") != "tool_complete":
                continue
            data = _d(row.get("data"))
            failed = bool(_b(data.get("is_error"))) or (_s(data.get("status")) or "success") != "success"
            elapsed = _f(data.get("elapsed_seconds"))
            result.tool_calls.append(
                ToolCall(
                    _s(row.get("agent_id")),
                    _s(data.get("tool_name")) or "?",
                    "",
                    _i(row.get("round_number")),
                    epoch,
                    clock.show(epoch),
                    round(elapsed * 1000, 2) if elapsed is not None else None,
                    not failed,
                    (_s(data.get("result")) or "") if failed else "",
                )
            )
    if not result.tools and result.tool_calls:
        by_name: dict[str, ToolStat] = {}
        for call in result.tool_calls:
            stat = by_name.setdefault(call.tool, ToolStat(call.tool, call.tool_type, 0, 0, 0.0))
            stat.calls += 1
            stat.failures += 0 if call.success else 1
            stat.total_ms = round(stat.total_ms + (call.execution_ms or 0.0), 2)
        result.tools = sorted(by_name.values(), key=lambda s: s.name)
        result.totals.tool_calls = sum(s.calls for s in result.tools)
        result.totals.tool_failures = sum(s.failures for s in result.tools)
    result.tool_failures = [c for c in result.tool_calls if not c.success]

    # Review (web mode) and changes applied to the project.
    if review_request is not None or review_result is not None or (folder / REVIEW_REQUEST_JSON).exists():
        result.review = _review(_d(review_request), review_result, clock)
    for _n, row, _t in timed_events:
        if row.get("event_type") == "status":
            match = _APPLIED_RE.match(_s(_d(row.get("data")).get("message")) or "")
            if match:
                result.applied_changes = [f.strip() for f in match.group(2).split(",") if f.strip()]

    # Final answer (attempt level).
    if result.winner and (folder / FINAL_DIR / result.winner / ANSWER_TXT).is_file():
        answer_path = folder / FINAL_DIR / result.winner / ANSWER_TXT
        result.final_answer_path = str(answer_path)
        result.final_answer_preview = (_read_small(answer_path, PREVIEW_CHARS * 2) or "").strip()
    elif results.get("final_answer_preview"):
        result.final_answer_preview = _s(results.get("final_answer_preview")) or ""

    # Errors massgen logged (loguru lines `HH:MM:SS | ERROR | message`).
    seen: set[str] = set()
    for line in log_lines or []:
        match = _LOG_ERROR_RE.search(_ANSI_RE.sub("", line))
        if not match:
            continue
        text = re.sub(r"^\[(ERROR|CRITICAL)\]\s*", "", one_line(match.group(2), 300))
        if text in seen:
            continue
        seen.add(text)
        if len(result.logged_errors) < LOGGED_ERRORS_MAX:
            stamp = line[:8] if re.match(r"\d\d:\d\d:\d\d", line) else ""
            result.logged_errors.append(f"{stamp} {match.group(1)}: {text}".strip())

    result.timeline = _timeline(result, timed_events, coordination, agent_folders, clock, offset)
    result.phases = _phases(result, timed_events, clock)
    result.raw_events = _raw_events(timed_events, coordination, clock)

    # File states in a fixed order.
    states = reader.states
    result.files = [states.get(name, FileState(name, "missing")) for name in EXPECTED_FILES]
    if MASSGEN_LOG in states and states[MASSGEN_LOG].state == "missing" and MASSGEN_DEBUG_LOG in states:
        result.files = [f for f in result.files if f.name != MASSGEN_LOG]
    result.files += [states[name] for name in OPTIONAL_FILES if name in states]

    result.findings = _attempt_findings(result)
    return result


def _review(request: dict[str, Any], decision: dict[str, Any] | None, clock: _Clock) -> Review:
    files = [_s(_d(item).get("path")) or "?" for item in _l(request.get("files")) if _s(_d(item).get("path"))]
    if decision is None:
        return Review(requested=True, files=files, decided=False, outcome="pending")
    approved = _b(decision.get("approved"))
    approved_files = decision.get("approved_files")
    approved_list = [str(x) for x in approved_files] if isinstance(approved_files, list) else None
    resolved_by = _s(decision.get("resolved_by"))
    epoch = _f(decision.get("timestamp"))
    if approved:
        outcome = (
            "partly approved" if approved_list is not None and len(approved_list) < len(files) else "approved"
        )
    elif resolved_by == "unknown":
        outcome = "timed out"  # contract §5: a timeout is recorded as a rejection resolved by "unknown"
    else:
        outcome = "rejected"
    return Review(
        requested=bool(request) or bool(files),
        files=files,
        decided=True,
        outcome=outcome,
        approved=approved,
        approved_files=approved_list,
        action=_s(decision.get("action")),
        resolved_by=resolved_by,
        time=epoch,
        clock=clock.show(epoch),
    )


def _timeline(
    result: AttemptAnalysis,
    timed_events: list[tuple[int, dict[str, Any], float | None]],
    coordination: dict[str, Any] | None,
    agent_folders: dict[str, dict[str, list[Path]]],
    clock: _Clock,
    offset: Callable[[float | None], float | None],
) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []

    def add(epoch: float | None, agent_id: str | None, kind: str, detail: str) -> None:
        entries.append(
            TimelineEntry(epoch, clock.show(epoch), offset(epoch), agent_id, kind, one_line(detail, 240))
        )

    if result.start_time is not None:
        add(result.start_time, None, "start", f"coordination starts with {len(result.agents)} agent(s)")
    if timed_events:
        vote_reasons = {(v.voter, v.voted_for): v.reason for v in result.votes}
        for _n, row, epoch in timed_events:
            kind = _s(row.get("event_type")) or ""
            agent_id = _s(row.get("agent_id"))
            data = _d(row.get("data"))
            if kind == "answer_submitted":
                label = _s(data.get("answer_label")) or "answer"
                add(epoch, agent_id, "answer", f"{label}: {_s(data.get('content')) or ''}")
            elif kind == "vote":
                target = _s(data.get("target_id")) or "?"
                reason = _s(data.get("reason")) or vote_reasons.get((agent_id or "", target), "")
                add(epoch, agent_id, "vote", f"for {target}" + (f" — {reason}" if reason else ""))
            elif kind == "agent_restart":
                reason = _s(data.get("restart_reason")) or "restart"
                add(epoch, agent_id, "restart", f"to round {_i(data.get('restart_round'))}: {reason}")
            elif kind == "restart_banner":
                add(
                    epoch,
                    agent_id,
                    "orchestration restart",
                    f"attempt {_i(data.get('attempt'))}/{_i(data.get('max_attempts'))}: "
                    f"{_s(data.get('reason')) or ''}",
                )
            elif kind == "text":
                content = (_s(data.get("content")) or "").strip()
                if content.startswith("❌ Retry"):
                    add(epoch, agent_id, "retry", content.lstrip("❌ "))
                elif content.startswith("❌"):
                    add(epoch, agent_id, "error", content.lstrip("❌ "))
                elif content.startswith("🔄") and "ignored" in content:
                    add(epoch, agent_id, "vote ignored", content.lstrip("🔄 "))
            elif kind == "error":
                add(epoch, agent_id, "error", _s(data.get("error")) or _s(data.get("message")) or "error")
            elif kind == "orchestrator_timeout":
                detail = _s(data.get("timeout_reason")) or "time limit reached"
                selected = _s(data.get("selected_agent"))
                add(epoch, agent_id, "timeout", detail + (f"; presenting {selected}" if selected else ""))
            elif kind == "tool_complete":
                failed = bool(_b(data.get("is_error"))) or (_s(data.get("status")) or "success") != "success"
                if failed:
                    add(
                        epoch,
                        agent_id,
                        "tool failure",
                        f"{_s(data.get('tool_name'))}: {_s(data.get('result'))}",
                    )
            elif kind == "status":
                add(epoch, agent_id, "status", _s(data.get("message")) or "")
            elif kind == "agent_stopped":
                add(epoch, agent_id, "stopped", _s(data.get("summary")) or _s(data.get("status")) or "")
            elif kind == "final_presentation_start":
                counts = ", ".join(f"{k} {_i(v)}" for k, v in _d(data.get("vote_counts")).items())
                tie = " (tie broken)" if _b(data.get("is_tie")) else ""
                add(epoch, agent_id, "final presentation", f"starts; votes: {counts or 'none'}{tie}")
            elif kind == "final_answer":
                add(epoch, agent_id, "final answer", _s(data.get("content")) or "")
            elif kind == "final_presentation_end":
                add(epoch, agent_id, "final presentation", "ends")
    elif coordination:
        for item in _l(coordination.get("events")):
            item = _d(item)
            kind = _s(item.get("event_type")) or ""
            epoch = _f(item.get("timestamp"))
            agent_id = _s(item.get("agent_id"))
            details = _s(item.get("details")) or ""
            mapped = {
                "new_answer": "answer",
                "vote_cast": "vote",
                "vote_ignored": "vote ignored",
                "restart_triggered": "restart",
                "final_agent_selected": "final presentation",
                "final_answer": "final answer",
                "session_end": "end",
            }.get(kind)
            if mapped is None and ("error" in kind or "timeout" in kind):
                mapped = "error" if "error" in kind else "timeout"
            if mapped:
                add(epoch, agent_id, mapped, details)
    else:  # only the answer / vote folders are left
        for agent_id, found in agent_folders.items():
            for path in found["answers"]:
                stamp = _parse_stamp(path.parent.name)
                add(clock.from_naive(stamp) if stamp else None, agent_id, "answer", path.parent.name)
        for vote in result.votes:
            add(vote.time, vote.voter, "vote", f"for {vote.voted_for} — {vote.reason}")
    if result.review is not None and result.review.decided:
        review = result.review
        add(
            review.time, None, "review", f"{review.outcome} (action {review.action}, by {review.resolved_by})"
        )
    entries.sort(key=lambda e: (e.time is None, e.time or 0.0))
    return entries


def _phases(
    result: AttemptAnalysis, timed_events: list[tuple[int, dict[str, Any], float | None]], clock: _Clock
) -> list[Phase]:
    def first(kind: str) -> float | None:
        return next(
            (t for _n, row, t in timed_events if row.get("event_type") == kind and t is not None), None
        )

    times = [t for _n, _row, t in timed_events if t is not None]
    start = result.start_time if result.start_time is not None else (times[0] if times else None)
    end = max(times) if times else None
    if result.elapsed_s is not None and start is not None:
        end = max(end or 0.0, start + result.elapsed_s)
    if result.review is not None and result.review.time is not None:
        end = max(end or 0.0, result.review.time)
    first_vote = first("vote") or (min((v.time for v in result.votes if v.time), default=None))
    present_start, present_end = first("final_presentation_start"), first("final_presentation_end")
    marks = [
        ("answering", start, first_vote or present_start or end),
        ("voting", first_vote, present_start or (end if first_vote else None)),
        ("final presentation", present_start, present_end or (end if present_start else None)),
        (
            "review / applying changes",
            present_end,
            end if present_end and (result.review is not None or result.applied_changes) else None,
        ),
    ]
    phases = []
    for name, begin, finish in marks:
        if begin is None or finish is None:
            continue
        seconds = round(max(0.0, finish - begin), 3)
        phases.append(Phase(name, begin, finish, seconds, clock.show(begin), clock.show(finish)))
    if start is not None and end is not None:
        phases.append(Phase("total", start, end, round(end - start, 3), clock.show(start), clock.show(end)))
    return phases


def _raw_events(
    timed_events: list[tuple[int, dict[str, Any], float | None]],
    coordination: dict[str, Any] | None,
    clock: _Clock,
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for number, row, epoch in timed_events:
        data = row.get("data")
        rows.append(
            {
                "source": EVENTS_JSONL,
                "seq": number,
                "time": epoch,
                "time_local": clock.show(epoch, with_date=True),
                "event_type": _s(row.get("event_type")) or "",
                "agent_id": _s(row.get("agent_id")),
                "round_number": _i(row.get("round_number"))
                if _f(row.get("round_number")) is not None
                else None,
                "detail": "",
                "data": json.dumps(data, ensure_ascii=False, default=str) if data is not None else None,
            }
        )
    for index, item in enumerate(_l(_d(coordination).get("events")), start=1):
        item = _d(item)
        epoch = _f(item.get("timestamp"))
        context = _d(item.get("context"))
        rows.append(
            {
                "source": COORDINATION_EVENTS_JSON,
                "seq": index,
                "time": epoch,
                "time_local": clock.show(epoch, with_date=True),
                "event_type": _s(item.get("event_type")) or "",
                "agent_id": _s(item.get("agent_id")),
                "round_number": _i(context.get("round")) if _f(context.get("round")) is not None else None,
                "detail": _s(item.get("details")) or "",
                "data": json.dumps(context, ensure_ascii=False, default=str) if context else None,
            }
        )
    return rows


def _attempt_findings(result: AttemptAnalysis) -> list[Finding]:
    findings: list[Finding] = []

    def add(severity: str, code: str, message: str) -> None:
        findings.append(Finding(severity, code, message, result.attempt))

    states = {f.name: f for f in result.files}
    if not states[STATUS_JSON].ok and states[STATUS_JSON].state == "missing":
        add(
            "warning",
            "status_missing",
            f"{STATUS_JSON}: missing — massgen never wrote it (the run failed within ~2 s of starting, or "
            "was killed); figures below come from the other files",
        )
    for state in result.files:
        if state.state in ("damaged", "unreadable"):
            add("warning", "file_damaged", state.line)
    if result.failure_stage or result.failure_error:
        add(
            "error",
            "failed_before_start",
            f"massgen failed before coordination (stage {result.failure_stage or '?'}): "
            f"{one_line(result.failure_error or '', 300)}",
        )
    for report in result.agents:
        if report.error_type == "timeout" or report.status == "timeout":
            add(
                "error",
                "agent_timeout",
                f"{report.agent_id} timed out: {report.error_message or 'no detail'}",
            )
        elif report.error_message or report.status == "error":
            add(
                "error",
                "agent_error",
                f"{report.agent_id} failed: {report.error_message or 'no detail recorded'}",
            )
    if result.finish_reason == "timeout":
        add("error", "run_timeout", f"the run hit its time limit ({result.finish_details or 'no detail'})")
    elif result.finish_reason == "in_progress":
        add(
            "warning",
            "not_finished",
            f"{STATUS_JSON} still says in_progress: the run is still going, or was stopped or killed before "
            "massgen could finish it",
        )
    if not result.winner:
        if result.agents and all(a.error_message or a.status in ("error", "timeout") for a in result.agents):
            why = "every agent failed"
        elif not any(a.answers for a in result.agents):
            why = "no agent produced an answer"
        else:
            why = "no vote was decided"
        if result.logged_errors:
            why += f" (massgen logged: {result.logged_errors[-1].split(': ', 1)[-1]})"
        add("error", "no_winner", f"no winner: {why}")
    elif result.is_tie:
        add("info", "tie", f"the vote was tied; massgen broke the tie in favour of {result.winner}")
    elif result.winner and not result.final_answer_path and result.finish_reason != "in_progress":
        add("warning", "no_final_answer", f"winner {result.winner} but no final/{result.winner}/{ANSWER_TXT}")
    restarts = sum(a.restarts for a in result.agents)
    if restarts:
        add(
            "info",
            "agent_restarts",
            f"{restarts} agent restart(s) — agents start over when a new answer arrives; many restarts mean "
            "slow convergence",
        )
    ignored = [e for e in result.timeline if e.kind == "vote ignored"]
    if ignored:
        add("info", "votes_ignored", f"{len(ignored)} vote(s) ignored because new answers arrived")
    retries = [e for e in result.timeline if e.kind == "retry"]
    if retries:
        who = sorted({e.agent or "?" for e in retries})
        add(
            "warning",
            "retries",
            f"{len(retries)} retry(ies) for not using the workflow tools: {', '.join(who)}",
        )
    if result.tool_failures:
        sample = "; ".join(f"{c.agent}: {c.tool}: {one_line(c.error, 80)}" for c in result.tool_failures[:3])
        add("warning", "tool_failures", f"{len(result.tool_failures)} tool call(s) failed ({sample})")
    elif result.totals.tool_failures:
        add("warning", "tool_failures", f"{result.totals.tool_failures} tool call(s) failed")
    review = result.review
    if review is not None:
        files = ", ".join(review.files) or "no files listed"
        if review.outcome == "approved":
            add(
                "info",
                "review_approved",
                f"review approved by {review.resolved_by}: {files} applied to the project",
            )
        elif review.outcome == "partly approved":
            kept = ", ".join(review.approved_files or []) or "none"
            add("info", "review_partly_approved", f"review approved only some files ({kept}) of: {files}")
        elif review.outcome == "timed out":
            add(
                "warning",
                "review_timed_out",
                f"review timed out with no decision (treated as rejected): {files} not applied",
            )
        elif review.outcome == "rejected":
            add("warning", "review_rejected", f"review rejected by {review.resolved_by}: {files} not applied")
        else:
            add("warning", "review_pending", f"review opened but no decision recorded: {files}")
    elif result.applied_changes:
        add(
            "warning",
            "applied_without_review",
            f"changes were written to the project without a review: {', '.join(result.applied_changes)}",
        )
    if result.logged_errors and not any(f.severity == "error" for f in findings):
        add(
            "warning",
            "logged_errors",
            f"massgen logged {len(result.logged_errors)} error line(s) (see below)",
        )
    tokens = result.totals.input_tokens + result.totals.output_tokens
    if tokens and not result.totals.estimated_cost:
        add(
            "info",
            "cost_unknown",
            f"estimated cost is $0 for {tokens} tokens: the models are probably not in massgen's price list",
        )
    return findings


# --- turns and sessions -------------------------------------------------------------------------------------


def analyze_turn(number: int, folder: Path) -> TurnAnalysis:
    attempts = layout.attempts(folder)
    if not attempts and _looks_like_attempt(folder):
        attempts = [(1, folder)]
    turn = TurnAnalysis(number, str(folder), [analyze_attempt(path, n) for n, path in attempts])
    if not turn.attempts:
        turn.findings.append(Finding("error", "no_attempts", f"no attempt_M folders in {folder}"))
    elif len(turn.attempts) > 1:
        turn.findings.append(
            Finding(
                "warning",
                "orchestration_restarts",
                f"massgen restarted the whole coordination {len(turn.attempts) - 1} time(s) "
                f"({len(turn.attempts)} attempts); the summary describes the last attempt",
            )
        )
    last = turn.last
    if last and last.winner:
        for candidate in (folder / FINAL_DIR / last.winner / ANSWER_TXT, folder / ANSWER_TXT):
            if candidate.is_file():
                turn.final_answer_path = str(candidate)
                break
        if not turn.final_answer_path:
            turn.final_answer_path = last.final_answer_path
    for attempt in turn.attempts:
        turn.findings.extend(attempt.findings)
    return turn


def analyze_log_dir(path: Path, turn: int | None = None) -> Analysis:
    """Analyse every turn (or the one asked for) of the session a log path belongs to."""
    target = locate(path, turn)
    return Analysis(str(target.session_root), [analyze_turn(n, p) for n, p in target.turns])


# --- Markdown -----------------------------------------------------------------------------------------------


def _cell(value: Any, limit: int = 120) -> str:
    if value is None or value == "":
        return "–"
    return one_line(str(value), limit).replace("|", "\\|")


def _money(value: float) -> str:
    return f"${value:.2f}" if value >= 1 else f"${value:.4f}"


def _secs(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} s" if value >= 10 else f"{value:.2f} s"


@dataclass
class _Raw:
    """A table cell that is already Markdown (not escaped)."""

    text: str


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += [
        "| " + " | ".join(_cell(c) if not isinstance(c, _Raw) else c.text for c in row) + " |" for row in rows
    ]
    return lines


def _outcome(attempt: AttemptAnalysis) -> str:
    total_votes = sum(attempt.vote_counts.values())
    if attempt.winner:
        got = attempt.vote_counts.get(attempt.winner)
        votes = f" ({got} of {total_votes} votes)" if got is not None and total_votes else ""
        head = f"winner **{attempt.winner}**{votes}"
    else:
        head = "**no winner**"
    reason = attempt.finish_reason
    if reason == "unknown" and not any(f.ok for f in attempt.files if f.name == STATUS_JSON):
        reason = "unknown (status.json missing)"
    details = f" — {attempt.finish_details}" if attempt.finish_details else ""
    return f"{head}; finish reason: {reason}{details}"


def _severity_mark(severity: str) -> str:
    return {"error": "**error**", "warning": "**warning**", "info": "info"}.get(severity, severity)


def render_markdown(turn: TurnAnalysis, analysis: Analysis, sqlite_path: str | None = None) -> str:
    """The ANALYSIS_REPORT.md text for one turn."""
    session = Path(analysis.log_dir).name
    lines = [f"# MassGen run analysis: {session}, turn {turn.turn}", ""]
    last = turn.last
    if last is None:
        lines += ["No attempt folders were found in this turn, so there is nothing to analyse.", ""]
        lines += _findings_section(turn.findings, "##", multi=False)
        lines += _sqlite_section(sqlite_path, "##")
        return "\n".join(lines).rstrip() + "\n"
    question = one_line(last.question, QUESTION_CHARS) if last.question else "(not recorded)"
    if len(last.question) > QUESTION_CHARS:
        question += f" ({len(last.question)} characters; full text in --json)"
    agents = ", ".join(
        f"{a.agent_id} ({'/'.join(x for x in (a.backend, a.model) if x) or 'model not recorded'})"
        for a in last.agents
    )
    tokens = f"{last.totals.input_tokens} in / {last.totals.output_tokens} out"
    summary_rows: list[list[Any]] = [
        ["Question", question],
        ["Outcome", _Raw(_cell(_outcome(last), 300))],
        ["Agents", f"{len(last.agents)}: {agents}" if last.agents else "none recorded"],
        ["Started", last.start_clock or "–"],
        ["Duration", _secs(last.elapsed_s)],
        ["Tokens", f"{tokens}; estimated cost {_money(last.totals.estimated_cost)}"],
        ["Tool calls", f"{last.totals.tool_calls} ({last.totals.tool_failures} failed)"],
        ["Attempts", str(len(turn.attempts))],
        ["Final answer", turn.final_answer_path or last.final_answer_path or "–"],
        ["Log folder", turn.path],
    ]
    if last.massgen_version:
        summary_rows.insert(-1, ["massgen", last.massgen_version])
    lines += [*_table(["", ""], summary_rows), ""]
    multi = len(turn.attempts) > 1
    lines += _findings_section(turn.findings, "##", multi=multi)
    for attempt in turn.attempts:
        level = "###" if multi else "##"
        if multi:
            lines += [f"## Attempt {attempt.attempt}", "", f"Folder: `{attempt.path}`", ""]
            lines += [f"Outcome: {_outcome(attempt)}", ""]
        lines += _attempt_sections(attempt, level)
    lines += _sqlite_section(sqlite_path, "##")
    return "\n".join(lines).rstrip() + "\n"


def _findings_section(findings: list[Finding], level: str, multi: bool) -> list[str]:
    lines = [f"{level} Findings", ""]
    if not findings:
        return [
            *lines,
            "Nothing unusual: every agent answered, a winner was chosen, no errors were recorded.",
            "",
        ]
    order = {"error": 0, "warning": 1, "info": 2}
    for item in sorted(findings, key=lambda f: (order.get(f.severity, 3), f.attempt or 0)):
        where = f"attempt {item.attempt}: " if multi and item.attempt is not None else ""
        lines.append(f"- {_severity_mark(item.severity)} — {where}{item.message}")
    return [*lines, ""]


def _attempt_sections(attempt: AttemptAnalysis, level: str) -> list[str]:
    lines: list[str] = []
    # Agents.
    lines += [f"{level} Agents", ""]
    if attempt.agents:
        rows = [
            [
                a.agent_id,
                "/".join(x for x in (a.backend, a.model) if x) or "–",
                a.status,
                a.answers,
                a.votes_received,
                a.voted_for,
                a.restarts,
                f"{a.tool_calls} ({a.tool_failures} failed)",
                f"{a.error_type}: {a.error_message}" if a.error_message else None,
            ]
            for a in attempt.agents
        ]
        header = ["Agent", "Backend/model", "Status", "Answers", "Votes received", "Voted for", "Restarts"]
        lines += _table([*header, "Tool calls", "Error"], rows)
    else:
        lines.append("No agent was recorded.")
    lines.append("")
    # Votes.
    lines += [f"{level} Votes", ""]
    if attempt.votes:
        rows = [
            [v.clock, v.voter, v.voted_for, v.voted_for_label, _cell(v.reason, 200)] for v in attempt.votes
        ]
        lines += _table(["Time", "Voter", "Voted for", "Answer", "Reason"], rows)
        lines.append("")
    else:
        lines += ["No votes were recorded.", ""]
    if attempt.vote_counts:
        tally = ", ".join(f"{k}: {v}" for k, v in sorted(attempt.vote_counts.items(), key=lambda kv: -kv[1]))
        lines += [f"Tally: {tally}.", ""]
    lines += [
        f"Winner: **{attempt.winner}**" + (" (tie broken by massgen)" if attempt.is_tie else "") + "."
        if attempt.winner
        else "Winner: none.",
        "",
    ]
    # Tokens and cost.
    lines += [f"{level} Tokens and estimated cost", ""]
    rows = [
        [
            a.agent_id,
            a.input_tokens,
            a.output_tokens,
            a.reasoning_tokens,
            a.cached_input_tokens,
            _money(a.estimated_cost),
        ]
        for a in attempt.agents
    ]
    t = attempt.totals
    rows.append(
        [_Raw("**total**"), t.input_tokens, t.output_tokens, t.reasoning_tokens, "", _money(t.estimated_cost)]
    )
    lines += _table(["Agent", "Input", "Output", "Reasoning", "Cached input", "Est. cost (USD)"], rows)
    lines.append("")
    # Tools.
    lines += [f"{level} Tool calls", ""]
    if attempt.tools:
        rows = [[s.name, s.tool_type, s.calls, s.failures, f"{s.total_ms:.0f}"] for s in attempt.tools]
        lines += _table(["Tool", "Type", "Calls", "Failed", "Total ms"], rows)
        lines.append("")
    else:
        lines += ["No tool calls were recorded.", ""]
    if attempt.tool_failures:
        lines.append("Failed calls:")
        lines += [
            f"- {c.clock or '–'} {c.agent or '?'} `{c.tool}`: {_cell(c.error or 'no message', 200)}"
            for c in attempt.tool_failures[:20]
        ]
        lines.append("")
    # Phases.
    lines += [f"{level} Time per phase", ""]
    if attempt.phases:
        rows = [[p.name, p.start_clock, p.end_clock, _secs(p.seconds)] for p in attempt.phases]
        lines += _table(["Phase", "From", "To", "Duration"], rows)
        lines.append("")
    else:
        lines += ["No timing was recorded.", ""]
    types = sorted({k for a in attempt.agents for k in a.seconds_by_round_type})
    if types:
        lines.append("Time each agent spent per round type (from massgen's round history):")
        lines.append("")
        rows = [[a.agent_id, *[_secs(a.seconds_by_round_type.get(k)) for k in types]] for a in attempt.agents]
        lines += _table(["Agent", *types], rows)
        lines.append("")
    # Timeline.
    lines += [f"{level} Timeline", ""]
    if attempt.timeline:
        shown = attempt.timeline[:TIMELINE_ROWS_MAX]
        rows = [
            [e.clock, f"+{e.offset_s:.2f}" if e.offset_s is not None else "–", e.agent, e.kind, e.detail]
            for e in shown
        ]
        lines += _table(["Time", "+s", "Agent", "Event", "Detail"], rows)
        if len(attempt.timeline) > len(shown):
            lines.append(
                f"\n… {len(attempt.timeline) - len(shown)} more entries (see --json or the SQLite export)."
            )
        lines.append("")
    else:
        lines += ["No events were recorded.", ""]
    # Review.
    if attempt.review is not None:
        r = attempt.review
        lines += [f"{level} Review of file changes", ""]
        lines.append(f"- Files: {', '.join(r.files) or 'none listed'}")
        lines.append(f"- Outcome: **{r.outcome}**" + (f" at {r.clock}" if r.clock else ""))
        if r.decided:
            lines.append(
                f"- Action: {r.action}; resolved by: {r.resolved_by}; approved files: "
                f"{'all' if r.approved_files is None else ', '.join(r.approved_files) or 'none'}"
            )
        lines.append("")
    # Final answer.
    if attempt.final_answer_preview:
        lines += [f"{level} Final answer", ""]
        if attempt.final_answer_path:
            lines += [f"`{attempt.final_answer_path}`", ""]
        preview = attempt.final_answer_preview[:PREVIEW_CHARS]
        more = " …" if len(attempt.final_answer_preview) > PREVIEW_CHARS else ""
        lines += ["> " + line for line in (preview + more).splitlines() or [""]]
        lines.append("")
    # Logged errors.
    if attempt.logged_errors:
        lines += [f"{level} Errors logged by massgen ({MASSGEN_LOG})", ""]
        lines += [f"- `{_cell(e, 300).replace('`', '')}`" for e in attempt.logged_errors]
        lines.append("")
    # Files.
    lines += [f"{level} Files read", ""]
    lines += _table(["File", "State"], [[f.name, f.detail or f.state] for f in attempt.files])
    lines.append("")
    return lines


def _sqlite_section(sqlite_path: str | None, level: str) -> list[str]:
    lines = [f"{level} SQL", ""]
    if sqlite_path:
        lines += [f"Exported to `{sqlite_path}` (SQLite). Tables:", ""]
    else:
        lines += [
            "Export events and per-agent metrics with `massgen-skill analyze LOG_DIR --sqlite FILE`; tables:",
            "",
        ]
    lines += [f"- `{name}` — {text}" for name, text in SQLITE_TABLES.items()]
    lines += [
        "",
        "Every table has `turn` and `attempt` columns; `events.data` is JSON (use `json_extract`).",
        "",
    ]
    return lines


# --- JSON ---------------------------------------------------------------------------------------------------

_RAW_FIELDS = ("rounds", "tool_calls", "raw_events")


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def to_dict(analysis: Analysis, markdown: dict[int, str] | None = None) -> dict[str, Any]:
    """The analysis as plain data (what --json prints), without the raw log rows."""
    turns = []
    for turn in analysis.turns:
        attempts = []
        for attempt in turn.attempts:
            data = {
                f.name: _plain(getattr(attempt, f.name)) for f in fields(attempt) if f.name not in _RAW_FIELDS
            }
            data["files"] = [{"name": f.name, "state": f.state, "line": f.line} for f in attempt.files]
            attempts.append(data)
        entry: dict[str, Any] = {
            "turn": turn.turn,
            "path": turn.path,
            "report_path": turn.report_path,
            "final_answer_path": turn.final_answer_path,
            "findings": [asdict(f) for f in turn.findings],
            "attempts": attempts,
        }
        if markdown is not None and turn.turn in markdown:
            entry["markdown"] = markdown[turn.turn]
        turns.append(entry)
    return {"log_dir": analysis.log_dir, "turns": turns}


# --- writing ------------------------------------------------------------------------------------------------


def atomic_write_text(path: Path, text: str) -> None:
    """Write atomically; a failure is one SkillError line."""
    try:
        atomic.write_text(path, text)
    except OSError as exc:
        raise _write_error(path, exc) from None


def _write_error(path: Path, exc: OSError) -> SkillError:
    reason = exc.strerror or str(exc)
    return SkillError(
        f"cannot write {path}: {reason} (copy the log folder somewhere writable, or use --stdout)",
        ExitCode.INVALID_INPUT,
    )


def write_reports(analysis: Analysis, sqlite_path: str | None = None) -> list[Path]:
    """Write turn_N/ANALYSIS_REPORT.md for every analysed turn; returns the paths."""
    written = []
    for turn in analysis.turns:
        path = Path(turn.path) / REPORT_NAME
        atomic_write_text(path, render_markdown(turn, analysis, sqlite_path))
        turn.report_path = str(path)
        written.append(path)
    return written


_SCHEMA = {
    "attempts": "turn INTEGER, attempt INTEGER, log_dir TEXT, path TEXT, question TEXT, finish_reason TEXT, "
    "finish_details TEXT, winner TEXT, is_tie INTEGER, start_time REAL, start_local TEXT, elapsed_s REAL, "
    "input_tokens INTEGER, output_tokens INTEGER, reasoning_tokens INTEGER, estimated_cost REAL, "
    "tool_calls INTEGER, tool_failures INTEGER, review_outcome TEXT, massgen_version TEXT",
    "agents": "turn INTEGER, attempt INTEGER, agent_id TEXT, backend TEXT, model TEXT, status TEXT, "
    "answers INTEGER, votes_received INTEGER, voted_for TEXT, vote_reason TEXT, restarts INTEGER, "
    "is_winner INTEGER, input_tokens INTEGER, output_tokens INTEGER, reasoning_tokens INTEGER, "
    "cached_input_tokens INTEGER, estimated_cost REAL, tool_calls INTEGER, tool_failures INTEGER, "
    "error_type TEXT, error_message TEXT",
    "rounds": "turn INTEGER, attempt INTEGER, agent_id TEXT, round_number INTEGER, round_type TEXT, "
    "outcome TEXT, input_tokens INTEGER, output_tokens INTEGER, estimated_cost REAL, duration_ms REAL, "
    "tool_calls INTEGER, start_time REAL, end_time REAL",
    "votes": "turn INTEGER, attempt INTEGER, voter TEXT, voted_for TEXT, voted_for_label TEXT, reason TEXT, "
    "time REAL, time_local TEXT",
    "tool_calls": "turn INTEGER, attempt INTEGER, agent_id TEXT, tool TEXT, tool_type TEXT, "
    "round_number INTEGER, time REAL, time_local TEXT, execution_ms REAL, success INTEGER, error TEXT",
    "events": "turn INTEGER, attempt INTEGER, source TEXT, seq INTEGER, time REAL, time_local TEXT, "
    "event_type TEXT, agent_id TEXT, round_number INTEGER, detail TEXT, data TEXT",
    "findings": "turn INTEGER, attempt INTEGER, severity TEXT, code TEXT, message TEXT",
}


def export_sqlite(analysis: Analysis, path: Path) -> list[str]:
    """Write a fresh SQLite database (atomically replacing `path`); returns the table names."""
    path = path.expanduser().resolve()
    if not path.parent.is_dir():
        raise SkillError(f"cannot write {path}: folder {path.parent} does not exist", ExitCode.INVALID_INPUT)
    try:
        with atomic.replacing(path) as temp:
            connection = sqlite3.connect(temp)  # sqlite creates the file with the usual permissions
            try:
                with connection:
                    _fill(connection, analysis)
            finally:
                connection.close()
    except OSError as exc:
        raise _write_error(path, exc) from None
    except sqlite3.Error as exc:
        raise SkillError(f"cannot write {path}: {exc}", ExitCode.INVALID_INPUT) from None
    return list(SQLITE_TABLES)


def _fill(db: sqlite3.Connection, analysis: Analysis) -> None:
    for name, columns in _SCHEMA.items():
        db.execute(f"CREATE TABLE {name} ({columns})")

    def insert(table: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            marks = ",".join("?" * len(rows[0]))
            db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)

    for turn in analysis.turns:
        n = turn.turn
        insert("findings", [(n, f.attempt, f.severity, f.code, f.message) for f in turn.findings])
        for a in turn.attempts:
            m, t = a.attempt, a.totals
            review = a.review.outcome if a.review else None
            insert(
                "attempts",
                [
                    (n, m, analysis.log_dir, a.path, a.question, a.finish_reason, a.finish_details,
                     a.winner, int(a.is_tie), a.start_time, a.start_clock, a.elapsed_s, t.input_tokens,
                     t.output_tokens, t.reasoning_tokens, t.estimated_cost, t.tool_calls, t.tool_failures,
                     review, a.massgen_version)
                ],
            )  # fmt: skip
            insert(
                "agents",
                [
                    (n, m, g.agent_id, g.backend, g.model, g.status, g.answers, g.votes_received,
                     g.voted_for, g.vote_reason, g.restarts, int(g.agent_id == a.winner), g.input_tokens,
                     g.output_tokens, g.reasoning_tokens, g.cached_input_tokens, g.estimated_cost,
                     g.tool_calls, g.tool_failures, g.error_type, g.error_message)
                    for g in a.agents
                ],
            )  # fmt: skip
            insert(
                "rounds",
                [
                    (n, m, r.agent, r.round_number, r.round_type, r.outcome, r.input_tokens, r.output_tokens,
                     r.estimated_cost, r.duration_ms, r.tool_calls, r.start_time, r.end_time)
                    for r in a.rounds
                ],
            )  # fmt: skip
            insert(
                "votes",
                [(n, m, v.voter, v.voted_for, v.voted_for_label, v.reason, v.time, v.clock) for v in a.votes],
            )
            insert(
                "tool_calls",
                [
                    (n, m, c.agent, c.tool, c.tool_type, c.round_number, c.time, c.clock, c.execution_ms,
                     int(c.success), c.error)
                    for c in a.tool_calls
                ],
            )  # fmt: skip
            insert(
                "events",
                [
                    (n, m, e["source"], e["seq"], e["time"], e["time_local"], e["event_type"], e["agent_id"],
                     e["round_number"], e["detail"], e["data"])
                    for e in a.raw_events
                ],
            )  # fmt: skip

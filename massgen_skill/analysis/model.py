"""The analysis as data: what an attempt, a turn and a session of a massgen run recorded, and what it means.

Plain dataclasses with no behaviour beyond small views; `--json` prints them (`json_export.py`), the report
renders them (`report.py`) and `sqlite_export.py` turns them into tables. Times are epoch seconds; `clock`
fields hold the same instant on the recording machine's wall clock (see `clock.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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


@dataclass(kw_only=True)
class Usage:
    """Tokens, cost and tool calls: of one agent, or the totals of an attempt."""

    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    estimated_cost: float = 0.0
    tool_calls: int = 0
    tool_failures: int = 0


@dataclass
class AgentReport(Usage):
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
    cached_input_tokens: int = 0
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
class Totals(Usage):
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
    timeline_path: str | None = None  # the SVG beside the report, once written

    @property
    def last(self) -> AttemptAnalysis | None:
        return self.attempts[-1] if self.attempts else None


@dataclass
class Analysis:
    log_dir: str
    turns: list[TurnAnalysis]

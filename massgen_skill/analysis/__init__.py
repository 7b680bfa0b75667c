"""Read what massgen recorded for a run, turn by turn, and explain it: Markdown report, data, SQLite export.

Pure reading: nothing here starts massgen or talks to it. Every input file may be missing, half written or
damaged; each problem is noted as a `FileState` and the analysis goes on with whatever else was recorded.
Layout and formats: contract §3 (status.json) and §4 (log layout), checked against the recorded runs in
`massgen-samples/0.1.97/`. Times are kept as epoch seconds and shown on the recording machine's clock
(`clock.py`), so times in the report match massgen's own logs.

Modules, in the order the work flows:
  target        a log path → session root and turn folders (`locate`)
  read          reading one attempt's files, noting each one's state (`AttemptFiles`)
  coerce        safe accessors for fields of any type
  clock         epoch seconds ↔ the recording machine's wall clock
  events        events.jsonl / coordination_events.json as timed rows
  overview      question, finish reason, start and duration
  agents        the agents and their figures
  votes         votes, tally and winner
  usage         token and cost totals, tool calls
  changes       the review of file changes, changes applied without one
  answer        where the final answer is
  massgen_log   errors massgen logged
  timeline      the timeline and time per phase
  findings      the rules that flag what matters
  attempt       one attempt, start to end (`analyze_attempt`)
  session       turns and sessions (`analyze_turn`, `analyze_log_dir`)
  model         the dataclasses all of the above fill
  report        the Markdown report and writing it (`render_markdown`, `write_reports`)
  markdown      table and cell formatting for the report
  json_export   the analysis as plain data for --json (`to_dict`)
  sqlite_export the SQLite export, per run or shared across runs (`export_sqlite`, `append_run`)
  svg_timeline  the timeline drawn as SVG, agents as lanes (`render_svg`)
  write         atomic writes, one-line errors
"""

from __future__ import annotations

from massgen_skill.analysis.attempt import analyze_attempt
from massgen_skill.analysis.json_export import to_dict
from massgen_skill.analysis.model import (
    AgentReport,
    Analysis,
    AttemptAnalysis,
    FileState,
    Finding,
    Phase,
    Review,
    RoundRow,
    TimelineEntry,
    ToolCall,
    ToolStat,
    Totals,
    TurnAnalysis,
    Vote,
)
from massgen_skill.analysis.report import REPORT_NAME, render_markdown, write_reports
from massgen_skill.analysis.session import analyze_log_dir, analyze_turn
from massgen_skill.analysis.sqlite_export import (
    SQLITE_TABLES,
    append_analysis,
    append_run,
    default_run_id,
    export_sqlite,
)
from massgen_skill.analysis.target import LogTarget, locate
from massgen_skill.analysis.write import atomic_write_text

__all__ = [
    "REPORT_NAME",
    "SQLITE_TABLES",
    "AgentReport",
    "Analysis",
    "AttemptAnalysis",
    "FileState",
    "Finding",
    "LogTarget",
    "Phase",
    "Review",
    "RoundRow",
    "TimelineEntry",
    "ToolCall",
    "ToolStat",
    "Totals",
    "TurnAnalysis",
    "Vote",
    "analyze_attempt",
    "analyze_log_dir",
    "analyze_turn",
    "append_analysis",
    "append_run",
    "atomic_write_text",
    "default_run_id",
    "export_sqlite",
    "locate",
    "render_markdown",
    "to_dict",
    "write_reports",
]

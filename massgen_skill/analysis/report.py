"""The Markdown report, turn_N/ANALYSIS_REPORT.md: a summary, the findings, then each attempt's sections."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from massgen_skill.analysis.answer import PREVIEW_CHARS
from massgen_skill.analysis.markdown import Raw, cell, money, secs, table
from massgen_skill.analysis.model import Analysis, AttemptAnalysis, Finding, TurnAnalysis
from massgen_skill.analysis.sqlite_export import SQLITE_TABLES
from massgen_skill.analysis.svg_timeline import TIMELINE_NAME, render_svg
from massgen_skill.analysis.write import atomic_write_text
from massgen_skill.massgen import layout
from massgen_skill.output import one_line

REPORT_NAME = "ANALYSIS_REPORT.md"
TIMELINE_ROWS_MAX = 200
QUESTION_CHARS = 300
FAILED_CALLS_MAX = 20


def write_reports(analysis: Analysis, sqlite_path: str | None = None) -> list[Path]:
    """Write turn_N/ANALYSIS_REPORT.md and its timeline picture for every analysed turn; returns the
    reports' paths."""
    written = []
    for turn in analysis.turns:
        path = Path(turn.path) / REPORT_NAME
        picture = render_svg(turn) if turn.attempts else None
        turn.timeline_path = str(path.with_name(TIMELINE_NAME)) if picture else None
        atomic_write_text(path, render_markdown(turn, analysis, sqlite_path))
        turn.report_path = str(path)
        if picture:
            atomic_write_text(path.with_name(TIMELINE_NAME), picture)
        written.append(path)
    return written


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
    lines += [*table(["", ""], _summary_rows(turn, last)), ""]
    if turn.timeline_path:
        picture = "answers, votes, restarts and the final presentation over time, one lane per agent"
        lines += [f"![Timeline: {picture}]({TIMELINE_NAME})", ""]
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


def _summary_rows(turn: TurnAnalysis, last: AttemptAnalysis) -> list[list[Any]]:
    """The table at the top: question, outcome, agents, timing, tokens, tools, where things are."""
    question = one_line(last.question, QUESTION_CHARS) if last.question else "(not recorded)"
    if len(last.question) > QUESTION_CHARS:
        question += f" ({len(last.question)} characters; full text in --json)"
    agents = ", ".join(
        f"{a.agent_id} ({'/'.join(x for x in (a.backend, a.model) if x) or 'model not recorded'})"
        for a in last.agents
    )
    tokens = f"{last.totals.input_tokens} in / {last.totals.output_tokens} out"
    rows: list[list[Any]] = [
        ["Question", question],
        ["Outcome", Raw(cell(_outcome(last), 300))],
        ["Agents", f"{len(last.agents)}: {agents}" if last.agents else "none recorded"],
        ["Started", last.start_clock or "–"],
        ["Duration", secs(last.elapsed_s)],
        ["Tokens", f"{tokens}; estimated cost {money(last.totals.estimated_cost)}"],
        ["Tool calls", f"{last.totals.tool_calls} ({last.totals.tool_failures} failed)"],
        ["Attempts", str(len(turn.attempts))],
        ["Final answer", turn.final_answer_path or last.final_answer_path or "–"],
        ["Log folder", turn.path],
    ]
    if last.massgen_version:
        rows.insert(-1, ["massgen", last.massgen_version])
    return rows


def _outcome(attempt: AttemptAnalysis) -> str:
    total_votes = sum(attempt.vote_counts.values())
    if attempt.winner:
        got = attempt.vote_counts.get(attempt.winner)
        votes = f" ({got} of {total_votes} votes)" if got is not None and total_votes else ""
        head = f"winner **{attempt.winner}**{votes}"
    else:
        head = "**no winner**"
    reason = attempt.finish_reason
    if reason == "unknown" and not any(f.ok for f in attempt.files if f.name == layout.STATUS_FILE):
        reason = f"unknown ({layout.STATUS_FILE} missing)"
    details = f" — {attempt.finish_details}" if attempt.finish_details else ""
    return f"{head}; finish reason: {reason}{details}"


def _severity_mark(severity: str) -> str:
    return {"error": "**error**", "warning": "**warning**", "info": "info"}.get(severity, severity)


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
    for section in (
        _agents_section,
        _votes_section,
        _tokens_section,
        _tools_section,
        _phases_section,
        _timeline_section,
        _review_section,
        _final_answer_section,
        _logged_errors_section,
        _files_section,
    ):
        lines += section(attempt, level)
    return lines


def _agents_section(attempt: AttemptAnalysis, level: str) -> list[str]:
    lines = [f"{level} Agents", ""]
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
        lines += table([*header, "Tool calls", "Error"], rows)
    else:
        lines.append("No agent was recorded.")
    return [*lines, ""]


def _votes_section(attempt: AttemptAnalysis, level: str) -> list[str]:
    lines = [f"{level} Votes", ""]
    if attempt.votes:
        rows = [
            [v.clock, v.voter, v.voted_for, v.voted_for_label, cell(v.reason, 200)] for v in attempt.votes
        ]
        lines += [*table(["Time", "Voter", "Voted for", "Answer", "Reason"], rows), ""]
    else:
        lines += ["No votes were recorded.", ""]
    if attempt.vote_counts:
        tally = ", ".join(f"{k}: {v}" for k, v in sorted(attempt.vote_counts.items(), key=lambda kv: -kv[1]))
        lines += [f"Tally: {tally}.", ""]
    if attempt.winner:
        lines.append(
            f"Winner: **{attempt.winner}**" + (" (tie broken by massgen)" if attempt.is_tie else "") + "."
        )
    else:
        lines.append("Winner: none.")
    return [*lines, ""]


def _tokens_section(attempt: AttemptAnalysis, level: str) -> list[str]:
    rows: list[list[Any]] = [
        [
            a.agent_id,
            a.input_tokens,
            a.output_tokens,
            a.reasoning_tokens,
            a.cached_input_tokens,
            money(a.estimated_cost),
        ]
        for a in attempt.agents
    ]
    t = attempt.totals
    rows.append(
        [Raw("**total**"), t.input_tokens, t.output_tokens, t.reasoning_tokens, "", money(t.estimated_cost)]
    )
    header = ["Agent", "Input", "Output", "Reasoning", "Cached input", "Est. cost (USD)"]
    return [f"{level} Tokens and estimated cost", "", *table(header, rows), ""]


def _tools_section(attempt: AttemptAnalysis, level: str) -> list[str]:
    lines = [f"{level} Tool calls", ""]
    if attempt.tools:
        rows = [[s.name, s.tool_type, s.calls, s.failures, f"{s.total_ms:.0f}"] for s in attempt.tools]
        lines += [*table(["Tool", "Type", "Calls", "Failed", "Total ms"], rows), ""]
    else:
        lines += ["No tool calls were recorded.", ""]
    if attempt.tool_failures:
        lines.append("Failed calls:")
        lines += [
            f"- {c.clock or '–'} {c.agent or '?'} `{c.tool}`: {cell(c.error or 'no message', 200)}"
            for c in attempt.tool_failures[:FAILED_CALLS_MAX]
        ]
        lines.append("")
    return lines


def _phases_section(attempt: AttemptAnalysis, level: str) -> list[str]:
    lines = [f"{level} Time per phase", ""]
    if attempt.phases:
        rows = [[p.name, p.start_clock, p.end_clock, secs(p.seconds)] for p in attempt.phases]
        lines += [*table(["Phase", "From", "To", "Duration"], rows), ""]
    else:
        lines += ["No timing was recorded.", ""]
    types = sorted({k for a in attempt.agents for k in a.seconds_by_round_type})
    if types:
        lines += ["Time each agent spent per round type (from massgen's round history):", ""]
        rows = [[a.agent_id, *[secs(a.seconds_by_round_type.get(k)) for k in types]] for a in attempt.agents]
        lines += [*table(["Agent", *types], rows), ""]
    return lines


def _timeline_section(attempt: AttemptAnalysis, level: str) -> list[str]:
    lines = [f"{level} Timeline", ""]
    if not attempt.timeline:
        return [*lines, "No events were recorded.", ""]
    shown = attempt.timeline[:TIMELINE_ROWS_MAX]
    rows = [
        [e.clock, f"+{e.offset_s:.2f}" if e.offset_s is not None else "–", e.agent, e.kind, e.detail]
        for e in shown
    ]
    lines += table(["Time", "+s", "Agent", "Event", "Detail"], rows)
    if len(attempt.timeline) > len(shown):
        lines.append(
            f"\n… {len(attempt.timeline) - len(shown)} more entries (see --json or the SQLite export)."
        )
    return [*lines, ""]


def _review_section(attempt: AttemptAnalysis, level: str) -> list[str]:
    r = attempt.review
    if r is None:
        return []
    lines = [f"{level} Review of file changes", ""]
    lines.append(f"- Files: {', '.join(r.files) or 'none listed'}")
    lines.append(f"- Outcome: **{r.outcome}**" + (f" at {r.clock}" if r.clock else ""))
    if r.decided:
        approved = "all" if r.approved_files is None else ", ".join(r.approved_files) or "none"
        lines.append(f"- Action: {r.action}; resolved by: {r.resolved_by}; approved files: {approved}")
    return [*lines, ""]


def _final_answer_section(attempt: AttemptAnalysis, level: str) -> list[str]:
    if not attempt.final_answer_preview:
        return []
    lines = [f"{level} Final answer", ""]
    if attempt.final_answer_path:
        lines += [f"`{attempt.final_answer_path}`", ""]
    preview = attempt.final_answer_preview[:PREVIEW_CHARS]
    more = " …" if len(attempt.final_answer_preview) > PREVIEW_CHARS else ""
    lines += ["> " + line for line in (preview + more).splitlines() or [""]]
    return [*lines, ""]


def _logged_errors_section(attempt: AttemptAnalysis, level: str) -> list[str]:
    if not attempt.logged_errors:
        return []
    lines = [f"{level} Errors logged by massgen ({layout.MASSGEN_LOG_FILE})", ""]
    lines += [f"- `{cell(e, 300).replace('`', '')}`" for e in attempt.logged_errors]
    return [*lines, ""]


def _files_section(attempt: AttemptAnalysis, level: str) -> list[str]:
    rows: list[list[Any]] = [[f.name, f.detail or f.state] for f in attempt.files]
    return [f"{level} Files read", "", *table(["File", "State"], rows), ""]


def _sqlite_section(sqlite_path: str | None, level: str) -> list[str]:
    lines = [f"{level} SQL", ""]
    if sqlite_path:
        lines += [f"Exported to `{sqlite_path}` (SQLite). Tables:", ""]
    else:
        lines += [
            "Export events and per-agent metrics with `massgen-skill analyze LOG_DIR --sqlite FILE`, or add",
            "this run to a database of many runs with `--into FILE`; tables:",
            "",
        ]
    lines += [f"- `{name}` — {text}" for name, text in SQLITE_TABLES.items()]
    lines += [
        "",
        "Every table but `runs` has `run_id`, `turn` and `attempt` columns; `events.data` is JSON",
        "(use `json_extract`).",
        "",
    ]
    return lines

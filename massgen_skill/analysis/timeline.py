"""What happened when: the timeline of one attempt and the time spent in each phase.

The timeline comes from events.jsonl, else coordination_events.json, else the answer and vote folders; times
are shown on the recording machine's clock, with seconds since the attempt started.
"""

from __future__ import annotations

from typing import Any

from massgen_skill.analysis.clock import Clock, parse_stamp
from massgen_skill.analysis.coerce import as_bool, as_dict, as_float, as_int, as_list, as_str
from massgen_skill.analysis.events import TimedEvent, first_time, tool_failed
from massgen_skill.analysis.model import AttemptAnalysis, Phase, TimelineEntry
from massgen_skill.analysis.read import AttemptFiles
from massgen_skill.output import one_line

# coordination_events.json event type → timeline kind (errors and timeouts are matched by name).
_COORDINATION_KINDS = {
    "new_answer": "answer",
    "vote_cast": "vote",
    "vote_ignored": "vote ignored",
    "restart_triggered": "restart",
    "final_agent_selected": "final presentation",
    "final_answer": "final answer",
    "session_end": "end",
}

# (epoch, agent, kind, detail) before it becomes a TimelineEntry.
_Mark = tuple[float | None, str | None, str, str]


def timeline(
    result: AttemptAnalysis, files: AttemptFiles, events: list[TimedEvent], clock: Clock
) -> list[TimelineEntry]:
    """The attempt's events in time order (untimed last), each detail on one bounded line."""
    marks: list[_Mark] = []
    if result.start_time is not None:
        detail = f"coordination starts with {len(result.agents)} agent(s)"
        marks.append((result.start_time, None, "start", detail))
    if events:
        marks += _from_events(result, events)
    elif files.coordination:
        marks += _from_coordination(files.coordination)
    else:  # only the answer / vote folders are left
        marks += _from_folders(result, files, clock)
    if result.review is not None and result.review.decided:
        review = result.review
        detail = f"{review.outcome} (action {review.action}, by {review.resolved_by})"
        marks.append((review.time, None, "review", detail))
    entries = [
        TimelineEntry(
            epoch, clock.show(epoch), _offset(epoch, result.start_time), agent, kind, one_line(detail, 240)
        )
        for epoch, agent, kind, detail in marks
    ]
    entries.sort(key=lambda e: (e.time is None, e.time or 0.0))
    return entries


def _offset(epoch: float | None, start: float | None) -> float | None:
    if epoch is None or start is None:
        return None
    return round(epoch - start, 3)


def _from_events(result: AttemptAnalysis, events: list[TimedEvent]) -> list[_Mark]:
    vote_reasons = {(v.voter, v.voted_for): v.reason for v in result.votes}
    marks: list[_Mark] = []
    for _n, row, epoch in events:
        agent_id = as_str(row.get("agent_id"))
        kind, data = as_str(row.get("event_type")) or "", as_dict(row.get("data"))
        described = _describe(kind, data, agent_id, vote_reasons)
        if described is not None:
            marks.append((epoch, agent_id, *described))
    return marks


def _describe(
    kind: str, data: dict[str, Any], agent_id: str | None, vote_reasons: dict[tuple[str, str | None], str]
) -> tuple[str, str] | None:
    """An events.jsonl event as (timeline kind, detail); None for events the timeline leaves out."""
    if kind == "answer_submitted":
        label = as_str(data.get("answer_label")) or "answer"
        return "answer", f"{label}: {as_str(data.get('content')) or ''}"
    if kind == "vote":
        target = as_str(data.get("target_id")) or "?"
        reason = as_str(data.get("reason")) or vote_reasons.get((agent_id or "", target), "")
        return "vote", f"for {target}" + (f" — {reason}" if reason else "")
    if kind == "agent_restart":
        reason = as_str(data.get("restart_reason")) or "restart"
        return "restart", f"to round {as_int(data.get('restart_round'))}: {reason}"
    if kind == "restart_banner":
        attempt = f"{as_int(data.get('attempt'))}/{as_int(data.get('max_attempts'))}"
        return "orchestration restart", f"attempt {attempt}: {as_str(data.get('reason')) or ''}"
    if kind == "text":
        return _describe_text((as_str(data.get("content")) or "").strip())
    if kind == "error":
        return "error", as_str(data.get("error")) or as_str(data.get("message")) or "error"
    if kind == "orchestrator_timeout":
        detail = as_str(data.get("timeout_reason")) or "time limit reached"
        selected = as_str(data.get("selected_agent"))
        return "timeout", detail + (f"; presenting {selected}" if selected else "")
    if kind == "tool_complete":
        if not tool_failed(data):
            return None
        return "tool failure", f"{as_str(data.get('tool_name'))}: {as_str(data.get('result'))}"
    return _describe_progress(kind, data)


def _describe_text(content: str) -> tuple[str, str] | None:
    """massgen's marked text lines: `❌ Retry …`, `❌ error`, `🔄 … ignored`."""
    if content.startswith("❌ Retry"):
        return "retry", content.lstrip("❌ ")
    if content.startswith("❌"):
        return "error", content.lstrip("❌ ")
    if content.startswith("🔄") and "ignored" in content:
        return "vote ignored", content.lstrip("🔄 ")
    return None


def _describe_progress(kind: str, data: dict[str, Any]) -> tuple[str, str] | None:
    """Status lines, agents stopping and the final presentation."""
    if kind == "status":
        return "status", as_str(data.get("message")) or ""
    if kind == "agent_stopped":
        return "stopped", as_str(data.get("summary")) or as_str(data.get("status")) or ""
    if kind == "final_presentation_start":
        counts = ", ".join(f"{k} {as_int(v)}" for k, v in as_dict(data.get("vote_counts")).items())
        tie = " (tie broken)" if as_bool(data.get("is_tie")) else ""
        return "final presentation", f"starts; votes: {counts or 'none'}{tie}"
    if kind == "final_answer":
        return "final answer", as_str(data.get("content")) or ""
    if kind == "final_presentation_end":
        return "final presentation", "ends"
    return None


def _from_coordination(coordination: dict[str, Any]) -> list[_Mark]:
    marks: list[_Mark] = []
    for item in as_list(coordination.get("events")):
        item = as_dict(item)
        kind = as_str(item.get("event_type")) or ""
        mapped = _COORDINATION_KINDS.get(kind)
        if mapped is None and ("error" in kind or "timeout" in kind):
            mapped = "error" if "error" in kind else "timeout"
        if mapped:
            epoch, agent_id = as_float(item.get("timestamp")), as_str(item.get("agent_id"))
            marks.append((epoch, agent_id, mapped, as_str(item.get("details")) or ""))
    return marks


def _from_folders(result: AttemptAnalysis, files: AttemptFiles, clock: Clock) -> list[_Mark]:
    marks: list[_Mark] = []
    for agent_id, found in files.agent_folders.items():
        for path in found["answers"]:
            stamp = parse_stamp(path.parent.name)
            marks.append((clock.from_naive(stamp) if stamp else None, agent_id, "answer", path.parent.name))
    for vote in result.votes:
        marks.append((vote.time, vote.voter, "vote", f"for {vote.voted_for} — {vote.reason}"))
    return marks


def phases(result: AttemptAnalysis, events: list[TimedEvent], clock: Clock) -> list[Phase]:
    """Answering, voting, final presentation, review / applying changes, and the total."""
    times = [t for _n, _row, t in events if t is not None]
    start = result.start_time if result.start_time is not None else (times[0] if times else None)
    end = _end(result, times, start)
    first_vote = first_time(events, "vote") or (min((v.time for v in result.votes if v.time), default=None))
    present_start = first_time(events, "final_presentation_start")
    present_end = first_time(events, "final_presentation_end")
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
    found = []
    for name, begin, finish in marks:
        if begin is None or finish is None:
            continue
        seconds = round(max(0.0, finish - begin), 3)
        found.append(Phase(name, begin, finish, seconds, clock.show(begin), clock.show(finish)))
    if start is not None and end is not None:
        found.append(Phase("total", start, end, round(end - start, 3), clock.show(start), clock.show(end)))
    return found


def _end(result: AttemptAnalysis, times: list[float], start: float | None) -> float | None:
    """The last recorded moment: last event, start + elapsed, or the review decision, whichever is latest."""
    end = max(times) if times else None
    if result.elapsed_s is not None and start is not None:
        end = max(end or 0.0, start + result.elapsed_s)
    if result.review is not None and result.review.time is not None:
        end = max(end or 0.0, result.review.time)
    return end

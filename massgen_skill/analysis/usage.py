"""What an attempt used: token and cost totals, tool calls, their failures and per-tool figures.

Totals come from status.json, else metrics_summary.json, else the sum over agents; tool calls from
metrics_events.json, else events.jsonl's `tool_complete` events.
"""

from __future__ import annotations

from typing import Any

from massgen_skill.analysis.clock import Clock
from massgen_skill.analysis.coerce import as_bool, as_dict, as_float, as_int, as_int_or_none, as_list, as_str
from massgen_skill.analysis.events import TimedEvent, tool_failed
from massgen_skill.analysis.model import AttemptAnalysis, ToolCall, ToolStat
from massgen_skill.analysis.read import AttemptFiles


def add_totals(result: AttemptAnalysis, files: AttemptFiles) -> None:
    """Token and cost totals (after `result.agents` is set: they are the fallback)."""
    costs = as_dict(as_dict(files.status).get("costs"))
    fallback = as_dict(as_dict(files.summary).get("totals"))
    totals = result.totals
    totals.input_tokens = as_int(costs.get("total_input_tokens")) or as_int(fallback.get("input_tokens"))
    totals.output_tokens = as_int(costs.get("total_output_tokens")) or as_int(fallback.get("output_tokens"))
    totals.reasoning_tokens = as_int(fallback.get("reasoning_tokens")) or sum(
        a.reasoning_tokens for a in result.agents
    )
    cost = as_float(costs.get("total_estimated_cost"))
    totals.estimated_cost = cost if cost is not None else (as_float(fallback.get("estimated_cost")) or 0.0)
    if not costs and not fallback:
        totals.input_tokens = sum(a.input_tokens for a in result.agents)
        totals.output_tokens = sum(a.output_tokens for a in result.agents)
        totals.estimated_cost = sum(a.estimated_cost for a in result.agents)


def add_tools(result: AttemptAnalysis, files: AttemptFiles, events: list[TimedEvent], clock: Clock) -> None:
    """Tool totals, per-tool figures, every call and the failed ones."""
    tools = as_dict(as_dict(files.status).get("tools")) or as_dict(as_dict(files.summary).get("tools"))
    result.totals.tool_calls = as_int(tools.get("total_calls"))
    result.totals.tool_failures = as_int(tools.get("total_failures"))
    result.totals.tool_time_ms = as_float(tools.get("total_execution_time_ms")) or 0.0
    result.tools = [
        _tool_stat(str(name), as_dict(stat)) for name, stat in sorted(as_dict(tools.get("by_tool")).items())
    ]
    result.tool_calls = _calls_from_metrics(as_dict(files.metrics_events), clock) or _calls_from_events(
        events, clock
    )
    if not result.tools and result.tool_calls:
        result.tools = _stats_from_calls(result.tool_calls)
        result.totals.tool_calls = sum(s.calls for s in result.tools)
        result.totals.tool_failures = sum(s.failures for s in result.tools)
    result.tool_failures = [c for c in result.tool_calls if not c.success]


def _tool_stat(name: str, stat: dict[str, Any]) -> ToolStat:
    return ToolStat(
        name,
        as_str(stat.get("tool_type")) or "",
        as_int(stat.get("call_count")),
        as_int(stat.get("failure_count")),
        round(as_float(stat.get("total_execution_time_ms")) or 0.0, 2),
    )


def _calls_from_metrics(metrics_events: dict[str, Any], clock: Clock) -> list[ToolCall]:
    calls = []
    for item in as_list(metrics_events.get("tool_executions")):
        item = as_dict(item)
        start = as_float(item.get("start_time"))
        success = as_bool(item.get("success"))
        calls.append(
            ToolCall(
                as_str(item.get("agent_id")),
                as_str(item.get("tool_name")) or "?",
                as_str(item.get("tool_type")) or "",
                as_int_or_none(item.get("round_number")),
                start,
                clock.show(start),
                as_float(item.get("execution_time_ms")),
                success is not False,
                as_str(item.get("error_message")) or "",
            )
        )
    return calls


def _calls_from_events(events: list[TimedEvent], clock: Clock) -> list[ToolCall]:
    """events.jsonl pairs tool_start / tool_complete; the complete event has all a call needs."""
    calls = []
    for _n, row, epoch in events:
        if row.get("event_type") != "tool_complete":
            continue
        data = as_dict(row.get("data"))
        failed = tool_failed(data)
        elapsed = as_float(data.get("elapsed_seconds"))
        calls.append(
            ToolCall(
                as_str(row.get("agent_id")),
                as_str(data.get("tool_name")) or "?",
                "",
                as_int(row.get("round_number")),
                epoch,
                clock.show(epoch),
                round(elapsed * 1000, 2) if elapsed is not None else None,
                not failed,
                (as_str(data.get("result")) or "") if failed else "",
            )
        )
    return calls


def _stats_from_calls(calls: list[ToolCall]) -> list[ToolStat]:
    by_name: dict[str, ToolStat] = {}
    for call in calls:
        stat = by_name.setdefault(call.tool, ToolStat(call.tool, call.tool_type, 0, 0, 0.0))
        stat.calls += 1
        stat.failures += 0 if call.success else 1
        stat.total_ms = round(stat.total_ms + (call.execution_ms or 0.0), 2)
    return sorted(by_name.values(), key=lambda s: s.name)

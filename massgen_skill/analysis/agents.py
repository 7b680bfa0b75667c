"""The agents of one attempt: who took part, with which model, and what each did, earned and cost.

Figures come from status.json first, metrics_summary.json as the fallback; what neither says is taken from
events.jsonl and the answer folders.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from massgen_skill.analysis.coerce import as_dict, as_float, as_int, as_int_or_none, as_list, as_str
from massgen_skill.analysis.events import TimedEvent
from massgen_skill.analysis.model import AgentReport, RoundRow
from massgen_skill.analysis.read import AttemptFiles, model_from_trace


class Roster:
    """The agents of one attempt, in the order they were first recorded; `get` adds one on first mention."""

    def __init__(self) -> None:
        self._reports: dict[str, AgentReport] = {}

    def get(self, agent_id: str) -> AgentReport:
        if agent_id not in self._reports:
            self._reports[agent_id] = AgentReport(agent_id)
        return self._reports[agent_id]

    def __iter__(self) -> Iterator[AgentReport]:
        return iter(list(self._reports.values()))

    def __len__(self) -> int:
        return len(self._reports)


def roster(files: AttemptFiles, events: list[TimedEvent]) -> Roster:
    """Config order first, then whatever else recorded an agent; models from the config, else the traces."""
    agents = Roster()
    for agent_id, backend, model in _config_agents(as_dict(files.metadata)):
        report = agents.get(agent_id)
        report.backend, report.model = backend, model
    for agent_id in as_dict(as_dict(files.status).get("agents")):
        agents.get(str(agent_id))
    for agent_id in as_list(files.session.get("agent_ids")):
        if isinstance(agent_id, str):
            agents.get(agent_id)
    for agent_id in files.agent_folders:
        agents.get(agent_id)
    for _n, row, _t in events:
        agent_id = as_str(row.get("agent_id"))
        if agent_id:
            agents.get(agent_id)
    for report in agents:
        if not report.model and (files.folder / report.agent_id).is_dir():
            report.model = model_from_trace(files.folder / report.agent_id)
    if len(agents) == 1:
        (only,) = agents
        if not only.model:
            only.model = as_str(files.cli.get("model")) or ""
            only.backend = only.backend or as_str(files.cli.get("backend")) or ""
    return agents


def _config_agents(metadata: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(id, backend type, model) from execution_metadata.yaml `config` (`agents:` list or one `agent:`)."""
    config = as_dict(metadata.get("config"))
    single = config.get("agent")
    entries = as_list(config.get("agents")) or ([single] if isinstance(single, dict) else [])
    result = []
    cli = as_dict(metadata.get("cli_args"))
    for entry in entries:
        entry = as_dict(entry)
        agent_id = as_str(entry.get("id"))
        if not agent_id:
            continue
        backend = as_dict(entry.get("backend"))
        backend_type = as_str(backend.get("type")) or as_str(cli.get("backend")) or ""
        result.append((agent_id, backend_type, as_str(backend.get("model")) or ""))
    return result


def add_figures(agents: Roster, files: AttemptFiles, events: list[TimedEvent]) -> list[RoundRow]:
    """Each agent's status, answers, restarts, error, tokens, cost, tool counts and time per round type;
    returns the round rows (status.json round_history, else metrics_events.json's completed rounds)."""
    status_agents = as_dict(as_dict(files.status).get("agents"))
    summary_agents = as_dict(as_dict(files.summary).get("agents"))
    event_answers, event_restarts = _counts_from_events(events)
    rounds: list[RoundRow] = []
    for report in agents:
        entry = as_dict(status_agents.get(report.agent_id))
        fallback = as_dict(summary_agents.get(report.agent_id))
        folder_answers = len(files.agent_folders.get(report.agent_id, {}).get("answers", []))
        report.status = as_str(entry.get("status")) or report.status
        report.answers = (
            (as_int(entry.get("answer_count")) if "answer_count" in entry else 0)
            or folder_answers
            or event_answers.get(report.agent_id, 0)
        )
        report.restarts = (
            as_int(entry.get("times_restarted"))
            if "times_restarted" in entry
            else event_restarts.get(report.agent_id, 0)
        )
        _set_error(report, as_dict(entry.get("error")))
        _set_usage(report, entry, fallback)
        history = as_list(entry.get("round_history")) or as_list(fallback.get("round_history"))
        rounds += _round_history(report, history)
    return rounds or _completed_rounds(agents, as_dict(files.metrics_events))


def _counts_from_events(events: list[TimedEvent]) -> tuple[dict[str, int], dict[str, int]]:
    """Answers and restarts per agent as events.jsonl recorded them."""
    answers: dict[str, int] = {}
    restarts: dict[str, int] = {}
    for _n, row, _t in events:
        agent_id = as_str(row.get("agent_id"))
        if not agent_id:
            continue
        kind = row.get("event_type")
        if kind == "agent_restart":
            restarts[agent_id] = restarts.get(agent_id, 0) + 1
        elif kind == "answer_submitted":
            answers[agent_id] = answers.get(agent_id, 0) + 1
    return answers, restarts


def _set_error(report: AgentReport, error: dict[str, Any]) -> None:
    if error:
        report.error_type = as_str(error.get("type")) or "error"
        report.error_message = as_str(error.get("message")) or ""


def _set_usage(report: AgentReport, entry: dict[str, Any], fallback: dict[str, Any]) -> None:
    """Tokens, cost and tool counts from a status.json agent entry, else its metrics_summary.json entry."""
    usage = as_dict(entry.get("token_usage")) or as_dict(fallback.get("token_usage"))
    report.input_tokens = as_int(usage.get("input_tokens"))
    report.output_tokens = as_int(usage.get("output_tokens"))
    report.reasoning_tokens = as_int(usage.get("reasoning_tokens"))
    report.cached_input_tokens = as_int(usage.get("cached_input_tokens"))
    report.estimated_cost = as_float(usage.get("estimated_cost")) or 0.0
    tools = as_dict(entry.get("tool_metrics")) or as_dict(fallback.get("tool_metrics"))
    report.tool_calls = as_int(tools.get("total_calls"))
    report.tool_failures = as_int(tools.get("total_failures"))


def _round_history(report: AgentReport, history: list[Any]) -> list[RoundRow]:
    """status.json (or metrics_summary.json) round_history as rows, counted in the agent's time per type."""
    rows = []
    for item in history:
        item = as_dict(item)
        row = _round_row(report.agent_id, item, as_int_or_none(item.get("round_number")))
        rows.append(row)
        if _has_time(row):
            _add_round_time(report, row)
    return rows


def _round_row(agent_id: str, item: dict[str, Any], round_number: int | None) -> RoundRow:
    return RoundRow(
        agent=agent_id,
        round_number=round_number,
        round_type=as_str(item.get("round_type")) or "",
        outcome=as_str(item.get("outcome")) or "",
        input_tokens=as_int(item.get("input_tokens")),
        output_tokens=as_int(item.get("output_tokens")),
        estimated_cost=as_float(item.get("estimated_cost")) or 0.0,
        duration_ms=as_float(item.get("duration_ms")),
        tool_calls=as_int(item.get("tool_calls_count")),
        start_time=as_float(item.get("start_time")),
        end_time=as_float(item.get("end_time")),
    )


def _has_time(row: RoundRow) -> bool:
    return row.duration_ms is not None and bool(row.round_type)


def _add_round_time(report: AgentReport, row: RoundRow) -> None:
    """Count a timed round (`_has_time`) in the agent's time per round type."""
    seconds = report.seconds_by_round_type.get(row.round_type, 0.0) + (row.duration_ms or 0.0) / 1000
    report.seconds_by_round_type[row.round_type] = round(seconds, 3)


def _completed_rounds(agents: Roster, metrics_events: dict[str, Any]) -> list[RoundRow]:
    """No status.json / summary: metrics_events.json still lists completed rounds."""
    rounds: list[RoundRow] = []
    for item in as_list(metrics_events.get("round_completions")):
        item = as_dict(item)
        agent_id = as_str(item.get("agent_id"))
        if not agent_id:
            continue
        row = _round_row(agent_id, item, as_int(item.get("round_number")))
        rounds.append(row)
        if _has_time(row):
            _add_round_time(agents.get(agent_id), row)
    return rounds


def add_event_errors(agents: Roster, events: list[TimedEvent]) -> None:
    """An agent's first error from events.jsonl (`error` events, `❌` lines) when status.json had none."""
    for _n, row, _t in events:
        agent_id = as_str(row.get("agent_id"))
        if not agent_id:
            continue
        report = agents.get(agent_id)
        message = _event_error(as_str(row.get("event_type")) or "", as_dict(row.get("data")))
        if message and not report.error_message:
            report.error_type = report.error_type or "error"
            report.error_message = message


def _event_error(kind: str, data: dict[str, Any]) -> str:
    if kind == "error":
        return as_str(data.get("error")) or as_str(data.get("message")) or "error"
    if kind == "text":
        content = (as_str(data.get("content")) or "").strip()
        if content.startswith("❌") and not content.startswith("❌ Retry"):
            return content.lstrip("❌ ").strip()
    return ""


def settle_status(agents: Roster) -> None:
    """An agent whose status nothing recorded: failed, voted or answered, from what it did."""
    for report in agents:
        if report.status == "unknown":
            if report.error_message:
                report.status = report.error_type or "error"
            elif report.voted_for:
                report.status = "voted"
            elif report.answers:
                report.status = "answered"

"""events.jsonl and coordination_events.json as timed rows: for the timeline, the figures and SQLite.

events.jsonl stamps each line with the recording machine's wall clock; once the clock is calibrated
(`clock.calibrate`) every line gets epoch seconds. `TimedEvent` is (line number, event object, epoch or None).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from massgen_skill.analysis.clock import Clock, parse_iso
from massgen_skill.analysis.coerce import as_bool, as_dict, as_float, as_int_or_none, as_list, as_str
from massgen_skill.massgen import layout

TimedEvent = tuple[int, dict[str, Any], float | None]


def wall_clock(rows: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, dict[str, Any], datetime | None]]:
    """Each events.jsonl line with its wall-clock `timestamp` (None when it has none)."""
    return [(n, row, parse_iso(row.get("timestamp"))) for n, row in rows]


def first_wall_clock(events: list[tuple[int, dict[str, Any], datetime | None]]) -> datetime | None:
    return next((moment for _n, _row, moment in events if moment is not None), None)


def timed(events: list[tuple[int, dict[str, Any], datetime | None]], clock: Clock) -> list[TimedEvent]:
    """Wall-clock stamps → epoch seconds on the calibrated clock."""
    return [(n, row, clock.from_naive(m) if m else None) for n, row, m in events]


def first_time(events: list[TimedEvent], kind: str | None = None) -> float | None:
    """The time of the first timed event (of `kind`, if given)."""
    return next(
        (t for _n, row, t in events if t is not None and (kind is None or row.get("event_type") == kind)),
        None,
    )


def tool_failed(data: dict[str, Any]) -> bool:
    """A `tool_complete` event's data says the call failed."""
    return bool(as_bool(data.get("is_error"))) or (as_str(data.get("status")) or "success") != "success"


def raw_events(
    events: list[TimedEvent], coordination: dict[str, Any] | None, clock: Clock
) -> list[dict[str, Any]]:
    """Every events.jsonl line and coordination_events.json entry as one row of the SQLite `events` table."""
    rows = [_jsonl_row(number, row, epoch, clock) for number, row, epoch in events]
    for index, item in enumerate(as_list(as_dict(coordination).get("events")), start=1):
        rows.append(_coordination_row(index, as_dict(item), clock))
    return rows


def _jsonl_row(
    number: int,
    row: dict[str, Any],
    epoch: float | None,
    clock: Clock,
    source: str = layout.EVENTS_FILE,
    detail: str = "",
) -> dict[str, Any]:
    data = row.get("data")
    return {
        "source": source,
        "seq": number,
        "time": epoch,
        "time_local": clock.show(epoch, with_date=True),
        "event_type": as_str(row.get("event_type")) or "",
        "agent_id": as_str(row.get("agent_id")),
        "round_number": as_int_or_none(row.get("round_number")),
        "detail": detail,
        "data": json.dumps(data, ensure_ascii=False, default=str) if data is not None else None,
    }


def _coordination_row(index: int, item: dict[str, Any], clock: Clock) -> dict[str, Any]:
    """A coordination_events.json entry in the shape of an events.jsonl line (its context is the data)."""
    context = as_dict(item.get("context"))
    row = {**item, "round_number": context.get("round"), "data": context or None}
    epoch = as_float(item.get("timestamp"))
    detail = as_str(item.get("details")) or ""
    return _jsonl_row(index, row, epoch, clock, layout.COORDINATION_EVENTS_FILE, detail)

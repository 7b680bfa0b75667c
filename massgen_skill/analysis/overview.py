"""The facts that head the report: the question, how the run finished, when it started, how long it took."""

from __future__ import annotations

from massgen_skill.analysis.clock import Clock
from massgen_skill.analysis.coerce import as_bool, as_dict, as_float, as_str
from massgen_skill.analysis.events import TimedEvent, first_time
from massgen_skill.analysis.model import AttemptAnalysis
from massgen_skill.analysis.read import AttemptFiles


def describe(result: AttemptAnalysis, files: AttemptFiles, events: list[TimedEvent], clock: Clock) -> None:
    """Set the question, massgen version and config, finish reason, start time and duration."""
    _set_start(result, files, events, clock)
    metadata, cli = as_dict(files.metadata), files.cli
    result.question = (
        as_str(files.meta.get("question"))
        or as_str(as_dict(as_dict(files.summary).get("meta")).get("question"))
        or as_str(files.session.get("user_prompt"))
        or as_str(metadata.get("query"))
        or as_str(cli.get("question"))
        or ""
    )
    result.massgen_version = as_str(metadata.get("massgen_version"))
    result.config_path = as_str(metadata.get("config_path")) or as_str(cli.get("config"))
    result.failure_stage = as_str(cli.get("failure_stage")) or as_str(metadata.get("failure_stage"))
    result.failure_error = as_str(cli.get("failure_error")) or as_str(metadata.get("failure_error"))
    if files.status is not None:
        status = files.status
        result.finish_reason = as_str(status.get("finish_reason")) or "unknown"
        result.finish_details = as_str(status.get("finish_reason_details")) or ""
        result.is_complete = as_bool(status.get("is_complete"))
        result.review_pending = bool(as_bool(status.get("review_pending")))
    result.elapsed_s = _elapsed(files, events)


def _set_start(result: AttemptAnalysis, files: AttemptFiles, events: list[TimedEvent], clock: Clock) -> None:
    """Recorded start time, else the first event's."""
    start = files.start_epoch
    result.start_time = start if start is not None else first_time(events)
    result.start_clock = clock.show(result.start_time, with_date=True)


def _elapsed(files: AttemptFiles, events: list[TimedEvent]) -> float | None:
    """status.json's elapsed seconds, else coordination end − start, else the span of the events."""
    elapsed = as_float(files.meta.get("elapsed_seconds"))
    if elapsed is None:
        end, start = as_float(files.session.get("end_time")), files.start_epoch
        if end is not None and start is not None:
            elapsed = round(end - start, 3)
    first = first_time(events)
    if elapsed is None and first is not None:
        last = max((t for _n, _r, t in events if t is not None), default=first)
        elapsed = round(last - first, 3)
    return elapsed

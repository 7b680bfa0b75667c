"""Times: epoch seconds and the recording machine's zone-less wall clock, and how to tell one from the other.

status.json, coordination_events.json, vote.json and review_result.json hold epoch seconds; events.jsonl,
answer folder names and massgen.log hold the recording machine's wall clock without a zone. The analysis keeps
epoch seconds and shows them on the recording machine's clock; the zone offset is inferred from records that
hold the same instant in both forms (vote.json; status.json's start time and the first event).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from massgen_skill.analysis.coerce import as_float, as_str


class Clock:
    """Converts between epoch seconds and the recording machine's zone-less wall clock."""

    def __init__(self, utc_offset_s: float = 0.0) -> None:
        self.offset = utc_offset_s

    @staticmethod
    def infer(pairs: list[tuple[float, datetime]]) -> Clock:
        """From (epoch, naive local time) pairs of the same instant: offset rounded to a quarter hour."""
        for epoch, naive in pairs:
            guess = naive.replace(tzinfo=timezone.utc).timestamp() - epoch
            if abs(guess) <= 15 * 3600:
                return Clock(round(guess / 900) * 900)
        return Clock(0.0)

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


def parse_iso(text: Any) -> datetime | None:
    """events.jsonl `timestamp` → naive wall-clock time (None when it is not one)."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is not None:  # keep the wall clock, drop the zone (massgen writes none)
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def parse_stamp(text: str) -> datetime | None:
    """`20261125_225158_216686` (answer folder names, vote.json `timestamp`)."""
    try:
        return datetime.strptime(text, "%Y%m%d_%H%M%S_%f")
    except ValueError:
        return None


def calibrate(
    votes: list[tuple[str, dict[str, Any]]], start_epoch: float | None, first_event: datetime | None
) -> Clock:
    """The recording machine's clock, from vote.json files (epoch and wall clock of one instant), else from
    the recorded start time (epoch) against the first event's wall clock."""
    pairs: list[tuple[float, datetime]] = []
    for _agent, data in votes:
        epoch, stamp = as_float(data.get("unix_timestamp")), parse_stamp(as_str(data.get("timestamp")) or "")
        if epoch is not None and stamp is not None:
            pairs.append((epoch, stamp))
    if start_epoch is not None and first_event is not None:
        pairs.append((start_epoch, first_event))
    return Clock.infer(pairs)

"""Changes to the project: the review of file changes (web mode, contract §5), or changes applied without."""

from __future__ import annotations

import re
from typing import Any

from massgen_skill.analysis.clock import Clock
from massgen_skill.analysis.coerce import as_bool, as_dict, as_float, as_list, as_str
from massgen_skill.analysis.events import TimedEvent
from massgen_skill.analysis.model import Review
from massgen_skill.analysis.read import AttemptFiles

_APPLIED_RE = re.compile(r"^Applied (\d+) file change\(s\):\s*(.*)$")


def review(files: AttemptFiles, clock: Clock) -> Review | None:
    """The review massgen opened and its decision; None when no review was requested."""
    if not files.review_requested and files.review_result is None:
        return None
    return _review(as_dict(files.review_request), files.review_result, clock)


def _review(request: dict[str, Any], decision: dict[str, Any] | None, clock: Clock) -> Review:
    files = [
        as_str(as_dict(item).get("path")) or "?"
        for item in as_list(request.get("files"))
        if as_str(as_dict(item).get("path"))
    ]
    if decision is None:
        return Review(requested=True, files=files, decided=False, outcome="pending")
    approved = as_bool(decision.get("approved"))
    approved_files = decision.get("approved_files")
    approved_list = [str(x) for x in approved_files] if isinstance(approved_files, list) else None
    resolved_by = as_str(decision.get("resolved_by"))
    epoch = as_float(decision.get("timestamp"))
    return Review(
        requested=bool(request) or bool(files),
        files=files,
        decided=True,
        outcome=_outcome(approved, approved_list, resolved_by, files),
        approved=approved,
        approved_files=approved_list,
        action=as_str(decision.get("action")),
        resolved_by=resolved_by,
        time=epoch,
        clock=clock.show(epoch),
    )


def _outcome(
    approved: bool | None, approved_list: list[str] | None, resolved_by: str | None, files: list[str]
) -> str:
    if approved:
        return (
            "partly approved" if approved_list is not None and len(approved_list) < len(files) else "approved"
        )
    if resolved_by == "unknown":
        return "timed out"  # contract §5: a timeout is recorded as a rejection resolved by "unknown"
    return "rejected"


def applied_changes(events: list[TimedEvent]) -> list[str]:
    """The files massgen says it wrote to the project (the last `Applied N file change(s): a, b` line)."""
    applied: list[str] = []
    for _n, row, _t in events:
        if row.get("event_type") == "status":
            match = _APPLIED_RE.match(as_str(as_dict(row.get("data")).get("message")) or "")
            if match:
                applied = [f.strip() for f in match.group(2).split(",") if f.strip()]
    return applied

"""Read massgen's status.json safely and summarise a run's progress (contract §3).

The file is rewritten every 2 s (atomically, mostly); it may be missing, half-written or not JSON at all.
Nothing here raises on a bad file: the summary says what was wrong instead.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from massgen_skill.massgen import layout

MAX_STATUS_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class AgentProgress:
    agent_id: str
    status: str
    answers: int
    voted_for: str | None
    error: str | None


@dataclass(frozen=True)
class Progress:
    path: str | None
    problem: str | None = None  # why there is nothing to show (missing, unreadable, …)
    finish_reason: str | None = None
    details: str | None = None
    is_complete: bool = False
    review_pending: bool = False
    phase: str | None = None
    completion: int | None = None
    elapsed: float | None = None
    age: float | None = None  # seconds since massgen last wrote it
    cost: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    winner: str | None = None
    votes: dict[str, int] = field(default_factory=dict)
    agents: tuple[AgentProgress, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["agents"] = [a.__dict__ for a in self.agents]
        return data


def read_json(path: Path, attempts: int = 3, delay: float = 0.05) -> tuple[Any, str | None]:
    """(data, None) or (None, problem). Retries briefly: a writer may be mid-rewrite."""
    problem = "missing"
    for attempt in range(attempts):
        try:
            if path.stat().st_size > MAX_STATUS_BYTES:
                return None, f"larger than {MAX_STATUS_BYTES // (1024 * 1024)} MiB"
            return json.loads(path.read_bytes()), None
        except FileNotFoundError:
            return None, "missing"
        # ValueError: not JSON, not UTF-8, or an integer of more than 4300 digits (json refuses to parse it)
        except (OSError, ValueError, RecursionError) as exc:
            problem = f"unreadable ({type(exc).__name__})"
        if attempt + 1 < attempts:
            time.sleep(delay)
    return None, problem


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _num(value: Any, kind: type = float) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        if not math.isfinite(value):
            return None  # json.loads accepts Infinity and NaN; int() of them raises
        return kind(value)
    except OverflowError:  # an integer too large for a float (10**400)
        return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _agent(agent_id: str, data: Any) -> AgentProgress:
    data = _dict(data)
    error = _dict(data.get("error"))
    vote = _dict(data.get("vote_cast"))
    return AgentProgress(
        agent_id=str(agent_id),
        status=_str(data.get("status")) or "unknown",
        answers=_num(data.get("answer_count"), int) or 0,
        voted_for=_str(vote.get("voted_for_agent")),
        error=_str(error.get("message")) or _str(error.get("type")),
    )


def summarise(data: Any, path: Path | None) -> Progress:
    """A Progress from status.json's content, whatever shape it has."""
    if not isinstance(data, dict):
        return Progress(str(path) if path else None, problem="not a JSON object")
    meta = _dict(data.get("meta"))
    costs = _dict(data.get("costs"))
    coordination = _dict(data.get("coordination"))
    results = _dict(data.get("results"))
    updated = _num(meta.get("last_updated"))
    votes = {str(k): v for k, v in _dict(results.get("votes")).items() if isinstance(v, int)}
    return Progress(
        path=str(path) if path else None,
        finish_reason=_str(data.get("finish_reason")),
        details=_str(data.get("finish_reason_details")),
        is_complete=data.get("is_complete") is True,
        review_pending=data.get("review_pending") is True,
        phase=_str(coordination.get("phase")),
        completion=_num(coordination.get("completion_percentage"), int),
        elapsed=_num(meta.get("elapsed_seconds")),
        age=max(0.0, time.time() - updated) if updated else None,
        cost=_num(costs.get("total_estimated_cost")),
        input_tokens=_num(costs.get("total_input_tokens"), int),
        output_tokens=_num(costs.get("total_output_tokens"), int),
        winner=_str(results.get("winner")),
        votes=votes,
        agents=tuple(_agent(k, v) for k, v in _dict(data.get("agents")).items()),
    )


def progress_for(log_dir: Path | None, ended: bool = False, turn: int | None = None) -> Progress:
    """Progress of the newest attempt of a run (session root or attempt dir). `ended`: the run is over, so a
    missing file will never come (massgen writes no status.json when its agents fail within ~2 s).
    `turn`: the session turn the run wrote (None: the newest)."""
    if log_dir is None:
        if ended:
            return Progress(None, problem="no LOG_DIR: massgen ended before printing one")
        return Progress(None, problem="no LOG_DIR yet (massgen takes ~15 s to start)")
    path = layout.newest_status_file(layout.session_root(log_dir), turn)
    if path is None:
        if ended:
            return Progress(None, problem="no status.json: massgen wrote none (the run ended within ~2 s)")
        return Progress(None, problem="no status.json yet (it appears ~2 s after agents start)")
    data, problem = read_json(path)
    if problem:
        return Progress(str(path), problem=f"status.json {problem}")
    return summarise(data, path)


def one_line(progress: Progress) -> str:
    """The compact progress line shown on a TTY and in `wait`."""
    if progress.problem:
        return progress.problem
    agents = " ".join(f"{a.agent_id}:{a.status}" for a in progress.agents)
    parts = [
        f"phase {progress.phase or '?'}",
        f"{progress.completion if progress.completion is not None else '?'}%",
        f"{progress.elapsed:.0f}s" if progress.elapsed is not None else None,
        agents or None,
        "REVIEW PENDING" if progress.review_pending else None,
        f"winner {progress.winner}" if progress.winner else None,
    ]
    return " | ".join(p for p in parts if p)

"""status.json as massgen 0.1.97 writes it (shape from the samples), plus its periodic writer thread."""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fake_massgen.textio import write_json_atomic

TOKENS_IN = 10  # per round, like the samples' scripted backend
TOKENS_OUT = 5


@dataclass
class RoundRecord:
    round_number: int
    agent_id: str
    round_type: str  # initial_answer | voting | presentation
    outcome: str  # answer | vote | presentation | error | timeout
    start_time: float
    end_time: float
    tool_calls: int = 0

    def to_dict(self, cost: float = 0.0) -> dict[str, Any]:
        return {
            "round_number": self.round_number,
            "agent_id": self.agent_id,
            "round_type": self.round_type,
            "outcome": self.outcome,
            "input_tokens": TOKENS_IN,
            "output_tokens": TOKENS_OUT,
            "reasoning_tokens": 0,
            "cached_input_tokens": 0,
            "estimated_cost": cost,
            "context_window_size": 0,
            "context_usage_pct": 0.0,
            "tool_calls_count": self.tool_calls,
            "token_source": "api",
            "start_time": self.start_time,
            "end_time": self.end_time,
            "duration_ms": round((self.end_time - self.start_time) * 1000, 2),
            "api_calls_count": 0,
            "api_time_ms": 0.0,
            "avg_ttft_ms": 0.0,
        }


@dataclass
class VoteCast:
    voter: str
    voted_for: str
    voted_for_label: str
    reason: str
    timestamp: str  # per-vote dir stamp
    unix_time: float


@dataclass
class AgentState:
    agent_id: str
    number: int  # 1-based: answer labels are agent<number>.<n>
    model: str
    status: str = "waiting"
    answer_count: int = 0
    latest_answer_label: str | None = None
    vote: VoteCast | None = None
    times_restarted: int = 0
    last_activity: float | None = None
    error: dict[str, Any] | None = None
    workspace_paths: dict[str, str] | None = None
    rounds: list[RoundRecord] = field(default_factory=list)
    round_number: int = 0
    round_start_time: float = field(default_factory=time.time)
    tool_calls: int = 0
    round_cost: float = 0.0  # USD per round (FAKE_MASSGEN_ROUND_COST); the real one sums what LiteLLM prices

    def token_usage(self) -> dict[str, Any]:
        n = max(len(self.rounds), 1)
        return {
            "input_tokens": TOKENS_IN * n,
            "output_tokens": TOKENS_OUT * n,
            "reasoning_tokens": 0,
            "cached_input_tokens": 0,
            "estimated_cost": round(self.round_cost * len(self.rounds), 6),
        }

    def tool_metrics(self) -> dict[str, Any]:
        return tool_block(self.tool_calls)

    def to_dict(self) -> dict[str, Any]:
        vote = None
        if self.vote is not None:
            reason = self.vote.reason
            vote = {
                "voted_for_agent": self.vote.voted_for,
                "voted_for_label": self.vote.voted_for_label,
                "reason_preview": reason if len(reason) <= 100 else reason[:100] + "...",
            }
        return {
            "status": self.status,
            "answer_count": self.answer_count,
            "latest_answer_label": self.latest_answer_label,
            "vote_cast": vote,
            "times_restarted": self.times_restarted,
            "last_activity": self.last_activity,
            "error": self.error,
            "workspace_paths": self.workspace_paths,
            "token_usage": self.token_usage(),
            "tool_metrics": self.tool_metrics(),
            "round_history": [r.to_dict(self.round_cost) for r in self.rounds],
            "round_timing": {"round_number": self.round_number, "round_start_time": self.round_start_time},
            "reliability": None,
        }


def tool_block(calls: int) -> dict[str, Any]:
    if not calls:
        return {"total_calls": 0, "total_failures": 0, "total_execution_time_ms": 0, "by_tool": {}}
    ms = 25.0 * calls
    return {
        "total_calls": calls,
        "total_failures": 0,
        "total_execution_time_ms": ms,
        "by_tool": {
            "mcp__filesystem__write_file": {
                "call_count": calls,
                "success_count": calls,
                "failure_count": 0,
                "total_execution_time_ms": ms,
                "total_input_chars": 120 * calls,
                "total_output_chars": 50 * calls,
                "tool_type": "mcp",
                "avg_execution_time_ms": 25.0,
                "input_tokens_est": 30 * calls,
                "output_tokens_est": 12 * calls,
            }
        },
    }


@dataclass
class HistoricalWorkspace:
    agent_id: str
    label: str
    stamp: str
    path: str  # absolute

    def to_dict(self) -> dict[str, Any]:
        return {
            "answerId": f"{self.agent_id}-{self.stamp}",
            "agentId": self.agent_id,
            "answerNumber": 0,
            "answerLabel": self.label,
            "timestamp": self.stamp,
            "workspacePath": self.path,
        }


class StatusFile:
    """The in-memory model of one attempt's status.json; every mutation and every write holds `lock`."""

    def __init__(
        self,
        path: Path,
        *,
        question: str,
        log_dir_rel: str,
        agents: list[AgentState],
        orchestrator_paths: dict[str, str | None],
        eval_criteria: list[dict[str, str]] | None,
        context_paths: list[dict[str, str]] | None,
        enabled: bool = True,
    ) -> None:
        self.path = path
        self.enabled = enabled
        self.lock = threading.RLock()
        self.start_time = time.time()
        self.question = question
        self.log_dir_rel = log_dir_rel
        self.agents = {a.agent_id: a for a in agents}
        self.orchestrator_paths = orchestrator_paths
        self.eval_criteria = eval_criteria
        self.context_paths = context_paths
        self.finish_reason = "in_progress"
        self.details: str | None = None
        self.review_pending = False
        self.phase = "initial_answer"
        self.is_final_presentation = False
        self.cancelled_at: float | None = None
        self.winner: str | None = None
        self.final_preview: str | None = None
        self.post_evaluations = 0
        self.restarts = 0
        self.history: list[HistoricalWorkspace] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ model

    def _votes(self) -> dict[str, int]:
        votes: dict[str, int] = {}
        for agent in self.agents.values():
            if agent.vote is not None:
                votes[agent.vote.voted_for_label] = votes.get(agent.vote.voted_for_label, 0) + 1
        return votes

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            now = time.time()
            agents = list(self.agents.values())
            answers = sum(a.answer_count for a in agents)
            votes = sum(1 for a in agents if a.vote is not None)
            pct = min(100, int(100 * (answers + votes) / (2 * len(agents)))) if agents else 0
            active = next((a.agent_id for a in agents if a.status == "streaming"), None)
            by_outcome = {k: 0 for k in ("answer", "vote", "presentation", "post_evaluation")}
            by_outcome.update({"restarted": self.restarts, "error": 0, "timeout": 0})
            for agent in agents:
                for rnd in agent.rounds:
                    by_outcome[rnd.outcome] = by_outcome.get(rnd.outcome, 0) + 1
            by_outcome["post_evaluation"] += self.post_evaluations
            n_rounds = sum(len(a.rounds) for a in agents)
            tool_calls = sum(a.tool_calls for a in agents)
            tools = tool_block(tool_calls)
            tools["total_execution_time_ms"] = float(tools["total_execution_time_ms"])
            total_in = sum(a.token_usage()["input_tokens"] for a in agents)
            total_out = sum(a.token_usage()["output_tokens"] for a in agents)
            total_cost = round(sum(a.token_usage()["estimated_cost"] for a in agents), 6)
            is_complete = self.finish_reason in ("completed", "timeout", "error")
            details = self.details or f"Phase: {self.phase}"
            coordination: dict[str, Any] = {
                "phase": self.phase,
                "active_agent": active,
                "completion_percentage": pct,
                "is_final_presentation": self.is_final_presentation,
            }
            if self.cancelled_at is not None:
                coordination["cancelled"] = True
                coordination["cancelled_at"] = self.cancelled_at
            return {
                "finish_reason": self.finish_reason,
                "finish_reason_details": details,
                "is_complete": is_complete,
                "review_pending": self.review_pending,
                "meta": {
                    "last_updated": now,
                    "session_id": self.path.parent.name,
                    "log_dir": self.log_dir_rel,
                    "question": self.question,
                    "start_time": self.start_time,
                    "elapsed_seconds": round(now - self.start_time, 3),
                    "orchestrator_paths": self.orchestrator_paths,
                    "eval_criteria": self.eval_criteria,
                    "context_paths": self.context_paths,
                    "docker_enabled": False,
                },
                "costs": {
                    "total_estimated_cost": total_cost,
                    "total_input_tokens": total_in,
                    "total_output_tokens": total_out,
                },
                "tools": tools,
                "rounds": {
                    "total_rounds": n_rounds,
                    "by_outcome": by_outcome,
                    "total_round_input_tokens": 10 * n_rounds,
                    "total_round_output_tokens": 5 * n_rounds,
                    "total_round_cost": total_cost,
                },
                "coordination": coordination,
                "agents": {a.agent_id: a.to_dict() for a in agents},
                "historical_workspaces": [h.to_dict() for h in self.history],
                "results": {
                    "votes": self._votes(),
                    "winner": self.winner,
                    "final_answer_preview": self.final_preview,
                },
            }

    # ------------------------------------------------------------------ writing

    def write(self) -> None:
        """Atomic rewrite: status.json.tmp in the same dir, then os.replace."""
        if not self.enabled:
            return
        with self.lock:
            write_json_atomic(self.path, self.snapshot())

    def write_in_place(self) -> None:
        """The web cancel path rewrites the file in place (non-atomic), like the real server."""
        if not self.enabled:
            return
        import json

        with self.lock:
            self.path.write_text(json.dumps(self.snapshot(), indent=2), encoding="utf-8")

    def start_loop(self, interval: float) -> None:
        if not self.enabled or self._thread is not None:
            return
        self._stop.clear()

        def loop() -> None:
            while not self._stop.wait(interval):
                with contextlib.suppress(OSError):
                    self.write()

        self._thread = threading.Thread(target=loop, name="status-writer", daemon=True)
        self._thread.start()

    def stop_loop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

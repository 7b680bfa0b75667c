"""End-of-run files: coordination logs and metrics, plan folders, session turns, the session registry."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from fake_massgen import sessions
from fake_massgen.runstate import Paths, Run
from fake_massgen.status import StatusFile
from fake_massgen.textio import iso_now, write_json, write_text


def save_coordination_logs(run: Run, winner: str | None) -> None:
    adir = run.attempt_dir()
    if run.knobs.no_status and winner is None:
        return  # a fast failure leaves no coordination files (all-agents-fail sample)
    st = run.status
    assert st is not None
    now = time.time()
    run.coord("session_end", None, f"Session completed in {now - run.coord_start:.1f}s")
    _write_coordination_events(run, winner, st.start_time, now)
    _write_coordination_table(run)
    write_json(adir / "snapshot_mappings.json", _snapshot_mappings(run, st))
    _write_metrics(run, winner, st, now)


def _write_coordination_events(run: Run, winner: str | None, start_time: float, now: float) -> None:
    write_json(
        run.attempt_dir() / "coordination_events.json",
        {
            "session_metadata": {
                "user_prompt": run.question,
                "agent_ids": list(run.agent_ids),
                "start_time": start_time,
                "end_time": now,
                "final_winner": winner,
            },
            "events": run.coord_events,
        },
    )


def _write_coordination_table(run: Run) -> None:
    lines = ["", "Multi-Agent Coordination Events Log (fake massgen)", "=" * 50, ""]
    lines += [f"{e['event_type']:<22} {e['agent_id'] or '-':<10} {e['details']}" for e in run.coord_events]
    write_text(run.attempt_dir() / "coordination_table.txt", "\n".join(lines) + "\n")


def _snapshot_mappings(run: Run, st: StatusFile) -> dict[str, Any]:
    """snapshot_mappings.json: each answer and vote label -> where its file is."""
    mappings: dict[str, Any] = {}
    for label, (aid, _) in run.answers.items():
        stamp = next((s for k, s in run.round_stamps.get(aid, []) if k == "answer"), "")
        mappings[label] = {
            "type": "answer",
            "label": label,
            "agent_id": aid,
            "timestamp": stamp,
            "iteration": 2,
            "round": 0,
            "path": f"{aid}/{stamp}/answer.txt",
        }
    for agent in st.agents.values():
        if agent.vote is not None:
            label = f"agent{agent.number}.vote1"
            mappings[label] = {
                "type": "vote",
                "label": label,
                "agent_id": agent.agent_id,
                "timestamp": agent.vote.timestamp,
                "voted_for": agent.vote.voted_for,
                "voted_for_label": agent.vote.voted_for_label,
                "iteration": 8,
                "round": 1,
                "path": f"{agent.agent_id}/{agent.vote.timestamp}/vote.json",
            }
    return mappings


def _write_metrics(run: Run, winner: str | None, st: StatusFile, now: float) -> None:
    """metrics_events.json and metrics_summary.json, from the status file's counters."""
    adir = run.attempt_dir()
    snap = st.snapshot()
    rounds = [r.to_dict() for a in st.agents.values() for r in a.rounds]
    write_json(
        adir / "metrics_events.json",
        {
            "meta": {"generated_at": now, "session_id": adir.name, "question": run.question},
            "tool_executions": [],
            "round_completions": rounds,
        },
    )
    write_json(
        adir / "metrics_summary.json",
        {
            "meta": {
                "generated_at": now,
                "session_id": adir.name,
                "question": run.question,
                "num_agents": len(run.agent_ids),
                "winner": winner,
            },
            "totals": {
                "estimated_cost": 0.0,
                "agent_cost": 0.0,
                "subagent_cost": 0.0,
                "input_tokens": snap["costs"]["total_input_tokens"],
                "output_tokens": snap["costs"]["total_output_tokens"],
                "reasoning_tokens": 0,
            },
            "tools": snap["tools"],
            "rounds": {
                "total_rounds": snap["rounds"]["total_rounds"],
                "by_outcome": snap["rounds"]["by_outcome"],
                "total_input_tokens": snap["rounds"]["total_round_input_tokens"],
                "total_output_tokens": snap["rounds"]["total_round_output_tokens"],
                "total_reasoning_tokens": 0,
                "total_estimated_cost": 0.0,
                "avg_context_usage_pct": 0.0,
            },
            "api_timing": {
                "total_calls": len(rounds),
                "total_time_ms": 0.0,
                "avg_time_ms": 0.0,
                "avg_ttft_ms": 0.0,
                "by_round": {},
                "by_backend": {},
            },
            "agents": {
                a.agent_id: {
                    "tool_metrics": a.tool_metrics(),
                    "round_history": [r.to_dict() for r in a.rounds],
                    "token_usage": a.token_usage(),
                }
                for a in st.agents.values()
            },
            "subagents": {
                "total_subagents": 0,
                "total_input_tokens": 0,
                "total_output_tokens": 0,
                "total_estimated_cost": 0.0,
                "total_api_time_ms": 0.0,
                "total_api_calls": 0,
                "subagents": [],
            },
        },
    )


def register_session(run: Run, session_id: str, status: str) -> None:
    """~/.massgen/sessions.json as massgen keeps it (not with --no-session-registry): registered with the log
    folder's name when the session starts, marked completed when it ends."""
    if run.args.no_session_registry:
        return
    if status == "completed":
        sessions.complete(session_id)
        return
    config = run.inv.config
    config_path = str(config.path) if config and config.path else None
    sessions.register(session_id, run.paths.session_rel.name, config_path)


def write_plan_dir(run: Run, plan_dir: Path, plan_id: str, winner: str) -> None:
    plan_file = run.attempt_dir() / "final" / winner / "workspace" / "project_plan.json"
    for sub in ("workspace", "frozen"):
        (plan_dir / sub).mkdir(parents=True, exist_ok=True)
        if plan_file.is_file():
            shutil.copy(plan_file, plan_dir / sub / "plan.json")
    write_json(
        plan_dir / "plan_metadata.json",
        {
            "plan_id": plan_id,
            "created_at": iso_now(),
            "planning_session_id": run.new_session_id(),
            "planning_log_dir": str(Paths.absolute(run.paths.session_rel)),
            "planning_prompt": run.args.question,
            "status": "completed",
            "artifact_type": "plan",
        },
    )
    (plan_dir / "execution_log.jsonl").write_text("", encoding="utf-8")


def write_session_turn(run: Run, session_id: str, winner: str, answer: str) -> None:
    sdir = Path(".massgen") / "sessions" / session_id
    turn_dir = sdir / f"turn_{run.paths.turn}"
    stamp = iso_now()
    write_text(turn_dir / "answer.txt", answer)
    write_json(
        turn_dir / "metadata.json",
        {
            "turn": run.paths.turn,
            "timestamp": stamp,
            "winning_agent": winner,
            "task": run.args.question,
            "session_id": session_id,
        },
    )
    ws = run.attempt_dir() / "final" / winner / "workspace"
    if ws.is_dir():
        shutil.copytree(ws, turn_dir / "workspace", dirs_exist_ok=True)
    history_path = sdir / "winning_agents_history.json"
    try:
        history = json.loads(history_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        history = []
    history.append({"agent_id": winner, "turn": run.paths.turn})
    write_json(history_path, history)
    sabs = Paths.absolute(sdir)
    with open(sdir / "SESSION_SUMMARY.txt", "a", encoding="utf-8") as fh:
        if run.paths.turn == 1 or fh.tell() == 0:
            fh.write("=" * 80 + f"\nMulti-Turn Session: {session_id}\n" + "=" * 80 + "\n\n")
        fh.write(
            "\n" + "=" * 80 + f"\nTURN {run.paths.turn}\n" + "=" * 80 + f"\nTimestamp: {stamp}\n"
            f"Winning Agent: {winner}\nTask: {run.args.question}\n"
            f"Workspace: {sabs}/turn_{run.paths.turn}/workspace\n"
            f"Answer: See {sabs}/turn_{run.paths.turn}/answer.txt\n"
        )

"""What agents leave in the log tree: per-round answer and vote folders, traces, the final presentation."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from fake_massgen import media, workspaces
from fake_massgen.runstate import VOTE_REASON, Paths, Run
from fake_massgen.status import HistoricalWorkspace, RoundRecord, VoteCast
from fake_massgen.textio import now_stamp, write_json, write_text


def stamp_dir(run: Run, agent: str, kind: str) -> Path:
    stamp = now_stamp()
    used = {s for _, s in run.round_stamps.get(agent, [])}
    while stamp in used:
        time.sleep(0.000_01)
        stamp = now_stamp()
    run.round_stamps.setdefault(agent, []).append((kind, stamp))
    path = run.attempt_dir() / agent / stamp
    path.mkdir(parents=True, exist_ok=True)
    return path


def trace(run: Run, agent: str, tool: str, payload: dict[str, Any], extra: str = "") -> str:
    model = run.models[run.agent_ids.index(agent)]
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    body = json.dumps(payload, indent=2, ensure_ascii=False)
    return (
        f"# Execution Trace: {agent}\n**Model**: {model} | **Started**: {started}\n\n"
        f"### Tool Call: {tool}\n**Args**:\n```json\n{body}\n```\n{extra}"
    )


def context_json(run: Run, agent: str, phase: str) -> str:
    data = {
        "system_message": f"<system_prompt>You are {agent}, one agent of a fake MassGen team ({phase}).",
        "user_message": run.question,
        "answers_in_context": sorted(run.answers),
        "phase": phase,
    }
    return json.dumps(data, indent=2)


def submit_answer(run: Run, aid: str, text: str) -> None:
    st = run.status
    assert st is not None
    folder = stamp_dir(run, aid, "answer")
    write_text(folder / "answer.txt", text)
    write_text(folder / "context.txt", context_json(run, aid, "initial_answer"))
    write_text(folder / "execution_trace.md", trace(run, aid, "new_answer", {"content": text}))
    with st.lock:
        agent = st.agents[aid]
        start = agent.round_start_time
        agent.answer_count += 1
        label = f"agent{agent.number}.{agent.answer_count}"
        agent.latest_answer_label = label
        agent.status = "answered"
        agent.last_activity = time.time()
        agent.rounds.append(RoundRecord(0, aid, "initial_answer", "answer", start, time.time()))
        agent.round_number = 1
        agent.round_start_time = time.time()
        st.history.append(
            HistoricalWorkspace(aid, label, folder.name, str(Paths.absolute(folder / "workspace")))
        )
    run.answers[label] = (aid, text)
    run.event("answer_submitted", aid, {"content": text})
    run.coord("new_answer", aid, f"Provided answer {label}", label=label)
    st.write()


def cast_vote(run: Run, aid: str, target: str) -> VoteCast:
    st = run.status
    assert st is not None
    folder = stamp_dir(run, aid, "vote")
    target_label = st.agents[target].latest_answer_label or f"agent{st.agents[target].number}.1"
    vote = VoteCast(aid, target, target_label, VOTE_REASON, folder.name, time.time())
    labels = sorted(run.answers)
    mapping = {f"agent{st.agents[a].number}": a for a in run.agent_ids}
    write_json(
        folder / "vote.json",
        {
            "voter_id": aid,
            "voter_anon_id": f"agent{st.agents[aid].number}",
            "voted_for": target,
            "voted_for_label": target_label,
            "voted_for_anon": f"agent{st.agents[target].number}",
            "reason": VOTE_REASON,
            "timestamp": folder.name,
            "unix_timestamp": vote.unix_time,
            "iteration": len(run.coord_events),
            "coordination_round": 1,
            "available_options": list(run.agent_ids),
            "available_options_labels": labels,
            "answer_label_to_agent": {label: agent for label, (agent, _) in run.answers.items()},
            "available_options_anon": list(mapping),
            "agent_mapping": mapping,
            "vote_context": {
                "total_agents": len(run.agent_ids),
                "agents_with_answers": len({a for a, _ in run.answers.values()}),
                "current_task": run.question,
            },
        },
    )
    write_text(folder / "context.txt", context_json(run, aid, "voting"))
    extra = (
        f"\n### Vote Cast: {target_label}\n**Available options**: {', '.join(labels)}\n"
        f"**Voted for**: {target_label}\n**Reason**: {VOTE_REASON}\n"
    )
    anon = f"agent{st.agents[target].number}"
    write_text(
        folder / "execution_trace.md",
        trace(run, aid, "vote", {"agent_id": anon, "reason": VOTE_REASON}, extra),
    )
    with st.lock:
        agent = st.agents[aid]
        agent.vote = vote
        agent.status = "voted"
        agent.last_activity = time.time()
        agent.rounds.append(RoundRecord(1, aid, "voting", "vote", agent.round_start_time, time.time()))
        st.phase = "enforcement"
    run.event(
        "vote",
        aid,
        {"target_id": target, "reason": VOTE_REASON, "vote_label": None, "voted_for_label": None},
    )
    run.coord("vote_cast", aid, f"Voted for {target_label}", voted_for=target, voted_for_label=target_label)
    st.write()
    return vote


def _artifact_files(run: Run) -> dict[str, str]:
    """The plan or spec file a planning run's winner leaves in its workspace."""
    files: dict[str, str] = {}
    if run.plan_kind == "plan":
        files["project_plan.json"] = json.dumps(
            {
                "tasks": [
                    {
                        "id": "T001",
                        "name": "Understand the task",
                        "description": run.args.question,
                        "depends_on": [],
                    },
                    {
                        "id": "T002",
                        "name": "Implement",
                        "description": "Do the work",
                        "depends_on": ["T001"],
                    },
                    {
                        "id": "T003",
                        "name": "Verify",
                        "description": "Check the result",
                        "depends_on": ["T002"],
                    },
                ]
            },
            indent=2,
        )
    elif run.plan_kind == "spec":
        files["project_spec.json"] = json.dumps(
            {
                "requirements": [
                    {
                        "id": "REQ-001",
                        "title": "Core behaviour",
                        "description": run.args.question,
                        "priority": "must",
                    }
                ]
            },
            indent=2,
        )
    return {**files, **evaluation_files(run)}


def _next_verdict(run: Run) -> str:
    """The knob's verdicts are used in order, one per structured run in this folder (the last one repeats)."""
    counter = run.cwd / ".massgen" / "fake_verdicts_used"
    try:
        used = int(counter.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        used = 0
    write_text(counter, str(used + 1))
    return run.knobs.verdicts[min(used, len(run.knobs.verdicts) - 1)]


def evaluation_files(run: Run) -> dict[str, str]:
    """verdict.json, next_tasks.json and critique_packet.md, when the question asks for them
    (run --structured) and FAKE_MASSGEN_VERDICTS says what to write."""
    if not run.knobs.verdicts or "verdict.json" not in (run.args.question or ""):
        return {}
    verdict = _next_verdict(run)
    if verdict == "missing":
        return {}
    scores = {"E1": 9, "E2": 8} if verdict == "converged" else {"E1": 4, "E2": 7}
    tasks = {
        "schema_version": "2",
        "objective": "make it complete",
        "approach_assessment": {"ceiling_status": "ceiling_not_reached", "ceiling_explanation": "room left"},
        "fix_tasks": [
            {
                "id": "fix_1",
                "task_category": "fix",
                "description": "Handle the empty input",
                "priority": "high",
            }
        ],
        "evolution_tasks": [
            {
                "id": "evo_1",
                "task_category": "evolution",
                "description": "Stream the output",
                "priority": "medium",
            }
        ],
    }
    body = {"schema_version": "1", "verdict": verdict, "scores": scores}
    if verdict == "invalid":
        body = {"verdict": "maybe", "scores": {"E1": 11}}
    return {
        "verdict.json": json.dumps(body, indent=2),
        "next_tasks.json": json.dumps(tasks, indent=2),
        "critique_packet.md": f"# Critique\n\nverdict: {verdict}\n",
    }


def write_final(run: Run, winner: str) -> None:
    final = run.attempt_dir() / "final" / winner
    files = _artifact_files(run)
    changes = run.changes()
    for change in changes:
        if change.status != "D":
            content = workspaces.change_content(winner, change.path)
            files[change.path] = content
            files[f".worktree/ctx_1/{change.path}"] = content
    made = media.write_media(run, winner, final / "workspace")
    if files or made:
        for rel, content in files.items():
            write_text(final / "workspace" / rel, content)
            if winner in run.workspaces:
                write_text(run.workspaces[winner] / rel, content)
        st = run.status
        assert st is not None
        with st.lock:
            st.agents[winner].tool_calls += len(files) + made
    write_text(
        final / "context.txt",
        json.dumps({"messages": [{"role": "system", "content": "You are the winning presenter."}]}, indent=2),
    )
    write_text(final / "execution_trace.md", trace(run, winner, "new_answer", {"content": run.knobs.answer}))
    write_text(final / "answer.txt", run.knobs.answer)  # written only after status said completed
    st = run.status
    assert st is not None
    if not run.quick:
        with st.lock:
            agent = st.agents[winner]
            agent.rounds.append(
                RoundRecord(2, winner, "presentation", "presentation", agent.round_start_time, time.time())
            )
            agent.round_number = 2
        run.event("final_answer", winner, {"content": run.knobs.answer}, round_number=2)
        run.event("final_presentation_end", winner, {}, round_number=2)
        run.coord("final_answer", winner, f"Presented final answer agent{st.agents[winner].number}.final")
    run.event("answer_locked", winner, {}, round_number=2)
    for aid in run.agent_ids:
        agent_output(run, aid, run.knobs.answer if aid == winner else "")


def agent_output(run: Run, aid: str, text: str) -> None:
    path = run.attempt_dir() / "agent_outputs" / f"{aid}.txt"
    write_text(path, f"=== {aid.upper()} OUTPUT LOG ===\n\n{text}\n")
    write_text(run.attempt_dir() / "agent_outputs" / "system_status.txt", "=== SYSTEM STATUS LOG ===\n\n")

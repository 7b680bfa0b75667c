"""The coordination timeline, by scenario: initial answers, votes, the winner, or a failure, timeout, hang."""

from __future__ import annotations

import sys
import time

from fake_massgen import answers, workspaces
from fake_massgen.cli import PRESETS, err
from fake_massgen.runstate import Cancelled, Crash, Outcome, Run
from fake_massgen.status import RoundRecord, StatusFile, VoteCast
from fake_massgen.textio import PROVIDER_NOISE, loguru_line


def coordinate(run: Run) -> Outcome:
    """Answers, votes, winner, final presentation. Raises Cancelled / TimedOut / Crash."""
    st = run.status = workspaces.new_status(run)
    _begin(run, st)
    failed = _scenario_before_answers(run)
    if failed is not None:
        return failed
    for aid in run.agent_ids:
        _agent_turn(run, aid)
        text = run.knobs.answer if (run.quick and aid == run.agent_ids[0]) else _interim(run, aid)
        answers.submit_answer(run, aid, text)
    if run.knobs.scenario == "burst":
        _burst(run)
    winner = run.agent_ids[0]
    votes: list[VoteCast] = []
    for aid in run.agent_ids:
        _agent_turn(run, aid)
        votes.append(answers.cast_vote(run, aid, winner))
    _declare_winner(run, st, winner)
    if not run.quick:
        _start_presentation(run, winner, len(votes))
    answers.write_final(run, winner)
    duration = time.time() - run.coord_start
    return Outcome(winner=winner, kind="winner", answer=run.knobs.answer, votes=votes, duration=duration)


def _begin(run: Run, st: StatusFile) -> None:
    """Fresh coordination state, the opening log lines and events, status.json's writer loop started."""
    run.coord_events = []
    run.answers = {}
    run.coord_start = time.time()
    run.log(f"Logging enabled - logging INFO+ to file: {run.log_file()}")
    run.log(f"Events log: {run.attempt_dir() / 'events.jsonl'}")
    n = len(run.agent_ids)
    run.event("system_status", None, {"message": "Initializing coordination..."})
    run.event("system_status", None, {"message": f"Preparing {n} agent environments..."})
    run.event("system_status", None, {"message": "Agents working on task..."})
    run.coord("session_start", None, f"Started with agents: {run.agent_ids}")
    run.coord("iteration_start", None, "Starting coordination iteration 1", available_answers=[])
    for aid in run.agent_ids:
        _set_status(run, aid, "streaming")
        run.event("round_start", aid, {})
        if run.inv.criteria:
            crit = [
                {"id": c.id, "text": c.text, "category": c.category, "verify_by": None}
                for c in run.inv.criteria
            ]
            run.event("evaluation_criteria_set", None, {"criteria": crit, "source": "inline"})
        run.coord("context_received", aid, "Received context with 0 answers", available_answers=[])
    st.start_loop(run.knobs.status_interval)
    st.write()


def _scenario_before_answers(run: Run) -> Outcome | None:
    """The runs that never reach an answer: a failure outcome, a Crash, or a wait into TimedOut / forever."""
    preset = run.args.checklist_criteria_preset
    if preset is not None and preset not in PRESETS:
        return _all_fail(
            run, f"Unknown checklist criteria preset '{preset}'. Valid presets: {', '.join(PRESETS)}"
        )
    scenario = run.knobs.scenario
    if scenario == "all-fail":
        return _all_fail(run, "Agent failed to use workflow tools after 3 attempts")
    if scenario == "crash":
        run.pause(run.knobs.step_delay)
        run.noise()
        raise Crash("Simulated failure in the fake massgen (FAKE_MASSGEN_SCENARIO=crash)")
    if scenario == "timeout":
        run.pause(run.knobs.step_delay)
        run.noise()
        if run.deadline is None:
            run.deadline = time.time()
        run.pause(max(run.deadline - time.time(), 0) + 1)
    if scenario == "hang":
        while True:
            run.pause(3600)
    return None


def _agent_turn(run: Run, aid: str) -> None:
    """One model call's worth of time and output: a pause, provider noise, the cost line."""
    run.pause(run.knobs.step_delay)
    run.noise()
    run.cost_line(aid)


def _declare_winner(run: Run, st: StatusFile, winner: str) -> None:
    """status.json says completed (and is_complete) before the final answer exists, as massgen's does."""
    with st.lock:
        st.winner = winner
        st.phase = "presentation"
        st.is_final_presentation = not run.quick
        st.finish_reason = "completed"
        st.details = f"Winner: {winner}"
        st.final_preview = run.knobs.answer[:200]
    single_quick = run.quick and run.args.single_agent is not None
    if single_quick:  # observed: --single-agent X --quick leaves status.json in_progress
        with st.lock:
            st.finish_reason, st.details, st.phase = "in_progress", None, "initial_answer"
            st.is_final_presentation = False
    st.stop_loop()
    st.write()
    run.event("status", winner, {"message": f"Voting complete - selected agent: {winner}", "level": "info"})


def _start_presentation(run: Run, winner: str, vote_count: int) -> None:
    run.event("status", winner, {"message": "Presenting final coordinated answer", "level": "info"})
    run.event(
        "final_presentation_start",
        winner,
        {"vote_counts": {winner: vote_count}, "answer_labels": {winner: "A1.1"}, "is_tie": False},
        round_number=2,
    )
    run.coord("final_round_start", winner, "Starting final presentation round 2", round_type="final")
    run.coord("final_agent_selected", winner, "Selected as final presenter")
    _agent_turn(run, winner)


def _interim(run: Run, aid: str) -> str:
    return f"FAKE-MASSGEN ANSWER: 42. (scripted reply from the fake massgen) [{aid} answer#1]"


def _set_status(run: Run, aid: str, status: str) -> None:
    st = run.status
    assert st is not None
    with st.lock:
        agent = st.agents[aid]
        agent.status = status
        agent.last_activity = time.time()
    run.coord("status_change", aid, f"Changed to status: {status}")


def _all_fail(run: Run, message: str) -> Outcome:
    st = run.status
    assert st is not None
    for aid in run.agent_ids:
        run.pause(run.knobs.step_delay)
        run.noise(3)
        for _ in range(3):
            run.cost_line(aid)
        run.event("text", aid, {"content": f"❌ {message}"})
    err(loguru_line("ERROR", f"[ERROR] orchestrator: {message}"))
    err(
        loguru_line(
            "ERROR",
            "[ERROR] orchestrator: ❌ Unable to provide coordinated answer - no successful agents",
        )
    )
    now = time.time()
    with st.lock:
        for agent in st.agents.values():
            agent.status = "error"
            agent.error = {"type": "error", "message": message, "timestamp": now}
            agent.rounds.append(
                RoundRecord(0, agent.agent_id, "initial_answer", "error", agent.round_start_time, now)
            )
        st.finish_reason = "error"
        st.details = f"Agents failed: {', '.join(run.agent_ids)}"
    st.stop_loop()
    st.write()
    for aid in run.agent_ids:
        answers.agent_output(run, aid, f"❌ {message}")
    return Outcome(winner=None, kind="error")


def mark_timeout(run: Run) -> Outcome:
    st = run.status
    assert st is not None
    now = time.time()
    elapsed = now - run.start
    with st.lock:
        for agent in st.agents.values():
            if agent.status in ("waiting", "streaming", "answered"):
                agent.status = "timeout"
                agent.error = {"type": "timeout", "message": "Orchestrator timeout", "timestamp": now}
                agent.rounds.append(
                    RoundRecord(
                        agent.round_number,
                        agent.agent_id,
                        "initial_answer",
                        "timeout",
                        agent.round_start_time,
                        now,
                    )
                )
        st.finish_reason = "timeout"
        st.details = f"Time limit exceeded ({elapsed:.1f}s/{run.limit}s)"
    st.stop_loop()
    st.write()
    err(loguru_line("WARNING", f"[Orchestrator] Time limit exceeded ({elapsed:.1f}s/{run.limit}s)"))
    return Outcome(winner=None, kind="timeout")


def _burst(run: Run) -> None:
    """Lots of stdout noise at once (litellm can be that chatty); checks for SIGINT between chunks."""
    block = (PROVIDER_NOISE + "\n").encode() * 512
    remaining = run.knobs.burst_bytes
    stream = sys.stdout.buffer
    while remaining > 0:
        if run.cancel_reason:
            stream.flush()
            raise Cancelled(run.cancel_reason)
        chunk = block[:remaining]
        stream.write(chunk)
        remaining -= len(chunk)
    stream.flush()
    if run.knobs.burst_bytes:
        stream.write(b"\n")
        stream.flush()

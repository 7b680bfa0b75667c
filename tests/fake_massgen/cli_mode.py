"""CLI mode (`--automation` without `--web`): markers, plans, resumed sessions, the end-of-run summary."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import time
from pathlib import Path

from fake_massgen import logtree, sessions, signals, timeline, workspaces
from fake_massgen.cli import (
    EXIT_CONFIG,
    EXIT_EXECUTION,
    EXIT_OK,
    Invocation,
    err,
    log_root,
    out,
    resolve_config,
    write_execution_metadata,
)
from fake_massgen.knobs import agent_ids
from fake_massgen.runstate import MAX_ATTEMPTS, Cancelled, Crash, Outcome, Paths, Run, TimedOut
from fake_massgen.textio import hms, now_stamp, write_text

LIST_HINT = "Run 'massgen --list-sessions' to see available sessions"
RESUME_UNPACK_ERROR = "too many values to unpack (expected 3)"


def pick_agents(inv: Invocation, web: bool) -> tuple[list[str], list[str]] | str:
    """(agent ids, model names) or an error message for an unknown --single-agent id."""
    knob = inv.knobs.agents
    if knob:
        ids = list(knob)
    elif inv.config is not None and inv.config.quick_agent:
        ids = ["agent1"]
    else:
        ids = list(agent_ids(2 if web else 3))
    single = inv.args.single_agent
    if single is not None and not web:
        if single is True:
            ids = ids[:1]
        elif single in ids:
            ids = [single]
        else:
            return f"❌ Agent '{single}' not found. Available agents: {', '.join(ids)}"
    if inv.config is not None and inv.config.quick_agent:
        models = [inv.args.model] * len(ids)
    else:
        models = [f"fake-{aid.split('_', 1)[-1]}" for aid in ids]
    return ids, models


def _prompt_refs(question: str) -> list[tuple[str, str]] | str:
    """`@path` / `@path:w` tokens -> [(abs path, read|write)], or the missing path."""
    refs: list[tuple[str, str]] = []
    for token in question.split():
        if not token.startswith("@") or len(token) < 2:
            continue
        raw = token[1:].rstrip(".,;:!?)\"'") if not token.endswith(":w") else token[1:]
        perm = "read"
        if raw.endswith(":w"):
            raw, perm = raw[:-2], "write"
        path = Path(raw).expanduser()
        if not path.exists():
            return raw
        refs.append((str(Paths.absolute(path)), perm))
    return refs


def validation_error_text(bad: list[tuple[int, str, str]]) -> str:
    count = len(bad)
    head = f"{count} validation error{'s' if count != 1 else ''} for CoordinationConfig"
    body = []
    for idx, key, typ in bad:
        body.append(f"checklist_criteria_inline.{idx}.{key}")
        body.append(f"  Input should be a valid string [type=string_type, input_type={typ}]")
    return "\n".join([head, *body])


def run_cli(inv: Invocation) -> int:
    picked = pick_agents(inv, web=False)
    if isinstance(picked, str):
        out(picked)
        return EXIT_CONFIG
    ids, models = picked
    paths = Paths(session_rel=log_root() / f"log_{now_stamp()}", turn=1)
    run = Run(inv, web=False, paths=paths, agents=ids, models=models)
    if inv.args.execute_plan or inv.args.execute_spec:
        return _execute_plan(run)
    return _cli_session(run, resumed=False)


def _execute_plan(run: Run) -> int:
    """--execute-plan/--execute-spec: look the plan up under ./.massgen/plans (after LOG_DIR); run it."""
    args = run.args
    target = args.execute_plan or args.execute_spec
    kind = "plan" if args.execute_plan else "spec"
    plans = Path(".massgen") / "plans"
    write_execution_metadata(run.attempt_dir(), args, run.inv.config)
    run.marker(f"LOG_DIR: {Paths.absolute(run.paths.session_rel)}")
    run.marker(f"STATUS: {Paths.absolute(run.attempt_dir() / 'status.json')}")
    found: Path | None = None
    candidates = sorted(plans.glob("plan_*")) if plans.is_dir() else []
    if target == "latest":
        resumable = [p for p in candidates if _plan_status(p) == "resumable"]
        found = (resumable or candidates or [None])[-1]
    else:
        name = Path(target).name
        for cand in (plans / name, plans / f"plan_{name}"):
            if cand.is_dir():
                found = cand
                break
    if found is not None and kind == "spec" and not (found / "frozen" / "spec.json").is_file():
        found = None
    if found is None:
        out(f"❌ {kind.capitalize()} not found: {target}")
        return EXIT_CONFIG
    code = _cli_session(run, resumed=False, header_done=True)
    run.marker(f"PLAN_DIR: {found}" if kind == "plan" else f"SPEC_DIR: {found}")
    run.marker(
        f"PLAN_ID: {found.name[len('plan_') :]}"
        if kind == "plan"
        else f"SPEC_ID: {found.name[len('plan_') :]}"
    )
    return code


def _plan_status(plan_dir: Path) -> str | None:
    try:
        return json.loads((plan_dir / "plan_metadata.json").read_text(encoding="utf-8")).get("status")
    except (OSError, ValueError, AttributeError):
        return None


def _cli_session(run: Run, *, resumed: bool, header_done: bool = False, session_id: str | None = None) -> int:
    inv, args = run.inv, run.args
    if not header_done:
        write_execution_metadata(run.attempt_dir(), args, inv.config)
        if not resumed:
            run.marker(f"LOG_DIR: {Paths.absolute(run.paths.session_rel)}")
            run.marker(f"STATUS: {Paths.absolute(run.attempt_dir() / 'status.json')}")
    if args.inbox_dir and not resumed:
        inbox = Path(args.inbox_dir)
        inbox.mkdir(parents=True, exist_ok=True)
        os.environ["MASSGEN_RUNTIME_INBOX_DIR"] = str(Paths.absolute(inbox))
        run.marker(f"RUNTIME_INBOX: {Paths.absolute(inbox)}")
    signals.install_sigint(run, also_sigterm=resumed)
    if args.parse_at_references and args.question:
        refs = _prompt_refs(args.question)
        if isinstance(refs, str):
            out(f"❌ Context path from prompt does not exist: {refs}")
            return EXIT_CONFIG
        if refs:
            run.display("📂 Context paths from prompt:")
            for path, perm in refs:
                run.display(f"   {path} ({perm})")
            run.prompt_refs = refs
    if inv.bad_criteria_values:
        out(f"❌ Error: {validation_error_text(inv.bad_criteria_values)}")
        return EXIT_EXECUTION
    session_id = session_id or run.new_session_id()
    if not resumed:
        write_text(Path(".massgen") / ".session_id", session_id)
        logtree.register_session(run, session_id, "running")
    if not resumed:
        run.log(f"📝 Created session for single-question mode: {session_id}")

    run.display(f"QUESTION: {run.question}")
    run.display("[Coordination in progress - monitor status.json for real-time updates]")
    outcome: Outcome
    try:
        try:
            outcome = timeline.coordinate(run)
            if run.knobs.scenario == "restart" and outcome.winner:
                _restart(run)
                outcome = timeline.coordinate(run)
        except TimedOut:
            outcome = timeline.mark_timeout(run)
    except Cancelled:
        return _cancelled_cli(run, resumed, session_id)
    except Crash as exc:
        if run.status is not None:
            run.status.stop_loop()
        out(f"❌ Error: {exc}")
        return EXIT_EXECUTION
    return _finish_cli(run, outcome, resumed, session_id)


def _restart(run: Run) -> None:
    """Post-evaluation asks for a restart: attempt_1 stays as it was ('completed'); attempt_2 goes on."""
    st = run.status
    assert st is not None
    with st.lock:
        st.post_evaluations += 1
        st.restarts += 1
    st.write()
    logtree.save_coordination_logs(run, st.winner)
    run.pause(run.knobs.step_delay)
    run.paths.attempt += 1
    run.display(f"RESTART: Attempt {run.paths.attempt}/{MAX_ATTEMPTS}")


def _cancelled_cli(run: Run, resumed: bool, session_id: str) -> int:
    st = run.status
    if st is not None:
        st.stop_loop()  # status.json stays in_progress: never finalized on signals
    time.sleep(run.knobs.cancel_delay)
    with contextlib.suppress(OSError, AssertionError):
        logtree.save_coordination_logs(run, None)
    if resumed:
        out("")
        out("⚠️  Cancellation requested - stopping the agents...")
        if run.answers:
            out(f"💾 Partial progress saved to .massgen/sessions/{session_id}")
    run.display("")
    run.display(f"COMPLETED: {len(run.agent_ids)} agents, {time.time() - run.start:.1f}s total")
    if not resumed:
        logtree.register_session(run, session_id, "completed")
    return EXIT_OK


def _finish_cli(run: Run, outcome: Outcome, resumed: bool, session_id: str) -> int:
    args = run.args
    st = run.status
    assert st is not None
    winner = outcome.winner
    final_rel = run.attempt_dir() / "final"
    if winner:
        if run.writable_context:
            workspaces.apply_changes(run, winner, run.changes())  # no review gate outside web mode
        run.display("")
        run.display(f"WINNER: {winner}")
        run.display(f"ANSWER_FILE: {final_rel / winner / 'answer.txt'}")
        run.display(f"DURATION: {outcome.duration:.1f}s")
        if outcome.votes:
            run.display("")
            run.display("TIMELINE:")
            for vote in outcome.votes:
                run.display(f"  [VOTE] {vote.voter} -> {vote.voted_for}")
                reason = vote.reason if len(vote.reason) <= 50 else vote.reason[:50] + "..."
                run.display(f"         Reason: {reason}")
            run.display("  [RESULTS]")
            counts: dict[str, int] = {}
            for vote in outcome.votes:
                counts[vote.voted_for] = counts.get(vote.voted_for, 0) + 1
            for agent, n in sorted(counts.items(), key=lambda kv: -kv[1]):
                tag = " (winner)" if agent == winner else ""
                run.display(f"    {agent}: {n} vote{'s' if n != 1 else ''}{tag}")
        run.display(f"ANSWER_PREVIEW: {outcome.answer[:200]}")
    logtree.save_coordination_logs(run, winner)
    if not (run.quick and args.single_agent is not None):
        st.write()  # once more when the coordination logs are saved
    turn_answer = None
    if winner:
        turn_final = run.paths.turn_rel / "final" / winner
        if turn_final.exists():
            shutil.rmtree(turn_final)
        shutil.copytree(final_rel / winner, turn_final)
        turn_answer = turn_final / "answer.txt"
        logtree.write_session_turn(run, session_id, winner, outcome.answer)
    run.display("")
    run.display(f"COMPLETED: {len(run.agent_ids)} agents, {time.time() - run.start:.1f}s total")
    if resumed:
        # 0.1.97 unpacks 3 of the 4 values its resumed turn returns: exit 1 after a turn that was saved
        out(f"❌ Session error: {RESUME_UNPACK_ERROR}")
        out(LIST_HINT)
        return EXIT_CONFIG
    if winner and turn_answer is not None:
        run.marker(f"ANSWER: {Paths.absolute(turn_answer)}")
    if winner and args.output_file:
        target = Path(args.output_file).expanduser()
        write_text(target, outcome.answer)
        run.marker(f"OUTPUT_FILE: {Paths.absolute(target)}")
    if final_rel.is_dir():
        run.marker(f"FINAL_DIR: {final_rel}")
    if args.plan_and_execute and winner:
        plan_id = now_stamp()
        plan_dir = Path(".massgen") / "plans" / f"plan_{plan_id}"
        logtree.write_plan_dir(run, plan_dir, plan_id, winner)
        run.marker(f"PLAN_DIR: {plan_dir}")
        run.marker(f"PLAN_ID: {plan_id}")
    if not resumed:
        logtree.register_session(run, session_id, "completed")
    return EXIT_OK


def _session_to_continue(args: argparse.Namespace) -> str | None:
    """--continue: the newest continuable session (massgen prints which); else the --session-id given."""
    if args.continue_session:
        found = sessions.most_recent_continuable()
        if found is None:
            out("❌ No continuable sessions found (all sessions are empty)")
            out(LIST_HINT)
            return None
        out(f"🔄 Continuing most recent session: {found}")
        args.session_id = found
    return args.session_id


def run_resumed(inv: Invocation) -> int:
    """`--session-id ID` / `--continue` as massgen 0.1.97 runs them (see fake_massgen/sessions.py)."""
    args = inv.args
    session_id = _session_to_continue(args)
    if session_id is None:
        return EXIT_CONFIG
    registered = sessions.entry(session_id)
    if registered is None:
        out(f"❌ Session error: Session '{session_id}' not found in registry")
        out(LIST_HINT)
        return EXIT_CONFIG
    log_directory = registered.get("log_directory")
    if log_directory:
        (log_root() / log_directory).mkdir(parents=True, exist_ok=True)
        out(f"📚 Loading session: {session_id} (log: {log_directory})")
    # ... but 0.1.97 then logs into a new folder: its start-up log in turn_1/attempt_1, the turn in turn_N+1
    log_dir = log_root() / f"log_{now_stamp()}"
    if not args.config and registered.get("config_path"):
        args.config = registered["config_path"]
        out(f"📄 Using config from session: {args.config}")
    config, cfg_error = resolve_config(args)
    if cfg_error or config is None:
        err(f"❌ Configuration error: {cfg_error or 'No default configuration found.'}")
        return EXIT_CONFIG
    inv.config = config
    picked = pick_agents(inv, web=False)
    if isinstance(picked, str):
        out(picked)
        return EXIT_CONFIG
    restored = sessions.restore(session_id)
    if isinstance(restored, str):
        out(f"❌ Session error: {restored}")
        out(LIST_HINT)
        return EXIT_CONFIG
    ids, models = picked
    startup = Paths(session_rel=log_dir, turn=1).attempt_rel
    write_execution_metadata(startup, args, config)
    write_text(startup / "massgen.log", f"{hms()} | INFO     | 📚 Using session from CLI: {session_id}\n")
    paths = Paths(session_rel=log_dir, turn=restored.turns + 1)
    run = Run(inv, web=False, paths=paths, agents=ids, models=models)
    out(
        f"📚 Restored {restored.turns} previous turn(s) ({restored.messages} messages) "
        f"from session '{session_id}'"
    )
    out(f"   Starting turn {restored.turns + 1}")
    try:
        return _cli_session(run, resumed=True, session_id=session_id)
    finally:
        if not args.no_session_registry:
            sessions.complete(session_id)  # massgen marks every session it ran completed on the way out

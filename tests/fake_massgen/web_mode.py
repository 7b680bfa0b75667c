"""Web mode (`--web --automation`): the automation server, the run behind it, reviews, session metadata."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from fake_massgen import cli_mode, logtree, review, signals, timeline, workspaces
from fake_massgen.cli import EXIT_CONFIG, EXIT_OK, Invocation, err, log_root, out, write_execution_metadata
from fake_massgen.runstate import Cancelled, Crash, Paths, Run, TimedOut
from fake_massgen.textio import hms, iso_now, now_stamp, write_json, write_text
from fake_massgen.webserver import WebState, banner, start_server


def run_web(inv: Invocation) -> int:
    args = inv.args
    picked = cli_mode.pick_agents(inv, web=True)
    assert not isinstance(picked, str)
    ids, models = picked
    host, port = args.web_host, args.web_port
    config_label = inv.config.label if inv.config is not None else ""
    banner(host, port, config_label, "Run starting immediately — open browser anytime to monitor")
    sid = "auto-" + secrets.token_hex(6)
    paths = Paths(session_rel=log_root() / f"log_{now_stamp()}", turn=1)
    run = Run(inv, web=True, paths=paths, agents=ids, models=models)
    state = WebState(session_id=sid, question=args.question, config=config_label, models=models, run=run)
    run.web_state = state
    try:
        server = start_server(host, port, state)
    except OSError as exc:
        err(
            f"ERROR:    [Errno {exc.errno}] error while attempting to bind on address ('{host}', {port}): "
            f"{(exc.strerror or str(exc)).lower()}"
        )
        return EXIT_CONFIG
    webui_log = Path.home() / ".massgen" / "webui_logs" / "workspace_browser.log"
    webui_log.parent.mkdir(parents=True, exist_ok=True)
    webui_log.touch()
    err(f"[{hms()}] [WORKSPACE] INFO: WebUI logs writing to: {webui_log}")
    err(f"[{hms()}] [WORKSPACE] INFO: WorkspaceConnectionManager initialized")
    err(f"[{hms()}] [WORKSPACE] INFO: Loaded 0 persisted WebUI sessions")
    err(f"[{hms()}] [WORKSPACE] INFO: [AutoStart] Starting coordination immediately: session={sid}")
    signals.install_sigint(run)
    try:
        return _web_session(run, state)
    finally:
        err(f"[{hms()}] [WORKSPACE] INFO: [AutoStart] Coordination finished — shutting down server")
        state.finish()
        server.shutdown()
        server.server_close()


def _web_session(run: Run, state: WebState) -> int:
    inv = run.inv
    write_execution_metadata(run.attempt_dir(), run.args, inv.config)
    run.status = workspaces.new_status(run)
    run.status.write()
    err(f"[{hms()}] [WORKSPACE] INFO: Saved initial status.json with workspace paths")
    attempt = run.attempt_dir()
    out(f"LOG_DIR: {attempt}")
    out(f"STATUS: {attempt / 'status.json'}")
    out(f"[WebUI] LOG_DIR: {attempt}")
    out(f"[WebUI] STATUS: {attempt / 'status.json'}")
    if inv.bad_criteria_values:
        out(f"[WebUI Error] {cli_mode.validation_error_text(inv.bad_criteria_values)}")
        return EXIT_OK
    try:
        try:
            outcome = timeline.coordinate(run)
        except TimedOut:
            outcome = timeline.mark_timeout(run)
    except Cancelled:
        st = run.status
        st.stop_loop()
        if run.cancel_reason == "web":
            with st.lock:
                st.phase = "cancelled"
                st.cancelled_at = time.time()
            st.write_in_place()
        time.sleep(run.knobs.cancel_delay)
        logtree.save_coordination_logs(run, None)
        return EXIT_OK
    except Crash as exc:
        run.status.stop_loop()
        out(f"[WebUI Error] {exc}")
        return EXIT_OK
    winner = outcome.winner
    logtree.save_coordination_logs(run, winner)
    run.status.write()
    if not winner:
        return EXIT_OK
    changes = run.changes()
    if changes and run.args.web_review:
        for _ in range(run.knobs.reviews):
            if not review.web_review(run, state, winner, changes):
                return EXIT_OK  # cancelled while waiting
    elif changes:
        workspaces.apply_changes(run, winner, changes)
    turn = run.paths.turn_rel
    session = run.paths.session_rel
    out(f"[WebUI] Saving metadata: turn_dir={turn}, session_dir={session}")
    stamp = iso_now()
    write_text(turn / "answer.txt", outcome.answer)
    write_json(
        turn / "metadata.json",
        {
            "turn": run.paths.turn,
            "timestamp": stamp,
            "winning_agent": winner,
            "task": run.args.question,
            "session_id": session.name,
        },
    )
    write_json(
        session / "winning_agents_history.json",
        [{"agent_id": winner, "turn": run.paths.turn, "timestamp": stamp}],
    )
    logtree.register_session(run, session.name, "completed")
    out(f"[WebUI] Registered session: {session.name}")
    out(f"[WebUI] Saved session metadata: turn={run.paths.turn}, winner={winner}")
    state.mark_completed(winner)
    return EXIT_OK

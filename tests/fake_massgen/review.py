"""The web review gate: review_request.json, the `__REVIEW_*__` lines, the decision, the changes applied."""

from __future__ import annotations

import subprocess
import time
from typing import Any

from fake_massgen import workspaces
from fake_massgen.cli import out
from fake_massgen.knobs import FileChange
from fake_massgen.runstate import VOTE_REASON, Run
from fake_massgen.textio import write_json_atomic
from fake_massgen.webserver import WebState, review_diff

REVIEW_URL = "http://localhost:8000/?v=2"  # hard-coded by massgen whatever --web-host/--web-port say
REVIEW_API = "http://localhost:8000/api/sessions/{sid}/review-response"


def web_review(run: Run, state: WebState, winner: str, changes: list[FileChange]) -> bool:
    """One review gate. Returns False when the run was cancelled while waiting."""
    st = run.status
    assert st is not None
    files = [{"path": c.path, "status": c.status} for c in changes]
    request = {
        "review_pending": True,
        "url": REVIEW_URL,
        "api_url": REVIEW_API.format(sid=state.session_id),
        "files": files,
        "answer_preview": run.knobs.answer[:200],
    }
    state.begin_review(request, _review_payload(run, state, winner, changes))
    with st.lock:
        st.review_pending = True
    st.write()
    write_json_atomic(run.attempt_dir() / "review_request.json", request)
    out(f"__REVIEW_PENDING__ URL={REVIEW_URL}")
    deadline = time.monotonic() + run.knobs.review_timeout
    decision: dict[str, Any] | None = None
    while decision is None:
        if run.cancel_reason:
            state.end_review()
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        decision = state.wait_decision(min(remaining, 0.05))
    state.end_review()
    if decision is None:
        result = {"approved": False, "approved_files": None, "action": "approve", "resolved_by": "unknown"}
    else:
        approved = bool(decision.get("approved", False))
        action = decision.get("action") or ("approve" if approved else "reject")
        result = {
            "approved": approved,
            "approved_files": decision.get("approved_files"),
            "action": action,
            "resolved_by": "api",
        }
    result["timestamp"] = time.time()
    write_json_atomic(run.attempt_dir() / "review_result.json", result)
    out(f"__REVIEW_COMPLETE__ APPROVED={result['approved']}")
    if result["approved"]:
        wanted = result["approved_files"]
        if wanted is None:
            selected = changes
        else:
            names = {str(w) for w in wanted} if isinstance(wanted, list) else set()
            ctx = str(run.cwd)
            selected = [c for c in changes if c.path in names or f"{ctx}::{c.path}" in names]
        workspaces.apply_changes(run, winner, selected)
    return True


def _review_payload(run: Run, state: WebState, winner: str, changes: list[FileChange]) -> dict[str, Any]:

    try:
        proc = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
        base_ref = (proc.stdout.strip() or None) if proc.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        base_ref = None
    ws = run.workspaces.get(winner)
    isolated = str(ws / ".worktree" / "ctx_1") if ws else str(run.cwd)
    st = run.status
    assert st is not None
    voters = [a.agent_id for a in st.agents.values() if a.vote is not None and a.vote.voted_for == winner]
    return {
        "review_pending": True,
        "changes": [
            {
                "original_path": str(run.cwd),
                "isolated_path": isolated,
                "repo_root": str(run.cwd),
                "base_ref": base_ref,
                "context_prefix": ".",
                "changes": [{"status": c.status, "path": c.path} for c in changes],
                "diff": review_diff(run.cwd, changes, lambda path: workspaces.change_content(winner, path)),
            }
        ],
        "answer_content": run.knobs.answer,
        "vote_results": {
            "vote_counts": {winner: len(voters)},
            "voter_details": {winner: [{"voter": v, "reason": VOTE_REASON} for v in voters]},
            "winner": winner,
            "is_tie": False,
            "total_votes": len(voters),
            "agents_with_answers": len(run.agent_ids),
            "agents_voted": len(voters),
            "agent_mapping": {f"agent{i}": a for i, a in enumerate(run.agent_ids, start=1)},
        },
        "agent_id": winner,
        "model_name": run.models[run.agent_ids.index(winner)],
        "context_paths": None,
    }

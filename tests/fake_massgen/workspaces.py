"""The paths a run shows in status.json (context paths, workspaces, snapshots) and the file changes it
applies."""

from __future__ import annotations

import secrets

from fake_massgen.knobs import FileChange
from fake_massgen.runstate import Run
from fake_massgen.status import AgentState, StatusFile
from fake_massgen.textio import write_text


def new_status(run: Run) -> StatusFile:
    agents = []
    for i, (aid, model) in enumerate(zip(run.agent_ids, run.models, strict=True), start=1):
        agents.append(
            AgentState(
                agent_id=aid,
                number=i,
                model=model,
                workspace_paths=_workspace_paths(run, aid),
                round_cost=run.knobs.round_cost,
            )
        )
    criteria = None
    if run.inv.criteria:
        criteria = [{"id": c.id, "text": c.text, "category": c.category} for c in run.inv.criteria]
    context_paths = None
    if run.args.cwd_context:
        perm = "write" if run.writable_context else "read"
        context_paths = [{"path": str(run.cwd), "permission": perm}]
    context_paths = _prompt_context_paths(run, context_paths)
    return StatusFile(
        run.attempt_dir() / "status.json",
        question=run.question,
        log_dir_rel=str(run.attempt_dir()),
        agents=agents,
        orchestrator_paths=_orchestrator_paths(run),
        eval_criteria=criteria,
        context_paths=context_paths,
        enabled=not run.knobs.no_status,
    )


def _prompt_context_paths(run: Run, existing: list[dict[str, str]] | None) -> list[dict[str, str]] | None:
    refs = run.prompt_refs
    if not refs:
        return existing
    result = list(existing or [])
    for path, perm in refs:
        result = [p for p in result if p["path"] != path] + [{"path": path, "permission": perm}]
    return result


def _orchestrator_paths(run: Run) -> dict[str, str | None]:
    if not run.has_workspaces:
        return {"snapshot_storage": None, "temp_workspace_parent": None}
    base = "" if run.web else ".massgen/"  # web mode skips the relocation under .massgen/
    return {
        "snapshot_storage": f"{base}snapshots/{run.session_label}",
        "temp_workspace_parent": f"{base}temp_workspaces/{run.session_label}",
    }


def _workspace_paths(run: Run, agent: str) -> dict[str, str] | None:
    if not run.has_workspaces:
        return None
    if agent not in run.workspaces:
        suffix = agent.split("_", 1)[-1]
        ws = run.cwd / ".massgen" / "workspaces" / f"workspace_{suffix}_{secrets.token_hex(4)}"
        ws.mkdir(parents=True, exist_ok=True)
        run.workspaces[agent] = ws
    orch = _orchestrator_paths(run)
    temp_parent = run.cwd / str(orch["temp_workspace_parent"])
    temp = temp_parent / secrets.token_hex(4)
    temp.mkdir(parents=True, exist_ok=True)
    snap = f"{orch['snapshot_storage']}/{agent}"
    (run.cwd / snap).mkdir(parents=True, exist_ok=True)
    return {
        "workspace": str(run.workspaces[agent]),
        "snapshot_storage": snap,
        "temp_workspace": str(temp),
    }


def apply_changes(run: Run, winner: str, selected: list[FileChange]) -> None:
    """Copy the winner's changes into the real project (what an approved review / ungated rw run does)."""
    for change in selected:
        target = run.cwd / change.path
        if change.status == "D":
            if target.is_file():
                target.unlink()
        else:
            write_text(target, change_content(winner, change.path))
    if selected:
        run.log(f"Applied {len(selected)} change(s) to {run.cwd}")


def change_content(winner: str, path: str) -> str:
    return f"hello from the fake massgen\nwritten by {winner} during presentation ({path})\n"

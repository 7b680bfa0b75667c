"""`massgen-skill runs`: this project's runs (or, with --all, the user's runs everywhere), newest last."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from massgen_skill.commands._common import add_project_argument, project_dir
from massgen_skill.follow.results import outcome_of
from massgen_skill.output import print_json
from massgen_skill.run import records
from massgen_skill.run.records import RunRecord, effective_state

EPILOG = """\
States: starting, running, review-pending, finished, stopped, lost (the supervising wrapper is gone;
`massgen-skill stop RUN` cleans up). Runs are kept at the project root (the git top level), so this lists
the runs started from any folder of the project. OUTCOME and exit_code are the run's one outcome: the code
`run`, `wait` and `result` exit with. Follow-up turns (`run --continue RUN`) are listed under the session's
first run, indented, with their TURN; --json adds "sessions": each session's runs in turn order.

examples:
  massgen-skill runs
  massgen-skill runs --json
  massgen-skill runs --all
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    add_project_argument(parser)
    parser.add_argument("--all", action="store_true", help="the user's runs in every project (user index)")
    parser.add_argument("--json", action="store_true", help="print JSON")


def row(record: RunRecord) -> dict[str, Any]:

    state = effective_state(record)
    outcome = outcome_of(record, state)
    return {
        "run_id": record.run_id,
        "state": state,
        "outcome": outcome.word if outcome else None,
        "exit_code": int(outcome.code) if outcome else None,
        "mode": record.mode,
        "web": record.web,
        "created_at": record.created_at,
        "project_dir": record.project_dir,
        "cwd": record.cwd or record.project_dir,
        "log_dir": record.log_dir,
        **record.session_info(),
    }


def grouped(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows in session order: each first run (oldest first), then its follow-up turns in turn order."""
    first_seen: dict[str, int] = {}
    for index, item in enumerate(rows):
        first_seen.setdefault(item["first_run"], index)
    return sorted(rows, key=lambda r: (first_seen[r["first_run"]], r["turn"] or 0, r["created_at"]))


def sessions_of(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sessions with more than one turn: the session id, its first run and its runs in turn order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in grouped(rows):
        groups.setdefault(item["first_run"], []).append(item)
    return [
        {
            "session_id": items[-1]["session_id"],
            "first_run": first,
            "runs": [i["run_id"] for i in items],
            "turns": [i["turn"] for i in items],
        }
        for first, items in groups.items()
        if len(items) > 1
    ]


def run(args: argparse.Namespace) -> int:

    found = records.list_all_records() if args.all else records.list_records(project_dir(args))
    rows = grouped([row(r) for r in found])
    if args.json:
        print_json({"runs": rows, "sessions": sessions_of(rows)})
        return 0
    if not rows:
        print("no runs recorded" + ("" if args.all else " in this project"))
        return 0
    print(_line("RUN_ID", "TURN", "STARTED", "STATE", "OUTCOME", "MODE", "FOLDER"))
    for item in rows:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(item["created_at"]))
        where = _where(item, args.all)
        run_id = ("  " if item["previous_run"] else "") + item["run_id"]  # a follow-up under its session
        turn = str(item["turn"] or "-")
        print(_line(run_id, turn, when, item["state"], item["outcome"] or "-", item["mode"] or "-", where))
    return 0


def _line(run_id: str, turn: str, when: str, state: str, outcome: str, mode: str, where: str) -> str:
    """One row of the table (the header uses the same widths, so columns line up)."""
    return f"{run_id:<24} {turn:>4} {when:<19}  {state:<14} {outcome:<13} {mode:<16} {where}".rstrip()


def _where(item: dict[str, Any], everywhere: bool) -> str:
    """The folder massgen ran in: the whole path with --all, else relative to the project root."""
    cwd = Path(item["cwd"])
    if everywhere or not cwd.is_relative_to(item["project_dir"]):
        return str(cwd)
    return str(cwd.relative_to(item["project_dir"])) if cwd != Path(item["project_dir"]) else ""

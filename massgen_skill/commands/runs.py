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
`run`, `wait` and `result` exit with.

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
    }


def run(args: argparse.Namespace) -> int:

    found = records.list_all_records() if args.all else records.list_records(project_dir(args))
    rows = [row(r) for r in found]
    if args.json:
        print_json({"runs": rows})
        return 0
    if not rows:
        print("no runs recorded" + ("" if args.all else " in this project"))
        return 0
    print(_line("RUN_ID", "STARTED", "STATE", "OUTCOME", "MODE", "FOLDER"))
    for item in rows:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(item["created_at"]))
        where = _where(item, args.all)
        print(_line(item["run_id"], when, item["state"], item["outcome"] or "-", item["mode"] or "-", where))
    return 0


def _line(run_id: str, when: str, state: str, outcome: str, mode: str, where: str) -> str:
    """One row of the table (the header uses the same widths, so columns line up)."""
    return f"{run_id:<22} {when:<19}  {state:<14} {outcome:<13} {mode:<16} {where}".rstrip()


def _where(item: dict[str, Any], everywhere: bool) -> str:
    """The folder massgen ran in: the whole path with --all, else relative to the project root."""
    cwd = Path(item["cwd"])
    if everywhere or not cwd.is_relative_to(item["project_dir"]):
        return str(cwd)
    return str(cwd.relative_to(item["project_dir"])) if cwd != Path(item["project_dir"]) else ""

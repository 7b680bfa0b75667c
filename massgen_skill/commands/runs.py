"""`massgen-skill runs`: this project's runs, newest last, with their live state."""

from __future__ import annotations

import argparse
import time

from massgen_skill.commands._common import add_project_argument

EPILOG = """\
States: starting, running, review-pending, finished, stopped, lost (the supervising wrapper is gone;
`massgen-skill stop RUN` cleans up).

examples:
  massgen-skill runs
  massgen-skill runs --json
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    add_project_argument(parser)
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from massgen_skill.output import print_json
    from massgen_skill.run import records

    found = records.list_records(Path(args.project).resolve())
    rows = [
        {
            "run_id": r.run_id,
            "state": records.effective_state(r),
            "outcome": r.outcome,
            "mode": r.mode,
            "web": r.web,
            "created_at": r.created_at,
            "log_dir": r.log_dir,
        }
        for r in found
    ]
    if args.json:
        print_json({"runs": rows})
        return 0
    if not rows:
        print("no runs recorded here")
    for row in rows:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(row["created_at"]))
        print(f"{row['run_id']}  {when}  {row['state']:<14} {row['outcome'] or '-':<12} {row['mode']}")
    return 0

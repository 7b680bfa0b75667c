"""Arguments and look-ups shared by the commands that act on a recorded run."""

from __future__ import annotations

import argparse
from pathlib import Path

RUN_HELP = "run id (or a unique prefix), a record path, or 'latest' (default)"


def add_run_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_ref", nargs="?", metavar="RUN", help=RUN_HELP)
    parser.add_argument(
        "--project", metavar="DIR", default=".", help="project folder holding the runs (default: .)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")


def project_dir(args: argparse.Namespace) -> Path:
    return Path(args.project).resolve()


def resolve(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from massgen_skill.records import resolve_run

    return resolve_run(args.run_ref, project_dir(args))

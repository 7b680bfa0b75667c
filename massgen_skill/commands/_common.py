"""Arguments, argument types and look-ups shared by the subcommands."""

from __future__ import annotations

import argparse
from pathlib import Path

from massgen_skill.run.records import RunRecord, project_root, resolve_run

RUN_HELP = "run id (or a unique prefix), a record path, or 'latest' (default)"
MAX_SECONDS = 1e9  # time.sleep and socket timeouts overflow beyond this


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None


def seconds(text: str) -> float:
    """argparse type: a duration > 0 and at most MAX_SECONDS (refuses nan and inf too)."""
    value = _float(text)
    if not 0 < value <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"expected seconds > 0 and at most {MAX_SECONDS:g}, got {text!r}")
    return value


def seconds_or_zero(text: str) -> float:
    """argparse type: a duration >= 0 and at most MAX_SECONDS."""
    value = _float(text)
    if not 0 <= value <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"expected seconds >= 0 and at most {MAX_SECONDS:g}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """argparse type: a whole number > 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number > 0, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a whole number > 0, got {value}")
    return value


def add_project_argument(parser: argparse.ArgumentParser) -> None:
    where = "a folder of the project holding the runs (default: .; runs live at its git top level)"
    parser.add_argument("--project", metavar="DIR", default=".", help=where)


def add_run_argument(parser: argparse.ArgumentParser, metavar: str = "RUN", what: str = RUN_HELP) -> None:
    """The optional RUN (`latest` when left out), --project and --json."""
    parser.add_argument("run_ref", nargs="?", metavar=metavar, help=what)
    add_project_argument(parser)
    parser.add_argument("--json", action="store_true", help="print JSON")


def project_dir(args: argparse.Namespace) -> Path:
    """The project root of --project: runs started anywhere in the project are recorded there."""

    return project_root(Path(args.project))


def resolve(args: argparse.Namespace) -> RunRecord:
    return resolve_run(args.run_ref, project_dir(args))

"""`massgen-skill wait [RUN] --timeout S`: block until the run ends, a review is pending, or the timeout."""

from __future__ import annotations

import argparse
import sys
import time

from massgen_skill.commands._common import add_run_argument, project_dir, seconds, seconds_or_zero
from massgen_skill.commands.status import describe, render
from massgen_skill.exitcodes import ExitCode
from massgen_skill.follow.results import outcome_of
from massgen_skill.massgen.status import Progress, one_line
from massgen_skill.output import print_json
from massgen_skill.run import records
from massgen_skill.run.records import RunRecord

EPILOG = """\
Exit code says why it returned: the run's own outcome code when it ended (0 = answer produced; the same
code `run`, `result`, `status --json` and `runs --json` report), 11 when a review of file changes waits for a
human decision, 10 when the timeout came first.
Use this instead of sleep loops; call it again to keep waiting.

examples:
  massgen-skill wait --timeout 600
  massgen-skill wait 20261125-101500-ab12cd --timeout 60 --json
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    add_run_argument(parser)
    parser.add_argument(
        "--timeout", type=seconds_or_zero, default=600.0, metavar="S", help="give up after S seconds (600)"
    )
    parser.add_argument("--interval", type=seconds, default=0.5, metavar="S", help="poll interval (0.5)")


def _verdict(record: RunRecord) -> tuple[ExitCode | None, str]:
    """The run's own outcome once it ended (as `result`, `status`, `runs` report it); 11: review pending."""

    state = records.effective_state(record)
    if state == records.REVIEW_PENDING:
        return ExitCode.REVIEW_PENDING, "review pending"
    outcome = outcome_of(record, state)
    if outcome is None:
        return None, "running"
    return outcome.code, f"ended: {outcome.word}"


def run(args: argparse.Namespace) -> int:

    tty = sys.stderr.isatty() and not args.json
    ref = records.resolve_run(args.run_ref, project_dir(args))
    deadline = time.monotonic() + args.timeout
    while True:
        record = records.load(ref.path)
        code, why = _verdict(record)
        if code is not None or time.monotonic() >= deadline:
            break
        if tty:
            progress = describe(record)["progress"]
            sys.stderr.write("\r\x1b[K" + one_line(Progress(**{**progress, "agents": ()}))[:150])
            sys.stderr.flush()
        time.sleep(min(args.interval, max(0.0, deadline - time.monotonic())))
    if tty:
        sys.stderr.write("\r\x1b[K")
    if code is None:
        code, why = ExitCode.STILL_RUNNING, "still running (timeout reached; call wait again)"
    info = {**describe(record), "waited": why, "wait_exit_code": int(code)}
    if args.json:
        print_json(info)
    else:
        print(f"WAIT: {why}")
        print(render(info))
    return int(code)

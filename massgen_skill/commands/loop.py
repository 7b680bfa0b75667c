"""`massgen-skill loop "goal" --criteria FILE --max-rounds N`: build, evaluate, build on the next tasks, …"""

from __future__ import annotations

import argparse
import os
import signal
from pathlib import Path
from types import FrameType

from massgen_skill.commands._common import add_project_argument, positive_int, project_dir
from massgen_skill.exitcodes import ExitCode, SkillError, exit_code_table
from massgen_skill.loop import record as loops
from massgen_skill.loop.engine import LoopDriver, LoopSettings, begin
from massgen_skill.run.records import project_root
from massgen_skill.run.relay import HANDLED_SIGNALS, Emitter

DEFAULT_ROUNDS = 3

EPILOG = f"""\
Each round is two ordinary runs (each with its own record; `status RUN`, `result RUN` work on them): a build
run on the goal (from round 2 on, with the previous evaluation's next tasks and critique), then a structured
evaluation of what it produced against --criteria (`run --mode evaluate --structured`). The loop ends when a
verdict is converged, or after --max-rounds rounds. Build runs get --cwd-context (default rw: their changes
wait for your review in the web UI); evaluations read the project (ro) and never write to it.

lines (stdout; --json: one JSON object per line):
  LOOP_ID: loop-…        the loop record (`status LOOP`, `stop LOOP`, `loop --resume LOOP`)
  ROUND: k/N build|evaluate RUN_ID
  VERDICT: iterate|converged (round k; E1=… E2=…)
  WARNING: …             a missing or invalid verdict.json / next_tasks.json / critique_packet.md
  REVIEW_RUN: RUN_ID     a round waits for a review: decide it (`review show|approve|reject`), then --resume
  LOOP: converged|max-rounds|review-pending|failed|stopped
  REASON: …, RESULT: …   a failed or stopped round: its outcome word and exit code end the loop

examples:
  massgen-skill loop --criteria criteria.json --max-rounds 3 "Write a CSV parser in parser.py with tests"
  massgen-skill loop --cwd-context none --criteria criteria.json "Draft the release announcement"
  massgen-skill loop --resume loop-20261130-010203-ab12cd
  massgen-skill status loop-20261130-010203-ab12cd --json

exit codes:
{
    exit_code_table(
        (
            ExitCode.OK,
            ExitCode.USAGE,
            ExitCode.INVALID_INPUT,
            ExitCode.NO_ANSWER,
            ExitCode.ENV_NOT_READY,
            ExitCode.STOPPED,
            ExitCode.REVIEW_PENDING,
            ExitCode.NOT_FOUND,
            ExitCode.REFUSED,
        ),
        {
            ExitCode.OK: "converged, or --max-rounds rounds done (LOOP: says which)",
            ExitCode.NO_ANSWER: "a round's team gave no answer, or its evaluation no usable verdict",
            ExitCode.REVIEW_PENDING: "a round waits for a review; the loop resumes with --resume",
        },
    )
}
  other codes: a failed round's own outcome code (see `massgen-skill run --help`)
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument("goal", nargs="?", help="what the team should build (one quoted argument)")
    parser.add_argument("--criteria", metavar="FILE", help="evaluation criteria JSON (a new loop needs it)")
    rounds = f"at most N build+evaluate rounds ({DEFAULT_ROUNDS})"
    parser.add_argument("--max-rounds", type=positive_int, default=DEFAULT_ROUNDS, metavar="N", help=rounds)
    access = "build runs' project access (rw)"
    parser.add_argument("--cwd-context", choices=("none", "ro", "rw"), default="rw", help=access)
    parser.add_argument("--config", metavar="FILE", help="massgen config (agents need `cwd:` workspaces)")
    web = parser.add_mutually_exclusive_group()
    web.add_argument("--web", dest="web", action="store_true", default=None, help="force the web UI")
    web.add_argument("--no-web", dest="web", action="store_false", help="CLI path: no review gate")
    parser.add_argument("--timeout", type=positive_int, metavar="SECONDS", help="each run's time limit")
    parser.add_argument("--resume", metavar="LOOP", help="go on with a loop that stopped for a review")
    add_project_argument(parser)
    parser.add_argument("--json", action="store_true", help="one JSON object per line")


def _new(args: argparse.Namespace) -> loops.LoopRecord:
    if args.criteria is None or args.criteria == "":
        raise SkillError("loop: --criteria FILE is required (what each evaluation scores)")
    cwd = Path(os.getcwd())
    settings = LoopSettings(
        goal=args.goal or "",
        criteria=Path(args.criteria),
        max_rounds=args.max_rounds,
        cwd=cwd,
        project_dir=project_root(cwd),
        cwd_context=args.cwd_context,
        config=args.config,
        web=args.web,
        timeout=args.timeout,
    )
    loop = begin(settings)
    loops.save(loop)
    return loop


def _resumed(args: argparse.Namespace) -> loops.LoopRecord:
    if args.goal is not None or args.criteria is not None:
        raise SkillError("loop --resume LOOP takes no goal or --criteria: the loop record has them")
    loop = loops.resolve(args.resume, project_dir(args))
    if loop.state not in loops.ACTIVE_STATES:
        raise SkillError(f"loop {loop.loop_id} already ended ({loop.state})", ExitCode.REFUSED)
    if loops.driver_alive(loop):
        raise SkillError(f"loop {loop.loop_id} is being driven by pid {loop.pid}", ExitCode.REFUSED)
    return loop


def _interrupted(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # the loop stops driving (exit 8); its current run goes on until `stop LOOP`


def run(args: argparse.Namespace) -> int:
    # Explicit handlers: a loop started in the background by a non-interactive shell inherits SIGINT ignored,
    # and would then never stop on it.
    for signum in HANDLED_SIGNALS:
        signal.signal(signum, _interrupted)
    loop = _resumed(args) if args.resume else _new(args)
    return LoopDriver(loop, Emitter(args.json)).drive()

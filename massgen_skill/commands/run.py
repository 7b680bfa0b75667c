"""`massgen-skill run`: decide, check, launch massgen, relay its markers, exit with the run's outcome."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import TypeVar

from massgen_skill.commands._common import positive_int, seconds
from massgen_skill.exitcodes import RESULT_WORDS, ExitCode, SkillError, exit_code_table
from massgen_skill.massgen import flags
from massgen_skill.prepare import media
from massgen_skill.prepare.argv import JobFlags
from massgen_skill.prepare.extra import EXTRA
from massgen_skill.prepare.intent import AUTO, CWD_CONTEXTS, MODES
from massgen_skill.prepare.plan import RunPlan, execute, plan_run
from massgen_skill.prepare.request import DEFAULT_STOP_GRACE, RunRequest
from massgen_skill.prepare.team import TEAM
from massgen_skill.run.detach import detach, output_path
from massgen_skill.run.relay import Emitter

T = TypeVar("T")

# Flags whose value may start with "-" (`--extra --debug`): cli.py glues the value on before parsing.
GLUED_FLAGS = (EXTRA,)

RESULT_CHOICES = "|".join(RESULT_WORDS.values())

EPILOG = f"""\
The task is the last argument; a task that starts with "-" goes after "--". Options after the task are an
error (they would otherwise be taken for part of the task).

relayed lines (stdout, one per line; --json: one JSON object per line):
  RUN_ID: <id>           the run record (see `massgen-skill status|wait|result|stop <id>`)
  LOG_DIR: <abs path>    massgen's log folder (from massgen's own LOG_DIR line, never guessed)
  STATUS: <abs path>     status.json as printed by massgen (`status` follows restarts)
  WEB_UI: <url>          web mode: the real port
  __REVIEW_PENDING__ … __END_REVIEW_INFO__   a review of file changes waits for a human decision
  ANSWER: <abs path>     the winning answer (also in web mode, where massgen prints none); only for ok
  PARTIAL_ANSWER: <abs>  timed-out / stopped: an answer file that is NOT the team's answer (e.g. the
                         un-voted fallback massgen writes when the time limit hits)
  WORKSPACE: <abs path>  the winner's workspace, when it has one
  MEDIA: "<path>" <kind> <bytes>   each image, video or audio file in that workspace (path JSON-quoted)
  CHANGED: <files>       headless rw runs: files that changed in the project
  WARNING: <text>        e.g. a plan/spec run whose team wrote no project_plan.json / project_spec.json
  WRITE_ERROR: <what>    a file we could not write (disk full, read-only); the run went on
  REASON: <text>         why, when the result is not ok
  RESULT: {RESULT_CHOICES}

On a terminal a progress line (phase, answers, votes, elapsed, cost) overwrites itself on stderr; nothing
extra without a terminal or with --json. --max-cost USD: the cost is massgen's own estimate (status.json,
looked at every second); once it passes USD the run is stopped like `stop` and ends `RESULT: over-budget`,
the best answer so far on PARTIAL_ANSWER. A model massgen has no price for costs $0 there.

--detach: prints RUN_ID, RUN_DIR and OUTPUT (a file with the lines above; diagnostics go to wrapper.err
beside it) once the record exists and massgen has been launched, then exits 0; follow the run with
`massgen-skill wait RUN_ID --timeout S`.

examples:
  massgen-skill run "Compare three designs for the cache layer"
  massgen-skill run --mode evaluate --criteria criteria.json "Review src/ for race conditions"
  massgen-skill run --structured --criteria criteria.json --cwd-context ro "Evaluate src/ for the criteria"
  massgen-skill run --dry-run --json -- "--weird task starting with a dash"
  massgen-skill run --no-web --mode plan "Plan the migration to Postgres"
  massgen-skill run --detach "Compare three designs"   # then: massgen-skill wait <RUN_ID> --timeout 600
  massgen-skill run --max-cost 0.50 "Compare three designs"   # stopped once it costs more than $0.50
  massgen-skill run --dry-run --media image "A poster for the spring fair"   # refused without a media key
  massgen-skill run --continue latest "Now make the second design cheaper"   # the session's next turn
  massgen-skill run --dry-run --extra "--debug --fast" "Compare three designs"
  massgen-skill run --team backend=openai,model=gpt-5.4 --team backend=claude "Compare three designs"

--continue RUN (a run id, a unique prefix or `latest`): the next turn of that run's massgen session, as a
run of its own (own RUN_ID, record, outcome); LOG_DIR/STATUS/ANSWER point into turn_<N+1> of the new log
folder massgen opens for it. Always on the CLI path (massgen's web UI cannot continue a session); only the
newest turn of a session, and only a run that ended ok, can be continued.

exit codes:
{exit_code_table()}
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument(
        "task", nargs="?", default=None, help="the task for the team (one argument; quote it)"
    )
    parser.add_argument("--task-file", metavar="FILE", help="read the task from FILE ('-' for stdin) instead")
    parser.add_argument(
        "--mode", choices=(AUTO, *MODES), default=AUTO, help="kind of run (default: inferred)"
    )
    parser.add_argument(
        "--target", metavar="PATH|ID|latest", help="execute-plan/execute-spec: which plan or spec"
    )
    parser.add_argument(
        "--cwd-context", choices=(AUTO, *CWD_CONTEXTS), default=AUTO, help="give agents the current folder"
    )
    parser.add_argument(
        "--criteria", metavar="FILE", help="evaluation criteria JSON (checked and translated)"
    )
    parser.add_argument(
        "--media",
        choices=media.CHOICES,
        default=media.AUTO,
        help="a media task (checked for keys before launch): auto reads the task; none: a text task",
    )
    parser.add_argument("--preset", metavar="NAME", help="massgen checklist criteria preset")
    parser.add_argument("--config", metavar="FILE", help="massgen config (default: massgen's own lookup)")
    web = parser.add_mutually_exclusive_group()
    web.add_argument("--web", dest="web", action="store_true", default=None, help="force the web UI")
    web.add_argument("--no-web", dest="web", action="store_false", help="CLI path, no web UI, no review gate")
    port = f"web UI port (default {flags.DEFAULT_WEB_PORT} when free, else a free one)"
    parser.add_argument("--web-port", type=int, metavar="PORT", help=port)
    parser.add_argument("--timeout", type=int, metavar="SECONDS", help="massgen orchestrator time limit")
    parser.add_argument("--quick", action="store_true", help="one answer each, no final presentation")
    parser.add_argument("--personas", choices=flags.PERSONAS_CHOICES)
    parser.add_argument("--plan-depth", choices=flags.PLAN_DEPTH_CHOICES)
    parser.add_argument("--plan-thoroughness", choices=flags.PLAN_THOROUGHNESS_CHOICES)
    parser.add_argument("--plan-steps", type=positive_int, metavar="N")
    parser.add_argument("--plan-chunks", type=positive_int, metavar="N")
    parser.add_argument("--coordination-mode", choices=flags.COORDINATION_MODE_CHOICES)
    parser.add_argument("--single-agent", nargs="?", const="", metavar="ID", help="one agent only")
    parser.add_argument("--output-file", metavar="FILE", help="massgen also writes the answer there")
    team = "one agent of a team built for this run by massgen's generator (repeat; not with --config)"
    parser.add_argument(TEAM, action="append", default=[], metavar="backend=…,model=…", help=team)
    extra = "more massgen flags as one shell string, checked before launch (see references/extra_and_team.md)"
    parser.add_argument(EXTRA, default="", metavar="ARGS", help=extra)
    grace = f"seconds between stop signals (default {DEFAULT_STOP_GRACE:g})"
    parser.add_argument("--stop-grace", type=seconds, default=DEFAULT_STOP_GRACE, metavar="S", help=grace)
    parser.add_argument("--dry-run", action="store_true", help="print the massgen command and run nothing")
    detach = "return once massgen is launched (prints RUN_ID and RUN_DIR); then `wait RUN_ID`"
    parser.add_argument("--detach", action="store_true", help=detach)
    max_cost = "stop the run once massgen's reported cost passes USD (RESULT: over-budget)"
    parser.add_argument("--max-cost", type=float, metavar="USD", help=max_cost)
    structured = "evaluate: the team writes verdict.json, next_tasks.json, critique_packet.md (sets evaluate)"
    parser.add_argument("--structured", action="store_true", help=structured)
    follow_up = "ask a follow-up: the next turn of RUN's session (an id, a unique prefix or 'latest')"
    parser.add_argument("--continue", dest="continue_run", metavar="RUN", help=follow_up)
    warm = (
        "start the warm server if none runs, so later runs start in well under a second (see `warm --help`)"
    )
    parser.add_argument("--warm", action="store_true", help=warm)
    parser.add_argument("--json", action="store_true", help="JSON output (one object per line when running)")


def _read_task(args: argparse.Namespace) -> str:
    if args.task_file is None:
        return args.task or ""
    if args.task is not None:
        raise SkillError("give the task either as an argument or with --task-file, not both")
    try:
        data = sys.stdin.buffer.read() if args.task_file == "-" else Path(args.task_file).read_bytes()
    except OSError as exc:
        raise SkillError(
            f"--task-file {args.task_file}: {exc.strerror or exc}", ExitCode.INVALID_INPUT
        ) from None
    return data.decode("utf-8", errors="surrogateescape")


def _check_nothing_after_task(argv: list[str], task: str | None) -> None:
    if task is not None and argv and argv[-1] != task:
        index = len(argv) - 1 - argv[::-1].index(task) if task in argv else -1
        extra = argv[index + 1 :] if index >= 0 else argv[-1:]
        raise SkillError(
            f"arguments after the task: {' '.join(extra)!r}; put options before the task "
            "(a task starting with '-' goes after '--')"
        )


def _given(value: str | None, flag: str) -> str | None:
    if value == "":  # an empty name would silently mean the current folder, or massgen's own lookup
        raise SkillError(f"{flag}: expected a file name, got an empty string")
    return value


def _path(value: str | None, flag: str) -> Path | None:
    return Path(value) if _given(value, flag) is not None else None


def _from_args(kind: type[T], args: argparse.Namespace, **given: object) -> T:
    """`kind` filled from the arguments of the same name (a flag's dest is its field's name), plus `given`."""
    named = {
        f.name: getattr(args, f.name) for f in fields(kind) if f.name not in given and hasattr(args, f.name)
    }
    return kind(**named, **given)  # the dataclass checks the names and the count


def request_from(args: argparse.Namespace, task: str, cwd: Path) -> RunRequest:
    """The typed request the core works from: the Namespace stops here."""
    return _from_args(
        RunRequest,
        args,
        task=task,
        cwd=cwd,
        mode="evaluate" if args.structured and args.mode == AUTO else args.mode,
        criteria=_path(args.criteria, "--criteria"),
        config=_given(args.config, "--config"),
        job=_from_args(JobFlags, args),
        output_file=_path(args.output_file, "--output-file"),
        team=tuple(args.team),
        raw_argv=tuple(args.raw_argv),
        continue_run=_given(args.continue_run, "--continue"),
    )


def run(args: argparse.Namespace) -> int:
    _check_nothing_after_task(args.raw_argv, args.task)
    request = request_from(args, _read_task(args), Path(os.getcwd()))
    plan = plan_run(request)
    if request.detach and not request.dry_run:
        return _detach(plan)
    return execute(plan)


def _detach(plan: RunPlan) -> int:
    """Supervise in the background; print where the run is once the record exists and massgen runs."""
    record = plan.record

    def supervise(ready: Callable[[], None]) -> int:
        if plan.port and plan.port.reservation:
            plan.port.reservation.adopt()  # the background process holds the port from now on
        return execute(plan, ready)

    detach(record, supervise)
    emit = Emitter(plan.request.json)
    emit.line("RUN_ID", record.run_id)
    emit.line("RUN_DIR", str(record.run_dir))
    emit.line("OUTPUT", str(output_path(record)))
    return int(ExitCode.OK)

"""`massgen-skill watch-review [LOG_DIR|RUN]`: announce each pending review of a run once, until it ends."""

from __future__ import annotations

import argparse
import json
import sys

from massgen_skill.commands._common import add_project_argument, project_dir, seconds
from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.follow.watch import DEFAULT_INTERVAL, IDLE_EXIT, WatchEvent, WatchSettings, watch
from massgen_skill.output import info, warn
from massgen_skill.review.target import resolve_target
from massgen_skill.run import records

EPILOG = """\
For a run this process does not supervise (started in another shell, by another agent, or by massgen
directly). Each review of file changes is printed once, as the same block `run` prints:
  __REVIEW_PENDING__
  REVIEW_URL: http://127.0.0.1:<real port>/?v=2      (massgen's own files always say 8000)
  REVIEW_API: http://127.0.0.1:<real port>/api/sessions/<session>/review-response
  FILES_CHANGED: a.py (M), b.py (?)
  ANSWER_PREVIEW: <one line>
  __END_REVIEW_INFO__
and, once a human decided, `__REVIEW_COMPLETE__ APPROVED=true|false`. A second review in the same run is
announced again. Started after a decision, it prints that decision's `__REVIEW_COMPLETE__` line once
(--json: `"decided_before_watch": true`). The last line is `WATCH_END: …`. --json: one JSON object
per line, one per event (watching, review_pending, review_complete, review_unresolved, ended, timeout).

It exits when the run has ended and no review is open: a recorded run when its record is finalised (or its
wrapper and massgen are gone); --pid P when P is gone; a bare LOG_DIR on Linux when no massgen process of
that project started before the log dir remains; elsewhere when the run's files stay unchanged for
--idle-exit seconds. It never approves anything: decide with `massgen-skill review`.

exit codes: 0 the run ended · 10 --timeout reached, no review open · 11 --timeout reached while a review
waits · 12 no such run or log dir · 2 usage

examples:
  massgen-skill watch-review                      # the newest run of this project
  massgen-skill watch-review 20261125-101500-ab12cd --json
  massgen-skill watch-review .massgen/massgen_logs/log_20261125_101500_123456 --port 8123
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument(
        "run_ref",
        nargs="?",
        metavar="LOG_DIR|RUN",
        help="massgen's LOG_DIR (session root, turn or attempt dir), a run id/prefix, or 'latest' (default)",
    )
    parser.add_argument(
        "--poll-interval",
        type=seconds,
        default=DEFAULT_INTERVAL,
        metavar="S",
        help=f"seconds between checks where inotify is missing ({DEFAULT_INTERVAL:g})",
    )
    parser.add_argument(
        "--timeout",
        type=seconds,
        metavar="S",
        help="stop watching after S seconds (default: until it ends)",
    )
    parser.add_argument("--port", type=int, metavar="P", help="the run's real web UI port (bare LOG_DIR)")
    parser.add_argument("--pid", type=int, metavar="PID", help="the run ended when this process is gone")
    parser.add_argument(
        "--idle-exit",
        type=seconds,
        default=IDLE_EXIT,
        metavar="S",
        help=f"no /proc: take a bare LOG_DIR's run as ended after S quiet seconds ({IDLE_EXIT:g})",
    )
    add_project_argument(parser)
    parser.add_argument("--json", action="store_true", help="one JSON object per event, one per line")


def run(args: argparse.Namespace) -> int:
    if args.port is not None and not 0 < args.port < 65536:
        raise SkillError(f"--port {args.port}: not a TCP port", ExitCode.USAGE)
    if args.pid is not None and not 0 < args.pid < 2**31:
        raise SkillError(f"--pid {args.pid}: not a process id", ExitCode.USAGE)
    target = resolve_target(args.run_ref, project_dir(args), args.port)
    record = target.record
    if record is not None and not record.review_gate and record.state in records.ACTIVE_STATES:
        info(f"run {target.label} has no review gate (only --web runs with --cwd-context rw have one)")

    def emit(event: WatchEvent) -> None:
        if args.json:
            sys.stdout.write(json.dumps({"event": event.kind, **event.data}, ensure_ascii=False) + "\n")
        elif event.kind == "watching":
            where = event.data["log_dir"] or "(log dir not known yet)"
            info(f"watching {target.label}: {where}; stops when the run ends")
        elif event.kind == "review_unresolved":
            warn(f"review {event.data['review']} was never decided: the run ended")
        for line in [] if args.json else event.lines:
            sys.stdout.write(line + "\n")
        sys.stdout.flush()

    settings = WatchSettings(
        interval=args.poll_interval, timeout=args.timeout, pid=args.pid, idle_exit=args.idle_exit
    )
    return int(watch(target, emit, settings, warn=warn))

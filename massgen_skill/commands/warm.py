"""`massgen-skill warm start|status|stop`: the per-user warm server (runs start in well under a second)."""

from __future__ import annotations

import argparse
import os

from massgen_skill.commands._common import positive_int, seconds
from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen.program import find_massgen
from massgen_skill.output import print_json
from massgen_skill.warm import control, paths, server
from massgen_skill.warm.client import WarmUnavailable
from massgen_skill.warm.control import ServerState
from massgen_skill.warm.use import keep_file

ACTIONS = ("start", "status", "stop")

EPILOG = f"""\
massgen takes 13-19 s to import before a run begins. The warm server (run by massgen's own Python) imports it
once and forks one child per run, in the caller's folder with the caller's environment, so `LOG_DIR:` comes in
a fraction of a second. Runs use a running server by themselves when it fits; otherwise (another environment,
another network namespace, massgen upgraded, no server) they start cold and the run record says why
(`launch`). Opt-in: nothing starts one unless you do (`warm start`, `run --warm`, `install --warm`).
Set {paths.WARM_OFF_ENV}=0 to never use one; {paths.WARM_DIR_ENV} moves its private folder.

The server ends after --idle seconds without a run, above --max-rss-mb, when massgen's files change, or on
`warm stop`. Runs already started are not the server's: they go on and stop like any run. After
`install --warm`, a run starts a server in the background whenever none runs; `warm stop` ends that too.

exit codes: {int(ExitCode.OK)} done / running; {int(ExitCode.NOT_FOUND)} status: no server runs;
{int(ExitCode.REFUSED)} status: a server runs but does not fit this shell (see "differs");
{int(ExitCode.ENV_NOT_READY)} massgen not found, or the server could not start.

examples:
  massgen-skill warm start
  massgen-skill warm status --json
  massgen-skill warm stop
"""


START_OPTIONS = (
    ("--idle", seconds, server.DEFAULT_IDLE, "S", "end after S seconds without a run (default: %(default)g)"),
    (
        "--max-rss-mb",
        positive_int,
        server.DEFAULT_MAX_RSS_MB,
        "MB",
        "end when the server's memory passes MB (default: %(default)s)",
    ),
    (
        "--timeout",
        seconds,
        control.START_TIMEOUT,
        "S",
        "wait at most S seconds for massgen's import (default: %(default)g)",
    ),
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument("action", choices=ACTIONS, help="start, describe or stop the server")
    for flag, kind, default, metavar, text in START_OPTIONS:
        parser.add_argument(flag, type=kind, default=default, metavar=metavar, help=f"start: {text}")
    parser.add_argument("--json", action="store_true", help="print JSON")


def _act(args: argparse.Namespace) -> ServerState:
    program = find_massgen()
    env = os.environ
    if args.action == "start":
        return control.start(program, env, args.idle, args.max_rss_mb, args.timeout)
    if args.action == "stop":
        keep_file().unlink(missing_ok=True)  # `install --warm`'s keep-alive ends with an explicit stop
        return control.stop(program, env)
    return control.status(program, env)


def _code(action: str, state: ServerState) -> ExitCode:
    if action == "stop":
        return ExitCode.OK
    if action == "start":
        return ExitCode.OK if state.running and not state.differs else ExitCode.ENV_NOT_READY
    if not state.running:
        return ExitCode.NOT_FOUND
    return ExitCode.REFUSED if state.differs else ExitCode.OK


def _describe(state: ServerState) -> str:
    data = state.to_dict()
    if not state.running:
        return f"warm server: not running ({state.reason})"
    line = (
        f"warm server: running, pid {data.get('pid')}, {data.get('rss_mb')} MB of {data.get('max_rss_mb')}, "
        f"{data.get('runs')} runs, idle {data.get('idle_seconds')} s of {data.get('idle_limit')}"
    )
    return f"{line}; NOT used here: {state.reason}" if state.differs else line


def run(args: argparse.Namespace) -> int:
    try:
        state = _act(args)
    except WarmUnavailable as exc:
        raise SkillError(f"warm {args.action}: {exc}", ExitCode.ENV_NOT_READY) from None
    code = _code(args.action, state)
    if args.json:
        print_json({"action": args.action, **state.to_dict(), "exit_code": int(code)})
    else:
        print(_describe(state))
    return int(code)

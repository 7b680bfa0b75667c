"""Entry point of the fake `massgen` (bin/massgen): read the knobs, parse argv, dispatch to the setup
commands, the web server or a run."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from fake_massgen.cli import (
    EXIT_CONFIG,
    EXIT_EXECUTION,
    EXIT_OK,
    PRE_ARGPARSE_SUBCOMMANDS,
    RED,
    RESET,
    CriteriaError,
    Invocation,
    build_parser,
    early_failure_log,
    err,
    load_eval_criteria,
    out,
    resolve_config,
)
from fake_massgen.engine import run_cli, run_resumed, run_web
from fake_massgen.knobs import KNOB_ERROR_EXIT, KnobError, Knobs, read_knobs
from fake_massgen.setup_cmds import list_backends, quickstart, validate
from fake_massgen.textio import DEPRECATION_LINES, site_dir
from fake_massgen.webserver import run_web_quickstart, serve_idle

MCP_INHERITED_ENV = ("HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER")


def _spawn_setsid_child(pid_file: str) -> None:
    """A helper in a session of its own with a minimal environment, as massgen's stdio MCP servers are
    started (the `mcp` library passes only HOME, LOGNAME, PATH, SHELL, TERM, USER)."""
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)"],
        start_new_session=True,
        env={k: v for k, v in os.environ.items() if k in MCP_INHERITED_ENV},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    Path(pid_file).write_text(str(child.pid))


def _log_invocation(path: str, argv: Sequence[str]) -> None:
    entry = {
        "argv": list(argv),
        "cwd": os.getcwd(),
        "pid": os.getpid(),
        "pgid": os.getpgid(0),
        "sigint_ignored": signal.getsignal(signal.SIGINT) is signal.SIG_IGN,
        "env": {
            "CLAUDECODE": "CLAUDECODE" in os.environ,
            "PYTHONUNBUFFERED": os.environ.get("PYTHONUNBUFFERED"),
        },
    }
    line = (json.dumps(entry) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        knobs = read_knobs()
    except KnobError as exc:
        err(f"fake massgen: {exc}")
        return KNOB_ERROR_EXIT
    if knobs.argv_log:
        _log_invocation(knobs.argv_log, argv)
    if knobs.setsid_child:
        _spawn_setsid_child(knobs.setsid_child)
    site = site_dir()
    for line in DEPRECATION_LINES:
        err(line.format(site=site))
    if knobs.startup_delay:
        time.sleep(knobs.startup_delay)  # the real CLI spends 12-16 s importing before any line
    if argv and argv[0] in PRE_ARGPARSE_SUBCOMMANDS:
        err(f"fake massgen: the '{argv[0]}' subcommand is not simulated")
        return EXIT_EXECUTION
    args = build_parser().parse_args(argv)  # usage errors: exit 2, like the real argparse
    if args.stream_events:
        args.automation = True
    return dispatch(args, knobs)


def dispatch(args: argparse.Namespace, knobs: Knobs) -> int:
    if args.list_backends:
        return list_backends()
    if args.validate:
        return validate(args.validate, strict=args.strict, as_json=args.json_output)
    if args.web_quickstart:
        if args.web:
            err("❌ --web-quickstart cannot be combined with --web")
            return EXIT_EXECUTION
        return run_web_quickstart(args)
    if args.quickstart:
        return quickstart(args)

    code = _check_modes(args)
    if code is not None:
        return code

    if args.session_id or args.continue_session:
        return run_resumed(Invocation(args=args, knobs=knobs, config=None))

    config, cfg_error = resolve_config(args)
    if cfg_error:
        err(f"❌ Configuration error: {cfg_error}")
        early_failure_log(args, None, "config_resolution", cfg_error)
        return EXIT_CONFIG
    inv = Invocation(args=args, knobs=knobs, config=config)

    if args.web:
        if config is None or not args.automation or not args.question:
            return serve_idle(inv)  # nothing starts; the real server then never exits
        code = _load_criteria(inv)
        if code is not None:
            return code
        return run_web(inv)

    if config is None:
        if args.question:
            msg = "No default configuration found."
            err(f"❌ Configuration error: {msg}")
            err("Run 'massgen --init' to create one, or use 'massgen --model MODEL \"question\"'")
            early_failure_log(args, None, "missing_default_config", msg)
            return EXIT_CONFIG
        out("Setup cancelled.")  # 0.1.97's first-run wizard crashes on a missing stylesheet and gives up
        return EXIT_OK
    if not args.question and not (
        args.execute_plan or args.execute_spec
    ):  # those take it as an optional override
        err("❌ Error: a question is required in automation mode")
        return EXIT_CONFIG
    if args.plan_and_execute and args.broadcast == "human":
        out("❌ --broadcast human is not supported with --plan-and-execute")
        return EXIT_CONFIG
    code = _load_criteria(inv)
    if code is not None:
        return code
    return run_cli(inv)


def _check_modes(args: argparse.Namespace) -> int | None:
    modes = [args.plan, args.spec, args.plan_and_execute, bool(args.execute_plan), bool(args.execute_spec)]
    problem = None
    if sum(modes) > 1:
        problem = (
            "--plan, --spec, --plan-and-execute, --execute-plan and --execute-spec are mutually exclusive"
        )
    elif args.plan_steps is not None and args.plan_steps <= 0:
        problem = "--plan-steps must be a positive integer"
    elif args.plan_chunks is not None and args.plan_chunks <= 0:
        problem = "--plan-chunks must be a positive integer"
    elif args.personas not in (None, "off") and args.coordination_mode == "decomposition":
        problem = "--personas cannot be used with --coordination-mode decomposition"
    if problem and not args.web:
        err(f"❌ Error: {problem}")
        return EXIT_EXECUTION
    return None


def _load_criteria(inv: Invocation) -> int | None:
    if not inv.args.eval_criteria:
        return None
    try:
        criteria, bad = load_eval_criteria(inv.args.eval_criteria)
    except CriteriaError as exc:
        out(f"{RED}{exc}{RESET}")
        early_failure_log(inv.args, inv.config, "eval_criteria", str(exc).splitlines()[0])
        return EXIT_CONFIG
    inv.criteria = criteria or None  # an empty list counts as "no inline criteria"
    inv.bad_criteria_values = bad
    return None

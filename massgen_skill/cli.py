"""`massgen-skill` entry point: picks the subcommand, parses its flags, maps failures to one line + exit code.

Only the chosen subcommand's module is imported, so `massgen-skill run` starts as fast as Python allows.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

from massgen_skill import __version__
from massgen_skill.exitcodes import ExitCode, SkillError, exit_code_table
from massgen_skill.output import PROG, one_line, report_error, tolerant_streams

# name -> one-line summary; the module is massgen_skill.commands.<name with - as _>
COMMANDS: dict[str, str] = {
    "run": "delegate a task to a MassGen team (supervised; relays LOG_DIR/STATUS/ANSWER)",
    "status": "show a run's progress from its newest status.json",
    "wait": "block until a run ends, a review is pending, or a timeout",
    "result": "print a finished run's answer, winner and workspace",
    "runs": "list this project's runs (running / finished / lost)",
    "stop": "stop a run's whole process group (SIGINT, SIGTERM, SIGKILL)",
    "loop": "build, evaluate (structured), build on the next tasks, until converged",
    "criteria": "check, translate or list evaluation criteria",
    "watch-review": "announce pending reviews of file changes, one block each",
    "review": "show, approve (all or some files) or reject a pending review",
    "steer": "send a message to a running CLI-mode team",
    "analyze": "write ANALYSIS_REPORT.md for a finished run",
    "experiment": "run tasks x configs x repeats as supervised runs; one report and database",
    "doctor": "check that a run can start; say how to fix what is missing (--live: prove it)",
    "first-run": "install massgen if missing, prove it works live, then run a first task",
    "setup": "guided MassGen configuration (quickstart)",
    "install": "install this skill into a coding agent's skills folder",
    "uninstall": "remove a skill folder that `install` put there",
    "warm": "start|status|stop the warm server: runs start in well under a second (opt-in)",
}


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and our USAGE exit code."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {one_line(message)} (see --help)\n")
        raise SystemExit(int(ExitCode.USAGE))


def _top_parser() -> Parser:
    lines = "\n".join(f"  {name:<13} {summary}" for name, summary in COMMANDS.items())
    epilog = (
        f"commands:\n{lines}\n\nexit codes:\n{exit_code_table()}\n\n"
        "examples:\n"
        '  massgen-skill run --mode evaluate "Review src/ for race conditions"\n'
        "  massgen-skill wait --timeout 600 --json\n"
        "  massgen-skill result\n"
    )
    parser = Parser(
        prog=PROG,
        usage=f"{PROG} COMMAND [options]   ({PROG} COMMAND --help for details)",
        description="Hand a task to a MassGen team of AI agents and get the result back safely.",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("command", nargs="?", help=argparse.SUPPRESS)
    return parser


def build_parser(name: str) -> tuple[Parser, ModuleType]:
    """The parser of one subcommand (with its module's arguments), and the module whose `run` handles it."""
    summary = COMMANDS[name]
    module = importlib.import_module(f"massgen_skill.commands.{name.replace('-', '_')}")
    parser = Parser(
        prog=f"{PROG} {name}",
        description=summary[0].upper() + summary[1:] + ".",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    module.configure(parser)
    return parser, module


def _glue(argv: list[str], glued: Sequence[str]) -> list[str]:
    """`--flag VALUE` → `--flag=VALUE` for the flags in `glued`, whose value may start with "-" (argparse
    would take it for an option); nothing after "--" is touched."""
    out: list[str] = []
    tokens = iter(argv)
    for token in tokens:
        if token == "--":
            return [*out, token, *tokens]
        following = next(tokens, None) if token in glued else None
        out.append(token if following is None else f"{token}={following}")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    tolerant_streams()
    if not args_in or args_in[0] not in COMMANDS:
        top = _top_parser()
        if not args_in or args_in[0] in ("-h", "--help"):
            top.print_help()
            return 0 if args_in else int(ExitCode.USAGE)
        if args_in[0] == "--version":
            top.parse_args(args_in)
        top.error(f"unknown command {args_in[0]!r}; expected one of: {', '.join(COMMANDS)}")
    name = args_in[0]
    as_json = "--json" in args_in[1:]
    try:
        parser, module = build_parser(name)
        args = parser.parse_args(_glue(args_in[1:], getattr(module, "GLUED_FLAGS", ())))
        args.raw_argv = args_in[1:]
        return int(module.run(args))
    except SkillError as error:
        return report_error(error, as_json)
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return int(ExitCode.STOPPED)
    except BrokenPipeError:
        return int(ExitCode.OK)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else int(ExitCode.USAGE)
    except Exception as exc:
        return report_error(
            SkillError(f"internal error: {type(exc).__name__}: {exc}", ExitCode.INTERNAL), as_json
        )


if __name__ == "__main__":
    sys.exit(main())

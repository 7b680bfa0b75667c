"""`massgen-skill first-run`: from a machine with only Python to a working team, in one command.

Installs massgen 0.1.97 into the private per-user environment when it is missing (saying what and where up
front), then proves the chain with `doctor --live` (the real massgen against the scripted model shipped in the
package: no keys, no config, nothing in your project), then — with a TASK, a config and keys — runs it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from massgen_skill import PACKAGE_DIR
from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen import private_env
from massgen_skill.massgen.config import SETUP_GUIDE, find_config
from massgen_skill.massgen.program import find_massgen
from massgen_skill.output import info
from massgen_skill.prepare.checks import self_command

RUN_AFTER_INSTALL = "MASSGEN_SKILL_FIRST_RUN_REEXEC"  # set once we re-run ourselves in the new environment

EPILOG = """\
What it does, in order (each said before it starts; nothing is asked):
  1. massgen: found (MASSGEN_BIN, PATH, the private environment), else installed with pip into
     ${MASSGEN_SKILL_CACHE:-~/.cache/massgen-skill}/mg-0.1.97 (massgen==0.1.97 'mcp<2'; minutes; ~1.8 GB)
  2. doctor --live: a real 3-agent team on the scripted model, a review round and a clean stop (≤ 3 min)
  3. with TASK: the task, on your massgen config (`massgen-skill setup` writes one) and your API keys

exit codes: 0 all done · 5 massgen could not be installed, or TASK given without a config · otherwise the
failing step's code (see `massgen-skill --help`).

examples:
  massgen-skill first-run
  massgen-skill first-run "Compare three designs for the cache layer and recommend one"
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument(
        "task", nargs="?", help="a task to run once everything works (needs a massgen config)"
    )
    parser.add_argument("--no-live", action="store_true", help="skip the live check")


def run(args: argparse.Namespace) -> int:
    try:
        program = find_massgen()
        info(f"massgen: {' '.join(program.argv)}")
    except SkillError:
        if os.environ.get(RUN_AFTER_INSTALL):
            raise
        venv = private_env.ensure(say=info)  # installs unless MASSGEN_SKILL_NO_INSTALL forbids it
        _reexec(venv, ["first-run", *args.raw_argv])
    if not args.no_live:
        info("live check: the real massgen on the scripted model (no keys, nothing in your project)")
        code = _run_self(["doctor", "--live"])
        if code != 0:
            return code
    if not args.task:
        info(f'ready. Next: `{self_command()} setup` writes your config; then scripts/massgen_run.sh "task"')
        return int(ExitCode.OK)
    find_config(None, Path.cwd())  # no config: ENV_NOT_READY with the way to make one
    info(f"running your task on your config (see {SETUP_GUIDE})")
    return _run_self(["run", "--", args.task])


def _reexec(venv: private_env.MassgenVenv, argv: list[str]) -> None:
    """Continue in the new environment: it holds massgen and the three libraries this package needs."""
    env = dict(os.environ)
    env[RUN_AFTER_INSTALL] = "1"
    env["PYTHONPATH"] = str(PACKAGE_DIR.parent)
    env["PATH"] = os.pathsep.join([str(venv.bin), env.get("PATH", os.defpath)])
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(venv.python, [str(venv.python), "-m", "massgen_skill", *argv], env)


def _run_self(argv: list[str]) -> int:
    # One interpreter per step keeps each step's output and exit code its own.
    return subprocess.run([sys.executable, "-m", "massgen_skill", *argv], check=False).returncode

"""`massgen-skill setup`: get a working massgen config through massgen's own quickstart, then validate it."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from massgen_skill.exitcodes import SkillError
from massgen_skill.massgen.agent_spec import parse_agent_spec
from massgen_skill.setup.wizard import SetupRequest, browser_available, run_setup

EPILOG = """\
With a browser (DISPLAY/WAYLAND_DISPLAY set, or macOS) and without --headless: `massgen --web-quickstart`, a
wizard page (its address is printed as WIZARD_URL:); setup waits until you finish it there.
Otherwise: lists massgen's backends (those whose API key is set first), runs
`massgen --quickstart --headless [--quickstart-agent backend=…,model=…]… [--config PATH]`, then
`massgen --validate` on the config it wrote.

The quickstart has side effects: it writes the config (default ./.massgen/config.yaml), and may pull a
Docker image, install an npm package globally and clone skills from GitHub. Without a terminal to confirm
on, pass --yes. Key values are never printed, only variable names.

printed (stdout): the backend choice list, then
  QUICKSTART_STATUS: SUCCESS|NEEDS_CONFIG   massgen's own verdict (its `STATUS:` line, renamed)
  STEP: <text>                              what massgen says is still to do
  CONFIG: <path>   VALID: yes|no …
  SETUP_STATUS: SUCCESS|NEEDS_CONFIG        the verdict of this command (not a run's STATUS marker)
  LIVE_STEP: …   LIVE: yes|no               the closing `doctor --live` (real massgen, scripted model;
                                            ≤ 3 min; --no-live skips it)

exit codes: 0 SUCCESS · 5 NEEDS_CONFIG · 6 the written config is invalid · 16 side effects not confirmed;
a failing live check: its step's exit code (see `massgen-skill doctor --help`)

examples:
  massgen-skill setup
  massgen-skill setup --headless --yes --agent backend=openai,model=gpt-5.4 --agent backend=claude
  massgen-skill setup --headless --yes --config ~/.config/massgen/config.yaml --json
  massgen-skill setup --headless --dry-run
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--headless", action="store_true", help="no browser: massgen --quickstart --headless")
    how.add_argument("--browser", action="store_true", help="the web wizard (massgen --web-quickstart)")
    parser.add_argument(
        "--agent",
        dest="agents",
        action="append",
        default=[],
        metavar="backend=X,model=Y",
        help="one agent of the team (repeat; fields: id, backend, model, reasoning_effort); headless only",
    )
    parser.add_argument(
        "--config", metavar="PATH", help="write the config here (default ./.massgen/config.yaml)"
    )
    parser.add_argument("--yes", action="store_true", help="accept the quickstart's side effects")
    parser.add_argument(
        "--dry-run", action="store_true", help="show the choices and commands, run no quickstart"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        metavar="S",
        help="seconds for the quickstart (default: headless 900, browser 1800)",
    )
    parser.add_argument(
        "--no-live", dest="live", action="store_false", help="skip the closing live check (doctor --live)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")


def request_from(args: argparse.Namespace, env: dict[str, str]) -> SetupRequest:
    """The parsed flags as a checked request (one-line errors name the flag)."""
    try:
        specs = tuple(parse_agent_spec(value) for value in args.agents)
    except ValueError as exc:
        raise SkillError(f"--agent {exc}") from None
    if args.browser and specs:
        raise SkillError("--agent goes with the headless quickstart; drop --browser (or the --agent values)")
    if args.timeout is not None and args.timeout <= 0:
        raise SkillError(f"--timeout: expected seconds > 0, got {args.timeout:g}")
    browser = args.browser or (not args.headless and not specs and browser_available(env, sys.platform))
    return SetupRequest(
        browser=browser,
        agents=tuple(args.agents),
        specs=specs,
        config=args.config,
        yes=args.yes,
        dry_run=args.dry_run,
        timeout=args.timeout,
        json=args.json,
        live=args.live,
    )


def run(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    return run_setup(request_from(args, env), Path(os.getcwd()), env)

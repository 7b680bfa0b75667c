"""`massgen-skill uninstall --agent NAME`: remove what `install` put into an agent's skills folder."""

from __future__ import annotations

import argparse

from massgen_skill.commands.install import add_target_arguments, report, target
from massgen_skill.exitcodes import ExitCode
from massgen_skill.setup.installer import uninstall

EPILOG = """\
Removes only what `install` wrote: the files listed in the folder's .massgen-skill-install.json (unless
edited since; --force removes those too) or the symlink `install --link` made. Other files stay, and are
listed. A folder without that manifest is refused.

exit codes: 0 removed or nothing installed · 2 usage · 16 refused (not installed by massgen-skill)

examples:
  massgen-skill uninstall --agent claude-code
  massgen-skill uninstall --agent codex --project --json
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    add_target_arguments(parser)
    parser.add_argument("--force", action="store_true", help="also remove installed files edited since")
    parser.add_argument("--dry-run", action="store_true", help="say what would be removed, remove nothing")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:

    outcome = uninstall(target(args), force=args.force, dry_run=args.dry_run)
    report(outcome, args, "removed")
    return int(ExitCode.OK)

"""`massgen-skill uninstall --agent NAME`: remove what `install` put into an agent's skills folder."""

from __future__ import annotations

import argparse
import os

from massgen_skill.commands.install import add_target_arguments, destination, report, target_of
from massgen_skill.exitcodes import ExitCode
from massgen_skill.output import print_json
from massgen_skill.setup.installer import Outcome, legacy_skill_folders, uninstall

EPILOG = """\
Removes only what `install` wrote: the files listed in the folder's .massgen-skill-install.json (unless
edited since; --force removes those too), the __pycache__ Python made for them, and .massgen-skill-python;
or the symlink `install --link` made. Other files stay, and are listed. A folder without that manifest is
refused. `--agent codex` (user level) also removes copies an older install put in ~/.codex/skills or
$CODEX_HOME/skills. A folder shared by several agents (~/.agents/skills: codex, goose, agents) is removed
for all of them.

exit codes: 0 removed or nothing installed · 2 usage · 5 HOME empty or relative, or the folder is not
writable · 16 refused (not installed by massgen-skill)

examples:
  massgen-skill uninstall --agent claude-code
  massgen-skill uninstall --agent codex --project --json
  massgen-skill uninstall --agent cline --dry-run
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    add_target_arguments(parser)
    parser.add_argument("--force", action="store_true", help="also remove installed files edited since")
    parser.add_argument("--dry-run", action="store_true", help="say what would be removed, remove nothing")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    target = target_of(args)
    outcome = uninstall(destination(target), force=args.force, dry_run=args.dry_run)
    older: list[Outcome] = []
    for folder in legacy_skill_folders(target, os.environ):
        if folder.exists() or folder.is_symlink():
            older.append(uninstall(folder, force=args.force, dry_run=args.dry_run))
    if args.json and older:
        print_json({"ok": True, **outcome.as_dict(), "older": [o.as_dict() for o in older]})
        return int(ExitCode.OK)
    for one in (outcome, *older):
        report(one, target, args.json, "removed")
    return int(ExitCode.OK)

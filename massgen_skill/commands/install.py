"""`massgen-skill install --agent NAME`: put this skill into a coding agent's skills folder (idempotent)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from massgen_skill.exitcodes import ExitCode
from massgen_skill.output import print_json
from massgen_skill.setup.installer import (
    AGENT_DIRS,
    SKILL_NAME,
    Outcome,
    install_copy,
    install_link,
    locate_bundle,
    skills_dir,
)

EPILOG = """\
Where the skill goes (a folder named `massgen`):
{table}
--dest DIR installs into DIR/massgen instead. codex: $CODEX_HOME/skills when CODEX_HOME is set.

What is copied: SKILL.md, scripts/, references/ and the massgen_skill package (from this checkout, or from
the copy inside the installed package). A second run changes only what differs ("up to date" when nothing
does). The folder gets .massgen-skill-install.json (a hash per file): without it, an existing folder is
refused unless --force, and `uninstall` removes exactly those files. --force writes over files it did not
install but never deletes them. --link makes a symlink to this checkout instead of copying.

exit codes: 0 done or up to date · 2 usage · 16 refused (a folder or link massgen-skill did not make)

examples:
  massgen-skill install --agent claude-code
  massgen-skill install --agent codex --project
  massgen-skill install --agent agents --link
  massgen-skill install --dest /opt/skills --json
"""


def _table() -> str:

    rows = [f"  {'agent':<13} {'--user (default)':<29} --project (under the current folder)"]
    for agent, (user, project) in AGENT_DIRS.items():
        rows.append(f"  {agent:<13} {'~/' + user + '/' + SKILL_NAME:<29} {project}/{SKILL_NAME}")
    return "\n".join(rows)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG.format(table=_table())
    add_target_arguments(parser)
    parser.add_argument("--link", action="store_true", help="symlink to this checkout instead of copying")
    parser.add_argument(
        "--force", action="store_true", help="write over a folder massgen-skill did not install"
    )
    parser.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")
    parser.add_argument("--json", action="store_true", help="print JSON")


def add_target_arguments(parser: argparse.ArgumentParser) -> None:

    parser.add_argument(
        "--agent", choices=tuple(AGENT_DIRS), help="the coding agent whose skills folder to use"
    )
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument(
        "--user", dest="project", action="store_false", default=False, help="user level (default)"
    )
    scope.add_argument(
        "--project", dest="project", action="store_true", help="this project only (current folder)"
    )
    parser.add_argument(
        "--dest", metavar="DIR", help="a skills folder of your choice (the skill goes to DIR/massgen)"
    )


def target(args: argparse.Namespace) -> Path:
    home = Path(os.environ.get("HOME") or Path.home())
    folder = skills_dir(args.agent, args.project, args.dest, home, Path(os.getcwd()))
    return folder / SKILL_NAME


def report(outcome: Outcome, args: argparse.Namespace, verb: str) -> None:
    data = {
        "ok": True,
        "agent": args.agent,
        "scope": "project" if args.project else "user",
        **outcome.as_dict(),
    }
    if args.json:
        print_json(data)
        return
    lines = [_headline(outcome, verb)]
    if outcome.kept_modified:
        lines.append(f"  kept (edited since install): {', '.join(outcome.kept_modified)}")
    if outcome.foreign:
        shown = ", ".join(outcome.foreign[:8]) + (
            f" (+{len(outcome.foreign) - 8} more)" if len(outcome.foreign) > 8 else ""
        )
        lines.append(f"  left in place (not installed by massgen-skill): {shown}")
    print("\n".join(lines), flush=True)


def _headline(outcome: Outcome, verb: str) -> str:
    action, dest = outcome.action, outcome.dest
    if action == "up-to-date":
        return f"up to date: {dest}"
    if action == "not-installed":
        return f"not installed: nothing at {dest}"
    if action == "linked":
        return f"linked: {dest} -> {outcome.source}"
    if action.startswith("would-"):
        changes = f"{len(outcome.written)} to write, {len(outcome.removed)} to remove"
        return f"dry run: would {action[len('would-') :]} {dest} ({changes})"
    if action == "removed":
        if outcome.mode == "link":
            return f"removed the link {dest}"
        return f"removed {len(outcome.removed)} files from {dest}"
    if action == "updated":
        return f"updated {dest}: {len(outcome.written)} written, {len(outcome.removed)} removed"
    return f"{verb} {dest} ({outcome.files} files)"


def run(args: argparse.Namespace) -> int:
    dest = target(args)
    bundle = locate_bundle()
    if args.link:
        outcome = install_link(bundle, dest, force=args.force, dry_run=args.dry_run)
    else:
        info = {"agent": args.agent, "scope": "project" if args.project else "user"}
        outcome = install_copy(bundle, dest, force=args.force, dry_run=args.dry_run, info=info)
    report(outcome, args, "installed")
    if not args.json and outcome.action in ("installed", "updated", "linked"):
        print(f"next: {dest}/scripts/massgen_skill.sh doctor", flush=True)
    return int(ExitCode.OK)

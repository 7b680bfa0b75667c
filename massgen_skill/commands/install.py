"""`massgen-skill install --agent NAME`: put this skill into a coding agent's skills folder (idempotent)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen.program import find_massgen
from massgen_skill.output import print_json
from massgen_skill.setup.installer import (
    BACKUPS_DIR,
    HOSTS,
    SKILL_NAME,
    Outcome,
    Target,
    current_python,
    hosts_sharing,
    install_copy,
    install_link,
    locate_bundle,
    skills_dir,
)
from massgen_skill.warm.client import WarmUnavailable
from massgen_skill.warm.use import keep_running

EPILOG = """\
Where the skill goes (a folder named `massgen`; `install --list` also names each agent's documentation):
{table}
--dest DIR installs into DIR/massgen instead. Agents that share a folder (codex, goose and agents use
~/.agents/skills) need one install. Copies in ~/.codex/skills (codex's older folder) are still found by
`uninstall --agent codex`.

What is copied: SKILL.md, scripts/, references/, agents/ and the massgen_skill package (from this checkout,
or from the copy inside the installed package), plus .massgen-skill-python: the Python this command runs on
(the environment massgen-skill was installed into), which the skill's scripts use first. A second run changes
only what differs ("up to date" when nothing does). The folder gets .massgen-skill-install.json (a hash per
file): it is how install and uninstall know their own files (and the __pycache__ Python makes for them).
A folder massgen-skill did not install (or one of its files you edited) is refused; --force moves the
folder, whole, to a dated backup beside the skills folder
(../{backups}/massgen-YYYYmmdd-HHMMSS, named in the output) and installs fresh: nothing of
yours is overwritten or deleted. --link makes a symlink to this checkout instead of copying.

exit codes: 0 done or up to date · 2 usage · 5 HOME is empty or a relative path, or the folder cannot be
written · 16 refused (a folder, file or link massgen-skill did not make; --force moves it aside)

examples:
  massgen-skill install --list
  massgen-skill install --agent claude-code
  massgen-skill install --agent codex --project
  massgen-skill install --agent opencode --dry-run
  massgen-skill install --dest ~/my-skills --json
"""


def _table() -> str:
    users = {host.name: f"~/{host.user_dir}/{SKILL_NAME}" for host in HOSTS}
    width = max(map(len, users.values())) + 1
    rows = [f"  {'agent':<12} {'--user (default)':<{width}} --project (under the current folder)"]
    for host in HOSTS:
        rows.append(f"  {host.name:<12} {users[host.name]:<{width}} {host.project_dir}/{SKILL_NAME}")
    return "\n".join(rows)


def host_list() -> list[dict[str, object]]:
    """Each host with its folders and the documentation they come from (`install --list`)."""
    return [
        {
            "agent": host.name,
            "user": f"~/{host.user_dir}/{SKILL_NAME}",
            "project": f"{host.project_dir}/{SKILL_NAME}",
            "legacy": [f"~/{rel}/{SKILL_NAME}" for rel in host.legacy_user_dirs],
            "docs": host.docs,
        }
        for host in HOSTS
    ]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG.format(table=_table(), backups=BACKUPS_DIR)
    add_target_arguments(parser)
    parser.add_argument(
        "--list", action="store_true", help="list the agents, their folders and docs; change nothing"
    )
    parser.add_argument("--link", action="store_true", help="symlink to this checkout instead of copying")
    force = "move a folder massgen-skill did not install aside to a dated backup, then install"
    parser.add_argument("--force", action="store_true", help=force)
    parser.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")
    parser.add_argument(
        "--warm",
        action="store_true",
        help="also keep a warm server for this user: runs start in well under a second (see `warm --help`)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    names = tuple(host.name for host in HOSTS)
    agent = f"the coding agent whose skills folder to use: {', '.join(names)}"
    parser.add_argument("--agent", choices=names, metavar="AGENT", help=agent)
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument(
        "--user", dest="project", action="store_false", default=False, help="user level (default)"
    )
    scope.add_argument(
        "--project", dest="project", action="store_true", help="this project only (current folder)"
    )
    dest = "a skills folder of your choice (the skill goes to DIR/massgen)"
    parser.add_argument("--dest", metavar="DIR", help=dest)


def target_of(args: argparse.Namespace) -> Target:
    return Target(agent=args.agent, project=args.project, dest=args.dest)


def destination(target: Target) -> Path:
    return skills_dir(target, os.environ, Path(os.getcwd())) / SKILL_NAME


def report(
    outcome: Outcome, target: Target, as_json: bool, verb: str, extra: dict[str, object] | None = None
) -> None:
    shared = hosts_sharing(Path(outcome.dest).parent, os.environ, Path(os.getcwd()))
    data = {
        "ok": True,
        "agent": target.agent,
        "scope": "project" if target.project else "user",
        "shared_with": shared,
        **outcome.as_dict(),
        **(extra or {}),
    }
    if as_json:
        print_json(data)
        return
    lines = [_headline(outcome, verb)]
    if outcome.backup:
        moved = "would move" if outcome.action.startswith("would-") else "moved"
        lines.append(f"  {moved} the folder that was not installed by massgen-skill to: {outcome.backup}")
    if outcome.kept_modified:
        lines.append(f"  kept (edited since install): {', '.join(outcome.kept_modified)}")
    if outcome.foreign:
        shown = ", ".join(outcome.foreign[:8]) + (
            f" (+{len(outcome.foreign) - 8} more)" if len(outcome.foreign) > 8 else ""
        )
        lines.append(f"  left in place (not installed by massgen-skill): {shown}")
    if len(shared) > 1:
        lines.append(f"  this folder serves: {', '.join(shared)}")
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


def _print_list(as_json: bool) -> None:
    if as_json:
        print_json({"ok": True, "hosts": host_list()})
        return
    for host in HOSTS:
        legacy = ", ".join(f"~/{rel}/{SKILL_NAME}" for rel in host.legacy_user_dirs)
        print(f"{host.name}")
        print(f"  user:    ~/{host.user_dir}/{SKILL_NAME}")
        print(f"  project: {host.project_dir}/{SKILL_NAME}")
        if legacy:
            print(f"  older:   {legacy} (uninstall still looks there)")
        print(f"  docs:    {host.docs}", flush=True)


def _keep_warm() -> dict[str, object]:
    """`--warm`: remember to keep a warm server and start one now, in the background (never a prompt)."""
    try:
        started = keep_running(find_massgen(), os.environ)
    except (SkillError, WarmUnavailable) as exc:
        return {"kept": False, "note": f"not kept: {exc}"}
    note = "starting in the background" if started else "already running"
    note += "; runs keep one (massgen-skill warm stop ends it)"
    return {"kept": True, "started": started, "note": note}


def run(args: argparse.Namespace) -> int:
    if args.list:
        _print_list(args.json)
        return int(ExitCode.OK)
    target = target_of(args)
    dest = destination(target)
    bundle = locate_bundle()
    if args.link:
        outcome = install_link(bundle, dest, force=args.force, dry_run=args.dry_run)
    else:
        info = {"agent": args.agent, "scope": "project" if args.project else "user"}
        outcome = install_copy(
            bundle, dest, force=args.force, dry_run=args.dry_run, info=info, python=current_python()
        )
    warm = _keep_warm() if args.warm and not args.dry_run else None
    report(outcome, target, args.json, "installed", {"warm": warm} if warm else None)
    if warm and not args.json:
        print(f"warm server: {warm['note']}", flush=True)
    if not args.json and outcome.action in ("installed", "updated", "linked"):
        print(f"next: {dest}/scripts/massgen_skill.sh doctor", flush=True)
    return int(ExitCode.OK)

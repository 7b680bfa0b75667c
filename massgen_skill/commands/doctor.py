"""`massgen-skill doctor`: can a run start here? One screen of checks; each failure names its fix."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from massgen_skill import __version__
from massgen_skill.exitcodes import ExitCode, exit_code_table
from massgen_skill.massgen.config import SETUP_GUIDE, ConfigChoice
from massgen_skill.massgen.inspection import VALIDATE_TIMEOUT, probe_versions, validate_config
from massgen_skill.massgen.program import MassgenProgram, installed_version
from massgen_skill.output import print_json
from massgen_skill.prepare import checks, media
from massgen_skill.setup.live import LIVE_BUDGET, live_check

_CODES = exit_code_table(
    (ExitCode.OK, ExitCode.ENV_NOT_READY),
    {
        ExitCode.OK: "a run can start (warnings may remain); with --live: every step passed",
        ExitCode.ENV_NOT_READY: "not ready: each failing check prints `fix: <command>`",
    },
)
EPILOG = f"""\
Checks, in order: massgen found (MASSGEN_BIN, PATH, the private environment, `uv run`, uvx) · its version
(package metadata, never `massgen --version`) · the mcp>=2 import break · a config found · the config valid
(`massgen --validate`, ~15 s) · API-key variable NAMES (environment and massgen's .env files; values are
never read out) · the web port · git (review of file changes) · uv (--mode plan-and-execute) · media: which
image, video and audio work (made or understood) massgen's media tools could do with the config and the keys
set (never a failure; `run` refuses a media task that has none; see references/media.md).
`run` and `run --dry-run` repeat the fast ones (massgen found, mcp, config found, uv for plan-and-execute)
before every launch.

--live proves the whole chain without keys or network: the real massgen, through this skill's own run,
review and stop, against the scripted model server shipped in the package, in a temporary folder (never
your project): a team answers, a review round lands a file, a stopped run leaves nothing (≤ 3 minutes).

exit codes:
{_CODES}
   *  with --live: the failing step's own exit code (see `massgen-skill --help`)

examples:
  massgen-skill doctor
  massgen-skill doctor --json
  massgen-skill doctor --config team.yaml --validate-timeout 120
  massgen-skill doctor --live
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    live = "run the real massgen end to end against the shipped scripted model"
    parser.add_argument("--live", action="store_true", help=live)
    parser.add_argument("--keep", action="store_true", help="with --live: keep the temporary folder")
    parser.add_argument("--config", metavar="FILE", help="check this config instead of massgen's own lookup")
    parser.add_argument("--no-validate", action="store_true", help="skip `massgen --validate` (saves ~15 s)")
    limit = f"limit for `massgen --validate` (default {VALIDATE_TIMEOUT:g} s)"
    parser.add_argument("--validate-timeout", type=float, default=VALIDATE_TIMEOUT, metavar="S", help=limit)
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    if args.live:
        return _live(args.json, args.keep)
    cwd = Path(os.getcwd())
    env = dict(os.environ)
    readiness = checks.launch_checks(args.config, cwd, env)
    program, config = readiness.program, readiness.config
    found, mcp, config_check = readiness.checks

    probed: dict[str, str] = {}
    if (
        program is not None
        and program.how != "uvx"
        and None in (installed_version(program, "massgen"), installed_version(program, "mcp"))
    ):
        probed = probe_versions(program, cwd)
    version = checks.check_version(program, probed.get("massgen"))
    if mcp.status != checks.FAIL and probed.get("mcp"):
        mcp = checks.check_mcp(program, probed["mcp"])

    valid = _validity(args, program, config, mcp, cwd)
    media_check, media_kinds = media.report(media.here(config, cwd, env))
    result = [
        found,
        version,
        mcp,
        config_check,
        valid,
        checks.check_api_keys(config, cwd, env),
        checks.check_web_port(),
        checks.check_tool("git", "needed to review the team's file changes (--cwd-context rw)", env),
        checks.check_tool("uv", "needed by --mode plan-and-execute", env),
        media_check,
    ]
    failures = [c for c in result if c.status == checks.FAIL]
    ready = not failures
    if args.json:
        print_json(
            {
                "ok": ready,
                "ready": ready,
                "massgen_skill_version": __version__,
                "massgen": list(program.argv) if program else None,
                "config": config.path if config else None,
                "checks": [c.as_dict() for c in result],
                "fixes": [c.fix for c in result if c.status == checks.FAIL and c.fix],
                "media": [kind.as_dict() for kind in media_kinds],
            }
        )
    else:
        _print_screen(result, ready, __version__)
    return int(ExitCode.OK if ready else ExitCode.ENV_NOT_READY)


def _validity(
    args: argparse.Namespace,
    program: MassgenProgram | None,
    config: ConfigChoice | None,
    mcp: checks.Check,
    cwd: Path,
) -> checks.Check:
    name = "config valid"
    if config is None:
        return checks.Check(name, checks.SKIP, "no config to validate")
    if program is None or mcp.status == checks.FAIL:
        return checks.Check(name, checks.SKIP, "massgen cannot start, so it cannot validate the config")
    if config.how == "example":
        return checks.Check(name, checks.SKIP, f"{config.path} is one of massgen's packaged examples")
    if args.no_validate:
        return checks.Check(name, checks.SKIP, "skipped (--no-validate)")

    outcome = validate_config(program, config.path, cwd, timeout=max(1.0, args.validate_timeout))
    detail = f"massgen --validate: {outcome.summary()}"
    if outcome.valid:
        return checks.Check(name, checks.OK, detail)
    if outcome.timed_out:
        return checks.Check(
            name, checks.WARN, detail, f"{checks.self_command()} doctor --validate-timeout 180"
        )
    fix = f"edit {config.path} (see {SETUP_GUIDE}) or rerun `{checks.self_command()} setup`"
    if outcome.valid is None:
        fix = f"run `massgen --validate {config.path}` to see massgen's own error"
    return checks.Check(name, checks.FAIL, detail, fix)


_MARK = {"ok": "ok  ", "warn": "warn", "fail": "FAIL", "skip": "--  "}


def _print_screen(result: list[checks.Check], ready: bool, version: str) -> None:
    lines = [f"massgen-skill {version} doctor"]
    for check in result:
        lines.append(f"  {_MARK.get(check.status, check.status)}  {check.name:<13} {check.detail}")
        if check.fix and check.status in ("fail", "warn"):
            lines.append(f"        {'':<13} fix: {check.fix}")
    failing = sum(1 for c in result if c.status == "fail")
    lines.append(
        "READY: yes (a run can start)" if ready else f"READY: no ({failing} problem{'s' * (failing != 1)})"
    )
    print("\n".join(lines), flush=True)


def _live(as_json: bool, keep: bool) -> int:
    if not as_json:
        print(f"massgen-skill {__version__} doctor --live (≤ {LIVE_BUDGET:.0f} s)", flush=True)
    report = live_check(keep=keep)
    if as_json:
        print_json(report.as_dict())
        return report.exit_code
    for step in report.steps:
        print(
            f"  {_MARK.get(step.status, step.status)}  {step.name:<13} {step.seconds:6.1f} s  {step.detail}"
        )
        if step.fix:
            print(f"        {'':<13} fix: {step.fix}")
    print(
        "LIVE: yes (massgen ran a team through this skill)" if report.exit_code == 0 else "LIVE: no",
        flush=True,
    )
    return report.exit_code

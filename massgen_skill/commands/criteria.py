"""`massgen-skill criteria check FILE | translate FILE | presets`: criteria tools for people and agents."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from massgen_skill.exitcodes import ExitCode, exit_code_table
from massgen_skill.massgen import flags
from massgen_skill.output import one_line, print_json
from massgen_skill.prepare import criteria
from massgen_skill.prepare.criteria import PRESETS, CriteriaReport, translate

_CHECK_CODES = exit_code_table(
    (ExitCode.OK, ExitCode.INVALID_INPUT),
    {
        ExitCode.OK: "valid (warnings may have been printed)",
        ExitCode.INVALID_INPUT: "invalid: one line per problem, or one line when the file is missing, "
        "not a regular file, not UTF-8, not JSON or > 1 MiB",
    },
)
_TRANSLATE_CODES = exit_code_table(
    (ExitCode.OK, ExitCode.INVALID_INPUT),
    {
        ExitCode.OK: "translated",
        ExitCode.INVALID_INPUT: "the file is invalid (`massgen-skill criteria check FILE` says why)",
    },
)

_CHECK_EPILOG = f"""\
Checks a criteria file against the skill's format and rules, and reports every problem at once.
Each problem names its JSON path, what was found and what is expected. Warnings do not fail the check.

examples:
  massgen-skill criteria check criteria.json
  massgen-skill criteria check criteria.json --json

exit codes:
{_CHECK_CODES}
"""

_TRANSLATE_EPILOG = f"""\
Prints the file as massgen 0.1.97 can read it: every value a string, the anti-patterns folded into each
criterion's text, the aspiration folded into the primary criterion's text. `massgen-skill run` does this
by itself; this command shows what the team will be given.

examples:
  massgen-skill criteria translate criteria.json
  massgen-skill criteria translate criteria.json --json   # wrapped with ok, path and warnings

exit codes:
{_TRANSLATE_CODES}
"""

_PRESETS_EPILOG = """\
Lists the built-in criteria sets of massgen 0.1.97 and how many criteria each has.

examples:
  massgen-skill criteria presets
  massgen-skill criteria presets --json
"""

_EPILOG = """\
file format (details: references/criteria_guide.md):
  {"aspiration": "…",
   "criteria": [{"text": "…", "category": "primary|standard|stretch",
                 "anti_patterns": ["…", "…"], "verify_by": "…"}]}

examples:
  massgen-skill criteria check criteria.json
  massgen-skill criteria translate criteria.json > massgen_criteria.json
  massgen-skill criteria presets --json
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = _EPILOG
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, summary, epilog, takes_file in (
        ("check", "validate a criteria file", _CHECK_EPILOG, True),
        ("translate", "print the massgen-safe version of a criteria file", _TRANSLATE_EPILOG, True),
        ("presets", "list massgen's built-in criteria presets", _PRESETS_EPILOG, False),
    ):
        sub = actions.add_parser(
            name,
            help=summary,
            description=summary[0].upper() + summary[1:] + ".",
            epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if takes_file:
            sub.add_argument("file", metavar="FILE", type=Path, help="the criteria JSON file")
        sub.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def run(args: argparse.Namespace) -> int:
    if args.action == "presets":
        return _presets(args.json)
    report = criteria.load_criteria(args.file)
    if args.action == "check":
        return _check(report, args.json)
    return _translate(report, args.json)


def _report_json(report: CriteriaReport) -> dict[str, object]:
    return {
        "ok": report.ok,
        "path": str(report.path),
        "errors": [issue.as_dict() for issue in report.errors],
        "warnings": [issue.as_dict() for issue in report.warnings],
        "criteria_count": report.item_count,
    }


def _print_issues(report: CriteriaReport) -> None:
    """One line per problem on stderr: `error: criteria[2].category: found …, expected …`."""
    for issue in [*report.errors, *report.warnings]:
        sys.stderr.write(f"{issue.severity}: {one_line(str(issue), 1000)}\n")
    sys.stderr.flush()


def _check(report: CriteriaReport, as_json: bool) -> int:
    if as_json:
        print_json(_report_json(report))
    else:
        _print_issues(report)
        warnings = f"{len(report.warnings)} warning{'s' if len(report.warnings) != 1 else ''}"
        if report.ok:
            counts = ", ".join(
                f"{sum(c.category == name for c in report.criteria)} {name}" for name in criteria.CATEGORIES
            )
            print(f"{report.path}: valid, {len(report.criteria)} criteria ({counts}), {warnings}")
        else:
            errors = f"{len(report.errors)} error{'s' if len(report.errors) != 1 else ''}"
            print(f"{report.path}: invalid, {errors}, {warnings}")
    return int(ExitCode.OK if report.ok else ExitCode.INVALID_INPUT)


def _translate(report: CriteriaReport, as_json: bool) -> int:
    if not report.ok:
        if as_json:
            print_json(_report_json(report))
        else:
            _print_issues(report)
        return int(ExitCode.INVALID_INPUT)
    document = translate(report)
    if as_json:
        print_json({**_report_json(report), "translated": document})
    else:
        _print_issues(report)  # warnings only
        print_json(document)
    return int(ExitCode.OK)


def _presets(as_json: bool) -> int:
    if as_json:
        print_json(
            {
                "flag": flags.CRITERIA_PRESET,
                "presets": [{"name": name, "criteria_count": count} for name, count in PRESETS.items()],
            }
        )
    else:
        for name, count in PRESETS.items():
            print(f"{name:<16} {count} criteria")
    return int(ExitCode.OK)

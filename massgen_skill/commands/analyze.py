"""`massgen-skill analyze`: write ANALYSIS_REPORT.md for a run from what massgen recorded.

The argument is a log folder (session root `log_<ts>`, a `turn_N` or an `attempt_M` folder: web mode prints
the attempt folder) or, when it is not an existing folder, a run id / `latest` resolved via the run records.
`--into FILE` adds the run to a database shared across runs, under its run id (a log folder given directly
is named by its session folder, `log_<ts>`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from massgen_skill import analysis
from massgen_skill.analysis import SQLITE_TABLES, TurnAnalysis
from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen import layout
from massgen_skill.output import one_line, print_json
from massgen_skill.run.records import resolve_run

EPILOG = """\
The report (turn_N/ANALYSIS_REPORT.md, one per turn) holds: the question; agents and models; findings that
matter (errors, timeouts, no winner, restarts, review outcome, missing or damaged files); the agents table;
votes with reasons and the winner; tokens and estimated cost per agent; tool calls and failures; time per
phase; a timeline (also drawn as turn_N/ANALYSIS_TIMELINE.svg, linked from the report); the final
answer's path and preview; the state of every file read.

examples:
  massgen-skill analyze                         # the latest run of this project
  massgen-skill analyze .massgen/massgen_logs/log_20261125_225157_329598
  massgen-skill analyze LOG_DIR --turn 2 --json
  massgen-skill analyze RUN_ID --sqlite /tmp/run.sqlite
  massgen-skill analyze RUN_ID --into runs.sqlite     # add this run to a database of many runs
  massgen-skill analyze LOG_DIR --stdout        # print the report, write nothing into the log folder
"""


def configure(parser: argparse.ArgumentParser) -> None:

    parser.epilog = (
        EPILOG + f"\nSQLite tables (--sqlite, --into): {', '.join(SQLITE_TABLES)}; each has run_id, all"
        " but runs also turn and attempt.\nReady SQL across runs: references/analysis.md.\n"
    )
    parser.add_argument(
        "target",
        nargs="?",
        metavar="RUN|LOG_DIR",
        help="log folder (log_<ts>, turn_N or attempt_M), or a run id / 'latest' (default: the latest run)",
    )
    parser.add_argument("--turn", type=int, metavar="N", help="analyse only turn N")
    parser.add_argument(
        "--project", metavar="DIR", default=".", help="project folder whose runs RUN refers to (default: .)"
    )
    parser.add_argument("--json", action="store_true", help="print the analysis as JSON on stdout")
    parser.add_argument(
        "--sqlite",
        metavar="FILE",
        help="also export events and per-agent metrics to this SQLite file (replaced if it exists)",
    )
    parser.add_argument(
        "--into",
        metavar="FILE",
        help="add the run to this SQLite database shared across runs (created if missing; the run's earlier "
        "rows are replaced, other runs kept; a file that is not such a database is refused)",
    )
    parser.add_argument(
        "--stdout",
        action="store_true",
        help="print the Markdown report instead of writing ANALYSIS_REPORT.md (with --json: include it)",
    )


def _resolve_run(ref: str | None, project_dir: Path) -> tuple[str, Path]:
    """A run id, 'latest' or nothing → (the run id, the run's session root), via the run records."""
    record = resolve_run(ref, project_dir)
    log_dir = getattr(record, "log_dir", None)
    if not log_dir:
        what = f"run {ref!r}" if ref else "the latest run"
        raise SkillError(f"{what} has no log folder (massgen did not print LOG_DIR)", ExitCode.NOT_FOUND)
    return record.run_id, Path(log_dir)


def _inside_log_tree(path: Path) -> bool:
    """A file inside turn_N/ (status.json, events.jsonl, …) names its log folder too."""

    if not path.is_file():
        return False
    parent = path.resolve().parent
    return layout.session_root(parent) != parent


def run(args: argparse.Namespace) -> int:

    if args.turn is not None and args.turn < 1:
        raise SkillError("--turn must be 1 or more", ExitCode.USAGE)
    if (
        args.into
        and args.sqlite
        and Path(args.into).expanduser().resolve() == Path(args.sqlite).expanduser().resolve()
    ):
        raise SkillError(
            "--into and --sqlite name the same file: --sqlite would replace the runs in it", ExitCode.USAGE
        )
    target = args.target
    candidate = Path(target).expanduser() if target else None
    run_id = None
    if candidate is not None and (candidate.is_dir() or _inside_log_tree(candidate)):
        path = candidate
    else:
        run_id, path = _resolve_run(target, Path(args.project).expanduser().resolve())
    result = analysis.analyze_log_dir(path, args.turn)
    run_id = run_id or analysis.default_run_id(result)

    sqlite_path = into_path = None
    runs_in_file = 0
    if args.into:
        into_path = str(Path(args.into).expanduser().resolve())
        runs_in_file = analysis.append_analysis(Path(into_path), run_id, result)
    if args.sqlite:
        sqlite_path = str(Path(args.sqlite).expanduser().resolve())
        analysis.export_sqlite(result, Path(sqlite_path), run_id)
    markdown = {turn.turn: analysis.render_markdown(turn, result, sqlite_path) for turn in result.turns}
    if not args.stdout:
        analysis.write_reports(result, sqlite_path)

    if args.json:
        data = {"ok": True, **analysis.to_dict(result, markdown if args.stdout else None)}
        data["sqlite"] = sqlite_path
        data["sqlite_tables"] = list(analysis.SQLITE_TABLES) if sqlite_path or into_path else []
        data["run_id"] = run_id
        data["into"] = into_path
        data["runs_in_file"] = runs_in_file if into_path else None
        print_json(data)
        return int(ExitCode.OK)
    if args.stdout:
        sys.stdout.write("\n\n---\n\n".join(markdown[turn.turn] for turn in result.turns))
        sys.stdout.flush()
        return int(ExitCode.OK)
    for turn in result.turns:
        sys.stdout.write(f"REPORT: {turn.report_path}\n")
        sys.stdout.write(f"  {_summary_line(turn)}\n")
        if turn.timeline_path:
            sys.stdout.write(f"TIMELINE: {one_line(turn.timeline_path, 4096, collapse=False)}\n")
    if sqlite_path:
        sys.stdout.write(f"SQLITE: {sqlite_path} (tables: {', '.join(analysis.SQLITE_TABLES)})\n")
    if into_path:
        where = one_line(into_path, 4096, collapse=False)
        sys.stdout.write(f"INTO: {where} (run {one_line(run_id, 200)}; {runs_in_file} run(s) in the file)\n")
    sys.stdout.flush()
    return int(ExitCode.OK)


def _summary_line(turn: TurnAnalysis) -> str:
    last = turn.last
    if last is None:
        return f"turn {turn.turn}: no attempts recorded"
    votes = sum(last.vote_counts.values())
    if last.winner:
        outcome = f"winner {last.winner} ({last.vote_counts.get(last.winner, 0)} of {votes} votes)"
    else:
        outcome = "no winner"
    counts: dict[str, int] = {}
    for finding in turn.findings:
        name = "note" if finding.severity == "info" else finding.severity
        counts[name] = counts.get(name, 0) + 1
    found = ", ".join(f"{n} {k}{'s' if n > 1 else ''}" for k, n in counts.items()) or "none"
    elapsed = f"{last.elapsed_s:.1f} s" if last.elapsed_s is not None else "duration unknown"
    tokens = last.totals.input_tokens + last.totals.output_tokens
    return (
        f"turn {turn.turn}: {outcome}; {len(last.agents)} agents; {elapsed}; {tokens} tokens, "
        f"${last.totals.estimated_cost:.4f}; findings: {found}"
    )

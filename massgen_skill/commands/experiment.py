"""`massgen-skill experiment`: tasks × configs × repeats, each cell a supervised run; a report, a database."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from massgen_skill.commands._common import add_project_argument, positive_int, seconds
from massgen_skill.exitcodes import RESULT_WORDS, ExitCode, SkillError, exit_code_table
from massgen_skill.experiment import record as rec
from massgen_skill.experiment.runner import Progress, Runner
from massgen_skill.output import print_json
from massgen_skill.prepare.intent import AUTO, MODES
from massgen_skill.prepare.request import DEFAULT_STOP_GRACE
from massgen_skill.prepare.task import check_task
from massgen_skill.run.records import project_root
from massgen_skill.run.relay import Emitter

EPILOG = f"""\
Every cell (task × config × repeat) is a `run` of its own: same checks, same supervision, same outcome,
its own run record (`status RUN`, `result RUN`) and its own working folder, so parallel cells share no ports
and no folders. Cells run headless (no web UI unless --web) and without project access.
The experiment lives in .massgen/skill_experiments/EXP/: experiment.json (its record), experiment.sqlite
(table `cells`), EXPERIMENT_REPORT.md and experiment_chart.svg; each run also gets its ANALYSIS_REPORT.md.

printed (stdout; --json: one JSON object per line):
  EXPERIMENT: <exp-id>   at once: `massgen-skill status EXP`, `massgen-skill stop EXP`
  DIR, REPORT, DATABASE, CELLS: <n ok, n failed, n left>, RESULT: ok | no-answer | stopped
A progress line goes to stderr when it is a terminal. Exit {int(ExitCode.OK)} when every cell ran and at
least one answered, {int(ExitCode.NO_ANSWER)} when none did, {int(ExitCode.STOPPED)} when stopped (then
--resume EXP runs the cells left; cells that ended are kept).

examples:
  massgen-skill experiment --task "Name three sorting algorithms" --config a.yaml --config b.yaml --repeat 2
  massgen-skill experiment --tasks tasks.txt --config a.yaml --parallel 2 --timeout 300
  massgen-skill experiment --dry-run --json --task "Q" --config a.yaml --repeat 3
  massgen-skill experiment --resume exp-20261130-011500-ab12cd
  massgen-skill status exp-20261130-011500-ab12cd

exit codes:
{exit_code_table()}
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument("--task", action="append", default=[], metavar="TEXT", help="a task (repeatable)")
    parser.add_argument("--tasks", metavar="FILE", help="tasks, one per line (blank lines skipped)")
    # Team specs (`--team`) join here once they exist: each becomes a config file, one more config.
    parser.add_argument("--config", action="append", default=[], metavar="FILE", help="a config (repeatable)")
    parser.add_argument(
        "--repeat", type=positive_int, metavar="N", help="runs per task and config (default 1)"
    )
    parser.add_argument("--parallel", type=positive_int, metavar="K", help="cells at once (default 1)")
    parser.add_argument("--resume", metavar="EXP", help="run the cells of experiment EXP that are left")
    parser.add_argument("--mode", choices=(AUTO, *MODES), default=AUTO, help="kind of run of every cell")
    parser.add_argument(
        "--timeout", type=positive_int, metavar="SECONDS", help="massgen's time limit per cell"
    )
    parser.add_argument("--web", action="store_true", help="cells use massgen's web UI (each its own port)")
    grace = "seconds between stop signals"
    parser.add_argument("--stop-grace", type=seconds, default=DEFAULT_STOP_GRACE, metavar="S", help=grace)
    add_project_argument(parser)
    parser.add_argument("--dry-run", action="store_true", help="print the cells and run nothing")
    parser.add_argument("--json", action="store_true", help="JSON output")


def _tasks(args: argparse.Namespace) -> list[str]:
    tasks = list(args.task)
    if args.tasks:
        try:
            text = Path(args.tasks).read_text(encoding="utf-8", errors="surrogateescape")
        except OSError as exc:
            raise SkillError(f"--tasks {args.tasks}: {exc.strerror or exc}", ExitCode.INVALID_INPUT) from None
        tasks += [line.strip() for line in text.splitlines() if line.strip()]
    if not tasks or any(not t.strip() for t in tasks):
        raise SkillError("--task/--tasks: expected at least one non-empty task")
    for task in tasks:
        check_task(task)
    return tasks


def _configs(args: argparse.Namespace) -> list[str]:
    if not args.config:
        raise SkillError(
            "--config: expected at least one config file (each cell runs in a folder of its own)"
        )
    configs = []
    for given in args.config:
        if given.startswith("@"):  # massgen's own `@examples/…` names
            configs.append(given)
        elif Path(given).is_file():
            configs.append(str(Path(given).resolve()))
        else:
            raise SkillError(f"--config {given}: expected an existing config file", ExitCode.INVALID_INPUT)
    return configs


def _new(args: argparse.Namespace, project: Path) -> rec.ExperimentRecord:
    tasks, configs, repeats = _tasks(args), _configs(args), args.repeat or 1
    settings = rec.Settings(args.mode, args.timeout, args.web, args.stop_grace, args.parallel or 1)
    return rec.ExperimentRecord(
        rec.new_exp_id(),
        str(project),
        time.time(),
        tasks,
        configs,
        repeats,
        settings,
        cells=rec.matrix(len(tasks), len(configs), repeats),
    )


def _resumed(args: argparse.Namespace, project: Path) -> rec.ExperimentRecord:
    if args.task or args.tasks or args.config or args.repeat:
        raise SkillError(
            "--resume: the matrix is the experiment's own; give no --task/--tasks/--config/--repeat"
        )
    record = rec.resolve(args.resume, project)
    if rec.effective_state(record) == rec.EXP_RUNNING:
        raise SkillError(
            f"experiment {record.exp_id} is running (pid {record.wrapper_pid})", ExitCode.REFUSED
        )
    if args.parallel:
        record.settings.parallel = args.parallel
    return record


def _dry_run(record: rec.ExperimentRecord, as_json: bool) -> int:
    cells = [
        {
            "cell": c.key,
            "task": record.tasks[c.task_index],
            "config": record.configs[c.config_index],
            "repeat": c.repeat,
        }
        for c in record.cells
    ]
    if as_json:
        print_json({"ok": True, "dry_run": True, "cells": cells})
    else:
        emit = Emitter(False)
        for c in cells:
            emit.line("CELL", f"{c['cell']}  config {c['config']}  task {c['task']}")
    return int(ExitCode.OK)


def run(args: argparse.Namespace) -> int:
    project = project_root(Path(args.project))
    record = _resumed(args, project) if args.resume else _new(args, project)
    if args.dry_run:
        return _dry_run(record, args.json)
    if not args.resume:
        rec.create(record)
    emit = Emitter(args.json)
    emit.line("EXPERIMENT", record.exp_id)
    emit.line("DIR", str(record.folder))
    Runner(record, Progress(sys.stderr, sys.stderr.isatty())).run()
    return _result(record, emit)


def _result(record: rec.ExperimentRecord, emit: Emitter) -> int:
    n = record.counts()
    emit.line("REPORT", str(record.folder / rec.REPORT_NAME))
    emit.line("DATABASE", str(record.folder / rec.DATABASE_NAME))
    emit.line("CELLS", f"{n['done']} ok, {n['failed']} failed, {n['left']} left")
    if record.state == rec.EXP_STOPPED:
        code = ExitCode.STOPPED
    else:
        code = ExitCode.OK if n["done"] else ExitCode.NO_ANSWER
    emit.line("RESULT", RESULT_WORDS[code])
    return int(code)

"""From parsed `run` arguments to a launched run: checks first (fast, before massgen's ~15 s start), then go.

`plan_run` decides everything and fails early with one line; `execute` prints the dry run or supervises.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen.config import secret_values
from massgen_skill.massgen.program import MassgenProgram
from massgen_skill.output import PROG, info, print_json, warn
from massgen_skill.prepare.argv import MassgenCommand, RunOptions, build
from massgen_skill.prepare.checks import claimed_ports, launch_checks
from massgen_skill.prepare.intent import (
    Decision,
    Request,
    confirmation_message,
    decide,
    require_confirmation,
)
from massgen_skill.prepare.task import check_task
from massgen_skill.run import records
from massgen_skill.run.procs import TREE_FILE

INBOX_NAME = "inbox"


@dataclass
class PreparedRun:
    args: argparse.Namespace
    decision: Decision
    command: MassgenCommand
    program: MassgenProgram | None
    record: records.RunRecord
    cwd: Path
    port_note: str | None


def _criteria(args: argparse.Namespace, run_dir: Path) -> str | None:
    if not args.criteria:
        return None
    from massgen_skill.prepare import criteria

    source = Path(args.criteria)
    if args.dry_run:
        report = criteria.load_criteria(source)
        if not report.ok:
            criteria.prepare_for_massgen(source, run_dir)  # raises the one-line summary of every error
        return str(run_dir / criteria.TRANSLATED_NAME)
    written, _ = criteria.prepare_for_massgen(source, run_dir)
    return str(written)


def _options(
    args: argparse.Namespace, task: str, port: int, criteria_file: str | None, inbox: str | None
) -> RunOptions:
    config = (
        str(Path(args.config).resolve()) if args.config and not args.config.startswith("@") else args.config
    )
    return RunOptions(
        task=task,
        config=config,
        criteria_file=criteria_file,
        web=args.web,
        web_port=port,
        orchestrator_timeout=args.timeout,
        quick=args.quick,
        personas=args.personas,
        plan_depth=args.plan_depth,
        plan_thoroughness=args.plan_thoroughness,
        plan_steps=args.plan_steps,
        plan_chunks=args.plan_chunks,
        coordination_mode=args.coordination_mode,
        single_agent=args.single_agent,
        output_file=str(Path(args.output_file).resolve()) if args.output_file else None,
        inbox_dir=inbox,
    )


def _environment_checks(args: argparse.Namespace, cwd: Path) -> MassgenProgram | None:
    """massgen and a config must exist before launch (the fast checks `doctor` also runs); a dry run only
    notes what is missing and shows the program it found."""
    readiness = launch_checks(args.config, cwd)
    if readiness.ready:
        return readiness.program
    if not args.dry_run:
        raise readiness.error()
    info(f"note: {readiness.failures[0].detail}")
    return readiness.program  # shown in the dry run when found, even if something else is missing


def plan_run(args: argparse.Namespace, task: str, cwd: Path) -> PreparedRun:
    check_task(task)  # first: a huge task would also slow the intent matching
    if args.preset:
        from massgen_skill.prepare.criteria import check_preset

        check_preset(args.preset)
    decision = decide(
        Request(task, args.mode, args.cwd_context, bool(args.criteria), args.preset, args.target)
    )
    # rw chosen by auto for a run with no review gate is refused before anything is written (issue 12).
    gate = build(decision, _options(args, task, args.web_port or 8000, None, None)).review_gate
    decision = require_confirmation(decision, args.cwd_context, gate)
    if decision.needs_confirmation and not args.dry_run:
        raise SkillError(confirmation_message(decision, args.raw_argv, (PROG, "run"), task), ExitCode.USAGE)
    record = records.RunRecord(
        records.new_run_id(), str(records.project_root(cwd)), time.time(), cwd=str(cwd)
    )
    program = _environment_checks(args, cwd)
    criteria_file = _criteria(args, record.run_dir)
    # Decide web vs CLI first (with a placeholder port), so only web runs reserve a port.
    probe = build(decision, _options(args, task, args.web_port or 8000, criteria_file, None))
    port, note = args.web_port or 8000, None
    # A dry run writes nothing, not even the lock file (the project may be read-only).
    with contextlib.nullcontext() if args.dry_run else records.locked(Path(record.project_dir), "ports"):
        if probe.web and not args.dry_run:
            from massgen_skill.prepare.ports import choose

            port, note = choose(args.web_port, claimed_ports(cwd))
        inbox = None if probe.web else str(record.run_dir / INBOX_NAME)
        command = build(decision, _options(args, task, port, criteria_file, inbox))
        _fill_record(record, decision, command, program, criteria_file, inbox)
        if not args.dry_run:
            _first_save(record)  # claims the port before the lock is released
    return PreparedRun(args, decision, command, program, record, cwd, note)


def _first_save(record: records.RunRecord) -> None:
    """The record and its folder, before launch: a full disk or a wrong-kind path is one line, no launch."""
    try:
        records.create(record)
    except OSError as exc:
        raise records.state_error(record.path, exc) from None


def _fill_record(
    record: records.RunRecord,
    decision: Decision,
    command: MassgenCommand,
    program: MassgenProgram | None,
    criteria_file: str | None,
    inbox: str | None,
) -> None:
    program_argv = list(program.argv) if program else ["massgen"]
    record.argv = [*program_argv, *command.args]
    record.mode = decision.mode
    record.cwd_context = decision.cwd_context
    record.web = command.web
    record.web_port = command.web_port
    record.review_gate = command.review_gate
    record.criteria_file = criteria_file
    record.inbox_dir = inbox
    record.wrapper_pid = os.getpid()
    record.wrapper_start = records.process_start_time(os.getpid())
    record.stdout_log = str(record.run_dir / "massgen.stdout.log")
    record.stderr_log = str(record.run_dir / "massgen.stderr.log")


def _dry_run(prepared: PreparedRun) -> int:
    command, decision = prepared.command, prepared.decision
    program = prepared.program.argv if prepared.program else ("massgen",)
    if prepared.args.json:
        print_json(
            {
                "ok": True,
                "dry_run": True,
                "argv": [*program, *command.args],
                "command": command.shell(program),
                "mode": decision.mode,
                "cwd_context": decision.cwd_context,
                "preset": decision.preset,
                "web": command.web,
                "web_port": command.web_port,
                "review_gate": command.review_gate,
                "needs_confirmation": decision.needs_confirmation,
                "reasons": list(decision.reasons),
                "notes": list(command.notes),
                "warnings": list(command.warnings),
            }
        )
    else:
        for reason in (*decision.reasons, *command.notes):
            info(reason)
        for warning in command.warnings:
            warn(warning)
        print(command.shell(program), flush=True)
    return int(ExitCode.OK)


def execute(prepared: PreparedRun, on_started: Callable[[], None] | None = None) -> int:
    """`on_started`: called once massgen has been launched (`run --detach` returns then)."""
    if prepared.args.dry_run:
        return _dry_run(prepared)
    from massgen_skill.run.launcher import Supervisor, child_env
    from massgen_skill.run.relay import Emitter, RunRelay, RunSettings

    record, command = prepared.record, prepared.command
    for text in (
        *prepared.decision.reasons,
        *command.notes,
        *([prepared.port_note] if prepared.port_note else []),
    ):
        info(text)
    for warning in command.warnings:
        warn(warning)
    emit = Emitter(prepared.args.json)
    emit.line("RUN_ID", record.run_id)
    env = child_env(os.environ)
    secrets = secret_values(env)
    supervisor = Supervisor(
        record.argv,
        prepared.cwd,
        env,
        Path(record.stdout_log or ""),
        Path(record.stderr_log or ""),
        redact=lambda line: _redact(line, secrets),
        run_id=record.run_id,
        tree_file=record.run_dir / TREE_FILE,
    )
    grace = max(0.1, prepared.args.stop_grace)
    settings = RunSettings(
        cwd=prepared.cwd,
        env=env,
        argv=record.argv,
        graces=(grace, grace),
        json_lines=prepared.args.json,
        track_changes=record.cwd_context == "rw" and not record.review_gate,
        on_started=on_started,
    )
    outcome = RunRelay(record, settings, emit).run(supervisor)
    return int(outcome.code)


def _redact(line: str, secrets: list[str]) -> str:
    for value in secrets:
        if value in line:
            line = line.replace(value, "***")
    return line

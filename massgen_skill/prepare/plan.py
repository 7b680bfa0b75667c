"""From a `RunRequest` to a launched run: checks first (fast, before massgen's ~15 s start), then go.

`plan_run` decides everything and fails early with one line — a dry run makes the same checks and picks the
same port, it only writes nothing; `execute` prints the dry run or supervises the run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen.config import secret_values
from massgen_skill.massgen.program import MassgenProgram
from massgen_skill.output import PROG, info, print_json, warn
from massgen_skill.prepare import criteria
from massgen_skill.prepare.argv import MassgenCommand, RunOptions, build, shape
from massgen_skill.prepare.checks import launch_checks
from massgen_skill.prepare.intent import Decision, Request, confirmation_message, decide, require_confirmation
from massgen_skill.prepare.ports import PortChoice, choose
from massgen_skill.prepare.request import RunRequest
from massgen_skill.prepare.task import check_task
from massgen_skill.run import records
from massgen_skill.run.launcher import Supervisor, child_env
from massgen_skill.run.procs import TREE_FILE
from massgen_skill.run.relay import Emitter, RunRelay, RunSettings
from massgen_skill.warm.use import preview, warm_start

INBOX_NAME = "inbox"
STDOUT_LOG = "massgen.stdout.log"
STDERR_LOG = "massgen.stderr.log"


@dataclass
class RunPlan:
    request: RunRequest
    decision: Decision
    command: MassgenCommand
    program: MassgenProgram
    record: records.RunRecord
    port: PortChoice | None  # web runs only


def _translated_criteria(request: RunRequest) -> dict[str, list[dict[str, str]]] | None:
    """The user's criteria as massgen can read them; a bad file is refused (exit 3) before anything else."""
    if request.criteria is None:
        return None
    return criteria.translate(criteria.load_criteria(request.criteria))


def _options(request: RunRequest, criteria_file: str | None, inbox: str | None) -> RunOptions:
    config = request.config
    if config and not config.startswith("@"):  # `@examples/…` is massgen's own name, not a path
        config = str(Path(config).resolve())
    return RunOptions(
        task=request.task,
        config=config,
        criteria_file=criteria_file,
        web=request.web,
        orchestrator_timeout=request.timeout,
        quick=request.quick,
        personas=request.personas,
        plan_depth=request.plan_depth,
        plan_thoroughness=request.plan_thoroughness,
        plan_steps=request.plan_steps,
        plan_chunks=request.plan_chunks,
        coordination_mode=request.coordination_mode,
        single_agent=request.single_agent,
        output_file=str(request.output_file.resolve()) if request.output_file else None,
        inbox_dir=inbox,
    )


def _decide(request: RunRequest) -> Decision:
    check_task(request.task)  # first: a huge task would also slow the intent matching
    request.check()
    if request.preset:
        criteria.check_preset(request.preset)
    decision = decide(
        Request(
            request.task,
            request.mode,
            request.cwd_context,
            request.criteria is not None,
            request.preset,
            request.target,
        )
    )
    # rw chosen by auto for a run with no review gate is refused before anything is written (issue 12).
    gate = shape(decision, _options(request, None, None)).review_gate
    decision = require_confirmation(decision, request.cwd_context, gate)
    if decision.needs_confirmation and not request.dry_run:
        message = confirmation_message(decision, list(request.raw_argv), (PROG, "run"), request.task)
        raise SkillError(message, ExitCode.USAGE)
    return decision


def plan_run(request: RunRequest) -> RunPlan:
    """Every check a real run makes, dry run or not; then the port, the argv (built once) and the record.
    Nothing is written before every check has passed, and a dry run writes nothing at all."""
    decision = _decide(request)
    translated = _translated_criteria(request)
    readiness = launch_checks(request.config, request.cwd, mode=decision.mode)
    if not readiness.ready or readiness.program is None:
        raise readiness.error()
    # Records live at the project root (found from any subfolder); massgen runs where the user is.
    record = records.RunRecord(
        records.new_run_id(), str(records.project_root(request.cwd)), time.time(), cwd=str(request.cwd)
    )
    criteria_file = str(record.run_dir / criteria.TRANSLATED_NAME) if translated else None
    how = shape(decision, _options(request, criteria_file, None))  # checks the task and every flag
    inbox = None if how.web else str(record.run_dir / INBOX_NAME)
    port = choose(request.web_port, reserve=not request.dry_run) if how.web else None
    try:
        command = build(decision, _options(request, criteria_file, inbox), port.port if port else None)
        _fill_record(record, decision, command, readiness.program, criteria_file, inbox)
        if not request.dry_run:
            _write(record, translated)
    except BaseException:
        if port and port.reservation:
            port.reservation.release()
        raise
    return RunPlan(request, decision, command, readiness.program, record, port)


def _write(record: records.RunRecord, translated: dict[str, list[dict[str, str]]] | None) -> None:
    """The run's folder: the translated criteria massgen reads, then the record (which claims the run).
    A full disk or a wrong-kind path is one line and no launch."""
    try:
        record.run_dir.mkdir(parents=True, exist_ok=True)
        if translated is not None:
            criteria.write_translation(translated, record.run_dir)
        records.create(record)
    except OSError as exc:
        raise records.state_error(record.path, exc) from None


def _fill_record(
    record: records.RunRecord,
    decision: Decision,
    command: MassgenCommand,
    program: MassgenProgram,
    criteria_file: str | None,
    inbox: str | None,
) -> None:
    record.argv = [*program.argv, *command.args]
    record.mode = decision.mode
    record.cwd_context = decision.cwd_context
    record.web = command.web
    record.web_port = command.web_port
    record.review_gate = command.review_gate
    record.criteria_file = criteria_file
    record.inbox_dir = inbox
    record.wrapper_pid = os.getpid()
    record.wrapper_start = records.process_start_time(os.getpid())
    record.stdout_log = str(record.run_dir / STDOUT_LOG)
    record.stderr_log = str(record.run_dir / STDERR_LOG)


def _notes(plan: RunPlan) -> tuple[str, ...]:
    port_note = (plan.port.note,) if plan.port and plan.port.note else ()
    return (*plan.decision.reasons, *plan.command.notes, *port_note)


def _dry_run(plan: RunPlan) -> int:
    command, decision = plan.command, plan.decision
    program = plan.program.argv
    if plan.request.json:
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
                "launch": preview(plan.program, child_env(os.environ), plan.request.cwd),
                "needs_confirmation": decision.needs_confirmation,
                "reasons": list(decision.reasons),
                "notes": [*command.notes, *([plan.port.note] if plan.port and plan.port.note else [])],
                "warnings": list(command.warnings),
            }
        )
    else:
        for note in _notes(plan):
            info(note)
        for warning in command.warnings:
            warn(warning)
        print(command.shell(program), flush=True)
    return int(ExitCode.OK)


def execute(plan: RunPlan, on_started: Callable[[], None] | None = None) -> int:
    """Print the dry run, or supervise the run to its end; the port reservation ends with the run.
    `on_started`: called once massgen has been launched (`run --detach` returns then)."""
    if plan.request.dry_run:
        return _dry_run(plan)
    try:
        return _supervise(plan, on_started)
    finally:
        if plan.port and plan.port.reservation:
            plan.port.reservation.release()


def _supervise(plan: RunPlan, on_started: Callable[[], None] | None) -> int:
    record, command, request = plan.record, plan.command, plan.request
    for note in _notes(plan):
        info(note)
    for warning in command.warnings:
        warn(warning)
    emit = Emitter(request.json)
    emit.line("RUN_ID", record.run_id)
    env = child_env(os.environ)
    secrets = secret_values(env)
    supervisor = Supervisor(
        record.argv,
        request.cwd,
        env,
        Path(record.stdout_log or ""),
        Path(record.stderr_log or ""),
        redact=lambda line: _redact(line, secrets),
        run_id=record.run_id,
        tree_file=record.run_dir / TREE_FILE,
        warm=warm_start(plan.program, env, record.run_dir, request.warm),
    )
    grace = max(0.1, request.stop_grace)
    settings = RunSettings(
        cwd=request.cwd,
        env=env,
        argv=record.argv,
        graces=(grace, grace),
        json_lines=request.json,
        track_changes=record.cwd_context == "rw" and not record.review_gate,
        output_file=request.output_file.resolve() if request.output_file else None,
        on_started=on_started,
    )
    outcome = RunRelay(record, settings, emit).run(supervisor)
    return int(outcome.code)


def _redact(line: str, secrets: list[str]) -> str:
    for value in secrets:
        if value in line:
            line = line.replace(value, "***")
    return line

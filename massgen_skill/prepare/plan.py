"""From a `RunRequest` to a launched run: checks first (fast, before massgen's ~15 s start), then go.

`plan_run` decides everything and fails early with one line — a dry run makes the same checks and picks the
same port, it only writes nothing; `execute` prints the dry run or supervises the run.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from massgen_skill.evaluate.prompt import structured_task
from massgen_skill.evaluate.workspaces import require_workspaces
from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen.config import secret_values
from massgen_skill.massgen.program import MassgenProgram
from massgen_skill.output import PROG, info, print_json, warn
from massgen_skill.prepare import continuation, criteria, media
from massgen_skill.prepare.argv import MassgenCommand, RunOptions, build, shape
from massgen_skill.prepare.checks import launch_checks
from massgen_skill.prepare.extra import check_extra, parse_extra
from massgen_skill.prepare.intent import (
    REVIEWLESS_MODES,
    Decision,
    Request,
    confirmation_message,
    decide,
    require_confirmation,
)
from massgen_skill.prepare.ports import PortChoice, choose
from massgen_skill.prepare.request import RunRequest
from massgen_skill.prepare.task import check_task
from massgen_skill.prepare.team import (
    TEAM_CONFIG_NAME,
    check_team_keys,
    generate_config,
    parse_team,
    write_config,
)
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
    media: media.Support | None = None  # a media task: the providers its team can use
    continuation: continuation.Continuation | None = None  # `--continue`: the session and turn
    team_config: str | None = None  # `--team`: the generated config (YAML), written beside the record


def _translated_criteria(request: RunRequest) -> dict[str, list[dict[str, str]]] | None:
    """The user's criteria as massgen can read them; a bad file is refused (exit 3) before anything else."""
    if request.criteria is None:
        return None
    return criteria.translate(criteria.load_criteria(request.criteria))


def _options(
    request: RunRequest,
    criteria_file: str | None,
    inbox: str | None,
    session_id: str | None = None,
    team_config: str | None = None,
) -> RunOptions:
    config = team_config or request.config
    if config and not config.startswith("@"):  # `@examples/…` is massgen's own name, not a path
        config = str(Path(config).resolve())
    output = str(request.output_file.resolve()) if request.output_file else None
    extra = parse_extra(request.extra)
    check_extra(extra, config_chosen=request.config is not None or bool(request.team))
    return RunOptions(
        request.task,
        config,
        criteria_file,
        request.web,
        request.job,
        output,
        inbox,
        session_id=session_id,
        extra=extra,
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
    found = continuation.find(request.continue_run, request.cwd) if request.continue_run else None
    if found is not None:
        request = continuation.adjusted(request, found)
    decision = _decide(request)
    team = parse_team(request.team)
    translated = _translated_criteria(request)
    readiness = launch_checks(request.config, request.cwd, mode=decision.mode, generated_config=bool(team))
    if not readiness.ready or readiness.program is None:
        raise readiness.error()
    reading = media.need_for(request.media, request.task)
    media_support = None
    if reading is not None:  # only a media task needs the config read (YAML) and the keys looked up
        media_support = media.check_launch(reading, media.here(readiness.config, request.cwd, os.environ))
    if request.structured:  # decided on the user's words; massgen gets them inside our contract
        require_workspaces(readiness.config)
        request = replace(request, task=structured_task(request.task))
    if team:
        check_team_keys(team, request.cwd, os.environ)
    # Records live at the project root (found from any subfolder); massgen runs where the user is.
    record = records.RunRecord(
        records.new_run_id(),
        str(records.project_root(request.cwd)),
        time.time(),
        cwd=str(request.cwd),
        max_cost=request.max_cost,
    )
    criteria_file = str(record.run_dir / criteria.TRANSLATED_NAME) if translated else None
    session_id = found.session_id if found else None
    team_file = str(record.run_dir / TEAM_CONFIG_NAME) if team else None
    how = shape(decision, _options(request, criteria_file, None, session_id, team_file))  # checks every flag
    team_yaml = generate_config(team, readiness.program, request.cwd, child_env(os.environ)) if team else None
    inbox = None if how.web else str(record.run_dir / INBOX_NAME)
    port = choose(request.web_port, reserve=not request.dry_run) if how.web else None
    try:
        options = _options(request, criteria_file, inbox, session_id, team_file)
        command = build(decision, options, port.port if port else None)
        _fill_record(record, decision, command, readiness.program, criteria_file, inbox)
        record.structured = request.structured
        _fill_turn(record, found)
        if not request.dry_run:
            _write_turn(record, translated, found, team_yaml)
    except BaseException:
        if port and port.reservation:
            port.reservation.release()
        raise
    return RunPlan(
        request, decision, command, readiness.program, record, port, media_support, found, team_yaml
    )


def _write_turn(
    record: records.RunRecord,
    translated: dict[str, list[dict[str, str]]] | None,
    found: continuation.Continuation | None,
    team_yaml: str | None,
) -> None:
    """Write the run; a follow-up claims its turn under the continued run's lock (of two, one goes on)."""
    if found is None:
        _write(record, translated, team_yaml)
        return
    with records.locked(Path(found.previous.project_dir), found.previous.run_id):
        continuation.check_newest(found.previous)
        continuation.open_session(found, Path.home())
        _write(record, translated, team_yaml)


def _fill_turn(record: records.RunRecord, found: continuation.Continuation | None) -> None:
    """A new run is turn 1 of the session massgen opens (not the modes massgen runs outside sessions);
    a follow-up is the next turn of the session it continues (in a log folder of its own)."""
    if found is None:
        record.turn = None if record.mode in REVIEWLESS_MODES else 1
        return
    record.turn = found.turn
    record.session_id = found.session_id
    record.previous_run = found.previous.run_id
    record.first_run = found.first_run


def _write(
    record: records.RunRecord, translated: dict[str, list[dict[str, str]]] | None, team_yaml: str | None
) -> None:
    """The run's folder: the translated criteria and team config massgen reads, then the record (which
    claims the run).
    A full disk or a wrong-kind path is one line and no launch."""
    try:
        record.run_dir.mkdir(parents=True, exist_ok=True)
        if translated is not None:
            criteria.write_translation(translated, record.run_dir)
        if team_yaml is not None:
            write_config(team_yaml, record.run_dir)
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
    media_note = (plan.media.note(),) if plan.media else ()
    return (*plan.decision.reasons, *media_note, *plan.command.notes, *port_note, *_turn_note(plan))


def _turn_note(plan: RunPlan) -> tuple[str, ...]:
    found = plan.continuation
    if found is None:
        return ()
    return (
        f"turn {found.turn} of session {found.session_id} (continues {found.previous.run_id}); "
        "CLI path: massgen's web UI cannot continue a session",
    )


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
                "max_cost": plan.request.max_cost,
                "launch": preview(plan.program, child_env(os.environ), plan.request.cwd),
                "needs_confirmation": decision.needs_confirmation,
                "reasons": list(decision.reasons),
                "notes": [*command.notes, *([plan.port.note] if plan.port and plan.port.note else [])],
                "warnings": list(command.warnings),
                "media": plan.media.as_dict() if plan.media else None,
                **_turn_json(plan),
                "team_config": plan.team_config,
            }
        )
    else:
        for note in _notes(plan):
            info(note)
        for warning in command.warnings:
            warn(warning)
        print(command.shell(program), flush=True)
        if plan.team_config is not None:
            print(f"# the team's config, generated by massgen ({TEAM_CONFIG_NAME} in the run folder):")
            print("".join(f"#   {line}\n" for line in plan.team_config.splitlines()), end="", flush=True)
    return int(ExitCode.OK)


def _turn_json(plan: RunPlan) -> dict[str, object]:
    found = plan.continuation
    if found is None:
        return {}
    return {"continues": found.previous.run_id, "session_id": found.session_id, "turn": found.turn}


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
        max_cost=request.max_cost,
        progress=sys.stderr if sys.stderr.isatty() and not request.json else None,
    )
    outcome = RunRelay(record, settings, emit).run(supervisor)
    return int(outcome.code)


def _redact(line: str, secrets: list[str]) -> str:
    for value in secrets:
        if value in line:
            line = line.replace(value, "***")
    return line

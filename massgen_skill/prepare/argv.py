"""A decision → the exact `massgen` argv. The only place that knows how massgen's flags combine.

Web-mode rule (contract §5): with `--web`, massgen 0.1.97 passes only a few flags on to the job and silently
ignores the rest. A run that needs one of the others goes without the web UI — and says so.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field

from massgen_skill.exitcodes import SkillError
from massgen_skill.massgen import flags
from massgen_skill.massgen.parser_flags import WEB_GLOBAL
from massgen_skill.prepare.extra import ExtraFlag
from massgen_skill.prepare.intent import EXECUTE_MODES, Decision

_MODE_FLAGS = {
    "plan": flags.PLAN,
    "spec": flags.SPEC,
    "plan-and-execute": flags.PLAN_AND_EXECUTE,
    "execute-plan": flags.EXECUTE_PLAN,
    "execute-spec": flags.EXECUTE_SPEC,
}
_CWD_VALUES = {"ro": "ro", "rw": "rw"}


@dataclass(frozen=True)
class JobFlags:
    """The optional massgen flags that shape the job, each one field: the request holds them, argv reads them.
    Field names are the `run` flags' argparse names (`--plan-depth` → `plan_depth`)."""

    timeout: int | None = None  # massgen's orchestrator time limit, seconds
    quick: bool = False
    personas: str | None = None
    plan_depth: str | None = None
    plan_thoroughness: str | None = None
    plan_steps: int | None = None
    plan_chunks: int | None = None
    coordination_mode: str | None = None
    single_agent: str | None = None  # "" = the flag alone (massgen picks the agent)


@dataclass(frozen=True)
class RunOptions:
    """Everything about a run that is not the mode: the job flags plus what the plan prepared."""

    task: str = ""
    config: str | None = None
    criteria_file: str | None = None  # the translated, massgen-safe file
    web: bool | None = None  # None: web UI unless something needs the CLI path
    job: JobFlags = JobFlags()
    output_file: str | None = None
    inbox_dir: str | None = None  # CLI mode only: lets `steer` reach the team
    session_id: str | None = None  # continue this registered massgen session (CLI mode only)
    extra: tuple[ExtraFlag, ...] = ()  # `run --extra`, already checked


@dataclass(frozen=True)
class MassgenCommand:
    args: tuple[str, ...]  # everything after the `massgen` program itself
    web: bool
    web_port: int | None
    review_gate: bool
    notes: tuple[str, ...] = field(default=())
    warnings: tuple[str, ...] = field(default=())

    def shell(self, program: Sequence[str] = ("massgen",)) -> str:
        """Copy-pasteable, shell-quoted form."""
        return shlex.join([*program, *self.args])


def _job_flags(decision: Decision, options: RunOptions) -> list[tuple[str, str | None]]:
    """The flags that shape the job, as (flag, value) pairs, in a stable order."""
    pairs: list[tuple[str, str | None]] = []
    mode_flag = _MODE_FLAGS.get(decision.mode)
    if mode_flag:
        value = decision.plan_target if decision.mode in EXECUTE_MODES else None
        pairs.append((mode_flag, value))
    if decision.cwd_context in _CWD_VALUES:
        pairs.append((flags.CWD_CONTEXT, _CWD_VALUES[decision.cwd_context]))
    if options.criteria_file:
        pairs.append((flags.EVAL_CRITERIA, options.criteria_file))
    elif decision.preset:
        pairs.append((flags.CRITERIA_PRESET, decision.preset))
    job = options.job
    optional: list[tuple[str, object]] = [
        (flags.ORCHESTRATOR_TIMEOUT, job.timeout),
        (flags.PLAN_DEPTH, job.plan_depth),
        (flags.PLAN_THOROUGHNESS, job.plan_thoroughness),
        (flags.PLAN_STEPS, job.plan_steps),
        (flags.PLAN_CHUNKS, job.plan_chunks),
        (flags.PERSONAS, job.personas),
        (flags.COORDINATION_MODE, job.coordination_mode),
        (flags.OUTPUT_FILE, options.output_file),
        (flags.SESSION_ID, options.session_id),
    ]
    pairs.extend((flag, str(value)) for flag, value in optional if value is not None)
    if job.quick:
        pairs.append((flags.QUICK, None))
    if job.single_agent is not None:
        pairs.append((flags.SINGLE_AGENT, job.single_agent or None))
    return pairs


def _cli_only(options: RunOptions, pairs: list[tuple[str, str | None]]) -> list[str]:
    """The flags massgen ignores under --web: only the pass-through ones and a few global ones act there."""
    given = [*(flag for flag, _ in pairs), *(item.flag for item in options.extra)]
    return [flag for flag in given if flag not in flags.WEB_PASSTHROUGH | WEB_GLOBAL]


def _check_task(decision: Decision, task: str) -> None:
    if "\0" in task:
        raise SkillError("the task contains a NUL byte, which no command line can carry")
    if not task.strip() and decision.mode not in EXECUTE_MODES:
        raise SkillError(f"a task is required for mode {decision.mode} (give it as the last argument)")


def _check_combinations(job: JobFlags) -> None:
    """Pairs massgen 0.1.97 parses but then refuses with exit 2 (`validate_mode_flag_combinations`)."""
    if job.coordination_mode != "decomposition":
        return
    if job.personas not in (None, "off"):
        raise SkillError(
            f"{flags.PERSONAS} {job.personas} needs {flags.COORDINATION_MODE} parallel: "
            "massgen refuses it with decomposition"
        )
    if job.single_agent is not None:
        raise SkillError(
            f"{flags.SINGLE_AGENT} cannot be combined with {flags.COORDINATION_MODE} decomposition: "
            "decomposition needs several agents (massgen refuses the pair)"
        )


@dataclass(frozen=True)
class Shape:
    """Web or CLI path, decided before any port is chosen (only web runs need one)."""

    web: bool
    review_gate: bool
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def shape(decision: Decision, options: RunOptions) -> Shape:
    """Check the task and flag combinations, then decide web vs CLI and say why."""
    _check_task(decision, options.task)
    _check_combinations(options.job)
    cli_only = _cli_only(options, _job_flags(decision, options))
    if options.web is True and cli_only:
        raise SkillError(
            f"--web cannot be combined with {', '.join(cli_only)}: massgen 0.1.97 ignores "
            "them in web mode; drop --web (or those options)"
        )
    web = options.web is not False and not cli_only
    notes: list[str] = []
    if options.web is None and cli_only:
        notes.append(
            f"web UI off: massgen ignores {', '.join(cli_only)} in web mode, so this run uses the CLI path"
        )
    review_gate = web and decision.cwd_context == "rw"
    warnings: list[str] = []
    if decision.cwd_context == "rw" and not review_gate:
        warnings.append(
            "no review gate: without the web UI the team's file changes land in the project directly"
        )
    return Shape(web, review_gate, tuple(notes), tuple(warnings))


def build(decision: Decision, options: RunOptions, web_port: int | None = None) -> MassgenCommand:
    """The argv, built once: `web_port` is the port chosen for a web run (the default port when omitted)."""
    how = shape(decision, options)
    port = (web_port or flags.DEFAULT_WEB_PORT) if how.web else None
    args: list[str] = [flags.AUTOMATION, flags.NO_PARSE_AT_REFERENCES]
    if options.config:
        args += [flags.CONFIG, options.config]
    if how.web:
        args += [flags.WEB, flags.NO_BROWSER, flags.WEB_PORT, str(port)]
        if how.review_gate:
            args.append(flags.WEB_REVIEW)
    for flag, value in _job_flags(decision, options):
        args += [flag] if value is None else [flag, value]
    if not how.web and options.inbox_dir:
        args += [flags.INBOX_DIR, options.inbox_dir]
    for item in options.extra:
        args += item.argv()
    if options.task:
        args += ["--", options.task]  # after "--" the task is data, even when it starts with "-"
    return MassgenCommand(
        args=tuple(args),
        web=how.web,
        web_port=port,
        review_gate=how.review_gate,
        notes=how.notes,
        warnings=how.warnings,
    )

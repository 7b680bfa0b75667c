"""`run --team backend=…,model=…` (repeatable, one agent each): a team without YAML.

The run's config is built by massgen's own generator, run in massgen's interpreter
(`massgen/team_generator.py`, offline: LiteLLM's local cost map), and written into the run's folder; the keys
the team needs are checked by name before anything starts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path

from massgen_skill import atomic
from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen.agent_spec import AgentSpec
from massgen_skill.massgen.program import MassgenProgram
from massgen_skill.output import one_line
from massgen_skill.prepare.checks import FAIL, check_backend_keys
from massgen_skill.run.procs import run_bounded

TEAM = "--team"
TEAM_CONFIG_NAME = "team_config.yaml"
GENERATE_TIMEOUT = 180.0  # seconds: importing massgen takes 5-25 s on a loaded machine
# Run by path in massgen's interpreter, never imported here (it imports massgen).
GENERATOR = Path(__file__).resolve().parents[1] / "massgen" / "team_generator.py"
_OFFLINE = {"LITELLM_LOCAL_MODEL_COST_MAP": "True"}  # importing massgen must not fetch LiteLLM's cost map


def parse_team(values: tuple[str, ...]) -> tuple[AgentSpec, ...]:
    """Each `--team` value as an agent (the syntax of `setup --agent`); one line naming the bad value."""
    try:
        return tuple(AgentSpec.parse(value) for value in values)
    except ValueError as exc:
        raise SkillError(f"{TEAM} {exc}") from None


def check_team_keys(team: tuple[AgentSpec, ...], cwd: Path, env: Mapping[str, str]) -> None:
    """The API-key variable of every agent's backend, by name: the check `doctor` makes for a config."""
    check = check_backend_keys([{"type": agent.backend} for agent in team], cwd, env, f"{TEAM} agents")
    if check.status == FAIL:
        raise SkillError(f"{check.detail}; fix: {check.fix}", ExitCode.ENV_NOT_READY)


def generate_config(
    team: tuple[AgentSpec, ...], program: MassgenProgram, cwd: Path, env: Mapping[str, str]
) -> str:
    """The team's massgen config as YAML text, from massgen's own generator (nothing is written here)."""
    if not program.interpreter:
        raise SkillError(
            f"{TEAM} needs massgen's own Python to build the config, and {program.how} hides it; install "
            "massgen with `massgen-skill first-run` (or pip), or give --config",
            ExitCode.ENV_NOT_READY,
        )
    specs = json.dumps([asdict(agent) for agent in team])
    done = run_bounded(
        [program.interpreter, "-I", str(GENERATOR), specs], cwd, GENERATE_TIMEOUT, {**env, **_OFFLINE}
    )
    if done.returncode == 0 and done.stdout.strip():
        return done.stdout
    why = "timed out" if done.timed_out else done.start_error or f"exit {done.returncode}: {done.tail()}"
    code = ExitCode.USAGE if done.returncode == 2 else ExitCode.ENV_NOT_READY
    raise SkillError(f"{TEAM}: massgen's config generator failed ({one_line(why)})", code)


def write_config(text: str, run_dir: Path) -> Path:
    """The generated config beside the run's record (OSError propagates: the caller reports it)."""
    path = run_dir / TEAM_CONFIG_NAME
    atomic.write_text(path, text, fsync=True)
    return path

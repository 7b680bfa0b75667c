"""`run --team backend=…,model=…`: the config built by the generator script in massgen's interpreter (here
a stand-in `massgen.config_builder` behind a stand-in interpreter), keys checked by name before launch, the
config shown in the dry run and written into the run folder."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml
from test_cli_dry_run import project  # noqa: F401  (the fixture: a project whose massgen must never run)

from massgen_skill.cli import main
from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen.agent_spec import AgentSpec
from massgen_skill.massgen.config import ConfigChoice
from massgen_skill.prepare import checks
from massgen_skill.prepare.plan import plan_run
from massgen_skill.prepare.request import RunRequest
from massgen_skill.prepare.team import TEAM_CONFIG_NAME, check_team_keys

TASK = "Compare three designs"
TEAM = ["--team", "backend=openai,model=gpt-5.4", "--team", "backend=sglang,model=local-x,id=critic"]

# massgen's generator, reduced to what the script calls: providers, a default model, the config builder.
STAND_IN_BUILDER = """
class ConfigBuilder:
    PROVIDERS = {"openai": {"type": "openai"}, "sglang": {"type": "sglang"}, "claude": {"type": "claude"}}

    def _resolve_default_model(self, backend):
        return {"openai": "gpt-default"}.get(backend, "")

    def _generate_quickstart_config(self, agents, use_docker=True):
        entries = [{"id": a["id"], "backend": {"type": a["type"], "model": a["model"]}} for a in agents]
        return {"agents": entries, "orchestrator": {"use_docker": use_docker}}
"""


@pytest.fixture
def generator_log(project: Path) -> Path:  # noqa: F811
    """massgen on PATH is a script whose interpreter is a stand-in: it insists on `-I`, logs each call, and
    runs this Python with the stand-in `massgen.config_builder` importable."""
    root = project.parent
    package = root / "stand_in" / "massgen"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "config_builder.py").write_text(STAND_IN_BUILDER)
    log = root / "generator.log"
    python = root / "bin" / "python-stand-in"
    python.write_text(
        f'#!/bin/sh\n[ "$1" = -I ] || exit 97\nshift\necho "$@" >> "{log}"\n'
        f'PYTHONPATH="{root / "stand_in"}" exec "{sys.executable}" "$@"\n'
    )
    python.chmod(0o755)
    massgen = root / "bin" / "massgen"
    massgen.write_text(f"#!{python}\nraise SystemExit('massgen must not run')\n")
    return log


def dry_run(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(["run", "--dry-run", "--json", *args, TASK]) == 0
    return json.loads(capsys.readouterr().out)


def test_dry_run_shows_the_generated_config_and_points_massgen_at_it(
    generator_log: Path,
    project: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-a-real-key-000")
    out = dry_run(TEAM, capsys)
    config = yaml.safe_load(out["team_config"])
    assert config["agents"] == [
        {"id": "agent_a", "backend": {"type": "openai", "model": "gpt-5.4"}},
        {"id": "critic", "backend": {"type": "sglang", "model": "local-x"}},
    ]
    assert config["orchestrator"] == {"use_docker": False}  # local mode: no Docker needed
    argv = out["argv"]
    path = Path(argv[argv.index("--config") + 1])
    assert path.name == TEAM_CONFIG_NAME and path.parent.parent.name == "skill_runs"
    assert not path.exists() and not (project / ".massgen").exists()  # a dry run writes nothing
    assert len(generator_log.read_text().splitlines()) == 1


def test_text_dry_run_keeps_stdout_a_shell_script(
    generator_log: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-a-real-key-000")
    assert main(["run", "--dry-run", "--team", "backend=openai", TASK]) == 0
    command, *rest = capsys.readouterr().out.splitlines()
    assert "--config" in command and rest and all(line.startswith("#") for line in rest)
    assert "#       model: gpt-default" in rest  # massgen's default model for the backend


def test_a_real_run_writes_the_config_beside_its_record(
    generator_log: Path,
    project: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-a-real-key-000")
    plan = plan_run(RunRequest(task=TASK, cwd=project, web=False, team=("backend=openai,model=m",)))
    written = plan.record.run_dir / TEAM_CONFIG_NAME
    assert written.read_text(encoding="utf-8") == plan.team_config
    assert plan.record.argv[plan.record.argv.index("--config") + 1] == str(written)


def test_a_missing_key_fails_by_name_before_the_generator_runs(
    generator_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--dry-run", "--team", "backend=claude", TASK]) == ExitCode.ENV_NOT_READY
    err = capsys.readouterr().err
    assert "ANTHROPIC_API_KEY" in err and err.count("\n") == 1
    assert not generator_log.exists()


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        ([*TEAM, "--config", "team.yaml"], ExitCode.USAGE, "--team and --config are exclusive"),
        (["--team", "model=x"], ExitCode.USAGE, "backend=<type> is required"),
        (["--team", "backend=openai,colour=red"], ExitCode.USAGE, "unknown field 'colour'"),
        (["--team", "backend=sglang"], ExitCode.USAGE, "no default model"),
        (["--team", "backend=nope,model=m"], ExitCode.USAGE, "massgen has none by that name"),
        ([*TEAM, "--extra", "--model m"], ExitCode.USAGE, "contradicts --config/--team"),
    ],
)
def test_bad_teams_are_one_line_errors(
    generator_log: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    code: ExitCode,
    needle: str,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-a-real-key-000")
    assert main(["run", "--dry-run", *args, TASK]) == code
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_without_massgens_interpreter_the_team_is_refused_with_the_way_out(
    project: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-a-real-key-000")  # the fixture's massgen is a sh script
    assert main(["run", "--dry-run", "--team", "backend=openai", TASK]) == ExitCode.ENV_NOT_READY
    assert "needs massgen's own Python" in capsys.readouterr().err


def test_doctor_and_team_share_one_key_check(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("agents:\n  - id: a\n    backend: {type: claude, model: m}\n")
    doctor = checks.check_api_keys(ConfigChoice(str(config), "flag"), tmp_path, {"HOME": str(tmp_path)})
    assert doctor.status == checks.FAIL and "ANTHROPIC_API_KEY" in doctor.detail
    with pytest.raises(SkillError) as caught:
        check_team_keys((AgentSpec("claude"),), tmp_path, {"HOME": str(tmp_path)})
    assert (
        caught.value.code == ExitCode.ENV_NOT_READY
        and doctor.detail.split(": ", 1)[1] in caught.value.message
    )
    check_team_keys((AgentSpec("claude"),), tmp_path, {"HOME": str(tmp_path), "ANTHROPIC_API_KEY": "k" * 20})


def test_launch_checks_skip_the_config_lookup_for_a_generated_one(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "PATH": ""}
    found = checks.launch_checks(None, tmp_path, env, generated_config=True)
    assert [c.status for c in found.checks if c.name == "config"] == [checks.SKIP]
    missing = checks.launch_checks(None, tmp_path, env)
    assert [c.status for c in missing.checks if c.name == "config"] == [checks.FAIL]

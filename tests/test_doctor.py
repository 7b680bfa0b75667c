"""`massgen-skill doctor`: each check failing in turn, with its fix; `run` shares the fast checks."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
from pathlib import Path

import pytest

from massgen_skill.cli import main
from massgen_skill.exitcodes import ExitCode
from massgen_skill.massgen.program import INSTALL_HINT
from massgen_skill.prepare import checks

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "massgen_0.1.97"
SECRET = "sk-test-secret-value-0123456789"


@pytest.fixture
def tools(tmp_path: Path) -> Path:
    """A bin folder with python3 (for the fake's shebang) and git, but no uv."""
    folder = tmp_path / "tools"
    folder.mkdir()
    (folder / "python3").symlink_to(sys.executable)
    git = shutil.which("git")
    if git:
        (folder / "git").symlink_to(git)
    return folder


@pytest.fixture
def doctor_env(monkeypatch, fake_massgen, project_dir, tools):  # type: ignore[no-untyped-def]
    """Environment of a machine where a run can start: the fake on PATH, a config, HOME empty."""
    for name in list(os.environ):
        if name.endswith(("_API_KEY", "_TOKEN")) or name in ("MASSGEN_BIN", "CODEX_HOME"):
            monkeypatch.delenv(name)
    env = fake_massgen.env()
    monkeypatch.setenv("HOME", env["HOME"])
    monkeypatch.setenv("PATH", os.pathsep.join([str(fake_massgen.bin_dir), str(tools)]))
    monkeypatch.setenv("FAKE_MASSGEN_ARGV_LOG", env["FAKE_MASSGEN_ARGV_LOG"])
    monkeypatch.chdir(project_dir)
    return project_dir


def doctor(capsys, *extra: str) -> tuple[int, dict[str, dict]]:  # type: ignore[no-untyped-def]
    code = main(["doctor", "--json", *extra])
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["ready"] is (code == 0)
    return code, {c["name"]: c for c in data["checks"]}


def fake_venv(tmp_path: Path, fake_massgen, massgen: str = "0.1.97", mcp: str = "1.26.0") -> Path:  # type: ignore[no-untyped-def]
    """A venv layout whose `bin/massgen` (a Python script, by shebang) runs the fake; dist-info folders for
    massgen and mcp beside it, as pip leaves them."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    site = venv / "lib" / "python3.11" / "site-packages"
    for dist, version in (("massgen", massgen), ("mcp", mcp)):
        (site / f"{dist}-{version}.dist-info").mkdir(parents=True)
    script = venv / "bin" / "massgen"
    script.write_text(
        f"#!{venv / 'bin' / 'python'}\nimport os, sys\n"
        f"os.execv({str(fake_massgen.executable)!r}, [{str(fake_massgen.executable)!r}, *sys.argv[1:]])\n"
    )
    script.chmod(0o755)
    return script


# --- all good ---------------------------------------------------------------------------------------------


def test_ready_machine_exits_0_and_names_where_things_were_found(doctor_env, capsys, fake_massgen):
    code, found = doctor(capsys)
    assert code == 0
    assert found["massgen"]["status"] == "ok" and "found on PATH" in found["massgen"]["detail"]
    assert found["config"]["detail"] == f"{doctor_env / '.massgen' / 'config.yaml'} (project)"
    assert found["config valid"]["status"] == "ok" and "valid" in found["config valid"]["detail"]
    assert found["web port"]["status"] == "ok"
    assert found["uv"]["status"] == "warn" and found["uv"]["fix"] == "pip install uv"
    validate = [e["argv"] for e in fake_massgen.read_argv_log() if "--validate" in e["argv"]]
    assert validate == [["--validate", str(doctor_env / ".massgen" / "config.yaml"), "--json"]]
    assert not any("--version" in e["argv"] for e in fake_massgen.read_argv_log())


def test_text_screen_ends_with_the_verdict(doctor_env, capsys):
    assert main(["doctor", "--no-validate"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("massgen-skill ") and out[-1] == "READY: yes (a run can start)"
    assert any(line.split()[:2] == ["--", "config"] for line in out)  # config valid: skipped
    assert len(out) <= 24  # one screen


# --- each check failing in turn ---------------------------------------------------------------------------


def test_massgen_missing(doctor_env, capsys, monkeypatch, tools):
    monkeypatch.setenv("PATH", str(tools))
    code, found = doctor(capsys)
    assert code == ExitCode.ENV_NOT_READY
    assert found["massgen"]["status"] == "fail" and found["massgen"]["fix"] == INSTALL_HINT
    assert {found[n]["status"] for n in ("version", "mcp", "config valid")} == {"skip"}


def test_massgen_bin_not_executable(doctor_env, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("MASSGEN_BIN", str(tmp_path / "nowhere" / "massgen"))
    code, found = doctor(capsys)
    assert code == ExitCode.ENV_NOT_READY
    assert "MASSGEN_BIN" in found["massgen"]["detail"] and found["massgen"]["fix"] == "unset MASSGEN_BIN"


def test_massgen_bin_is_reported_as_such(doctor_env, capsys, monkeypatch, tmp_path, fake_massgen):
    monkeypatch.setenv("MASSGEN_BIN", str(fake_venv(tmp_path, fake_massgen)))
    code, found = doctor(capsys)
    assert code == 0, found
    assert "from $MASSGEN_BIN" in found["massgen"]["detail"]
    assert found["version"] == {"name": "version", "status": "ok", "detail": "massgen 0.1.97", "fix": None}
    assert found["mcp"]["status"] == "ok" and "1.26.0" in found["mcp"]["detail"]


def test_broken_mcp_2_is_a_failure_with_the_pip_fix(doctor_env, capsys, monkeypatch, tmp_path, fake_massgen):
    script = fake_venv(tmp_path, fake_massgen, mcp="2.0.0")
    monkeypatch.setenv("MASSGEN_BIN", str(script))
    code, found = doctor(capsys)
    assert code == ExitCode.ENV_NOT_READY
    assert found["mcp"]["status"] == "fail" and "mcp 2.0.0" in found["mcp"]["detail"]
    assert found["mcp"]["fix"] == f"{script.parent / 'python'} -m pip install 'mcp<2'"
    assert found["config valid"]["status"] == "skip"  # massgen cannot even start
    assert not any("--validate" in e["argv"] for e in fake_massgen.read_argv_log())


def test_other_massgen_version_is_a_warning(doctor_env, capsys, monkeypatch, tmp_path, fake_massgen):
    monkeypatch.setenv("MASSGEN_BIN", str(fake_venv(tmp_path, fake_massgen, massgen="0.2.0")))
    code, found = doctor(capsys)
    assert code == 0
    assert found["version"]["status"] == "warn" and "0.2.0" in found["version"]["detail"]
    assert "massgen==0.1.97" in found["version"]["fix"]


def test_version_is_probed_through_massgens_interpreter_without_dist_info(doctor_env, capsys):
    _, found = doctor(capsys, "--no-validate")
    # The fake's interpreter is this Python: no massgen distribution there, so the version stays unknown.
    assert found["version"]["status"] == "warn" and "could not be read" in found["version"]["detail"]


def test_no_config(doctor_env, capsys):
    (doctor_env / ".massgen" / "config.yaml").unlink()
    code, found = doctor(capsys)
    assert code == ExitCode.ENV_NOT_READY
    assert found["config"]["status"] == "fail" and "no massgen config" in found["config"]["detail"]
    assert found["config"]["fix"].split()[1] == "setup"
    assert found["config valid"]["status"] == "skip"


def test_user_config_and_explicit_config_are_found(doctor_env, capsys, tmp_path):
    config = doctor_env / ".massgen" / "config.yaml"
    user = Path(os.environ["HOME"]) / ".config" / "massgen" / "config.yaml"
    user.parent.mkdir(parents=True)
    config.rename(user)
    _, found = doctor(capsys, "--no-validate")
    assert found["config"]["detail"] == f"{user} (user)"
    other = tmp_path / "team.yaml"
    other.write_text(user.read_text())
    _, found = doctor(capsys, "--no-validate", "--config", str(other))
    assert found["config"]["detail"] == f"{other} (flag)"


def test_invalid_config(doctor_env, capsys):
    (doctor_env / ".massgen" / "config.yaml").write_text("ui:\n  display_type: rich_terminal\n")
    code, found = doctor(capsys)
    assert code == ExitCode.ENV_NOT_READY
    check = found["config valid"]
    assert check["status"] == "fail" and check["detail"].startswith("massgen --validate: invalid: root: ")
    assert "config_setup.md" in check["fix"]


def test_validate_timeout_is_a_warning_not_a_hang(doctor_env, capsys, monkeypatch):
    monkeypatch.setenv("FAKE_MASSGEN_STARTUP_DELAY", "30")
    code, found = doctor(capsys, "--validate-timeout", "1")
    assert code == 0
    assert found["config valid"]["status"] == "warn" and "within 1 s" in found["config valid"]["detail"]


def test_missing_key_for_the_configs_backend(doctor_env, capsys, monkeypatch):
    (doctor_env / ".massgen" / "config.yaml").write_text(
        "agents:\n  - id: a\n    backend: {type: claude, model: claude-opus-4-6}\n"
        "  - id: b\n    backend: {type: openai, model: gpt-5.4}\n"
    )
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    code, found = doctor(capsys, "--no-validate")
    assert code == ExitCode.ENV_NOT_READY
    keys = found["api keys"]
    assert keys["status"] == "fail" and "claude needs ANTHROPIC_API_KEY" in keys["detail"]
    assert "OPENAI_API_KEY (environment)" in keys["detail"]
    assert keys["fix"].startswith("export ANTHROPIC_API_KEY=")

    env_file = Path(os.environ["HOME"]) / ".config" / "massgen" / ".env"
    env_file.parent.mkdir(parents=True)
    env_file.write_text(f"# keys\nexport ANTHROPIC_API_KEY='{SECRET}'\n")
    code = main(["doctor", "--no-validate"])
    captured = capsys.readouterr()
    assert code == 0
    assert "ANTHROPIC_API_KEY (~/.config/massgen/.env)" in captured.out
    assert SECRET not in captured.out + captured.err


def test_login_backends_only_warn_and_no_values_are_printed(doctor_env, capsys, monkeypatch):
    (doctor_env / ".massgen" / "config.yaml").write_text(
        "agents:\n  - id: a\n    backend: {type: claude_code, model: claude-opus-4-6}\n"
    )
    monkeypatch.setenv("GROQ_API_KEY", SECRET)
    code, found = doctor(capsys, "--no-validate")
    assert code == 0
    assert (
        found["api keys"]["status"] == "warn" and "unless its CLI is logged in" in found["api keys"]["detail"]
    )
    assert SECRET not in json.dumps(found)


def test_default_port_taken_names_the_port_a_web_run_would_use(doctor_env, capsys, monkeypatch):
    with socket.socket() as sock:  # stands in for port 8000, which other processes here may hold
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        held = sock.getsockname()[1]
        monkeypatch.setattr("massgen_skill.massgen.flags.DEFAULT_WEB_PORT", held)
        monkeypatch.setattr("massgen_skill.prepare.ports.DEFAULT_WEB_PORT", held)
        _, found = doctor(capsys, "--no-validate")
    port = found["web port"]
    assert port["status"] == "ok" and port["detail"].startswith(f"{held} is taken; a web run would use ")
    assert int(port["detail"].rsplit(" ", 1)[1]) != held


def test_default_port_free(doctor_env, capsys, monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = sock.getsockname()[1]
    monkeypatch.setattr("massgen_skill.massgen.flags.DEFAULT_WEB_PORT", free)
    monkeypatch.setattr("massgen_skill.prepare.ports.DEFAULT_WEB_PORT", free)
    _, found = doctor(capsys, "--no-validate")
    assert found["web port"]["detail"] == f"{free} free"


def test_git_missing_is_a_warning_and_uv_present_is_ok(doctor_env, capsys, monkeypatch, tools, tmp_path):
    (tools / "git").unlink(missing_ok=True)
    uv = tmp_path / "uvbin" / "uv"
    uv.parent.mkdir()
    uv.write_text("#!/bin/sh\nexit 0\n")
    uv.chmod(0o755)
    monkeypatch.setenv("PATH", os.pathsep.join([os.environ["PATH"], str(uv.parent)]))
    code, found = doctor(capsys, "--no-validate")
    assert code == 0
    assert found["git"]["status"] == "warn" and "review" in found["git"]["detail"] and found["git"]["fix"]
    assert found["uv"] == {"name": "uv", "status": "ok", "detail": str(uv), "fix": None}


# --- run uses the same checks -----------------------------------------------------------------------------


def test_run_refuses_with_the_same_reason_doctor_gives(
    doctor_env, capsys, monkeypatch, tmp_path, fake_massgen
):
    monkeypatch.setenv("MASSGEN_BIN", str(fake_venv(tmp_path, fake_massgen, mcp="2.1.0")))
    _, found = doctor(capsys)
    assert main(["run", "--no-web", "What is 6 times 7?"]) == ExitCode.ENV_NOT_READY
    reason = " ".join(found["mcp"]["detail"].split())  # errors are printed as one line
    assert f"massgen-skill: error: {reason}" in capsys.readouterr().err
    assert main(["run", "--no-web", "--dry-run", "What is 6 times 7?"]) == ExitCode.ENV_NOT_READY
    assert f"massgen-skill: error: {reason}" in capsys.readouterr().err  # a dry run checks the same
    assert not any("What is 6 times 7?" in e["argv"] for e in fake_massgen.read_argv_log())


def test_launch_checks_start_no_process(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    calls = []
    monkeypatch.setattr("subprocess.Popen", lambda *a, **k: calls.append(a))
    readiness = checks.launch_checks(None, tmp_path, {"PATH": str(tmp_path), "HOME": str(tmp_path)})
    assert [c.status for c in readiness.checks] == ["fail", "skip", "fail"]
    assert not readiness.ready and readiness.error().code == ExitCode.ENV_NOT_READY and calls == []


def test_env_file_parsing_keeps_names_only(tmp_path):
    home, project = tmp_path / "h", tmp_path / "p"
    (home / ".massgen").mkdir(parents=True)
    project.mkdir()
    (home / ".massgen" / ".env").write_text(f'OPENAI_API_KEY="{SECRET}"\nEMPTY_API_KEY=\n# XAI_API_KEY=x\n')
    (project / ".env").write_text(f"OPENAI_API_KEY=other\nGROQ_API_KEY={SECRET}\nnot a line\n")
    found = checks.env_file_keys(project, {"HOME": str(home)})
    assert found == {"OPENAI_API_KEY": "~/.massgen/.env", "GROQ_API_KEY": str(project / ".env")}

"""The pieces of `doctor --live` and `first-run` that need no real massgen: the scripted world, the private
environment's lookup, and the failure paths."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
import requests

from massgen_skill.cli import main
from massgen_skill.exitcodes import ExitCode
from massgen_skill.massgen import private_env
from massgen_skill.massgen.program import find_massgen
from massgen_skill.massgen.version import MASSGEN_VERSION
from massgen_skill.setup import live

VOTE_TOOLS = [
    {"type": "function", "function": {"name": "new_answer"}},
    {
        "type": "function",
        "function": {"name": "vote", "parameters": {"properties": {"agent_id": {"enum": ["agent1"]}}}},
    },
]


def _fake_private_env(cache: Path, version: str = MASSGEN_VERSION) -> Path:
    root = cache / f"mg-{MASSGEN_VERSION}"
    (root / "bin").mkdir(parents=True)
    script = root / "bin" / "massgen"
    script.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    script.chmod(0o755)
    (root / private_env.MARKER_NAME).write_text(json.dumps({"massgen": version}), encoding="utf-8")
    return script


def test_scripted_config_gives_every_agent_its_own_model_and_no_api_key(tmp_path: Path) -> None:
    path = live.write_scripted_config(tmp_path / "c.yaml", "http://127.0.0.1:9/v1", agents=2, workspaces=True)
    config = json.loads(path.read_text(encoding="utf-8"))  # JSON is YAML: massgen reads it as such
    backends = [agent["backend"] for agent in config["agents"]]
    assert [b["model"] for b in backends] == ["fake-a", "fake-b"]
    assert all("api_key" not in b and b["base_url"] == "http://127.0.0.1:9/v1" for b in backends)
    assert [b["cwd"] for b in backends] == ["workspace_a", "workspace_b"]
    assert Path(config["orchestrator"]["snapshot_storage"]).is_absolute()


def test_scripted_server_answers_first_then_is_gone() -> None:
    with live.scripted_server() as url:
        body = {
            "model": "fake-a",
            "stream": True,
            "messages": [{"role": "user", "content": "q"}],
            "tools": VOTE_TOOLS,
        }
        reply = requests.post(f"{url}/chat/completions", json=body, timeout=10)
        assert reply.status_code == 200
        assert '"new_answer"' in reply.text and "[DONE]" in reply.text
        port = int(url.split(":")[2].split("/")[0])
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def test_private_environment_is_found_after_path_only_when_finished(tmp_path: Path) -> None:
    env = {"PATH": str(tmp_path / "empty"), "HOME": str(tmp_path), "MASSGEN_SKILL_CACHE": str(tmp_path / "c")}
    assert private_env.ready(env) is None
    script = _fake_private_env(tmp_path / "c")
    program = find_massgen(env, cwd=tmp_path)
    assert (program.how, program.path) == ("private", str(script))
    (script.parent.parent / private_env.MARKER_NAME).write_text('{"massgen": "0.0.1"}', encoding="utf-8")
    assert private_env.ready(env) is None  # another version's leftovers are not ours


def test_private_environment_defaults_below_home(tmp_path: Path) -> None:
    assert (
        private_env.venv_dir({"HOME": str(tmp_path)})
        == tmp_path / ".cache" / "massgen-skill" / private_env.VENV_NAME
    )


def test_no_install_switch_refuses_with_env_not_ready(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MASSGEN_SKILL_CACHE", str(tmp_path / "c"))
    monkeypatch.setenv(private_env.NO_INSTALL_VARIABLE, "1")
    with pytest.raises(private_env.MassgenEnvUnavailable) as caught:
        private_env.ensure()
    assert caught.value.code == ExitCode.ENV_NOT_READY
    assert not (tmp_path / "c" / private_env.VENV_NAME).exists()


def test_live_check_without_massgen_fails_first_step_with_the_install_command(tmp_path: Path) -> None:
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path), "MASSGEN_SKILL_CACHE": str(tmp_path / "c")}
    report = live.live_check(env)
    assert report.exit_code == ExitCode.ENV_NOT_READY
    assert [(s.name, s.status) for s in report.steps] == [("massgen", "fail")]
    assert "first-run" in report.steps[0].fix


def test_live_check_with_a_massgen_that_never_answers_fails_the_answer_step_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    broken = tmp_path / "massgen"
    broken.write_text("#!/bin/sh\necho 'massgen exploded' >&2\nexit 3\n", encoding="utf-8")
    broken.chmod(0o755)
    env = {**os.environ, "MASSGEN_BIN": str(broken), "TMPDIR": str(tmp_path)}
    report = live.live_check(env)
    assert [(s.name, s.status) for s in report.steps] == [
        ("massgen", "ok"),
        ("project", "ok"),
        ("answer", "fail"),
    ]
    assert report.exit_code not in (0, ExitCode.INTERNAL)
    assert "doctor --live --keep" in report.steps[2].fix
    assert not list(tmp_path.glob("massgen-skill-live-*"))


def test_first_run_with_a_task_and_no_config_is_env_not_ready(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = _fake_private_env(tmp_path / "c")
    monkeypatch.setenv("MASSGEN_BIN", str(fake))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert main(["first-run", "--no-live", "Say hello"]) == ExitCode.ENV_NOT_READY
    err = capsys.readouterr().err
    assert "massgen:" in err and "config" in err.splitlines()[-1]


def test_first_run_without_massgen_and_installs_forbidden_is_env_not_ready(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("MASSGEN_BIN",):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("MASSGEN_SKILL_CACHE", str(tmp_path / "c"))
    monkeypatch.setenv(private_env.NO_INSTALL_VARIABLE, "1")
    assert main(["first-run"]) == ExitCode.ENV_NOT_READY
    assert private_env.NO_INSTALL_VARIABLE in capsys.readouterr().err

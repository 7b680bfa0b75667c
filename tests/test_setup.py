"""`massgen-skill setup`: parsing massgen's setup output (real 0.1.97 captures and the fake), and the
headless and browser flows against the fake massgen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from runtools import ROOT

from massgen_skill.cli import main
from massgen_skill.commands.setup import browser_available
from massgen_skill.exitcodes import ExitCode
from massgen_skill.massgen.agent_spec import parse_agent_spec
from massgen_skill.setup.quickstart import (
    BackendInfo,
    order_choices,
    parse_list_backends,
    parse_quickstart,
)

REAL = Path(__file__).resolve().parent / "fixtures" / "massgen_0.1.97"
SECRET = "sk-test-secret-value-0123456789"


# --- --list-backends ----------------------------------------------------------------------------------------


def test_real_list_backends_parses_every_type_with_glued_cells():
    rows = {b.type: b for b in parse_list_backends((REAL / "list_backends.txt").read_text())}
    assert len(rows) == 28 and "ag2" in rows and "zai" in rows
    # A long model cell runs straight into the Auth cell.
    assert rows["together"].default_model == "Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8"
    assert rows["together"].key == "TOGETHER_API_KEY"
    assert rows["fireworks"].default_model == "accounts/fireworks/models/llama-v3p3-70b-instruct"
    assert rows["fireworks"].key == "FIREWORKS_API_KEY"
    # A long provider cell runs straight into the model cell.
    assert rows["chatcompletion"] == BackendInfo("chatcompletion", "custom", None, False, ("custom",))
    assert rows["inference"].default_model == "custom" and rows["inference"].key is None
    assert rows["claude_code"].key == "ANTHROPIC_API_KEY" and rows["claude_code"].login_ok
    assert rows["claude"].key == "ANTHROPIC_API_KEY" and not rows["claude"].login_ok
    assert rows["nvidia_nim"].key == "NGC_API_KEY" and rows["uitars"].key == "UI_TARS_API_KEY"
    assert rows["openai"].models[:2] == ("gpt-5.4", "gpt-5.2") and len(rows["openai"].models) == 8


def test_fake_list_backends_parses_too(fake_massgen, tmp_path):
    done = subprocess.run(
        [str(fake_massgen.executable), "--list-backends"],
        env=fake_massgen.env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    rows = parse_list_backends(done.stdout)
    assert len(rows) == 28 and all(r.default_model for r in rows)
    assert {r.type for r in rows} == {
        r.type for r in parse_list_backends((REAL / "list_backends.txt").read_text())
    }


def test_list_backends_parser_rejects_other_text():
    assert parse_list_backends("") == []
    assert parse_list_backends("usage: massgen [-h]\nmassgen: error: unrecognized arguments\n") == []


def test_choices_put_backends_with_a_key_first():
    rows = parse_list_backends((REAL / "list_backends.txt").read_text())
    ordered = order_choices(rows, {"GROQ_API_KEY", "ANTHROPIC_API_KEY"})
    assert [b.type for b in ordered[:3]] == ["claude", "claude_code", "groq"]
    assert ordered[3].key is None  # then the backends that need no key, then the rest
    assert ordered[-1].key and ordered[-1].key not in ("GROQ_API_KEY", "ANTHROPIC_API_KEY")


def test_agent_spec_parsing():
    assert parse_agent_spec("backend=openai,model=gpt-5.4") == {"backend": "openai", "model": "gpt-5.4"}
    assert parse_agent_spec(" id=a , backend=claude ") == {"id": "a", "backend": "claude"}
    for bad in ("openai", "backend=", "model=gpt-5.4", "backend=openai,color=blue"):
        with pytest.raises(ValueError):
            parse_agent_spec(bad)


# --- the quickstart summary block ---------------------------------------------------------------------------


def test_real_quickstart_summaries():
    single = parse_quickstart((REAL / "quickstart_success_single.txt").read_text())
    assert single is not None and single.status == "SUCCESS"
    assert single.selected == [("openai", "gpt-5.4")]
    assert single.config_path == "/home/u/project/.massgen/config.yaml"
    assert single.keys == {"OPENAI_API_KEY": True, "ANTHROPIC_API_KEY": False, "GEMINI_API_KEY": False}
    assert single.docker == "available, image pulled" and single.steps == []

    multi = parse_quickstart((REAL / "quickstart_success_multi.txt").read_text())
    assert multi is not None and multi.selected == [("openai", "gpt-5.4"), ("claude", "claude-opus-4-6")]
    assert multi.config_path == ".massgen/config.yaml" and multi.skills == "installed"

    needs = parse_quickstart((REAL / "quickstart_needs_config.txt").read_text())
    assert needs is not None and needs.status == "NEEDS_CONFIG" and needs.selected == []
    assert needs.env_template == "/home/u/project/.env" and needs.config_path is None
    assert needs.steps == [
        "Add at least one API key to /home/u/project/.env",
        "Then rerun: massgen --quickstart --headless",
    ]


def test_quickstart_status_is_read_only_inside_its_block():
    block = (REAL / "quickstart_needs_config.txt").read_text()
    noise = "STATUS: /tmp/x/status.json\nSTATUS: SUCCESS\n\x1b[33mwarning\x1b[0m\n"
    summary = parse_quickstart(noise + block + "\nSTATUS: SUCCESS\nnpm output after the block\n")
    assert summary is not None and summary.status == "NEEDS_CONFIG"
    assert parse_quickstart(noise) is None


# --- headless, against the fake ---------------------------------------------------------------------------


@pytest.fixture
def setup_env(monkeypatch, fake_massgen, tmp_path):  # type: ignore[no-untyped-def]
    """No config anywhere, no keys, no display; the fake massgen on PATH; cwd an empty project."""
    for name in list(os.environ):
        if name.endswith(("_API_KEY", "_TOKEN")) or name in ("MASSGEN_BIN", "DISPLAY", "WAYLAND_DISPLAY"):
            monkeypatch.delenv(name)
    for name, value in fake_massgen.env().items():
        if name in ("PATH", "HOME", "FAKE_MASSGEN_ARGV_LOG"):
            monkeypatch.setenv(name, value)
    project = tmp_path / "proj"
    project.mkdir()
    monkeypatch.chdir(project)
    return project


def lines_of(out: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in out.splitlines():
        name, sep, value = line.partition(": ")
        if sep and name.isupper():
            found.setdefault(name, []).append(value)
    return found


def invoked(fake_massgen) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return [e["argv"] for e in fake_massgen.read_argv_log()]


def test_headless_setup_ends_with_the_live_check(setup_env, fake_massgen, capsys, monkeypatch):
    """The config is written and valid, then `doctor --live` runs; the fake massgen does not talk to the
    scripted model, so the live check fails at its answer step and setup says so with that step's code."""
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    code = main(["setup", "--headless", "--yes"])
    captured = capsys.readouterr()
    said = lines_of(captured.out)
    assert said["SETUP_STATUS"] == ["SUCCESS"] and said["VALID"][0].startswith("yes")
    steps = [line.split(":")[0] + ":" + line.split(":")[1].split()[0] for line in said["LIVE_STEP"]]
    assert steps[:2] == ["massgen:ok", "project:ok"] and steps[2] == "answer:fail", said["LIVE_STEP"]
    assert said["LIVE"][0].startswith("no (exit ") and code not in (0, ExitCode.INTERNAL)
    assert "NEXT" not in said


def test_headless_success_writes_and_validates_the_config(setup_env, fake_massgen, capsys, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    code = main(["setup", "--no-live", "--headless", "--yes"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    said = lines_of(captured.out)
    config = setup_env / ".massgen" / "config.yaml"
    assert said["QUICKSTART_STATUS"] == ["SUCCESS"] and said["SETUP_STATUS"] == ["SUCCESS"]
    assert said["CONFIG"] == [str(config)] and said["VALID"][0].startswith("yes")
    assert config.is_file()
    assert not any(line.startswith("STATUS:") for line in captured.out.splitlines())
    choices = captured.out.split("Backends", 1)[1].splitlines()[1:3]  # codex and openai read OPENAI_API_KEY
    assert all("OPENAI_API_KEY: set" in line for line in choices)
    assert SECRET not in captured.out + captured.err
    assert "side effects" not in captured.err and "may pull the Docker image" in captured.err
    assert invoked(fake_massgen) == [
        ["--list-backends"],
        ["--quickstart", "--headless"],
        ["--validate", str(config), "--json"],
    ]


def test_headless_agents_and_config_path_are_passed_on(
    setup_env, fake_massgen, capsys, monkeypatch, tmp_path
):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    target = tmp_path / "configs" / "team.yaml"
    code = main(
        [
            "setup", "--no-live", "--yes", "--json", "--config", str(target),
            "--agent", "backend=openai,model=gpt-5-mini", "--agent", "backend=claude",
        ]
    )  # fmt: skip
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["setup_status"] == "SUCCESS" and data["ok"] is True
    assert data["mode"] == "headless" and data["config"] == str(target) and target.is_file()
    assert data["selected"] == ["openai / gpt-5-mini", "claude / claude-sonnet-4-5-20250514"]
    assert data["validation"]["valid"] is True
    assert invoked(fake_massgen)[1] == [
        "--quickstart", "--headless",
        "--quickstart-agent", "backend=openai,model=gpt-5-mini",
        "--quickstart-agent", "backend=claude",
        "--config", str(target),
    ]  # fmt: skip


def test_headless_needs_config_when_the_key_is_missing(setup_env, fake_massgen, capsys):
    agent = "backend=claude,model=claude-opus-4-1"
    code = main(["setup", "--no-live", "--headless", "--yes", "--agent", agent])
    captured = capsys.readouterr()
    assert code == ExitCode.ENV_NOT_READY
    said = lines_of(captured.out)
    assert said["QUICKSTART_STATUS"] == ["NEEDS_CONFIG"] and said["SETUP_STATUS"] == ["NEEDS_CONFIG"]
    assert said["STEP"] == [f"Backend(s) claude require API keys. Fill in {setup_env / '.env'}, then re-run."]
    assert "ANTHROPIC_API_KEY is not set" in captured.err
    assert not any("--validate" in argv for argv in invoked(fake_massgen))


def test_headless_without_any_key_reports_the_env_template(setup_env, capsys):
    code = main(["setup", "--no-live", "--headless", "--yes", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == ExitCode.ENV_NOT_READY and data["setup_status"] == "NEEDS_CONFIG"
    assert data["env_template"] == str(setup_env / ".env") and data["steps"]
    assert (
        data["quickstart"]["status"] == "NEEDS_CONFIG"
        and data["quickstart"]["keys"]["GEMINI_API_KEY"] is False
    )


def test_written_config_that_massgen_rejects_is_exit_6(setup_env, capsys, monkeypatch, tmp_path):
    # A stand-in massgen whose quickstart says SUCCESS but whose --validate rejects the file.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    real = (
        (REAL / "quickstart_success_single.txt")
        .read_text()
        .replace("/home/u/project/.massgen/config.yaml", str(setup_env / "bad.yaml"))
    )
    (tmp_path / "qs.txt").write_text(real)
    script = bin_dir / "massgen"
    script.write_text(
        "#!/bin/sh\n"
        'case "$1" in\n'
        f"  --list-backends) cat {REAL / 'list_backends.txt'} ;;\n"
        f"  --quickstart) echo 'agents: []' > {setup_env / 'bad.yaml'}; cat {tmp_path / 'qs.txt'} ;;\n"
        f"  --validate) cat {REAL / 'validate_invalid.json'}; exit 1 ;;\n"
        "esac\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", os.pathsep.join([str(bin_dir), "/usr/bin", "/bin"]))
    code = main(["setup", "--no-live", "--headless", "--yes"])
    out = capsys.readouterr().out
    assert code == ExitCode.MASSGEN_CONFIG
    said = lines_of(out)
    assert said["QUICKSTART_STATUS"] == ["SUCCESS"] and said["SETUP_STATUS"] == ["NEEDS_CONFIG"]
    assert said["VALID"] == ["no (agents[0].backend.type: Unknown backend type: 'nosuchbackend')"]


def test_quickstart_without_a_summary_is_needs_config(setup_env, capsys, monkeypatch, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "massgen").write_text("#!/bin/sh\necho 'Traceback: boom' >&2\nexit 2\n")
    (bin_dir / "massgen").chmod(0o755)
    monkeypatch.setenv("PATH", os.pathsep.join([str(bin_dir), "/usr/bin", "/bin"]))
    code = main(["setup", "--no-live", "--headless", "--yes"])
    captured = capsys.readouterr()
    assert code == ExitCode.ENV_NOT_READY
    assert "could not read `massgen --list-backends`" in captured.err
    said = lines_of(captured.out)
    assert said["SETUP_STATUS"] == ["NEEDS_CONFIG"] and "boom" in said["REASON"][0]


def test_no_terminal_and_no_yes_is_refused_before_any_side_effect(setup_env, fake_massgen, capsys):
    code = main(["setup", "--no-live", "--headless"])
    captured = capsys.readouterr()
    assert code == ExitCode.REFUSED and "--yes" in captured.err
    assert "may install the `openskills` npm package globally" in captured.err
    assert invoked(fake_massgen) == [["--list-backends"]]
    assert not (setup_env / ".massgen").exists()


def test_dry_run_shows_the_command_and_runs_no_quickstart(setup_env, fake_massgen, capsys):
    code = main(["setup", "--headless", "--dry-run", "--agent", "backend=openai"])
    out = capsys.readouterr().out
    assert code == 0
    assert lines_of(out)["WOULD_RUN"] == [
        f"{fake_massgen.executable} --quickstart --headless --quickstart-agent backend=openai"
    ]
    assert invoked(fake_massgen) == [["--list-backends"]]


def test_usage_errors_run_nothing(setup_env, fake_massgen, capsys):
    assert main(["setup", "--yes", "--agent", "model=gpt-5.4"]) == ExitCode.USAGE
    assert main(["setup", "--yes", "--browser", "--agent", "backend=openai"]) == ExitCode.USAGE
    assert main(["setup", "--yes", "--agent", "backend=nosuch"]) == ExitCode.USAGE
    assert "no backend 'nosuch'" in capsys.readouterr().err
    assert not any("--quickstart" in argv for argv in invoked(fake_massgen))


def test_massgen_missing_is_env_not_ready(setup_env, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["setup", "--no-live", "--headless", "--yes"]) == ExitCode.ENV_NOT_READY
    assert "pip install massgen==0.1.97" in capsys.readouterr().err


def test_browser_is_chosen_only_with_a_display():
    assert browser_available({"DISPLAY": ":0"}, "linux")
    assert browser_available({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert browser_available({}, "darwin")
    assert not browser_available({}, "linux")


# --- the browser wizard, against the fake -----------------------------------------------------------------


def _start_wizard(setup_env: Path, fake_massgen) -> tuple[subprocess.Popen, str]:  # type: ignore[no-untyped-def]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DISPLAY": ":99"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "massgen_skill", "setup", "--no-live", "--yes", "--timeout", "60"],
        cwd=setup_env,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    first = ""
    while time.monotonic() < deadline and not first.startswith("WIZARD_URL: "):
        first = proc.stdout.readline()
        if not first and proc.poll() is not None:
            break
    if not first.startswith("WIZARD_URL: "):
        proc.kill()
        raise AssertionError(f"no WIZARD_URL line: {first!r} {proc.stderr.read() if proc.stderr else ''}")
    url = first.split(": ", 1)[1].strip()
    assert url.startswith("http://127.0.0.1:") and "wizard=open" in url
    return proc, url.split("/?", 1)[0]


def _post(base: str, path: str, body: dict) -> None:
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def test_browser_wizard_completes_then_validates(setup_env, fake_massgen):
    config = fake_massgen.write_config(setup_env)
    proc, base = _start_wizard(setup_env, fake_massgen)
    try:
        _post(base, "/api/quickstart/complete", {"config_path": str(config)})
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    said = lines_of(out)
    assert said["CONFIG"] == [str(config)] and said["SETUP_STATUS"] == ["SUCCESS"]
    assert [a[:1] for a in invoked(fake_massgen)] == [["--web-quickstart"], ["--validate"]]


def test_browser_wizard_cancelled_is_needs_config(setup_env, fake_massgen):
    proc, base = _start_wizard(setup_env, fake_massgen)
    try:
        _post(base, "/api/quickstart/cancel", {})
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == ExitCode.ENV_NOT_READY
    said = lines_of(out)
    assert said["SETUP_STATUS"] == ["NEEDS_CONFIG"] and "cancelled" in said["REASON"][0]

"""Before launch: port reservations, the port-busy outcome, pre-flight checks a dry run shares with the real
run, the typed request, bounded reads of criteria files and of MASSGEN_BIN, and facts kept in one place."""

from __future__ import annotations

import ast
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from runtools import free_port, wait_for

from massgen_skill.cli import main
from massgen_skill.exitcodes import EXIT_CODE_HELP, ExitCode, SkillError
from massgen_skill.massgen import program
from massgen_skill.prepare import ports
from massgen_skill.prepare.argv import JobFlags
from massgen_skill.prepare.plan import plan_run
from massgen_skill.prepare.request import RunRequest
from massgen_skill.run import records
from massgen_skill.run.outcome import RESULT_WORDS, Evidence, decide
from massgen_skill.setup import installer

ROOT = Path(__file__).resolve().parents[1]
RUN_SH = ROOT / "scripts" / "massgen_run.sh"
SKILL_SH = ROOT / "scripts" / "massgen_skill.sh"
BIND_ERROR = (  # uvicorn's line, as massgen's web server writes it to stderr
    "ERROR:    [Errno 98] error while attempting to bind on address ('127.0.0.1', {port}): "
    "address already in use"
)


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Private port reservations, and a default port that is free (8000 itself may be busy here)."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setattr(ports, "DEFAULT_WEB_PORT", free_port())
    return ports.reservations_dir()


@pytest.fixture
def ready(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runtime: Path) -> Path:
    """A project as cwd, a `massgen` on PATH that must never run, a user config in a private HOME."""
    project = tmp_path / "project"
    project.mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "massgen"
    script.write_text(f"#!/bin/sh\ntouch '{tmp_path / 'massgen-was-run'}'\n")
    script.chmod(0o755)
    config = tmp_path / "home" / ".config" / "massgen" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text("agents: []\n")
    monkeypatch.chdir(project)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in ("MASSGEN_BIN", "MASSGEN_SKILL_PYTHON"):
        monkeypatch.delenv(name, raising=False)
    return project


def dry_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main(["run", "--dry-run", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


# --- ports --------------------------------------------------------------------------------------------------


def test_a_reserved_port_is_not_given_again_until_released(runtime: Path) -> None:
    first = ports.choose(None, reserve=True)
    assert first.port == ports.DEFAULT_WEB_PORT and first.note is None and first.reservation is not None
    assert (runtime / f"port-{first.port}").is_file()
    second = ports.choose(None, reserve=True)
    assert second.port != first.port and second.note and str(second.port) in second.note
    assert ports.choose(None, reserve=False).port not in (first.port, second.port)  # a look sees both held
    first.reservation.release()
    assert not (runtime / f"port-{first.port}").exists()
    assert ports.choose(None, reserve=False).port == first.port
    assert second.reservation is not None
    second.reservation.release()


def test_a_port_held_by_another_process_is_never_given(runtime: Path) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", ports.DEFAULT_WEB_PORT))
        held.listen()
        for reserve in (False, True):
            choice = ports.choose(None, reserve=reserve)
            assert choice.port != ports.DEFAULT_WEB_PORT
            if choice.reservation:
                choice.reservation.release()
        with pytest.raises(SkillError) as caught:
            ports.choose(ports.DEFAULT_WEB_PORT, reserve=True)
    assert (
        caught.value.code == ExitCode.USAGE and f"--web-port {ports.DEFAULT_WEB_PORT}" in caught.value.message
    )


def test_a_dead_holders_reservation_is_ignored_and_cleaned(runtime: Path) -> None:
    runtime.mkdir(parents=True)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    stale = runtime / f"port-{ports.DEFAULT_WEB_PORT}"
    stale.write_text(f"{int(dead.stdout)} 1")
    garbage = runtime / "port-1234"
    garbage.write_text("not a holder")
    choice = ports.choose(None, reserve=True)
    assert choice.port == ports.DEFAULT_WEB_PORT and choice.reservation is not None
    assert (
        stale.read_text()
        == choice.reservation.holder
        == f"{os.getpid()} {records.process_start_time(os.getpid())}"
    )
    assert not garbage.exists()
    choice.reservation.release()


def test_another_runs_reservation_is_never_released_by_us(runtime: Path) -> None:
    choice = ports.choose(None, reserve=True)
    assert choice.reservation is not None
    path = choice.reservation.path
    path.write_text("1 1")  # now someone else's
    choice.reservation.release()
    assert path.read_text() == "1 1"


def test_a_reservation_folder_owned_by_someone_else_is_refused(runtime: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to give the folder away")
    for given_away in (runtime.parent, runtime):  # the per-user folder, then the ports folder in it
        runtime.mkdir(parents=True, exist_ok=True)
        os.chown(given_away, 65534, 65534)
        with pytest.raises(SkillError) as caught:
            ports.choose(None, reserve=True)
        assert caught.value.code == ExitCode.ENV_NOT_READY
        assert f"{given_away}: not a folder owned by this user" in caught.value.message
        os.chown(given_away, os.getuid(), os.getgid())


CHOOSER = """
import sys
from massgen_skill.prepare import ports
ports.DEFAULT_WEB_PORT = int(sys.argv[1])
print(ports.choose(None, reserve=True).port, flush=True)
sys.stdin.read()  # hold the reservation until the test closes stdin
"""


def test_concurrent_starts_get_different_ports(runtime: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CHOOSER, str(ports.DEFAULT_WEB_PORT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(6)
    ]
    try:
        chosen = [int(p.stdout.readline()) for p in procs if p.stdout]
    finally:
        for p in procs:
            if p.stdin:
                p.stdin.close()
            p.wait(timeout=30)
    assert len(chosen) == 6 and len(set(chosen)) == 6 and ports.DEFAULT_WEB_PORT in chosen
    assert ports.held_ports(runtime) == set()  # their holders are gone: nothing stays reserved


# --- the port-busy outcome ----------------------------------------------------------------------------------


def test_a_bind_failure_is_port_busy_naming_the_port() -> None:
    outcome = decide(Evidence(massgen_exit=3, saw_log_dir=False, stderr_tail=(BIND_ERROR.format(port=8123),)))
    assert outcome.code == ExitCode.PORT_BUSY == 17 and outcome.word == "port-busy"
    assert "8123" in outcome.reason and "timed out" not in outcome.reason
    from_record = decide(
        Evidence(massgen_exit=1, stderr_tail=("[Errno 98] address already in use",), web_port=9)
    )
    assert from_record.code == ExitCode.PORT_BUSY and "port 9" in from_record.reason
    assert decide(Evidence(massgen_exit=0, answer_exists=True, stderr_tail=(BIND_ERROR,))).code == ExitCode.OK
    stopped = Evidence(massgen_exit=-2, stopped_by_us=True, stderr_tail=(BIND_ERROR,))
    assert decide(stopped).code == ExitCode.STOPPED
    assert RESULT_WORDS[ExitCode.PORT_BUSY] == "port-busy"


def test_run_reports_port_busy_when_the_port_is_taken_before_massgen_binds(
    fake_massgen, project_dir: Path, tmp_path: Path
) -> None:
    env = fake_massgen.env(startup_delay=3)
    env["XDG_RUNTIME_DIR"] = str(tmp_path / "runtime")
    proc = subprocess.Popen(
        [str(RUN_SH), "--web", "What is 6 times 7?"],
        env=env,
        cwd=project_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    records = project_dir / ".massgen" / "skill_runs"
    try:
        record = wait_for(lambda: next(records.glob("*.json"), None), timeout=20, what="the run record")
        port = json.loads(record.read_text())["web_port"]
        with socket.socket() as thief:  # another program takes the port in massgen's ~15 s start-up
            thief.bind(("127.0.0.1", port))
            thief.listen()
            out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == ExitCode.PORT_BUSY
    assert "RESULT: port-busy" in out and f"port {port}" in out and "timed" not in out
    assert json.loads(record.read_text())["outcome"] == "port-busy"
    assert not list((tmp_path / "runtime").glob("*/ports/port-*"))  # the reservation ended with the run


# --- pre-flight: a dry run checks what the real run checks --------------------------------------------------


def test_dry_run_shows_the_port_it_would_really_use(ready: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", ports.DEFAULT_WEB_PORT))
        held.listen()
        code, data = dry_json(capsys, "task")
    assert code == 0 and data["web"] is True
    assert data["web_port"] != ports.DEFAULT_WEB_PORT
    assert data["argv"][data["argv"].index("--web-port") + 1] == str(data["web_port"])
    assert any(str(data["web_port"]) in note for note in data["notes"])
    assert not (ports.reservations_dir()).exists()  # a dry run reserves nothing


@pytest.mark.parametrize("dry", [True, False])
def test_a_missing_config_exits_5_dry_or_not(
    ready: Path, capsys: pytest.CaptureFixture[str], dry: bool
) -> None:
    args = ["run", *(["--dry-run"] if dry else []), "--config", "/nonexistent.yaml", "task"]
    assert main(args) == ExitCode.ENV_NOT_READY
    assert "--config '/nonexistent.yaml': no such file" in capsys.readouterr().err
    assert not (ready.parent / "massgen-was-run").exists()


@pytest.mark.parametrize("dry", [True, False])
def test_plan_and_execute_needs_uv_before_launch(
    ready: Path, capsys: pytest.CaptureFixture[str], dry: bool
) -> None:
    mode = ["--mode", "plan-and-execute", "--cwd-context", "rw"]  # confirmed: the uv check comes next
    args = ["run", *(["--dry-run"] if dry else []), *mode, "Plan and build a CLI"]
    assert main(args) == ExitCode.ENV_NOT_READY
    err = capsys.readouterr().err
    assert "needs uv on PATH" in err and "uv run massgen" in err
    assert not (ready.parent / "massgen-was-run").exists()
    uv = Path(os.environ["PATH"]) / "uv"
    uv.write_text("#!/bin/sh\nexit 0\n")
    uv.chmod(0o755)
    code, data = dry_json(capsys, "--mode", "plan-and-execute", "Plan and build a CLI")
    assert code == 0 and "--plan-and-execute" in data["argv"]


def test_no_massgen_exits_5_in_a_dry_run(ready: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (Path(os.environ["PATH"]) / "massgen").unlink()
    assert main(["run", "--dry-run", "task"]) == ExitCode.ENV_NOT_READY
    assert "massgen not found" in capsys.readouterr().err


# --- the typed request --------------------------------------------------------------------------------------


def test_the_core_takes_a_typed_request(ready: Path) -> None:
    plan = plan_run(RunRequest(task="Compare two designs", cwd=ready, dry_run=True, web=False))
    assert plan.command.web is False and plan.port is None
    assert plan.record.argv[0] == str(Path(os.environ["PATH"]) / "massgen")
    assert plan.command.args[-2:] == ("--", "Compare two designs")
    web = plan_run(RunRequest(task="Compare two designs", cwd=ready, dry_run=True))
    assert web.port is not None and web.port.reservation is None and web.command.web_port == web.port.port


@pytest.mark.parametrize(
    ("request_", "needle"),
    [
        (RunRequest(task="t", cwd=Path("."), target="latest"), "--target only applies"),
        (RunRequest(task="t", cwd=Path("."), job=JobFlags(timeout=0)), "--timeout: expected seconds > 0"),
        (RunRequest(task="t", cwd=Path("."), web_port=70000), "--web-port 70000: not a TCP port"),
    ],
)
def test_request_rules_are_one_line_usage_errors(request_: RunRequest, needle: str) -> None:
    with pytest.raises(SkillError) as caught:
        request_.check()
    assert caught.value.code == ExitCode.USAGE and needle in caught.value.message


def test_a_real_run_records_its_reserved_port_and_the_output_file(
    fake_massgen, project_dir, tmp_path
) -> None:
    env = fake_massgen.env()
    env["XDG_RUNTIME_DIR"] = str(tmp_path / "runtime")
    out_file = tmp_path / "answer copy.md"
    done = subprocess.run(
        [str(RUN_SH), "--no-web", "--output-file", str(out_file), "What is 6 times 7?"],
        env=env,
        cwd=project_dir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert f"OUTPUT_FILE: {out_file}" in done.stdout
    argv = fake_massgen.read_argv_log()[-1]["argv"]
    assert argv[argv.index("--output-file") + 1] == str(out_file)


# --- bounded reads ------------------------------------------------------------------------------------------


def _fifo(tmp_path: Path) -> Path:
    fifo = tmp_path / "criteria.json"
    os.mkfifo(fifo)
    return fifo


@pytest.mark.parametrize(
    "args",
    [
        ["criteria", "check", "{f}"],
        ["criteria", "translate", "{f}"],
        ["run", "--dry-run", "--criteria", "{f}", "Review src/"],
    ],
)
@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_criteria_file_that_is_not_regular_is_refused_at_once(
    ready: Path, tmp_path: Path, args: list[str], kind: str
) -> None:
    target = _fifo(tmp_path) if kind == "fifo" else Path("/dev/zero")
    argv = [a.replace("{f}", str(target)) for a in args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "massgen_skill", *argv], env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == ExitCode.INVALID_INPUT, done.stderr
    assert "not a regular file" in done.stderr and "Traceback" not in done.stderr
    assert time.monotonic() - started < 20


def test_a_real_run_refuses_a_fifo_criteria_file(ready: Path, tmp_path: Path, capsys) -> None:
    fifo = _fifo(tmp_path)
    assert main(["run", "--criteria", str(fifo), "Review src/"]) == ExitCode.INVALID_INPUT
    assert "not a regular file" in capsys.readouterr().err
    assert not (ready.parent / "massgen-was-run").exists()


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_massgen_bin_that_is_not_a_file_never_hangs_the_entry_script(tmp_path: Path, kind: str) -> None:
    target = _fifo(tmp_path) if kind == "fifo" else Path("/dev/zero")
    env = {k: v for k, v in os.environ.items() if k != "MASSGEN_SKILL_PYTHON"}
    env["MASSGEN_BIN"] = str(target)
    done = subprocess.run(
        [str(SKILL_SH), "criteria", "presets"], env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert "evaluation" in done.stdout
    with pytest.raises(SkillError) as caught:  # the Python lookup refuses it as well, without reading it
        program.find_massgen({"MASSGEN_BIN": str(target), "PATH": ""}, tmp_path)
    assert caught.value.code == ExitCode.ENV_NOT_READY


def test_a_fifo_named_massgen_on_path_is_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "massgen"
    os.mkfifo(fifo)
    fifo.chmod(0o755)
    found = program.find_massgen({"PATH": str(tmp_path)}, tmp_path)  # returns: the shebang is not read
    assert found.interpreter is None


# --- facts in one place -------------------------------------------------------------------------------------


def test_setup_py_bundles_what_the_installer_installs() -> None:
    tree = ast.parse((ROOT / "setup.py").read_text())
    values = [
        ast.literal_eval(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(getattr(t, "id", None) == "BUNDLE_ITEMS" for t in node.targets)
    ]
    assert values == [tuple(installer.BUNDLE_ITEMS)]


def test_the_readme_lists_every_exit_code() -> None:
    readme = (ROOT / "README.md").read_text()
    listed = {int(n) for n in re.findall(r"^\| (\d+) \|", readme, re.MULTILINE)}
    assert listed == {int(code) for code in EXIT_CODE_HELP}
    assert set(EXIT_CODE_HELP) == set(ExitCode)


def test_run_help_names_every_result_word(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--help"]) == 0
    out = capsys.readouterr().out
    assert f"RESULT: {'|'.join(RESULT_WORDS.values())}" in out
    assert "port-busy" in out


def test_a_refused_run_writes_nothing_even_with_criteria(
    ready: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = [{"text": "States the product as one number.", "category": "primary"}]
    (ready / "criteria.json").write_text(json.dumps(good))
    args = ["run", "--web", "--quick", "--criteria", "criteria.json", "Compare two designs"]
    assert main(args) == ExitCode.USAGE
    assert "--web cannot be combined with --quick" in capsys.readouterr().err
    assert sorted(p.name for p in ready.iterdir()) == ["criteria.json"]
    assert not ports.reservations_dir().exists()


@pytest.mark.parametrize("flag", ["--criteria", "--output-file", "--config"])
def test_an_empty_file_name_is_a_usage_error(
    ready: Path, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    assert main(["run", "--dry-run", flag, "", "task"]) == ExitCode.USAGE
    assert f"{flag}: expected a file name, got an empty string" in capsys.readouterr().err

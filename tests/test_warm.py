"""Warm start without the real massgen: the fingerprint and fallback rules, and the whole fork path with a
stand-in massgen install (a venv whose `massgen.cli.cli_main` is the fake massgen's entry point).

The real massgen's warm runs are in tests/integration/test_warm.py.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml
from runtools import group_alive, relayed, run_skill, skill, wait_for
from test_truth import start_hanging

from massgen_skill.exitcodes import ExitCode
from massgen_skill.massgen.inspection import validate_config
from massgen_skill.massgen.program import find_massgen
from massgen_skill.run.launcher import WARM
from massgen_skill.run.records import STATE_DIR_ENV
from massgen_skill.warm import control, paths, server
from massgen_skill.warm.use import KEEP_FILE

TESTS_DIR = Path(__file__).resolve().parent

# Like massgen's: importing massgen.cli loads .env files into os.environ (here: an import-time variable).
STANDIN_CLI = f"""\
import sys
sys.path.insert(0, {str(TESTS_DIR)!r})
from fake_massgen.main import main as cli_main
from massgen.cli.env import load_env_file
load_env_file()
"""
STANDIN_ENV = """\
import os
def load_env_file():
    os.environ["MASSGEN_FROM_DOTENV"] = "1"
"""
STANDIN_SCRIPT = """\
#!{python}
import sys
from massgen.cli import cli_main
sys.exit(cli_main())
"""


# --- the fingerprint and the folder ---------------------------------------------------------------------
def test_import_time_env_picks_the_listed_variables_and_hides_values():
    env = {
        "LITELLM_LOG": "DEBUG",
        "MASSGEN_LOG_BASE_DIR": "/x",
        "HTTPS_PROXY": "http://user:secret@proxy:3128",
        "MASSGEN_SKILL_RUN": "run-1",  # ours, per run
        "OPENAI_API_KEY": "sk-secret",  # read per call
        "PATH": "/bin",
    }
    picked = server.import_time_env(env)
    assert sorted(picked) == ["HTTPS_PROXY", "LITELLM_LOG", "MASSGEN_LOG_BASE_DIR"]
    assert "secret" not in json.dumps(picked) and "DEBUG" not in json.dumps(picked)


def test_differences_name_the_parts_never_the_values(tmp_path):
    script = tmp_path / "bin" / "massgen"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    mine = server.fingerprint(str(script), sys.executable, {"LITELLM_LOG": "ERROR", "HOME": "/h"})
    theirs = server.fingerprint(str(script), sys.executable, {"LITELLM_LOG": "DEBUG", "HOME": "/h"})
    assert server.differences(mine, mine) == []
    assert server.differences(mine, theirs) == ["env:LITELLM_LOG"]
    assert server.differences(mine, {**mine, "netns": -1}) == ["netns"]
    script.write_text("#!/bin/sh\n# upgraded\n")
    assert "files" in server.differences(mine, server.fingerprint(str(script), sys.executable, {}))


def test_folder_must_be_private_and_ours(tmp_path):
    folder = tmp_path / "w"
    assert paths.make_private(folder) is None
    assert os.stat(folder).st_mode & 0o777 == 0o700
    folder.chmod(0o755)
    assert "open to other users" in (paths.unsafe(folder) or "")
    link = tmp_path / "link"
    link.symlink_to(folder)
    assert "not a folder owned" in (paths.unsafe(link) or "")
    assert paths.switched_off({paths.WARM_OFF_ENV: "0"}) and not paths.switched_off({})


def test_messages_carry_file_descriptors():
    left, right = socket.socketpair()
    read_end, write_end = os.pipe()
    with left, right:
        server.send_message(left, {"op": "x", "big": "y" * 200_000}, [write_end])
        message, fds = server.recv_message(right, max_fds=3)
    assert message["op"] == "x" and len(message["big"]) == 200_000 and len(fds) == 1
    os.write(fds[0], b"through")
    assert os.read(read_end, 16) == b"through"
    for fd in (read_end, write_end, *fds):
        os.close(fd)


# --- the fork path, with a stand-in massgen install --------------------------------------------------------
@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv holding a `massgen` package whose cli_main is the fake massgen; returns its bin/massgen."""
    venv = tmp_path_factory.mktemp("standin") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = next(venv.glob("lib/python3*/site-packages"))
    (site / "massgen" / "cli").mkdir(parents=True)
    (site / "massgen" / "__init__.py").write_text("")
    (site / "massgen" / "cli" / "__init__.py").write_text(STANDIN_CLI)
    (site / "massgen" / "cli" / "env.py").write_text(STANDIN_ENV)
    # massgen depends on pyyaml, jsonschema and requests, so its Python (which runs our wrapper) has them: so
    # does the stand-in's, through the test venv's site-packages.
    (site / "massgen_runtime_deps.pth").write_text(str(Path(yaml.__file__).resolve().parents[1]) + "\n")
    script = venv / "bin" / "massgen"
    script.write_text(STANDIN_SCRIPT.format(python=venv / "bin" / "python"))
    script.chmod(0o755)
    return script


@pytest.fixture
def warm_env(fake_massgen, standin: Path, tmp_path: Path) -> dict[str, str]:
    env = fake_massgen.env()
    env["MASSGEN_BIN"] = str(standin)
    env[paths.WARM_DIR_ENV] = str(tmp_path / "w")
    return env


@pytest.fixture
def warm_server(warm_env: dict[str, str], project_dir: Path):
    started = skill(["warm", "start", "--json", "--timeout", "60"], warm_env, project_dir, timeout=90)
    assert started.returncode == 0, started.stdout + started.stderr
    state = json.loads(started.stdout)
    assert state["running"] and state["usable"]
    yield state
    stopped = skill(["warm", "stop", "--json"], warm_env, project_dir)
    assert stopped.returncode == 0, stopped.stderr
    assert not _alive(state["pid"])


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] not in "ZX"


def _record(project: Path, run_id: str) -> dict:
    return json.loads((project / ".massgen" / "skill_runs" / f"{run_id}.json").read_text())


def _layout(answer: str, log_dir: str) -> tuple[str, ...]:
    return Path(answer).relative_to(log_dir).parts


def test_warm_run_gives_what_a_cold_one_gives(warm_env, warm_server, project_dir, fake_massgen):
    warm = run_skill(["--no-web", "What is 6 times 7?"], warm_env, project_dir)
    cold = run_skill(["--no-web", "What is 6 times 7?"], {**warm_env, paths.WARM_OFF_ENV: "0"}, project_dir)
    assert warm.returncode == cold.returncode == 0, warm.stderr + cold.stderr
    keys = [[line.partition(": ")[0] for line in r.stdout.splitlines()] for r in (warm, cold)]
    assert keys[0] == keys[1] == ["RUN_ID", "LOG_DIR", "STATUS", "ANSWER", "RESULT"]
    lines = [relayed(r.stdout) for r in (warm, cold)]
    layouts = [_layout(x["ANSWER"][0], x["LOG_DIR"][0]) for x in lines]
    assert layouts[0] == layouts[1]
    answers = [Path(x["ANSWER"][0]).read_text() for x in lines]
    assert answers[0] == answers[1]
    records = [_record(project_dir, x["RUN_ID"][0]) for x in lines]
    assert records[0]["launch"] == WARM and records[1]["launch"] == "cold"
    assert records[0]["massgen_exit"] == records[1]["massgen_exit"] == 0
    calls = fake_massgen.read_argv_log()
    argvs = [[a.replace(r["run_id"], "RUN") for a in c["argv"]] for c, r in zip(calls, records, strict=True)]
    assert argvs[0] == argvs[1] and calls[0]["cwd"] == calls[1]["cwd"]
    assert calls[0]["pgid"] == calls[0]["pid"]  # a session of its own, as cold
    assert calls[0]["sigint_ignored"] is calls[1]["sigint_ignored"] is False


def test_warm_exit_codes_and_crashes_are_massgens_own(warm_env, warm_server, project_dir):
    crash = run_skill(["--no-web", "task"], {**warm_env, "FAKE_MASSGEN_SCENARIO": "crash"}, project_dir)
    assert crash.returncode == ExitCode.CRASHED, crash.stdout + crash.stderr
    record = _record(project_dir, relayed(crash.stdout)["RUN_ID"][0])
    assert record["launch"] == WARM and record["massgen_exit"] not in (0, None)


def test_a_killed_warm_massgen_is_a_crash_named_by_its_signal(warm_env, warm_server, project_dir):
    proc, record = start_hanging(warm_env, project_dir)
    assert record["launch"] == WARM
    os.kill(record["pid"], signal.SIGKILL)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == ExitCode.CRASHED, out + err
    assert "killed by SIGKILL" in relayed(out)["REASON"][0]


def test_stop_and_signals_reach_a_warm_run_as_a_cold_one(warm_env, warm_server, project_dir):
    proc, record = start_hanging(warm_env, project_dir)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == ExitCode.STOPPED, out + err
    assert not group_alive(record["pgid"])


def test_killing_the_wrapper_ends_the_warm_massgen(warm_env, warm_server, project_dir):
    proc, record = start_hanging(warm_env, project_dir)
    os.kill(record["wrapper_pid"], signal.SIGKILL)
    proc.communicate(timeout=10)
    wait_for(lambda: not _alive(record["pid"]), timeout=15, what="the warm massgen's end (lifeline)")


# --- fallbacks: always cold, with the reason ----------------------------------------------------------------
def _launch_note(env: dict[str, str], project: Path) -> str:
    done = run_skill(["--no-web", "task"], env, project)
    assert done.returncode == 0, done.stdout + done.stderr
    return str(_record(project, relayed(done.stdout)["RUN_ID"][0])["launch"])


def test_no_server_runs_cold_with_the_reason(warm_env, project_dir):
    assert _launch_note(warm_env, project_dir).startswith("cold: ")


def test_a_dead_socket_runs_cold_with_the_reason(warm_env, project_dir, standin):
    folder = Path(warm_env[paths.WARM_DIR_ENV])
    assert paths.make_private(folder) is None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(paths.socket_path(folder, str(standin))))  # bound, never listening: refused
    assert _launch_note(warm_env, project_dir).startswith("cold: warm server did not answer")


def test_a_changed_environment_runs_cold_and_status_says_why(warm_env, warm_server, project_dir):
    changed = {**warm_env, "LITELLM_LOG": "DEBUG"}
    note = _launch_note(changed, project_dir)
    assert note.startswith("cold: warm server refused: differs: env:LITELLM_LOG") and "DEBUG" not in note
    shown = json.loads(skill(["status", "--json"], changed, project_dir).stdout)
    assert shown["launch"] == note
    status = skill(["warm", "status", "--json"], changed, project_dir)
    assert status.returncode == ExitCode.REFUSED, status.stdout
    assert json.loads(status.stdout)["differs"] == ["env:LITELLM_LOG"]


def test_status_without_a_server_is_not_found(warm_env, project_dir):
    status = skill(["warm", "status", "--json"], warm_env, project_dir)
    assert status.returncode == ExitCode.NOT_FOUND
    assert json.loads(status.stdout)["running"] is False


def test_run_warm_starts_a_server_for_the_next_runs(warm_env, project_dir):
    first = run_skill(["--no-web", "--warm", "task"], warm_env, project_dir)
    assert first.returncode == 0, first.stderr
    state = wait_for(
        lambda: json.loads(skill(["warm", "status", "--json"], warm_env, project_dir).stdout)["running"],
        timeout=60,
        what="the server started by run --warm",
    )
    assert state
    assert _launch_note(warm_env, project_dir) == WARM
    stopped = skill(["warm", "stop", "--json"], warm_env, project_dir)
    assert stopped.returncode == 0


def test_validate_goes_through_the_warm_server(warm_env, warm_server, project_dir):
    program = find_massgen(warm_env)
    config = str(project_dir / ".massgen" / "config.yaml")
    checked = validate_config(program, config, project_dir, env=warm_env)
    cold = validate_config(program, config, project_dir, env={**warm_env, paths.WARM_OFF_ENV: "0"})
    assert checked.problem is None and checked.valid is not None
    assert (checked.valid, checked.errors, checked.warnings) == (cold.valid, cold.errors, cold.warnings)
    after = json.loads(skill(["warm", "status", "--json"], warm_env, project_dir).stdout)
    assert after["runs"] == warm_server["runs"] + 1


def test_install_warm_keeps_a_server_until_warm_stop(warm_env, project_dir, tmp_path):
    done = skill(["install", "--dest", str(tmp_path / "skills"), "--warm", "--json"], warm_env, project_dir)
    assert done.returncode == 0, done.stderr
    warm = json.loads(done.stdout)["warm"]
    assert warm["kept"] is True and warm["started"] is True
    keep = Path(warm_env[STATE_DIR_ENV]) / KEEP_FILE
    assert keep.is_file()
    wait_for(
        lambda: json.loads(skill(["warm", "status", "--json"], warm_env, project_dir).stdout)["running"],
        timeout=60,
        what="the server started by install --warm",
    )
    pid = json.loads(skill(["warm", "status", "--json"], warm_env, project_dir).stdout)["pid"]
    stopped = skill(["warm", "stop", "--json"], warm_env, project_dir)
    assert stopped.returncode == 0 and not keep.exists() and not _alive(pid)


def test_a_project_env_file_with_import_time_variables_runs_cold(warm_env, warm_server, project_dir):
    (project_dir / "configs").mkdir()
    (project_dir / "configs" / ".env").write_text("OPENAI_API_KEY=x\nexport LITELLM_LOG=DEBUG\n")
    note = _launch_note(warm_env, project_dir)
    assert note == "cold: configs/.env sets import-time variables: LITELLM_LOG", note


def test_dry_run_json_says_how_the_run_would_start(warm_env, project_dir):
    def launch() -> str:
        done = run_skill(["--dry-run", "--json", "--no-web", "task"], warm_env, project_dir)
        assert done.returncode == 0, done.stderr
        return str(json.loads(done.stdout)["launch"])

    assert launch().startswith("cold: ")
    started = skill(["warm", "start", "--json", "--timeout", "60"], warm_env, project_dir, timeout=90)
    assert started.returncode == 0, started.stderr
    try:
        assert launch() == WARM
    finally:
        skill(["warm", "stop"], warm_env, project_dir)


def test_a_second_server_leaves_the_running_one_alone(warm_env, warm_server, project_dir):
    program = find_massgen(warm_env)
    second = control.spawn(program, warm_env, 60.0, 1024)
    wait_for(lambda: not _alive(second), timeout=60, what="the second server's exit")
    state = json.loads(skill(["warm", "status", "--json"], warm_env, project_dir).stdout)
    assert state["running"] and state["pid"] == warm_server["pid"]


def test_a_detached_run_is_warm_too(warm_env, warm_server, project_dir):
    started = run_skill(["--detach", "--no-web", "task"], warm_env, project_dir)
    assert started.returncode == 0, started.stderr
    run_id = relayed(started.stdout)["RUN_ID"][0]
    waited = skill(["wait", run_id, "--timeout", "30"], warm_env, project_dir, timeout=60)
    assert waited.returncode == 0, waited.stdout + waited.stderr
    assert _record(project_dir, run_id)["launch"] == WARM


def test_a_bad_answer_runs_cold_with_the_reason(warm_env, project_dir, standin):
    folder = Path(warm_env[paths.WARM_DIR_ENV])
    assert paths.make_private(folder) is None
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(paths.socket_path(folder, str(standin))))
    listener.listen(1)
    listener.settimeout(30)

    def answer_without_a_pid() -> None:
        conn, _ = listener.accept()
        with conn:
            _, fds = server.recv_message(conn, max_fds=3)
            for fd in fds:
                os.close(fd)
            server.send_message(conn, {"ok": True})

    helper = threading.Thread(target=answer_without_a_pid, daemon=True)
    helper.start()
    try:
        assert _launch_note(warm_env, project_dir).startswith("cold: warm server gave a bad answer")
    finally:
        helper.join(timeout=10)
        listener.close()

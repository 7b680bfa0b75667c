"""`massgen-skill steer`: message files exactly as contract §14 says, and the refusals."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from runtools import ROOT, wait_for

from massgen_skill.cli import main
from massgen_skill.exitcodes import ExitCode
from massgen_skill.follow.steering import SOURCE, WHEN_READ, unread_messages, write_message
from massgen_skill.run import records

NAME = re.compile(r"^msg_(\d{13})_(\d+)_(\d{4})\.json$")


def make_run(
    project: Path, *, state: str = records.RUNNING, web: bool = False, alive: bool = True, **extra: object
) -> records.RunRecord:
    record = records.RunRecord(records.new_run_id(), str(project), time.time())
    record.state = state
    record.web = web
    record.wrapper_pid = os.getpid()
    start = records.process_start_time(os.getpid())
    record.wrapper_start = start if alive else (start or 0) + 12345
    record.inbox_dir = None if web else str(record.run_dir / "inbox")
    for key, value in extra.items():
        setattr(record, key, value)
    record.run_dir.mkdir(parents=True, exist_ok=True)
    records.save(record)
    return record


def inbox_files(record) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(os.listdir(record.inbox_dir)) if os.path.isdir(record.inbox_dir) else []


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


# --- the message file -------------------------------------------------------------------------------------


def test_message_file_has_the_contract_name_and_shape(project, capsys):
    record = make_run(project)
    assert main(["steer", "Focus on error handling"]) == 0
    out = capsys.readouterr().out
    names = inbox_files(record)
    assert len(names) == 1
    match = NAME.match(names[0])
    assert match and int(match.group(2)) == os.getpid()
    assert abs(int(match.group(1)) / 1000 - time.time()) < 60
    payload = json.loads((Path(record.inbox_dir) / names[0]).read_text(encoding="utf-8"))
    assert payload == {"content": "Focus on error handling", "source": "massgen-skill"}
    assert "all agents" in out and names[0] in out


def test_targeted_message_and_json_output(project, capsys):
    record = make_run(project)
    code = main(["steer", record.run_id, "Add tests", "--agent", "agent_b", "--agent", "agent_c", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["ok"] and data["run_id"] == record.run_id
    assert data["target_agents"] == ["agent_b", "agent_c"]
    payload = json.loads(Path(data["file"]).read_text())
    assert payload == {"content": "Add tests", "source": SOURCE, "target_agents": ["agent_b", "agent_c"]}
    assert Path(data["file"]).parent == Path(record.inbox_dir)


def test_names_sort_in_write_order_and_no_temp_files_are_left(project, capsys):
    record = make_run(project)
    sent = []
    for i in range(25):
        assert main(["steer", f"message {i}", "--json"]) == 0
        sent.append(Path(json.loads(capsys.readouterr().out)["file"]).name)
    assert sorted(sent) == sent and len(set(sent)) == 25
    assert inbox_files(record) == sent  # nothing else: no temp files
    contents = [json.loads((Path(record.inbox_dir) / n).read_text())["content"] for n in sorted(sent)]
    assert contents == [f"message {i}" for i in range(25)]


def test_order_holds_across_processes_and_a_clock_that_steps_back(project):
    inbox = project / "run" / "inbox"
    first = write_message(inbox, "one", now=2_000_000_000.0)
    second = write_message(inbox, "two", now=1_000_000_000.0)  # clock stepped back
    script = (
        "import sys; from pathlib import Path; from massgen_skill.follow.steering import write_message; "
        "print(write_message(Path(sys.argv[1]), 'three', now=1.0).path.name)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    third = subprocess.run(
        [sys.executable, "-c", script, str(inbox)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=True,
    ).stdout.strip()
    names = [first.path.name, second.path.name, third]
    assert sorted(names) == names and len(set(names)) == 3
    assert NAME.match(third) and int(NAME.match(third).group(2)) != os.getpid()
    assert sorted(p.name for p in inbox.iterdir()) == names


def test_message_text_is_kept_exactly(project, capsys):
    record = make_run(project)
    text = 'Line one\n"quoted" — ünïcode\n  STATUS: not a marker'
    assert main(["steer", text]) == 0
    (name,) = inbox_files(record)
    assert json.loads((Path(record.inbox_dir) / name).read_text(encoding="utf-8"))["content"] == text


# --- refusals ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [records.FINISHED, records.STOPPED])
def test_ended_runs_are_refused(project, capsys, state):
    record = make_run(project, state=state)
    assert main(["steer", "hello"]) == ExitCode.REFUSED
    assert f"is {state}" in capsys.readouterr().err and inbox_files(record) == []


def test_lost_run_is_refused(project, capsys):
    record = make_run(project, alive=False)
    assert main(["steer", record.run_id, "hello"]) == ExitCode.REFUSED
    assert "is lost" in capsys.readouterr().err and inbox_files(record) == []


def test_web_run_is_refused(project, capsys):
    make_run(project, web=True, web_port=8123)
    assert main(["steer", "hello"]) == ExitCode.REFUSED
    assert "web UI" in capsys.readouterr().err
    assert not list(project.rglob("msg_*.json"))


def test_run_without_inbox_is_refused(project, capsys):
    make_run(project, inbox_dir=None)
    assert main(["steer", "hello"]) == ExitCode.REFUSED


@pytest.mark.parametrize("message", ["", "   ", "\n\t"])
def test_empty_message_is_a_usage_error(project, capsys, message):
    record = make_run(project)
    assert main(["steer", message]) == ExitCode.USAGE
    assert inbox_files(record) == []
    with pytest.raises(ValueError):
        write_message(Path(record.inbox_dir), message)


def test_other_usage_errors(project, capsys):
    make_run(project)
    assert main(["steer", "a", "b", "c"]) == ExitCode.USAGE
    assert main(["steer", "hello", "--agent", " "]) == ExitCode.USAGE
    assert main(["steer"]) == ExitCode.USAGE
    assert main(["steer", "no-such-run", "hello"]) == ExitCode.NOT_FOUND


def test_no_runs_at_all(project, capsys):
    assert main(["steer", "hello"]) == ExitCode.NOT_FOUND


def test_agent_ids_are_checked_against_the_runs_status(project, capsys):
    log_dir = project / ".massgen" / "massgen_logs" / "log_20261125_101500_000001"
    attempt = log_dir / "turn_1" / "attempt_1"
    attempt.mkdir(parents=True)
    status = {"agents": {"agent_a": {"status": "working"}, "agent_b": {"status": "working"}}}
    (attempt / "status.json").write_text(json.dumps(status))
    record = make_run(project, log_dir=str(log_dir))
    assert main(["steer", "hi", "--agent", "agent_z"]) == ExitCode.USAGE
    assert "agents: agent_a, agent_b" in capsys.readouterr().err and inbox_files(record) == []
    assert main(["steer", "hi", "--agent", "agent_b"]) == 0


def test_unknown_agent_ids_only_warn_before_the_status_exists(project, capsys):
    record = make_run(project)
    assert main(["steer", "hi", "--agent", "agent_z"]) == 0
    assert "not checked" in capsys.readouterr().err and len(inbox_files(record)) == 1


# --- end to end: a running CLI-mode team reads it ----------------------------------------------------------


def test_a_running_fake_team_receives_the_message(fake_massgen, project_dir):
    env = fake_massgen.env(scenario="hang")
    proc = subprocess.Popen(
        [str(ROOT / "scripts" / "massgen_run.sh"), "--no-web", "Think about caching"],
        cwd=project_dir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:

        def running() -> records.RunRecord | None:
            found = records.list_records(project_dir)
            return found[-1] if found and found[-1].log_dir and found[-1].state == records.RUNNING else None

        record = wait_for(running, 30, "the run to reach `running`")
        steer = subprocess.run(
            [
                str(ROOT / "scripts" / "massgen_skill.sh"),
                "steer",
                "Prefer an LRU cache",
                "--agent",
                "agent_a",
            ],
            cwd=project_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert steer.returncode == 0, steer.stderr

        def injected_log() -> str | None:
            text = "".join(p.read_text() for p in Path(record.log_dir).rglob("massgen.log"))
            return text if "Injected" in text else None

        injected = wait_for(injected_log, 20, "massgen.log to show the injected message")
        assert "Injected msg_" in injected and "targets=['agent_a']: Prefer an LRU cache" in injected
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=30)
    assert main(["steer", "--project", str(project_dir), "too late"]) == ExitCode.REFUSED


# --- unread messages ----------------------------------------------------------------------------------


def test_steer_warns_up_front_when_massgen_reads_the_inbox(project, capsys):
    make_run(project)
    assert main(["steer", "first"]) == 0
    err = capsys.readouterr().err
    assert WHEN_READ in err and "only answers and votes never reads it" in err and "still unread" not in err
    assert main(["steer", "second"]) == 0
    assert "(1 earlier message(s) still unread)" in capsys.readouterr().err


def test_unread_messages_lists_what_massgen_has_not_taken(project):
    record = make_run(project)
    assert unread_messages(record).count == 0 and unread_messages(record).note() is None
    first = write_message(Path(record.inbox_dir), "Focus on\nthe errors")
    write_message(Path(record.inbox_dir), "Add tests")
    (Path(record.inbox_dir) / "msg_not_json.json").write_text("[1, 2", encoding="utf-8")
    os.mkfifo(Path(record.inbox_dir) / "msg_9999999999999_1_0000.json")  # never opened: not a regular file
    unread = unread_messages(record)
    assert unread.count == 3 and not unread.ended
    assert [m.preview for m in unread.messages] == ["Focus on the errors", "Add tests", "[1, 2"]
    assert unread.messages[0].path == first.path and unread.messages[0].sent_at is not None
    assert "waiting in the inbox" in (unread.note() or "")
    first.path.unlink()  # massgen read it
    record.state = records.FINISHED
    records.save(record)
    ended = unread_messages(record)
    assert ended.count == 2 and ended.ended and "never read by the team" in (ended.note() or "")


def test_status_and_result_report_a_message_never_read(project, capsys):
    root = project / ".massgen" / "massgen_logs" / "log_20261125_101500_123456"
    (root / "turn_1" / "attempt_1").mkdir(parents=True)
    record = make_run(project, log_dir=str(root))
    write_message(Path(record.inbox_dir), "Use the cache")
    record.state, record.outcome, record.exit_code = records.FINISHED, "ok", 0
    records.save(record)
    assert main(["status"]) == 0
    text = capsys.readouterr().out
    assert "  steering: 1 steering message(s) never read by the team" in text
    assert main(["status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["unread_steering"]["count"] == 1
    main(["result", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert data["unread_steering"]["count"] == 1 and data["unread_steering"]["ended"] is True
    assert data["unread_steering"]["messages"][0]["preview"] == "Use the cache"
    main(["result"])
    assert any(
        line.startswith("STEERING: 1 steering message(s) never read")
        for line in capsys.readouterr().out.splitlines()
    )

"""records: atomic save/load, damaged records in one line, resolving a run reference, liveness, pid reuse."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.run import records
from massgen_skill.run.records import RunRecord

linux_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")


def make(project: Path, run_id: str, created: float, **fields: object) -> RunRecord:
    record = RunRecord(run_id, str(project), created, **fields)  # type: ignore[arg-type]
    records.save(record)
    return record


def test_round_trip_every_field(tmp_path: Path) -> None:
    record = RunRecord(
        run_id="20250101-120000-abcdef",
        project_dir=str(tmp_path),
        created_at=1735732800.25,
        argv=["massgen", "--automation", "--", 'tâche «quotes» "x" $(id)\nline 2', "lone \udcff byte"],
        mode="evaluate",
        cwd_context="rw",
        web=True,
        web_port=57907,
        review_gate=True,
        state=records.REVIEW_PENDING,
        wrapper_pid=123,
        wrapper_start=456,
        pid=789,
        pgid=789,
        pid_start=999,
        log_dir=f"{tmp_path}/.massgen/massgen_logs/log_1",
        attempt_dir=f"{tmp_path}/.massgen/massgen_logs/log_1/turn_1/attempt_1",
        status_path=f"{tmp_path}/.massgen/massgen_logs/log_1/turn_1/attempt_1/status.json",
        answer_path=f"{tmp_path}/.massgen/massgen_logs/log_1/turn_1/final/agent_a/answer.txt",
        workspace_path=f"{tmp_path}/.massgen/massgen_logs/log_1/turn_1/final/agent_a/workspace",
        final_dir=f"{tmp_path}/.massgen/massgen_logs/log_1/turn_1/final",
        output_file="/p/out.md",
        winner="agent_a",
        plan_dir=f"{tmp_path}/.massgen/plans/plan_1",
        plan_id="1",
        spec_dir=f"{tmp_path}/.massgen/plans/plan_2",
        spec_id="2",
        inbox_dir=f"{tmp_path}/.massgen/skill_runs/20250101-120000-abcdef/inbox",
        criteria_file=f"{tmp_path}/.massgen/skill_runs/20250101-120000-abcdef/c.json",
        stdout_log=f"{tmp_path}/.massgen/skill_runs/20250101-120000-abcdef/o.log",
        stderr_log=f"{tmp_path}/.massgen/skill_runs/20250101-120000-abcdef/e.log",
        outcome="ok",
        exit_code=0,
        massgen_exit=-15,
        reason="because",
        reviews=[{"opened_at": 1.5, "files": ["a.py"], "approved": True}],
        changed_files=["a.py", "dir with space/b.py"],
        ended_at=1735732900.0,
    )
    records.save(record)
    assert record.path == tmp_path / ".massgen" / "skill_runs" / "20250101-120000-abcdef.json"
    assert records.load(record.path) == record
    json.loads(record.path.read_text(encoding="ascii"))  # ASCII on disk: any string round-trips


def test_save_leaves_no_temp_files_and_replaces(tmp_path: Path) -> None:
    record = make(tmp_path, "r1", 1.0)
    record.state = records.FINISHED
    records.save(record)
    folder = record.path.parent
    assert sorted(p.name for p in folder.iterdir()) == ["r1.json"]
    assert records.load(record.path).state == records.FINISHED


def test_failed_save_keeps_the_old_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = make(tmp_path, "r1", 1.0, state=records.RUNNING)
    before = record.path.read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(records.os, "replace", broken_replace)
    record.state = records.FINISHED
    with pytest.raises(OSError):
        records.save(record)
    assert record.path.read_bytes() == before
    assert sorted(p.name for p in record.path.parent.iterdir()) == ["r1.json"]


def test_load_ignores_unknown_keys(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"run_id": "r", "project_dir": "/p", "created_at": 1, "from_the_future": 5}))
    assert records.load(path) == RunRecord("r", "/p", 1)


DAMAGED = [
    ("empty", b""),
    ("truncated", b'{"run_id": "r", "project_dir": "/p", "crea'),
    ("not-utf8", b'{"run_id": "\xff"}'),
    ("list", b"[1, 2]"),
    ("string", b'"run"'),
    ("no-run-id", b'{"project_dir": "/p", "created_at": 1}'),
    ("missing-fields", b'{"run_id": "r"}'),
    ("created-at-text", b'{"run_id": "r", "project_dir": "/p", "created_at": "yesterday"}'),
    ("created-at-null", b'{"run_id": "r", "project_dir": "/p", "created_at": null}'),
    ("run-id-number", b'{"run_id": 5, "project_dir": "/p", "created_at": 1}'),
    ("state-list", b'{"run_id": "r", "project_dir": "/p", "created_at": 1, "state": ["running"]}'),
    ("pid-text", b'{"run_id": "r", "project_dir": "/p", "created_at": 1, "wrapper_pid": "12"}'),
    ("pid-bool", b'{"run_id": "r", "project_dir": "/p", "created_at": 1, "pid": true}'),
    ("argv-text", b'{"run_id": "r", "project_dir": "/p", "created_at": 1, "argv": "massgen"}'),
    ("web-number", b'{"run_id": "r", "project_dir": "/p", "created_at": 1, "web": 1}'),
]


@pytest.mark.parametrize("content", [d[1] for d in DAMAGED], ids=[d[0] for d in DAMAGED])
def test_damaged_record_is_invalid_input_in_one_line(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(content)
    with pytest.raises(SkillError) as err:
        records.load(path)
    assert err.value.code == ExitCode.INVALID_INPUT
    assert "\n" not in err.value.message
    assert str(path) in err.value.message


def test_missing_record_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(SkillError) as err:
        records.load(tmp_path / "nope.json")
    assert err.value.code == ExitCode.NOT_FOUND


def test_list_records_skips_damaged_and_sorts_by_creation(tmp_path: Path) -> None:
    make(tmp_path, "b", 2.0)
    make(tmp_path, "a", 3.0)
    make(tmp_path, "c", 1.0)
    folder = tmp_path / records.RECORDS_DIR
    for name, content in DAMAGED:
        (folder / f"zz-{name}.json").write_bytes(content)
    assert [r.run_id for r in records.list_records(tmp_path)] == ["c", "b", "a"]
    assert records.list_records(tmp_path / "elsewhere") == []


# --- resolve_run --------------------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    make(tmp_path, "20250101-090000-aaa111", 100.0)
    make(tmp_path, "20250101-090000-aab222", 200.0)
    make(tmp_path, "20250102-100000-ccc333", 300.0)
    make(tmp_path, "20250102-100000-ccc333x", 50.0)  # an id that extends another one
    return tmp_path


@pytest.mark.parametrize(
    ("ref", "run_id"),
    [
        (None, "20250102-100000-ccc333"),
        ("", "20250102-100000-ccc333"),
        ("latest", "20250102-100000-ccc333"),
        ("20250101-090000-aab222", "20250101-090000-aab222"),
        ("20250101-090000-aab", "20250101-090000-aab222"),
        ("20250101-090000-aaa", "20250101-090000-aaa111"),
        ("20250102-100000-ccc333", "20250102-100000-ccc333"),  # exact match beats a longer id
        ("20250102-100000-ccc333x", "20250102-100000-ccc333x"),
    ],
)
def test_resolve_run(project: Path, ref: str | None, run_id: str) -> None:
    assert records.resolve_run(ref, project).run_id == run_id


@pytest.mark.parametrize("ref", ["20250101", "20250101-090000-aa", "2025"])
def test_resolve_run_ambiguous(project: Path, ref: str) -> None:
    with pytest.raises(SkillError) as err:
        records.resolve_run(ref, project)
    assert err.value.code == ExitCode.USAGE
    assert "ambiguous" in err.value.message and "20250101-090000-aaa111" in err.value.message


@pytest.mark.parametrize("ref", ["zzz", "20250103", "aaa111"])
def test_resolve_run_missing(project: Path, ref: str) -> None:
    with pytest.raises(SkillError) as err:
        records.resolve_run(ref, project)
    assert err.value.code == ExitCode.NOT_FOUND
    assert repr(ref) in err.value.message


def test_resolve_run_in_an_empty_project(tmp_path: Path) -> None:
    for ref in (None, "latest", "x"):
        with pytest.raises(SkillError) as err:
            records.resolve_run(ref, tmp_path)
        assert err.value.code == ExitCode.NOT_FOUND


def test_resolve_run_by_record_path(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    other = tmp_path_factory.mktemp("other")
    record = make(other, "elsewhere", 1.0)
    assert records.resolve_run(str(record.path), project).run_id == "elsewhere"


# --- liveness -----------------------------------------------------------------------------------------------


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@linux_proc
@pytest.mark.parametrize("state", sorted(records.ACTIVE_STATES))
def test_active_record_with_a_dead_wrapper_is_lost(tmp_path: Path, state: str) -> None:
    record = RunRecord("r", str(tmp_path), 1.0, state=state, wrapper_pid=dead_pid(), wrapper_start=1)
    assert records.effective_state(record) == records.LOST


@pytest.mark.parametrize("state", sorted(records.ACTIVE_STATES))
def test_active_record_without_a_wrapper_pid_is_lost(tmp_path: Path, state: str) -> None:
    assert records.effective_state(RunRecord("r", str(tmp_path), 1.0, state=state)) == records.LOST


@linux_proc
@pytest.mark.parametrize("state", [records.FINISHED, records.STOPPED, records.LOST])
def test_ended_records_keep_their_state(tmp_path: Path, state: str) -> None:
    record = RunRecord("r", str(tmp_path), 1.0, state=state, wrapper_pid=dead_pid())
    assert records.effective_state(record) == state


@linux_proc
def test_live_wrapper_keeps_the_record_running(tmp_path: Path) -> None:
    me = os.getpid()
    start = records.process_start_time(me)
    assert isinstance(start, int) and start > 0
    record = RunRecord("r", str(tmp_path), 1.0, state=records.RUNNING, wrapper_pid=me, wrapper_start=start)
    assert records.effective_state(record) == records.RUNNING
    record.wrapper_start = None  # no start time recorded: a live pid is trusted
    assert records.effective_state(record) == records.RUNNING


@linux_proc
def test_start_time_guards_against_pid_reuse(tmp_path: Path) -> None:
    me = os.getpid()
    start = records.process_start_time(me)
    assert start is not None
    reused = RunRecord(
        "r", str(tmp_path), 1.0, state=records.RUNNING, wrapper_pid=me, wrapper_start=start + 1
    )
    assert not records.is_alive(me, start + 1)
    assert records.effective_state(reused) == records.LOST


@linux_proc
def test_process_start_time_with_a_hostile_command_name(tmp_path: Path) -> None:
    sleep = shutil.which("sleep")
    if sleep is None:
        pytest.skip("no sleep binary")
    weird = tmp_path / "a) b (c ) 1 2 3"
    shutil.copy(sleep, weird)
    proc = subprocess.Popen([str(weird), "30"])
    try:
        deadline = time.monotonic() + 5
        stat = ""
        while time.monotonic() < deadline:
            stat = Path(f"/proc/{proc.pid}/stat").read_text()
            if "a) b (c" in stat:
                break
            time.sleep(0.01)
        assert "a) b (c" in stat  # the kernel really reports the hostile name
        match = re.match(r"^\d+ \(.*\) (.*)$", stat, re.S)  # greedy: up to the last ')'
        assert match is not None
        expected = int(match.group(1).split()[19])
        assert records.process_start_time(proc.pid) == expected
        assert records.is_alive(proc.pid, expected)
        mine = records.process_start_time(os.getpid())
        assert mine is not None and expected >= mine  # started after this test process
    finally:
        proc.kill()
        proc.wait()
    assert not records.is_alive(proc.pid, expected)


@linux_proc
def test_process_start_time_of_no_process() -> None:
    assert records.process_start_time(2**22 + 7) is None  # above the kernel's pid_max
    assert not records.is_alive(2**22 + 7, None)
    assert not records.is_alive(None, None)
    assert not records.is_alive(0, None)


def test_group_alive() -> None:
    assert records.group_alive(os.getpgid(0))
    assert not records.group_alive(None)
    assert not records.group_alive(2**22 + 7)


def test_new_run_id_shape() -> None:
    run_id = records.new_run_id(1735732800.0)
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{6}", run_id)
    assert run_id != records.new_run_id(1735732800.0)


def test_locked_serialises(tmp_path: Path) -> None:
    with records.locked(tmp_path, "r1"):
        assert (tmp_path / records.RECORDS_DIR / ".r1.lock").exists()
    with records.locked(tmp_path, "r1"):  # re-entrant after release
        pass

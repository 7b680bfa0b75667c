"""A hostile world around the run records: hand-edited paths, FIFOs, damaged `.massgen`, full or read-only
disks. Every case ends in one line with its documented exit code, nothing hangs, massgen is never stopped
because of our own files.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_util import ANSWER, hostile_env, run_hostile, skill_cmd, strict_lines, values
from robust_util import Project, assert_clean, invoke_bounded, make_log_dir, make_record
from runtools import wait_for

from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.prepare import ports
from massgen_skill.run import records

E = ExitCode
RUN_ID = "20261125-101500-abcdef"
# Every command that finds a run through its record (issue 11: a FIFO hung each of them).
RECORD_COMMANDS = [
    ["status", RUN_ID],
    ["result", RUN_ID],
    ["wait", RUN_ID, "--timeout", "1"],
    ["stop", RUN_ID],
    ["steer", RUN_ID, "look at x"],
    ["analyze", RUN_ID],
]


@contextlib.contextmanager
def tmpfs(path: Path, size: str = "1m") -> Iterator[Path]:
    """A small tmpfs at `path` (we are root in the test box); skip where mounting is not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=False)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def remount_read_only(path: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)


@contextlib.contextmanager
def read_only_bind(path: Path) -> Iterator[None]:
    """`path` turns read-only for every new open (files already open stay writable, as on a real
    remount that the kernel refuses while they are): a read-only bind mount of the folder over itself."""
    subprocess.run(["mount", "--bind", str(path), str(path)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(path)], check=True)
        yield
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


# --- records are re-validated when read ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "command"),
    [
        ("log_dir", "/etc", ["result", RUN_ID]),
        ("answer_path", "/etc/passwd", ["result", RUN_ID]),
        ("inbox_dir", "/tmp", ["steer", RUN_ID, "hello"]),
        ("log_dir", "{other}", ["result", RUN_ID]),
        ("answer_path", "{log}/../../../../../etc/passwd", ["result", RUN_ID]),
        ("stdout_log", "/etc/shadow", ["status", RUN_ID]),
        ("answer_path", "{log}/turn_1/final/agent_a/answer.txt\x00", ["result", RUN_ID]),
        ("project_dir", "/", ["result", RUN_ID]),
    ],
    ids=[
        "log-etc",
        "answer-etc",
        "inbox-tmp",
        "log-other-project",
        "answer-dotdot",
        "log-file",
        "nul",
        "proj",
    ],
)
def test_hand_edited_record_is_refused(
    scratch_project: Project, tmp_path: Path, field: str, value: str, command: list[str]
) -> None:
    log = make_log_dir(scratch_project.root, answer="real answer")
    other = make_log_dir(tmp_path / "other", answer="other")
    make_record(scratch_project.root, RUN_ID, log_dir=str(log), state=records.FINISHED, inbox_dir=None)
    path = records.record_path(scratch_project.root, RUN_ID)
    data = json.loads(path.read_text())
    data[field] = value.replace("{log}", str(log)).replace("{other}", str(other))
    path.write_text(json.dumps(data))
    called = invoke_bounded([*command, "--project", str(scratch_project.root)])
    assert_clean(called, {E.REFUSED}, (field, value))
    assert "refused" in called.err and field in called.err
    assert "/etc/passwd" not in called.out


def test_changed_files_null_is_damage_not_a_crash(scratch_project: Project) -> None:
    log = make_log_dir(scratch_project.root, answer="a")
    make_record(scratch_project.root, RUN_ID, log_dir=str(log), state=records.FINISHED, changed_files=["a"])
    path = records.record_path(scratch_project.root, RUN_ID)
    data = json.loads(path.read_text())
    data["changed_files"] = [None]
    path.write_text(json.dumps(data))
    for command in (["result", RUN_ID], ["status", RUN_ID]):
        assert_clean(invoke_bounded([*command, "--project", str(scratch_project.root)]), {E.INVALID_INPUT})


def test_fifo_named_like_a_record_hangs_nothing(scratch_project: Project) -> None:
    folder = scratch_project.root / records.RECORDS_DIR
    folder.mkdir(parents=True)
    os.mkfifo(folder / f"{RUN_ID}.json")
    runs = invoke_bounded(["runs", "--project", str(scratch_project.root)], seconds=10)
    assert_clean(runs, {E.OK, E.NOT_FOUND}, "runs")
    for command in RECORD_COMMANDS:
        called = invoke_bounded([*command, "--project", str(scratch_project.root)], seconds=10)
        assert_clean(called, {E.INVALID_INPUT}, command)
        assert "not a regular file" in called.err


# --- damaged `.massgen` ------------------------------------------------------------------------------------


def _external_config(tmp_path: Path, project_dir: Path) -> str:
    config = tmp_path / "config.yaml"
    config.write_text((project_dir / ".massgen" / "config.yaml").read_text())
    return str(config)


@pytest.mark.parametrize("damage", ["massgen-is-file", "runs-is-file"])
def test_damaged_massgen_folder_is_one_line(project_dir: Path, tmp_path: Path, damage: str) -> None:
    config = _external_config(tmp_path, project_dir)
    dot = project_dir / ".massgen"
    if damage == "massgen-is-file":
        subprocess.run(["rm", "-rf", str(dot)], check=True)
        dot.write_text("not a folder")
    elif damage == "runs-is-file":
        (dot / "skill_runs").write_text("not a folder")
    started = tmp_path / "started"
    env = hostile_env(tmp_path, HOSTILE_MASSGEN_STARTED=str(started))
    done = run_hostile(project_dir, env, "--config", config, timeout=30)
    assert done.returncode == E.INVALID_INPUT, done
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert not started.exists()


@pytest.mark.parametrize("damage", ["lock-is-dir", "lock-is-fifo"])
def test_damaged_port_lock_is_refused_without_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    """The per-user port lock a web run takes: a folder or a FIFO in its place is damaged state (3), and
    a FIFO is never waited on."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    lock = ports.reservations_dir() / ports.LOCK_NAME
    lock.parent.mkdir(parents=True, mode=0o700)
    lock.parent.parent.chmod(0o700)
    lock.mkdir() if damage == "lock-is-dir" else os.mkfifo(lock)
    with pytest.raises(SkillError) as caught:
        ports.choose(None, reserve=True)
    assert caught.value.code == E.INVALID_INPUT and "\n" not in caught.value.message


def test_read_only_project_is_one_line(project_dir: Path, tmp_path: Path) -> None:
    config = _external_config(tmp_path, project_dir)
    with tmpfs(tmp_path / "ro_project") as project:
        remount_read_only(project)
        env = hostile_env(tmp_path)
        done = run_hostile(project, env, "--config", config, timeout=30)
        assert done.returncode == E.ENV_NOT_READY, done
        assert done.stderr.count("\n") == 1 and "writable" in done.stderr, done.stderr
        dry = run_hostile(project, env, "--config", config, "--dry-run", timeout=30)
        assert dry.returncode == E.OK, dry


def test_full_disk_before_launch_is_one_line(project_dir: Path, tmp_path: Path) -> None:
    started = tmp_path / "started"
    with tmpfs(project_dir / ".massgen" / "skill_runs", size="64k") as runs:
        with contextlib.suppress(OSError), open(runs / ".filler", "wb") as filler:
            while True:
                filler.write(b"x" * 4096)
                filler.flush()
        done = run_hostile(
            project_dir, hostile_env(tmp_path, HOSTILE_MASSGEN_STARTED=str(started)), timeout=30
        )
    assert done.returncode == E.ENV_NOT_READY, done
    assert done.stderr.count("\n") == 1 and "No space left" in done.stderr, done.stderr
    assert not started.exists()


# --- a full or read-only disk mid-run ---------------------------------------------------------------------


def test_disk_full_mid_run_keeps_draining_and_relays_the_answer(project_dir: Path, tmp_path: Path) -> None:
    """The run's own folder (logs, record) fills up; massgen's log tree is elsewhere and gets the answer."""
    script = [
        {"out": "LOG_DIR: {log}\n"},
        {"flood": [20_000, "out"]},  # 2 MB into a 512 KB disk
        {"flood": [20_000, "err"]},
        {"file": [ANSWER, "the answer\n"]},
        {"out": f"ANSWER: {ANSWER}\n"},
        {"exit": 0},
    ]
    with tmpfs(project_dir / ".massgen" / "skill_runs", size="512k"):
        done = run_hostile(project_dir, hostile_env(tmp_path, script), timeout=120)
    pairs = strict_lines(done.stdout)
    assert values(pairs, "RESULT") == ["ok"] and done.returncode == E.OK, done.stderr[-2000:]
    assert Path(values(pairs, "ANSWER")[0]).read_text() == "the answer\n"
    errors = values(pairs, "WRITE_ERROR")
    assert any("stdout log" in e and "No space left" in e for e in errors), done.stdout
    assert "Traceback" not in done.stderr


def test_records_turning_read_only_mid_run_do_not_stop_massgen(project_dir: Path, tmp_path: Path) -> None:
    go = tmp_path / "go"
    script = [
        {"out": "LOG_DIR: {log}\n"},
        {"wait": str(go)},
        {"out": "after the remount\n"},
        {"file": [ANSWER, "written after the remount\n"]},
        {"out": f"ANSWER: {ANSWER}\n"},
        {"exit": 0},
    ]
    runs = project_dir / ".massgen" / "skill_runs"
    proc = subprocess.Popen(
        skill_cmd("run", "--no-web", "--", "task"),
        env=hostile_env(tmp_path, script),
        cwd=project_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True)
    reader.start()
    try:
        wait_for(lambda: any(line.startswith("LOG_DIR: ") for line in lines), what="LOG_DIR")
        with read_only_bind(runs):
            go.write_text("go")
            proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    reader.join(timeout=10)
    err = proc.stderr.read() if proc.stderr else ""
    pairs = strict_lines("".join(lines))
    assert values(pairs, "RESULT") == ["ok"] and proc.returncode == E.OK, err
    assert Path(values(pairs, "ANSWER")[0]).read_text() == "written after the remount\n"
    assert any("run record" in e for e in values(pairs, "WRITE_ERROR")), pairs
    assert "Traceback" not in err and "could not write the run record" in err

"""The process layer (run/procs.py) and the stop state machine (run/stopping.py): identity before any signal,
our own group never a target, zombies dead, setsid'd descendants found by the run marker."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from runtools import wait_for

from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.run import procs, records
from massgen_skill.run.records import RunRecord
from massgen_skill.run.stopping import stop_run

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
ROOT = Path(__file__).resolve().parents[1]
RUN_SH = ROOT / "scripts" / "massgen_run.sh"
SKILL_SH = ROOT / "scripts" / "massgen_skill.sh"


@pytest.fixture
def children():
    """Processes a test starts; killed and reaped at the end whatever happened."""
    started: list[subprocess.Popen] = []

    def start(argv=SLEEPER, env=None, new_session=True):
        proc = subprocess.Popen(argv, env=env, start_new_session=new_session)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


@pytest.fixture(params=["proc", "ps"])
def view(request, monkeypatch):
    """Each check twice: through /proc, and through `ps` as where there is no /proc (BSD, macOS)."""
    if request.param == "ps":
        monkeypatch.setattr(procs, "_PROC", Path("/nonexistent-proc"))
    return request.param


def kill_pid_file(path: Path) -> None:
    if path.is_file():
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(path.read_text()), signal.SIGKILL)


def started(proc: subprocess.Popen) -> int:
    start = procs.process_start_time(proc.pid)
    assert start is not None
    return start


# --- identity and liveness --------------------------------------------------------------------------------


def test_a_target_whose_start_time_differs_is_never_signalled(children, view):
    proc = children()
    stranger = procs.Target(proc.pid, started(proc) + 1)
    assert not stranger.send(signal.SIGKILL)
    report = procs.stop([stranger, procs.Target(proc.pid, started(proc) + 1, group=True)], (0.1, 0.1))
    assert report.signalled == () and report.last_signal == "none"
    assert proc.poll() is None and procs.is_alive(proc.pid, started(proc))


def test_an_unknown_start_time_is_never_signalled(children):
    proc = children()
    assert procs.is_alive(proc.pid, None)  # liveness may trust a bare pid …
    assert not procs.Target(proc.pid, None).send(signal.SIGKILL)  # … a signal may not
    assert proc.poll() is None


def test_our_own_process_group_and_ancestors_are_refused():
    group = os.getpgrp()
    assert not procs.Target(group, procs.process_start_time(group), group=True).send(0)
    assert not procs.Target(os.getpid(), procs.process_start_time(os.getpid())).send(0)
    assert not procs.Target(os.getppid(), procs.process_start_time(os.getppid())).send(0)
    report = procs.stop([procs.Target(group, procs.process_start_time(group), group=True)], (0.1, 0.1))
    assert report.signalled == ()


def test_a_zombie_is_dead_but_still_identified(children, view):
    proc = children([sys.executable, "-c", "pass"])
    start = started(proc)
    wait_for(lambda: (procs.info(proc.pid) or procs.ProcInfo(0, 0, 0, "Z", None)).dead, 10, "a zombie")
    assert procs.info(proc.pid) is not None  # not reaped yet: the pid still names it
    assert not procs.is_alive(proc.pid, start)
    assert not procs.is_alive(proc.pid, None)
    assert not procs.group_alive(proc.pid)  # its group holds only the zombie
    assert procs.same_process(proc.pid, start)
    assert procs.stop([procs.Target(proc.pid, start, group=True)], (0.1, 0.1)).signalled == ()


def test_staged_stop_ends_a_group_that_ignores_sigint(children):
    stubborn = "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(60)"
    proc = children([sys.executable, "-c", stubborn])
    wait_for(lambda: procs.info(proc.pid), 10, "the child")
    time.sleep(0.3)  # let it install its handler
    report = procs.stop_child(proc, started(proc), (0.3, 5.0))
    assert report.last_signal == "SIGTERM" and report.left == ()
    assert proc.wait(timeout=5) == -signal.SIGTERM


def test_run_bounded_interrupted_stops_its_child_group(tmp_path):
    """Ctrl-C reaches only our own group: an interrupted bounded run must not leave its child behind."""
    pid_file = tmp_path / "pid"
    child = [
        sys.executable,
        "-c",
        f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)",
    ]

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    try:
        with pytest.raises(KeyboardInterrupt):
            procs.run_bounded(child, tmp_path, 30, os.environ)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    pid = int(pid_file.read_text())
    wait_for(lambda: not procs.is_alive(pid, None), 5, "the interrupted child to end")


def test_run_bounded_captures_output_and_stops_at_the_time_limit(tmp_path):
    done = procs.run_bounded([sys.executable, "-c", "print('hi')"], tmp_path, 10, os.environ)
    assert (done.returncode, done.stdout.strip(), done.timed_out) == (0, "hi", False)
    begin = time.monotonic()
    slow = procs.run_bounded([*SLEEPER], tmp_path, 0.3, os.environ)
    assert slow.timed_out and slow.returncode is None
    assert time.monotonic() - begin < 10
    missing = procs.run_bounded([str(tmp_path / "nothing")], tmp_path, 1, os.environ)
    assert missing.start_error and missing.returncode is None


# --- the run marker ---------------------------------------------------------------------------------------

SETSID_PARENT = textwrap.dedent(
    """
    import subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    open(sys.argv[1], "w").write(str(child.pid))
    time.sleep(60)
    """
)


def test_a_setsid_grandchild_is_found_by_the_marker_and_stopped(children, view, tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    run_id = f"test-{os.getpid()}-{time.monotonic_ns()}"
    env = procs.marked_env(os.environ, run_id)
    try:
        parent = children([sys.executable, "-c", SETSID_PARENT, str(pid_file)], env=env)
        grandchild = int(wait_for(lambda: pid_file.is_file() and pid_file.read_text(), 10, "the grandchild"))
        assert os.getpgid(grandchild) != parent.pid  # out of the parent's group: a group signal misses it
        found = {p.pid for p in procs.marked_processes(run_id)}
        assert found == {parent.pid, grandchild}
        assert procs.marked_processes(run_id + "x") == []
        targets = [procs.Target(p.pid, p.start) for p in procs.marked_processes(run_id)]
        report = procs.stop(targets, (0.5, 0.5))
        assert set(report.signalled) == {parent.pid, grandchild} and report.left == ()
        wait_for(lambda: not procs.is_alive(grandchild, None), 10, "the grandchild to end")
        assert procs.marked_processes(run_id) == []
    finally:
        kill_pid_file(pid_file)


def test_the_marker_never_selects_our_own_group(children):
    mine = children(env=procs.marked_env(os.environ, "ours"), new_session=False)
    apart = children(env=procs.marked_env(os.environ, "ours"))
    wait_for(lambda: procs.info(apart.pid), 10, "the child")
    assert {p.pid for p in procs.marked_processes("ours")} == {apart.pid}
    assert mine.poll() is None


def test_descendants_and_the_recorded_tree(children, tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    env = {"PATH": os.environ.get("PATH", "")}  # no marker: found by the tree alone
    try:
        parent = children([sys.executable, "-c", SETSID_PARENT, str(pid_file)], env=env)
        grandchild = int(wait_for(lambda: pid_file.is_file() and pid_file.read_text(), 10, "the grandchild"))
        assert {p.pid for p in procs.descendants(parent.pid)} == {grandchild}
        tree = tmp_path / procs.TREE_FILE
        recorder = procs.TreeRecorder(parent.pid, tree, interval=60)
        recorder.look()
        assert [t.pid for t in procs.load_tree(tree)] == [grandchild]
        parent.kill()
        parent.wait(timeout=10)  # the grandchild is an orphan now: no longer below the parent
        assert procs.descendants(parent.pid) == []
        recorder.look()
        assert [t.pid for t in procs.load_tree(tree)] == [grandchild]  # still recorded while it lives
        report = procs.stop(recorder.targets(), (0.5, 0.5))
        assert report.signalled == (grandchild,) and report.left == ()
        recorder.look()
        assert procs.load_tree(tree) == []
    finally:
        kill_pid_file(pid_file)


@pytest.mark.parametrize(
    "text",
    ["", "{", "[1, 2]", '{"pid": 5}', '[{"pid": 1, "start": 3}, {"pid": "7", "start": 3}]'],
)
def test_a_damaged_tree_file_is_an_empty_tree(tmp_path, text):
    (tmp_path / procs.TREE_FILE).write_text(text)
    assert procs.load_tree(tmp_path / procs.TREE_FILE) == []
    assert procs.load_tree(tmp_path / "missing.json") == []


# --- stop_run on records ----------------------------------------------------------------------------------


def lost_record(tmp_path: Path, **fields) -> RunRecord:
    record = RunRecord("20260101-000000-abcdef", str(tmp_path), time.time(), state=records.RUNNING, **fields)
    records.save(record)
    return record


def test_stop_refuses_a_pgid_that_now_names_another_process(children, tmp_path):
    stranger = children()
    record = lost_record(tmp_path, pid=stranger.pid, pgid=stranger.pid, pid_start=started(stranger) + 7)
    result = stop_run(record, 0.2)
    assert result.signalled == [] and result.processes_left == []
    assert result.refused and str(stranger.pid) in result.refused[0]
    assert stranger.poll() is None
    assert records.load(record.path).state == records.STOPPED


def test_stop_refuses_our_own_group_in_a_record(tmp_path):
    group = os.getpgrp()
    record = lost_record(tmp_path, pid=group, pgid=group, pid_start=procs.process_start_time(group))
    result = stop_run(record, 0.2)
    assert result.signalled == []  # we are still here to check


def test_stop_of_a_live_wrapper_without_a_start_time_signals_nothing(children, tmp_path):
    wrapper = children()
    record = lost_record(tmp_path, wrapper_pid=wrapper.pid)
    with pytest.raises(SkillError) as caught:
        stop_run(record, 0.2)
    assert caught.value.code == ExitCode.REFUSED
    assert wrapper.poll() is None


def test_a_zombie_wrapper_makes_the_run_lost(children, tmp_path):
    wrapper = children([sys.executable, "-c", "pass"])
    start = started(wrapper)
    wait_for(lambda: not procs.is_alive(wrapper.pid, None), 10, "the wrapper to become a zombie")
    record = lost_record(tmp_path, wrapper_pid=wrapper.pid, wrapper_start=start)
    assert records.effective_state(record) == records.LOST
    result = stop_run(record, 0.2)
    assert (result.state, result.processes_left) == (records.STOPPED, [])


# --- end to end with the fake massgen ---------------------------------------------------------------------


def test_sigkilled_wrapper_then_stop_ends_the_setsid_helper(fake_massgen, project_dir, tmp_path):
    pid_file = tmp_path / "helper.pid"
    env = fake_massgen.env(scenario="hang", setsid_child=str(pid_file))
    wrapper = subprocess.Popen(
        [str(RUN_SH), "--no-web", "a task"], env=env, cwd=project_dir, stdout=subprocess.PIPE, text=True
    )
    try:
        helper = int(wait_for(lambda: pid_file.is_file() and pid_file.read_text(), 30, "the helper"))
        runs = project_dir / records.RECORDS_DIR
        record = wait_for(
            lambda: next((r for r in records.list_records(project_dir) if r.pgid), None), 30, "the record"
        )
        assert runs.is_dir()
        tree = record.run_dir / procs.TREE_FILE
        wait_for(
            lambda: helper in {t.pid for t in procs.load_tree(tree)}, 30, "the wrapper to record the helper"
        )
        assert helper not in {p.pid for p in procs.marked_processes(record.run_id)}  # minimal env, as MCP's
        os.kill(wrapper.pid, signal.SIGKILL)  # not reaped: a zombie until the end of the test
        wait_for(lambda: not procs.is_alive(wrapper.pid, None), 10, "the wrapper to die")
        assert procs.is_alive(helper, None)
        stop = subprocess.run(
            [str(SKILL_SH), "stop", record.run_id, "--grace", "1", "--json"],
            env=env,
            cwd=project_dir,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        said = json.loads(stop.stdout)
        assert stop.returncode == 0, stop.stderr
        assert (said["state"], said["processes_left"]) == (records.STOPPED, False), said
        assert helper in said["signalled"]
        wait_for(lambda: not procs.is_alive(helper, None), 10, "the helper to end")
        assert procs.marked_processes(record.run_id) == []
    finally:
        kill_pid_file(pid_file)
        if wrapper.poll() is None:
            wrapper.kill()
        wrapper.communicate(timeout=10)

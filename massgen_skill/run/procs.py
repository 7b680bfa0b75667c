"""The one process layer: who a process is, whether it lives, how to stop it, how to run a short child.

Identity is pid + start time, read once when we learn of a process and compared again before every signal,
because a pid is reused as soon as its process is reaped. A zombie (exited, not yet reaped) is dead: it holds
no resources and ignores signals. A stop goes in stages — SIGINT (massgen saves its coordination logs), then
SIGTERM, then SIGKILL — and "no such process" is not an error: the target may end on its own at any time.

massgen's descendants are found three ways, each checked by pid + start time before a signal:
- the run marker: the launcher gives massgen `RUN_MARKER=<run id>` in its environment, which every
  descendant started with massgen's environment inherits, even after `setsid`;
- the live tree: massgen's descendants by parent pid, while massgen lives;
- the recorded tree (`TREE_FILE` in the run's folder), kept by the wrapper while the run lives: massgen
  0.1.97 starts stdio MCP servers in sessions of their own with a minimal environment (the `mcp` library's
  default: HOME, LOGNAME, PATH, SHELL, TERM, USER), so they carry no marker, and once massgen is gone they
  are no longer its children either.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from massgen_skill import atomic
from massgen_skill.massgen.markers import strip_ansi

# An environment variable holding the run id, inherited by all of massgen's descendants.
RUN_MARKER = "MASSGEN_SKILL_RUN"
TREE_FILE = "processes.json"  # in the run's folder: massgen's descendants as last seen by the wrapper
TREE_INTERVAL = 2.0  # seconds between two looks at massgen's descendants
STAGES = (signal.SIGINT, signal.SIGTERM)  # each followed by a grace; SIGKILL after the last
DEFAULT_GRACES = (5.0, 3.0)  # seconds after SIGINT, after SIGTERM
_POLL = 0.05
_PROC = Path("/proc")
_PS_TIMEOUT = 10.0
_DEAD_STATES = ("Z", "X")  # zombie, dead (being reaped)


# --- identity -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcInfo:
    """One process as seen at one moment."""

    pid: int
    ppid: int
    pgid: int
    state: str  # one letter: R, S, D, T, Z, …
    start: int | None  # Linux: clock ticks since boot; elsewhere: seconds since 1970 (from `ps -o lstart`)

    @property
    def dead(self) -> bool:
        return self.state[:1] in _DEAD_STATES


def process_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state first); None without /proc."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except (OSError, ValueError):
        return None
    # The command name may hold spaces and parentheses: split after the last ')'.
    return stat[stat.rfind(")") + 2 :].split()


def _from_stat(pid: int, fields: list[str]) -> ProcInfo | None:
    try:
        return ProcInfo(pid, int(fields[1]), int(fields[2]), fields[0], int(fields[19]))
    except (IndexError, ValueError):
        return None


_PS_LINE = re.compile(r"\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S.*?)\s*$")


def _ps(args: Sequence[str]) -> str:
    """Output of `ps` (the fallback where there is no /proc); empty when ps is missing or fails."""
    try:
        done = subprocess.run(
            ["ps", *args], capture_output=True, text=True, errors="replace", timeout=_PS_TIMEOUT, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout if done.returncode == 0 else ""


def _ps_infos(select: Sequence[str]) -> list[ProcInfo]:
    infos = []
    for line in _ps([*select, "-o", "pid=,ppid=,pgid=,stat=,lstart="]).splitlines():
        match = _PS_LINE.match(line)
        if not match:
            continue
        try:
            start = int(time.mktime(time.strptime(match[5], "%a %b %d %H:%M:%S %Y")))
        except (ValueError, OverflowError):
            start = None
        infos.append(ProcInfo(int(match[1]), int(match[2]), int(match[3]), match[4], start))
    return infos


def info(pid: int) -> ProcInfo | None:
    """The process `pid` now, or None when there is none."""
    if pid <= 0:
        return None
    if _PROC.is_dir():
        fields = process_stat(pid)
        return _from_stat(pid, fields) if fields else None
    found = _ps_infos(["-p", str(pid)])
    return found[0] if found else None


def process_start_time(pid: int) -> int | None:
    """The start time that, with the pid, names one process for good (None: no such process)."""
    now = info(pid)
    return now.start if now else None


def all_processes() -> list[ProcInfo]:
    """Every process we can see, at one moment."""
    if not _PROC.is_dir():
        return _ps_infos(["-A"])
    infos = []
    for entry in os.listdir(_PROC):
        if entry.isdigit() and (fields := process_stat(int(entry))):
            found = _from_stat(int(entry), fields)
            if found:
                infos.append(found)
    return infos


def same_process(pid: int | None, start: int | None) -> bool:
    """True when `pid` is still the process that had `start` (alive or a zombie). An unknown start never
    matches: without it we cannot tell our process from a stranger that got its pid."""
    if not pid or pid <= 1 or start is None:
        return False
    now = info(pid)
    return now is not None and now.start == start


def is_alive(pid: int | None, start: int | None) -> bool:
    """Alive and not a zombie; when `start` is given, also still the same process (not a reused pid).
    No start recorded: a live pid is trusted, for liveness only (never for a signal)."""
    if not pid or pid <= 1:  # kill(0|-1, 0) probes a group or everything: never "this run's process"
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: it exists
    now = info(pid)
    if now is None:
        return not _PROC.is_dir()  # no way to look closer: kill 0 said it exists
    return not now.dead and (start is None or now.start == start)


def group_members(pgid: int, snapshot: Iterable[ProcInfo] | None = None) -> list[ProcInfo]:
    """The living (non-zombie) members of process group `pgid`."""
    procs = all_processes() if snapshot is None else snapshot
    return [p for p in procs if p.pgid == pgid and not p.dead]


def group_alive(pgid: int | None) -> bool:
    """A process group with at least one member that is not a zombie."""
    if not pgid or pgid <= 1:
        return False
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return bool(group_members(pgid))


def own_lineage() -> tuple[set[int], int]:
    """Our pid and our ancestors' pids, and our process group: never a target of ours."""
    pids = {os.getpid()}
    pid = os.getppid()
    for _ in range(64):  # a chain of parents ends at init; bounded anyway
        if pid <= 1 or pid in pids:
            break
        pids.add(pid)
        parent = info(pid)
        pid = parent.ppid if parent else 0
    return pids, os.getpgrp()


# --- the run marker -----------------------------------------------------------------------------------


def marked_env(env: Mapping[str, str], run_id: str) -> dict[str, str]:
    """`env` plus the run marker, so that every descendant of the child can be found later."""
    return {**env, RUN_MARKER: run_id}


def _environ_has(pid: int, entry: bytes) -> bool:
    try:
        data = (_PROC / str(pid) / "environ").read_bytes()
    except OSError:  # gone, or not ours to read
        return False
    return entry in data.split(b"\0")


def marked_processes(run_id: str, started_since: int | None = None) -> list[ProcInfo]:
    """Living processes whose environment carries this run's marker (but never us or our ancestors);
    `started_since` (a start time as `info` gives it): only those started then or later, so the
    environments of older processes are never read."""
    mine, my_group = own_lineage()
    candidates = [
        p
        for p in all_processes()
        if not p.dead
        and p.pid not in mine
        and p.pgid != my_group
        and (started_since is None or (p.start is not None and p.start >= started_since))
    ]
    if _PROC.is_dir():
        entry = f"{RUN_MARKER}={run_id}".encode()
        return [p for p in candidates if _environ_has(p.pid, entry)]
    # BSD/macOS: `ps eww` shows each process's environment after its command line.
    token = f" {RUN_MARKER}={run_id}"
    marked = set()
    for line in _ps(["eww", "-A", "-o", "pid=,command="]).splitlines():
        head, _, rest = line.strip().partition(" ")
        if head.isdigit() and (rest + " ").find(token + " ") >= 0:
            marked.add(int(head))
    return [p for p in candidates if p.pid in marked]


# --- the process tree ---------------------------------------------------------------------------------


def descendants(pid: int, snapshot: Iterable[ProcInfo] | None = None) -> list[ProcInfo]:
    """The living descendants of `pid` (children, their children, …), by parent pid."""
    procs = list(all_processes() if snapshot is None else snapshot)
    children: dict[int, list[ProcInfo]] = {}
    for proc in procs:
        children.setdefault(proc.ppid, []).append(proc)
    found: dict[int, ProcInfo] = {}
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child.pid not in found and child.pid != pid:
                found[child.pid] = child
                todo.append(child.pid)
    return [p for p in found.values() if not p.dead]


def save_tree(path: Path, found: Iterable[ProcInfo]) -> None:
    entries = sorted({(p.pid, p.start) for p in found if p.start is not None})
    atomic.write_text(path, json.dumps([{"pid": pid, "start": start} for pid, start in entries]) + "\n")


def load_tree(path: Path) -> list[Target]:
    """The recorded descendants (a missing or damaged file is an empty tree: it is only a hint, and every
    entry is checked again before a signal)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    entries = data if isinstance(data, list) else []
    return [
        Target(e["pid"], e["start"])
        for e in entries
        if isinstance(e, dict)
        and all(isinstance(e.get(k), int) and not isinstance(e.get(k), bool) for k in ("pid", "start"))
        and e["pid"] > 1
    ]


class TreeRecorder:
    """While the run lives: write massgen's descendants to `path` whenever they change."""

    def __init__(self, root: int, path: Path, interval: float = TREE_INTERVAL) -> None:
        self.root, self.path, self.interval = root, path, interval
        self._done = threading.Event()
        self._seen: set[tuple[int, int | None]] = set()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()

    def _loop(self) -> None:
        while not self._done.wait(self.interval):
            self.look()

    def look(self) -> None:
        """One look: the descendants now, plus those seen before that still live (once massgen has exited
        they are no longer its children). A write error is not the run's problem: the tree is a hint."""
        kept = {(pid, start) for pid, start in self._seen if is_alive(pid, start)}
        now = kept | {(p.pid, p.start) for p in descendants(self.root) if p.start is not None}
        if now != self._seen:
            self._seen = now
            with contextlib.suppress(OSError):
                save_tree(self.path, [ProcInfo(pid, 0, 0, "S", start) for pid, start in now])

    def targets(self) -> list[Target]:
        """What was seen, for a stop (each entry's identity is checked again before a signal)."""
        return [Target(pid, start) for pid, start in self._seen]


# --- signals ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A process (or, with `group`, its whole process group) identified by pid and start time."""

    pid: int
    start: int | None
    group: bool = False

    def safe(self) -> bool:
        """Still the process we identified, and never ourselves, an ancestor or a member of our own group."""
        mine, my_group = own_lineage()
        if self.pid in mine or self.pid == my_group or self.start is None:
            return False
        now = info(self.pid)
        return now is not None and now.start == self.start and now.pgid != my_group

    def alive(self) -> bool:
        if self.group:  # the group is ours while its leader (alive or a zombie) is
            return self.safe() and group_alive(self.pid)
        return is_alive(self.pid, self.start)

    def send(self, signum: int) -> bool:
        """Signal it after checking its identity again; False when it is gone or no longer ours."""
        if not self.safe():
            return False
        try:
            if self.group:
                os.killpg(self.pid, signum)
            else:
                os.kill(self.pid, signum)
        except (ProcessLookupError, PermissionError):
            return False
        return True


def target_of(pid: int, group: bool = False) -> Target | None:
    """Identify a process now (for a child we just started, or one found in a snapshot)."""
    now = info(pid)
    return Target(pid, now.start, group) if now and not now.dead else None


@dataclass(frozen=True)
class StopReport:
    last_signal: str  # "none", "SIGINT", "SIGTERM" or "SIGKILL"
    signalled: tuple[int, ...]  # pids (or pgids) that received at least one signal
    left: tuple[int, ...]  # still alive after the last stage


def stop(
    targets: Sequence[Target],
    graces: Sequence[float] = DEFAULT_GRACES,
    is_done: Callable[[], bool] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> StopReport:
    """Staged stop: SIGINT, grace, SIGTERM, grace, SIGKILL — each only to targets still alive and still ours.
    `is_done` may end the wait early (e.g. the supervised child was reaped)."""
    signalled: set[int] = set()
    last = "none"

    def living() -> list[Target]:
        return [t for t in targets if t.alive()]

    def finished() -> bool:
        return (is_done is not None and is_done()) or not living()

    for signum, grace in zip((*STAGES, signal.SIGKILL), (*graces, 0.0), strict=False):
        if finished():
            break
        sent = [t.pid for t in living() if t.send(signum)]
        if not sent:
            break
        signalled.update(sent)
        last = signal.Signals(signum).name
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and not finished():
            sleep(_POLL)
    if last == "SIGKILL":
        _settle(targets, sleep)
    return StopReport(last, tuple(sorted(signalled)), tuple(t.pid for t in living()))


def _settle(targets: Sequence[Target], sleep: Callable[[float], None], timeout: float = 2.0) -> None:
    """After SIGKILL: a moment for the kernel to finish the kills before we say what is left."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(t.alive() for t in targets):
        sleep(_POLL)


# --- a short child, bounded -----------------------------------------------------------------------------


def spawn_group(
    argv: Sequence[str],
    cwd: Path,
    env: Mapping[str, str],
    preexec: Callable[[], None] | None = None,
    stdout: int = subprocess.PIPE,
    stderr: int = subprocess.PIPE,
) -> subprocess.Popen[bytes]:
    """Start a child in its own session (so its group can be stopped and a terminal's ^C does not reach
    it), with no stdin and both pipes captured (unless told otherwise). Raises OSError when it cannot be
    started."""
    return subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        start_new_session=True,
        preexec_fn=preexec,
    )


def leftovers(pgid: int, start: int | None) -> list[Target]:
    """What a group leader we started left in its group once it was reaped (helpers, MCP servers).
    Nothing when the pgid's number now leads a stranger's group."""
    with contextlib.suppress(PermissionError):
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:  # the usual case: the group ended with its leader; no /proc scan
            return []
    leader = info(pgid)
    if leader is not None and leader.start != start:
        return []
    return [Target(p.pid, p.start) for p in group_members(pgid)]


def stop_child(
    proc: subprocess.Popen[bytes], start: int | None, graces: Sequence[float] = DEFAULT_GRACES
) -> StopReport:
    """Staged stop of a child we started in its own group (`start`: its start time, read at spawn), then
    of anything it left in the group once it is gone."""
    first = stop([Target(proc.pid, start, group=True)], graces, is_done=lambda: proc.poll() is not None)
    rest = stop(leftovers(proc.pid, start), (0.0, 1.0))
    return StopReport(
        rest.last_signal if rest.signalled else first.last_signal,
        tuple(sorted({*first.signalled, *rest.signalled})),
        rest.left,
    )


@dataclass(frozen=True)
class Completed:
    argv: list[str]
    returncode: int | None  # None: it could not be started, or was stopped at the time limit
    stdout: str
    stderr: str
    timed_out: bool = False
    start_error: str | None = None

    def tail(self, limit: int = 300) -> str:
        text = strip_ansi(self.stderr or self.stdout).strip()
        return ("…" + text[-limit:]) if len(text) > limit else text


BOUNDED_GRACES = (0.0, 3.0)  # a short child has no logs to save: SIGTERM at once, SIGKILL 3 s later


def run_bounded(argv: Sequence[str], cwd: Path, timeout: float, env: Mapping[str, str]) -> Completed:
    """Run a short child, capture both pipes, and stop its whole group if it outlives `timeout`."""
    argv = [str(a) for a in argv]
    try:
        proc = spawn_group(argv, cwd, env)
    except OSError as exc:
        return Completed(argv, None, "", "", start_error=f"{argv[0]}: {exc.strerror or exc}")
    start = process_start_time(proc.pid)
    try:
        out, err = proc.communicate(timeout=max(0.1, timeout))
        return Completed(argv, proc.returncode, _text(out), _text(err))
    except subprocess.TimeoutExpired:
        stop_child(proc, start, BOUNDED_GRACES)
        try:
            out, err = proc.communicate(timeout=5.0)
        except subprocess.TimeoutExpired:  # a grandchild holds the pipes open: give up on its output
            proc.kill()
            out, err = b"", b""
        return Completed(argv, None, _text(out), _text(err), timed_out=True)
    except BaseException:  # Ctrl-C or a signal turned exception: the child's own group would be left running
        stop_child(proc, start, BOUNDED_GRACES)
        raise


def _text(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", errors="replace")

"""Watch a run that something else supervises and announce each review of file changes exactly once.

A review is pending when the newest attempt holds a review_request.json that no review_result.json answers
(the result must be newer than the request: a stale one never completes a new review) and status.json does
not say `review_pending: false`. status.json keeps saying `review_pending: true` after the decision, and
`is_complete` turns true before the review even opens, so neither is used on its own. A review already
decided when the watcher starts is reported once, as its decision (`decided_before_watch`): a late watcher
is never silent about it.

Idle polling only stats files (os.stat mtimes); a file is read when its mtime or size changed.

When does the run end (the watcher then exits once no review is open)?
- a run with a record (`massgen-skill run`): the record leaves the active states, i.e. the supervising wrapper
  finalised it, or the wrapper died (lost) and massgen's process group is gone too;
- `--pid P`: that process is gone;
- a bare LOG_DIR (Linux): no `massgen` process remains that runs in the log dir's project folder and started
  before the log dir was created (found by scanning /proc at most once a second, then one pid is checked);
- elsewhere: nothing in the attempt dir changed for `idle_exit` seconds and no review is open.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from massgen_skill.exitcodes import ExitCode
from massgen_skill.follow.fswait import Waiter, waiter
from massgen_skill.massgen import layout
from massgen_skill.massgen.status import read_json
from massgen_skill.review import block
from massgen_skill.review.gate import decision_from
from massgen_skill.review.target import ReviewTarget, project_of
from massgen_skill.run import procs, records

DEFAULT_INTERVAL = 0.25
UNREADABLE_WARN_AFTER = 2.0  # seconds a review_request.json may stay unreadable before a warning
SCAN_EVERY = 1.0  # seconds between /proc scans for a bare LOG_DIR
LIVENESS_EVERY = 1.0  # polling: seconds between "has the run ended?" checks (review files: every interval)
WAKE_EVERY = 5.0  # inotify: longest sleep; file changes wake the watcher at once, this catches a dead run
IDLE_EXIT = 300.0  # no /proc: a run whose files did not change for this long is taken as ended


def _stat_key(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


# --- events ----------------------------------------------------------------------------------------------


@dataclass
class WatchEvent:
    kind: str  # watching | review_pending | review_complete | review_unresolved | ended | timeout
    data: dict[str, Any] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)  # text-mode stdout lines


def pending_event(number: int, request: block.ReviewRequest, attempt: Path, port: int | None) -> WatchEvent:
    lines = block.block_lines(request, port)
    url, api = block.review_urls(port, request.session_id)
    return WatchEvent(
        "review_pending",
        {
            "review": number,
            "session_id": request.session_id,
            "review_url": url,
            "review_api": api,
            "files": [{"path": f.path, "status": f.status} for f in request.files],
            "answer_preview": block.clean_field(request.answer_preview, block.PREVIEW_CHARS),
            "attempt_dir": str(attempt),
            "request_file": request.path,
            "block": lines,
        },
        lines,
    )


def complete_event(number: int, result: dict[str, Any], attempt: Path, late: bool = False) -> WatchEvent:
    """A decision; `late` when it was taken before the watcher started (reported once all the same)."""
    decision = decision_from(result, attempt / layout.REVIEW_RESULT)
    line = block.complete_line(decision.approved)
    return WatchEvent(
        "review_complete",
        {
            "review": number,
            "approved": decision.approved,
            "approved_files": decision.approved_files,
            "action": decision.action,
            "resolved_by": decision.resolved_by,
            "attempt_dir": str(attempt),
            "decided_before_watch": late,
            "line": line,
        },
        [line],
    )


# --- reviews ---------------------------------------------------------------------------------------------


@dataclass
class _Open:
    number: int
    attempt: Path
    request: block.ReviewRequest
    result_key: tuple[int, int] | None = None


class ReviewTracker:
    """Turns the files of a run into review events; call `poll` repeatedly."""

    def __init__(self, target: ReviewTarget, warn: Callable[[str], None] | None = None) -> None:
        self.target = target
        self.warn = warn or (lambda _m: None)
        self.count = 0
        self.open: _Open | None = None
        self._seen: tuple[str, tuple[int, int]] | None = None  # (attempt, request stat) already handled
        self._unreadable_since: float | None = None
        self._warned_unreadable = False
        self._dir_keys: tuple[Any, ...] | None = None
        self._attempt: Path | None = None
        self._started = False

    def attempt(self) -> Path | None:
        """The newest attempt dir; re-listed only when the session root or its newest turn changed."""
        root = self.target.root
        if root is None:
            return None
        turn = layout.newest_turn(root) if self._attempt is None else self._attempt.parent
        keys = (str(root), _stat_key(root), _stat_key(turn) if turn else None)
        if keys != self._dir_keys or self._attempt is None:
            self._attempt = layout.newest_attempt(root)
            turn = self._attempt.parent if self._attempt else None
            self._dir_keys = (str(root), _stat_key(root), _stat_key(turn) if turn else None)
        return self._attempt

    def poll(self, run_ended: bool = False) -> list[WatchEvent]:
        first, self._started = not self._started, True
        events: list[WatchEvent] = []
        self._check_complete(events)
        attempt = self.attempt()
        if attempt is None:
            return events
        key = _stat_key(attempt / layout.REVIEW_REQUEST)
        if key is None or self._seen == (str(attempt), key):
            return events
        request = block.read_request(attempt)
        if request is None:
            self._unreadable(attempt)
            return events
        self._unreadable_since = None
        if not self._status_allows(attempt):
            return events  # status.json says no review waits (yet): look again on the next poll
        self._seen = (str(attempt), key)
        if self.open is not None:
            self.warn(f"review {self.open.number} got no {layout.REVIEW_RESULT} before a new review opened")
            self.open = None
        result = block.read_result(attempt, request.mtime)
        if result is not None and first:
            # Decided before this watcher started: say how, once, so a late watcher is never silent.
            self.count += 1
            events.append(complete_event(self.count, result, attempt, late=True))
            return events
        if result is None and run_ended:
            self.warn("the run ended with an undecided review; nothing can decide it now")
            return events
        self.count += 1
        events.append(pending_event(self.count, request, attempt, self.target.port))
        self.open = _Open(self.count, attempt, request)
        self._check_complete(events)
        return events

    def _check_complete(self, events: list[WatchEvent]) -> None:
        current = self.open
        if current is None:
            return
        path = current.attempt / layout.REVIEW_RESULT
        key = _stat_key(path)
        if key is None or key == current.result_key:
            return
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < current.request.mtime:
                current.result_key = key  # answers an earlier review: never completes this one
                return
        result = block.read_result(current.attempt, current.request.mtime)
        if result is None:
            return  # half-written: read it again on the next poll
        events.append(complete_event(current.number, result, current.attempt))
        self.open = None

    def _status_allows(self, attempt: Path) -> bool:
        data, problem = read_json(attempt / layout.STATUS_FILE)
        if problem or not isinstance(data, dict):
            return True  # missing or mid-rewrite: review_request.json alone decides
        return data.get("review_pending") is not False

    def _unreadable(self, attempt: Path) -> None:
        now = time.monotonic()
        if self._unreadable_since is None:
            self._unreadable_since = now
        elif not self._warned_unreadable and now - self._unreadable_since >= UNREADABLE_WARN_AFTER:
            self._warned_unreadable = True
            self.warn(f"{attempt / layout.REVIEW_REQUEST} is unreadable (half-written?); still watching")


# --- has the run ended? ----------------------------------------------------------------------------------


class RecordLiveness:
    """A run with a record: ended once the record leaves the active states (and no orphan group runs)."""

    def __init__(self, target: ReviewTarget) -> None:
        assert target.record is not None
        self.target = target
        self.path = target.record.path
        self._key = _stat_key(self.path)

    def ended(self) -> tuple[bool, str]:
        key = _stat_key(self.path)
        if key != self._key:
            self._key = key
            with contextlib.suppress(Exception):
                self.target.reload()
        record = self.target.record
        assert record is not None
        state = records.effective_state(record)
        if state in records.ACTIVE_STATES:
            return False, state
        if state == records.LOST and records.group_alive(record.pgid):
            return False, "lost wrapper, massgen still running"
        return True, record.outcome or state


class PidLiveness:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.start = records.process_start_time(pid)

    def ended(self) -> tuple[bool, str]:
        if _running(self.pid, self.start):
            return False, f"pid {self.pid} running"
        return True, f"pid {self.pid} ended"


def _running(pid: int, start: int | None) -> bool:
    """Alive, not a zombie, still the same process: the process layer's check (`/proc`, else `ps`)."""
    return procs.is_alive(pid, start)


def _log_dir_created(root: Path) -> float | None:
    """Creation time of log_<YYYYMMDD_HHMMSS_ffffff> from its name (local time), else its ctime."""
    stamp = root.name.removeprefix(layout.ROOT_PREFIX)
    try:
        base = time.mktime(time.strptime(stamp[:15], "%Y%m%d_%H%M%S"))
        return base + (int(stamp[16:22]) / 1e6 if len(stamp) >= 22 else 0.0)
    except (ValueError, OverflowError):
        pass
    try:
        return root.stat().st_ctime
    except OSError:
        return None


def _boot_time() -> float | None:
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def is_massgen_argv(argv: list[str]) -> bool:
    """`…/massgen …` or `python -m massgen …` (never massgen-skill / massgen_skill)."""
    for i, arg in enumerate(argv[:4]):
        if os.path.basename(arg) == "massgen":
            return True
        if arg == "-m" and i + 1 < len(argv) and argv[i + 1] == "massgen":
            return True
    return False


def _proc_pids() -> Iterator[int]:
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                yield int(entry.name)


class ProcessLiveness:
    """A bare LOG_DIR on Linux: a massgen process of the project, started before the log dir, still runs."""

    def __init__(self, root: Path, clock_ticks: int | None = None) -> None:
        self.root = root
        self.project = project_of(root)
        self.created = _log_dir_created(root)
        self.boot = _boot_time()
        self.ticks = clock_ticks or os.sysconf("SC_CLK_TCK")
        self.pid: int | None = None
        self.pid_start: int | None = None
        self._next_scan = 0.0
        self._last = (False, "starting")

    @staticmethod
    def available() -> bool:
        return Path("/proc/self/stat").exists() and _boot_time() is not None

    def ended(self) -> tuple[bool, str]:
        if self.pid is not None and _running(self.pid, self.pid_start):
            return False, f"massgen pid {self.pid} running"
        now = time.monotonic()
        if now < self._next_scan:
            return self._last
        self._next_scan = now + SCAN_EVERY
        self.pid = self._scan()
        self.pid_start = records.process_start_time(self.pid) if self.pid else None
        self._last = (False, f"massgen pid {self.pid} running") if self.pid else (True, "no massgen process")
        return self._last

    def _scan(self) -> int | None:
        me = os.getpid()
        for pid in _proc_pids():
            if pid == me:
                continue
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace").split("\0")
            except OSError:
                continue
            if not is_massgen_argv(argv) or not self._owns(pid):
                continue
            return pid
        return None

    def _owns(self, pid: int) -> bool:
        if self.project is not None:
            try:
                if Path(os.readlink(f"/proc/{pid}/cwd")).resolve() != self.project.resolve():
                    return False
            except OSError:
                return False
        start = records.process_start_time(pid)
        if start is None or self.boot is None or self.created is None:
            return True
        return self.boot + start / self.ticks <= self.created + 2.0  # a newer run cannot own this log dir


class IdleLiveness:
    """No /proc: the run counts as ended when its attempt dir has been still for `idle_exit` seconds."""

    def __init__(self, tracker: ReviewTracker, idle_exit: float = IDLE_EXIT) -> None:
        self.tracker = tracker
        self.idle_exit = idle_exit
        self._keys: Any = None
        self._changed = time.monotonic()

    def ended(self) -> tuple[bool, str]:
        attempt = self.tracker.attempt()
        names = (layout.STATUS_FILE, layout.REVIEW_REQUEST, layout.REVIEW_RESULT)
        keys = (str(attempt), *(_stat_key(attempt / n) if attempt else None for n in names))
        now = time.monotonic()
        if keys != self._keys:
            self._keys, self._changed = keys, now
        if now - self._changed >= self.idle_exit:
            return True, f"no change for {self.idle_exit:g} s"
        return False, "files changing"


# --- the loop --------------------------------------------------------------------------------------------


@dataclass
class WatchSettings:
    interval: float = DEFAULT_INTERVAL
    timeout: float | None = None
    pid: int | None = None
    idle_exit: float = IDLE_EXIT


class Liveness(Protocol):
    def ended(self) -> tuple[bool, str]: ...


def liveness_for(target: ReviewTarget, tracker: ReviewTracker, settings: WatchSettings) -> Liveness:
    if settings.pid is not None:
        return PidLiveness(settings.pid)
    if target.record is not None:
        return RecordLiveness(target)
    assert target.root is not None
    if ProcessLiveness.available():
        return ProcessLiveness(target.root)
    return IdleLiveness(tracker, settings.idle_exit)


def watch(
    target: ReviewTarget,
    emit: Callable[[WatchEvent], None],
    settings: WatchSettings,
    warn: Callable[[str], None] | None = None,
    pause: Waiter | None = None,
) -> ExitCode:
    """Poll until the run ends (OK) or the timeout (REVIEW_PENDING when one is open, else STILL_RUNNING).
    `pause` is how the loop waits between looks: inotify where available, else sleeping (`PollWaiter`)."""
    tracker = ReviewTracker(target, warn)
    liveness = liveness_for(target, tracker, settings)
    deadline = None if settings.timeout is None else time.monotonic() + settings.timeout
    emit(
        WatchEvent(
            "watching",
            {
                "run_id": target.record.run_id if target.record else None,
                "log_dir": str(target.root) if target.root else None,
                "port": target.port,
                "liveness": type(liveness).__name__.removesuffix("Liveness").lower(),
            },
        )
    )
    pause = pause or waiter()
    try:
        return _loop(target, tracker, liveness, emit, settings, deadline, pause)
    finally:
        pause.close()


def _folders(target: ReviewTarget, tracker: ReviewTracker) -> list[Path | None]:
    """Where a change means news: the run record's folder, the session root, the newest turn and attempt."""
    attempt = tracker.attempt()
    record = target.record.path.parent if target.record else None
    return [record, target.root, attempt.parent if attempt else None, attempt]


def _loop(
    target: ReviewTarget,
    tracker: ReviewTracker,
    liveness: Liveness,
    emit: Callable[[WatchEvent], None],
    settings: WatchSettings,
    deadline: float | None,
    pause: Waiter,
) -> ExitCode:
    next_check = 0.0
    check_every = 0.0 if pause.wakes_on_change else LIVENESS_EVERY  # inotify wakes are rare: check each one
    while True:
        pause.watch(_folders(target, tracker))  # before polling: a change after the poll wakes us
        if time.monotonic() >= next_check:  # a run's end may show a little late (1 s polling, 5 s inotify)
            ended, why = liveness.ended()
            next_check = time.monotonic() + check_every
        for event in tracker.poll(run_ended=ended):
            emit(event)
        if ended:
            if tracker.open is not None:
                emit(WatchEvent("review_unresolved", {"review": tracker.open.number}))
            emit(
                WatchEvent("ended", {"why": why, "reviews": tracker.count}, [f"WATCH_END: run ended ({why})"])
            )
            return ExitCode.OK
        if deadline is not None and time.monotonic() >= deadline:
            code = ExitCode.REVIEW_PENDING if tracker.open is not None else ExitCode.STILL_RUNNING
            emit(
                WatchEvent(
                    "timeout",
                    {"why": why, "reviews": tracker.count, "review_open": tracker.open is not None},
                    [f"WATCH_END: timeout ({'review pending' if tracker.open else 'run still going'})"],
                )
            )
            return code
        seconds = WAKE_EVERY if pause.wakes_on_change else settings.interval
        if deadline is not None:
            seconds = min(seconds, max(0.0, deadline - time.monotonic()))
        pause.wait(seconds)

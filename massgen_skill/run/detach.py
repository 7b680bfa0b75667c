"""`run --detach`: supervise the run from a process of its own session and return once massgen is launched.

The caller's process forks; the child starts a new session and forks again (so the supervisor is no session
leader and never gets a terminal back), then exits. The grandchild sends its output to the run's folder, takes
over the record as its wrapper, and supervises as `run` does. It tells the caller over a pipe once massgen has
been launched (or why it could not be), so `RUN_ID:` is printed only when the record exists and massgen runs:
a host agent can call `wait RUN_ID` at once.
"""

from __future__ import annotations

import os
import select
import sys
import time
from collections.abc import Callable
from pathlib import Path

from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.run import records

OUTPUT_NAME = "wrapper.out"  # the detached wrapper's relayed lines (its stdout), in the run's folder
ERRORS_NAME = "wrapper.err"  # its diagnostics (stderr)
LAUNCH_TIMEOUT = 60.0  # seconds from fork to massgen's launch (checks ran before: normally well under 1 s)
_READY = "ready"
_FAILED = "failed"

# supervise(ready) runs the whole run, calls ready() once massgen has been launched, returns the exit code
Supervise = Callable[[Callable[[], None]], int]


def output_path(record: records.RunRecord) -> Path:
    return record.run_dir / OUTPUT_NAME


def detach(record: records.RunRecord, supervise: Supervise) -> None:
    """Start the detached supervisor; return once massgen is launched, or raise why it was not."""
    sys.stdout.flush()
    sys.stderr.flush()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _middle(record, supervise, write_fd)  # never returns
    os.close(write_fd)
    os.waitpid(pid, 0)  # the middle process exits as soon as the supervisor is forked
    try:
        reply = _read_reply(read_fd, LAUNCH_TIMEOUT)
    finally:
        os.close(read_fd)
    _check_reply(reply, output_path(record))


def _check_reply(reply: str, output: Path) -> None:
    kind, _, rest = reply.partition(" ")
    if kind == _READY:
        return
    if kind == _FAILED:
        code, _, message = rest.partition(" ")
        raise SkillError(message or "the detached run failed to start", ExitCode(int(code)))
    what = "did not launch massgen in time" if reply == "" else "ended before launching massgen"
    errors = output.with_name(ERRORS_NAME)
    raise SkillError(f"the detached supervisor {what}; see {errors}", ExitCode.INTERNAL)


def _read_reply(fd: int, timeout: float) -> str:
    """One line from the supervisor; '' on timeout or when it ended without a word."""
    data = b""
    deadline = time.monotonic() + timeout
    while not data.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            return ""
        chunk = os.read(fd, 4096)
        if not chunk:
            return "gone" if not data else data.decode("utf-8", "replace").strip()
        data += chunk
    return data.decode("utf-8", "replace").strip()


def _middle(record: records.RunRecord, supervise: Supervise, write_fd: int) -> None:
    try:
        os.setsid()  # out of the caller's session and process group: its end or signals do not reach us
        if os.fork() > 0:
            os._exit(0)
        _supervisor(record, supervise, write_fd)
    finally:
        os._exit(int(ExitCode.INTERNAL))  # only reached when something above raised


class _Reply:
    """The one line the caller waits for, sent at most once."""

    def __init__(self, fd: int) -> None:
        self.fd: int | None = fd

    def send(self, text: str) -> None:
        if self.fd is None:
            return
        one_line = " ".join(text.split())
        try:
            os.write(self.fd, (one_line + "\n").encode("utf-8", "replace"))
            os.close(self.fd)
        except OSError:
            pass  # the caller is gone: the run goes on all the same
        self.fd = None


def _supervisor(record: records.RunRecord, supervise: Supervise, write_fd: int) -> None:
    reply = _Reply(write_fd)
    code = int(ExitCode.INTERNAL)
    try:
        redirect_output(output_path(record), record.run_dir / ERRORS_NAME)
        _take_over(record)
        code = supervise(lambda: reply.send(_READY))
    except SkillError as exc:
        sys.stderr.write(f"massgen-skill: error: {exc.message}\n")
        reply.send(f"{_FAILED} {int(exc.code)} {exc.message}")
        code = int(exc.code)
    except BaseException as exc:  # the detached process reports everything, once
        sys.stderr.write(f"massgen-skill: internal error: {type(exc).__name__}: {exc}\n")
        reply.send(f"{_FAILED} {int(ExitCode.INTERNAL)} internal error: {type(exc).__name__}: {exc}")
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def redirect_output(out_path: Path, err_path: Path) -> None:
    """stdin from /dev/null, stdout and stderr to files in the run's folder (no fd of the caller stays open,
    so a caller reading our output to its end is not held up by the run)."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    for target, path, flags in (
        (0, Path(os.devnull), os.O_RDONLY),
        (1, out_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND),
        (2, err_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND),
    ):
        fd = os.open(path, flags, 0o600)
        os.dup2(fd, target)
        os.close(fd)


def _take_over(record: records.RunRecord) -> None:
    """This process is the run's wrapper now: `stop` signals it, liveness checks look at it."""
    with records.locked(Path(record.project_dir), record.run_id):
        record.wrapper_pid = os.getpid()
        record.wrapper_start = records.process_start_time(os.getpid())
        record.detached = True
        records.save(record)

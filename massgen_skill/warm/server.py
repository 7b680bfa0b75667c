"""The warm server: massgen imported once, one fork per run. Run BY PATH under massgen's own interpreter.

Standard library only (massgen's venv has none of our package). Importable from our package too: the
fingerprint and the wire format below are the one definition both sides use.

`import massgen.cli` costs 13-19 s on 2 cores; after it the interpreter has one thread and no log handlers, so
a fork can take the caller's cwd, environment, argv and stdout/stderr and call massgen's own entry point. The
server keeps nothing from one run to the next and is not needed once a child is forked: the child writes its
exit status into the run's folder (the server writes it instead when the child died by a signal).
It ends after an idle time, on request, past a memory limit, or when its fingerprint goes stale.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import hashlib
import importlib
import io
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

# Variables massgen or its libraries (LiteLLM, httpx, rich, loguru, Python itself) may read while being
# imported: a server imported under other values must not serve the run. API keys are read per call: not here.
IMPORT_TIME_NAMES = frozenset(
    {
        "HOME",
        "LANG",
        "LC_ALL",
        "LC_CTYPE",
        "TZ",
        "TMPDIR",
        "TERM",
        "NO_COLOR",
        "FORCE_COLOR",
        "COLUMNS",
        "LINES",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "no_proxy",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "XDG_CONFIG_HOME",
        "XDG_CACHE_HOME",
        "XDG_DATA_HOME",
        "VIRTUAL_ENV",
    }
)
IMPORT_TIME_PREFIXES = (
    "LITELLM_",
    "MASSGEN_",
    "PYTHON",
    "LOGURU_",
    "LOGFIRE_",
    "OTEL_",
    "HF_",
    "TOKENIZERS_",
)
NOT_IMPORT_TIME_PREFIXES = ("MASSGEN_SKILL_",)  # ours: the run marker and the warm folder change per run
NOT_IMPORT_TIME_SUFFIXES = ("_API_KEY",)

HEADER = struct.Struct(">I")  # the length of the JSON request that follows
MAX_REQUEST = 16 * 1024 * 1024
DEFAULT_IDLE = 1800.0
DEFAULT_MAX_RSS_MB = 3072
_TICK = 0.2  # seconds: how often the server reaps children and looks at its limits
_DRIFT_EVERY = 10.0  # seconds between two looks at massgen's files while idle


def state_path(socket_path: Path) -> Path:
    """The server's own description (pid, start, fingerprint), beside its socket."""
    return socket_path.with_suffix(".json")


def import_time_env(env: Mapping[str, str]) -> dict[str, str]:
    """The import-time variables of `env`, each value as a short hash (a proxy URL may hold a password)."""
    picked = {}
    for name, value in env.items():
        if name.startswith(NOT_IMPORT_TIME_PREFIXES) or name.endswith(NOT_IMPORT_TIME_SUFFIXES):
            continue
        if name in IMPORT_TIME_NAMES or name.startswith(IMPORT_TIME_PREFIXES):
            picked[name] = hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return picked


def netns_id() -> int | None:
    """The network namespace's inode (Linux); None elsewhere."""
    try:
        return os.stat("/proc/self/ns/net").st_ino
    except OSError:
        return None


def _stamp(path: Path) -> str:
    try:
        st = path.stat()
    except OSError:
        return "missing"
    return f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"


def package_files(script: str) -> dict[str, str]:
    """Stamps that change when massgen or anything in its venv is installed, upgraded or removed."""
    venv = Path(script).resolve().parent.parent
    stamps = {"script": _stamp(Path(script).resolve())}
    for site in sorted(venv.glob("lib/python3*/site-packages")):
        stamps[str(site)] = _stamp(site)  # a folder's time changes when a package comes or goes
        for name in ("massgen/__init__.py", "massgen/cli/entrypoint.py"):
            stamps[str(site / name)] = _stamp(site / name)
    return stamps


def fingerprint(script: str, interpreter: str, env: Mapping[str, str]) -> dict[str, Any]:
    """What must be equal between the server and a caller for a forked run to behave as a cold one."""
    real = os.path.realpath(interpreter)
    return {
        "massgen": os.path.realpath(script),
        "interpreter": f"{real} {_stamp(Path(real))}",
        "files": package_files(script),
        "env": import_time_env(env),
        "netns": netns_id(),
        "uid": os.getuid(),
    }


def differences(mine: Mapping[str, Any], theirs: Mapping[str, Any]) -> list[str]:
    """Which parts differ, by name (`env:NAME` for a variable), never by value."""
    found = []
    for key in sorted(set(mine) | set(theirs)):
        if key == "env":
            ours, other = mine.get("env") or {}, theirs.get("env") or {}
            found += [f"env:{n}" for n in sorted(set(ours) | set(other)) if ours.get(n) != other.get(n)]
        elif mine.get(key) != theirs.get(key):
            found.append(key)
    return found


# --- the wire: a 4-byte length, then JSON; the fds travel with the first bytes --------------------------


def send_message(sock: socket.socket, data: Mapping[str, Any], fds: list[int] | None = None) -> None:
    body = json.dumps(data).encode()
    payload = HEADER.pack(len(body)) + body
    if fds:
        socket.send_fds(sock, [payload], fds)
    else:
        sock.sendall(payload)


def recv_message(sock: socket.socket, max_fds: int = 0) -> tuple[dict[str, Any], list[int]]:
    """One message and the fds that came with it. Raises ValueError on a short or malformed message."""
    if max_fds:
        data, fds, _flags, _addr = socket.recv_fds(sock, 65536, max_fds)
    else:
        data, fds = sock.recv(65536), []
    if len(data) < HEADER.size:
        raise ValueError("short message")
    (size,) = HEADER.unpack(data[: HEADER.size])
    if size > MAX_REQUEST:
        raise ValueError("message too large")
    body = bytearray(data[HEADER.size :])
    while len(body) < size:
        chunk = sock.recv(min(1 << 20, size - len(body)))
        if not chunk:
            raise ValueError("short message")
        body += chunk
    message = json.loads(bytes(body[:size]))
    if not isinstance(message, dict):
        raise ValueError("not an object")
    return message, list(fds)


# --- helpers shared by server and child ------------------------------------------------------------------


def start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (the same number `run.procs` reads)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat[stat.rfind(")") + 2 :].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Atomic: a temp file beside `path`, then a rename."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temp.write_text(json.dumps(data) + "\n")
        os.replace(temp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temp)


def write_status_once(path: Path, data: Mapping[str, Any]) -> None:
    """The run's exit status, unless the child already wrote its own."""
    if not path.exists():
        write_json(path, data)


def _answers(path: Path) -> bool:
    """Something listens on `path` (two servers started at once: the second leaves the first alone)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(2.0)
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


def _peer_uid(conn: socket.socket) -> int | None:
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None  # not offered here: the 0700 folder is the guard
    _pid, uid, _gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i")))
    return uid


# --- the child: becomes one massgen run -----------------------------------------------------------------


def _new_stream(fd: int, old: Any, unbuffered: bool) -> io.TextIOWrapper:
    """A stdio stream on `fd` made as Python makes it at start-up (PYTHONUNBUFFERED: no binary buffer)."""
    raw = io.FileIO(fd, "w", closefd=False)
    buffer: Any = raw if unbuffered else io.BufferedWriter(raw)
    return io.TextIOWrapper(
        buffer, encoding=old.encoding, errors=old.errors, newline="\n", write_through=unbuffered
    )


def _watch_lifeline(fd: int) -> None:
    """The wrapper holds the other end; its end-of-file means the wrapper died: end as a cold child would
    (the parent-death signal a cold massgen gets is SIGTERM)."""
    while True:
        try:
            data = os.read(fd, 64)
        except OSError:
            data = b""
        if not data:
            break
    os.kill(os.getpid(), signal.SIGTERM)


def _exit_code(code: object) -> int:
    """sys.exit's argument as Python turns it into a process exit status."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _call_main(main: Callable[[], object]) -> dict[str, int]:
    try:
        return {"exit": _exit_code(main())}
    except SystemExit as exc:
        return {"exit": _exit_code(exc.code)}
    except KeyboardInterrupt:
        traceback.print_exc()
        return {"signal": int(signal.SIGINT)}  # Python re-raises an unhandled SIGINT on exit
    except BaseException:  # what an uncaught exception does: a traceback, exit 1
        traceback.print_exc()
        return {"exit": 1}


def _finish(result: dict[str, int], status: Path) -> None:
    """Interpreter shutdown as Python does it (threads, atexit, flush), the status, then the exit."""
    try:
        threading._shutdown()  # type: ignore[attr-defined]  # join non-daemon threads, as at a normal exit
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # the status must still be written
        pass
    write_json(status, result)
    if "signal" in result:
        signal.signal(result["signal"], signal.SIG_DFL)
        os.kill(os.getpid(), result["signal"])
        result = {"exit": 128 + result["signal"]}
    os._exit(result["exit"])


def _become_run(request: dict[str, Any], fds: list[int], main: Callable[[], object], reload_env: Any) -> None:
    """In the forked child. Never returns."""
    status = Path(request["status"])
    try:
        os.setsid()
        out, err, lifeline = fds
        null = os.open(os.devnull, os.O_RDONLY)
        for source, target in ((null, 0), (out, 1), (err, 2)):
            os.dup2(source, target)
            os.close(source)
        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD, signal.SIGQUIT, signal.SIGUSR1):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # as Python sets it at start-up
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        sys.argv = list(request["argv"])
        unbuffered = bool(os.environ.get("PYTHONUNBUFFERED"))
        sys.stdout = sys.__stdout__ = _new_stream(1, sys.stdout, unbuffered)
        sys.stderr = sys.__stderr__ = _new_stream(2, sys.stderr, True)
        threading.Thread(target=_watch_lifeline, args=(lifeline,), daemon=True).start()
        reload_env()  # massgen reads .env files at import, from the caller's cwd and home: again, as theirs
        result = _call_main(main)
    except BaseException:  # a failure before massgen starts is a failed run, not the server's end
        traceback.print_exc()
        result = {"exit": 1}
    _finish(result, status)


# --- the server ---------------------------------------------------------------------------------------


class Server:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.socket_path = Path(args.socket)
        self.state_path = state_path(self.socket_path)
        self.started = time.time()
        # The environment massgen was imported under, before its import loads .env files into os.environ
        # (a cold run's caller has it without them too).
        self.start_env = dict(os.environ)
        self.last_use = time.monotonic()
        self.runs = 0
        self.children: dict[int, Path] = {}
        self.stopping = ""
        self.interpreter = sys.executable
        cli = importlib.import_module("massgen.cli")
        self.main = cli.cli_main
        self.reload_env = importlib.import_module("massgen.cli.env").load_env_file
        self.import_seconds = time.time() - self.started
        self.print_ = self.fingerprint()
        self.files = self.print_["files"]
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)

    def fingerprint(self) -> dict[str, Any]:
        return fingerprint(self.args.massgen, self.interpreter, self.start_env)

    def state(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "start": start_ticks(os.getpid()),
            "socket": str(self.socket_path),
            "massgen": self.args.massgen,
            "interpreter": self.interpreter,
            "started_at": self.started,
            "import_seconds": round(self.import_seconds, 2),
            "idle_limit": self.args.idle,
            "idle_seconds": round(time.monotonic() - self.last_use, 1),
            "rss_mb": round(rss_mb(), 1),
            "max_rss_mb": self.args.max_rss_mb,
            "runs": self.runs,
            "fingerprint": self.print_,
        }

    def serve(self) -> None:
        if _answers(self.socket_path):
            print("warm server: another one already serves this socket", file=sys.stderr, flush=True)
            return
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        self.listener.bind(str(self.socket_path))
        os.chmod(self.socket_path, 0o600)
        self.listener.listen(16)
        write_json(self.state_path, self.state())
        signal.signal(signal.SIGTERM, self._on_term)
        next_drift = time.monotonic() + _DRIFT_EVERY
        while not self.stopping:
            ready, _, _ = select.select([self.listener], [], [], _TICK)
            if ready:
                self._accept()
            self._reap()
            if time.monotonic() >= next_drift:
                next_drift = time.monotonic() + _DRIFT_EVERY
                self._check_limits()
        self._close()

    def _on_term(self, _signum: int, _frame: object) -> None:
        self.stopping = "SIGTERM"

    def _check_limits(self) -> None:
        if time.monotonic() - self.last_use > self.args.idle:
            self.stopping = f"idle for {self.args.idle:g} s"
        elif rss_mb() > self.args.max_rss_mb:
            self.stopping = f"memory above {self.args.max_rss_mb} MB"
        elif package_files(self.args.massgen) != self.files:
            self.stopping = "massgen's files changed"

    def _close(self) -> None:
        print(f"warm server {os.getpid()} ends: {self.stopping}", file=sys.stderr, flush=True)
        self.listener.close()
        for path in (self.socket_path, self.state_path):
            with contextlib.suppress(OSError):
                path.unlink()

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.children.clear()
                return
            if pid == 0:
                return
            path = self.children.pop(pid, None)
            if path is not None:
                code = os.waitstatus_to_exitcode(status)
                write_status_once(path, {"signal": -code} if code < 0 else {"exit": code})

    def _accept(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            conn.settimeout(10.0)
            fds: list[int] = []
            try:
                uid = _peer_uid(conn)
                if uid is not None and uid != os.getuid():
                    send_message(conn, {"ok": False, "reason": "another user"})
                    return
                request, fds = recv_message(conn, max_fds=3)
                self._answer(conn, request, fds)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                with contextlib.suppress(OSError):
                    send_message(conn, {"ok": False, "reason": f"bad request: {exc}"})
            finally:
                for fd in fds:
                    os.close(fd)

    def _answer(self, conn: socket.socket, request: dict[str, Any], fds: list[int]) -> None:
        op = request.get("op")
        if op == "status":
            send_message(conn, {"ok": True, **self.state()})
        elif op == "stop":
            self.stopping = "stopped on request"
            send_message(conn, {"ok": True, "pid": os.getpid()})
        elif op == "run":
            self._run(conn, request, fds)
        else:
            send_message(conn, {"ok": False, "reason": f"unknown op {op!r}"})

    def _run(self, conn: socket.socket, request: dict[str, Any], fds: list[int]) -> None:
        self.print_ = self.fingerprint()
        differ = differences(self.print_, request["fingerprint"])
        if differ:
            send_message(conn, {"ok": False, "reason": "differs: " + ", ".join(differ), "differs": differ})
            if "files" in differ and self.print_["files"] != self.files:
                self.stopping = "massgen's files changed"
            return
        if len(fds) != 3:
            send_message(conn, {"ok": False, "reason": "expected 3 file descriptors"})
            return
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        pid = os.fork()
        if pid == 0:
            self.listener.close()
            conn.close()
            _become_run(request, fds, self.main, self.reload_env)
        self.runs += 1
        self.last_use = time.monotonic()
        self.children[pid] = Path(request["status"])
        send_message(conn, {"ok": True, "pid": pid, "start": start_ticks(pid)})


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="massgen-skill warm server")
    parser.add_argument("--socket", required=True)
    parser.add_argument("--massgen", required=True, help="the massgen script this server stands in for")
    parser.add_argument("--idle", type=float, default=DEFAULT_IDLE)
    parser.add_argument("--max-rss-mb", type=int, default=DEFAULT_MAX_RSS_MB)
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    os.umask(0o077)
    args = parse(argv)
    sys.argv = [args.massgen]
    Server(args).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

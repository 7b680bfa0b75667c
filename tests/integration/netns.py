"""One private, loopback-only network namespace shared by everything a test starts.

The real massgen (and litellm) call the internet on every run, so they run ONLY in here. A scripted LLM
server, massgen, its web server and our HTTP probes all run inside the same namespace and talk over its
loopback; nothing inside can reach beyond 127.0.0.1.

Preferred: ``ip netns add mgskill-<random>`` + ``ip netns exec NAME …``, deleted at :meth:`NetNS.close`.
Fallback: a long-lived holder ``unshare -n sleep …`` and ``nsenter -t PID -n …``.
:func:`available` says whether either works (``(False, reason)`` -> the caller skips; never run unconfined).

Every process is started in its own process group (``start_new_session``) with SIGINT reset to the default
action, is tracked, and is killed (group first, then every remaining process inside the namespace) at close.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PREFIX = "mgskill-"
_AVAILABLE: tuple[bool, str] | None = None


class NetNSUnavailable(RuntimeError):
    """No private network namespace can be made here (reason in the message)."""


@dataclass
class RunResult:
    argv: list[str]
    returncode: int | None  # None when the process was killed on timeout
    stdout: str
    stderr: str
    duration: float
    timed_out: bool = False

    def lines(self) -> list[str]:
        return self.stdout.splitlines()

    def describe(self, limit: int = 4000) -> str:
        """Short text for assertion messages."""
        return (
            f"argv={self.argv!r} rc={self.returncode} timed_out={self.timed_out} t={self.duration:.1f}s\n"
            f"--- stdout (tail) ---\n{self.stdout[-limit:]}\n--- stderr (tail) ---\n{self.stderr[-limit:]}"
        )


class NsProcess:
    """A process started inside the namespace, leader of its own process group."""

    def __init__(self, ns: NetNS, argv: list[str], popen: subprocess.Popen[Any]) -> None:
        self.ns = ns
        self.argv = argv
        self.popen = popen
        self.started = time.monotonic()

    @property
    def pid(self) -> int:
        return self.popen.pid

    def poll(self) -> int | None:
        return self.popen.poll()

    def wait(self, timeout: float) -> int:
        return self.popen.wait(timeout=timeout)

    def send_signal(self, sig: int) -> None:
        """Signal the leader only (like ``kill -SIG pid``)."""
        if self.popen.poll() is None:
            self.popen.send_signal(sig)

    def send_signal_group(self, sig: int) -> None:
        """Signal the whole process group (like a terminal's Ctrl-C). After the leader has been reaped, its
        group id is only used to pick members among the processes inside our namespace."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, sig)
            return
        for pid in self.ns.pids_inside():
            try:
                if os.getpgid(pid) == self.popen.pid:
                    os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def kill_group(self, grace: float = 3.0) -> None:
        if self.popen.poll() is None:
            self.send_signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=grace)
        self.send_signal_group(signal.SIGKILL)  # stragglers left in the group
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=grace)

    def communicate(self, timeout: float) -> tuple[str, str]:
        out, err = self.popen.communicate(timeout=timeout)
        return out or "", err or ""


def _reset_signals() -> None:  # runs in the child between fork and exec
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _quiet(argv: Sequence[str], timeout: float = 15) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, check=False)


def _netns_inode(pid: int | str) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return None


class NetNS:
    """A private network namespace with only an ``lo`` interface, up."""

    def __init__(self, name: str | None, holder: subprocess.Popen[bytes] | None) -> None:
        self.name = name
        self.holder = holder
        self.processes: list[NsProcess] = []
        self.closed = False
        self.method = "ip-netns" if name else "unshare"
        self.inode: str | None = None
        self.user_ns = False

    # --- construction ------------------------------------------------------------------------------------
    @classmethod
    def create(cls, method: str | None = None) -> NetNS:
        """Make a namespace. ``method``: ``ip`` (ip netns), ``unshare`` (holder + nsenter), ``none`` (always
        unavailable; for testing the skip path) or None = ``$MGSKILL_NETNS_METHOD`` or ``ip`` then
        ``unshare``."""
        method = method or os.environ.get("MGSKILL_NETNS_METHOD") or "auto"
        if method not in ("auto", "ip", "unshare", "none"):
            raise NetNSUnavailable(f"unknown MGSKILL_NETNS_METHOD {method!r} (ip, unshare, none)")
        if method == "none":
            raise NetNSUnavailable("disabled by MGSKILL_NETNS_METHOD=none")
        errors: list[str] = []
        if method in ("auto", "ip"):
            if os.geteuid() != 0:
                errors.append("ip netns: not root")
            elif not shutil.which("ip"):
                errors.append("ip netns: `ip` (iproute2) not found")
            else:
                try:
                    return cls._create_ip_netns()
                except NetNSUnavailable as exc:
                    errors.append(f"ip netns: {exc}")
        if method in ("auto", "unshare"):
            # also works unprivileged where user namespaces are allowed (unshare -r -n)
            if shutil.which("unshare") and shutil.which("nsenter"):
                try:
                    return cls._create_unshare()
                except NetNSUnavailable as exc:
                    errors.append(f"unshare: {exc}")
            else:
                errors.append("unshare/nsenter not found")
        raise NetNSUnavailable("; ".join(errors))

    @classmethod
    def _create_ip_netns(cls) -> NetNS:
        name = PREFIX + uuid.uuid4().hex[:10]
        res = _quiet(["ip", "netns", "add", name])
        if res.returncode != 0:
            raise NetNSUnavailable(res.stderr.strip() or f"ip netns add exit {res.returncode}")
        ns = cls(name, None)
        try:
            res = _quiet(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"])
            if res.returncode != 0:
                raise NetNSUnavailable(res.stderr.strip() or "cannot bring lo up")
            ns._verify()
        except BaseException:
            ns.close()
            raise
        return ns

    @classmethod
    def _create_unshare(cls) -> NetNS:
        argv = ["unshare", "-n"]
        if os.geteuid() != 0:
            argv.append("-r")  # map to root in a new user namespace
        argv += ["sh", "-c", "ip link set lo up 2>/dev/null; exec sleep 86400"]
        holder = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        ns = cls(None, holder)
        ns.user_ns = os.geteuid() != 0
        try:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                if holder.poll() is not None:
                    err = holder.stderr.read().decode(errors="replace") if holder.stderr else ""
                    raise NetNSUnavailable(err.strip() or f"unshare exited {holder.returncode}")
                if _netns_inode(holder.pid) not in (None, _netns_inode("self")):
                    break
                time.sleep(0.05)
            else:
                raise NetNSUnavailable("holder process never entered a new network namespace")
            # `ip link set lo up` may have raced the check above; do it again via nsenter
            _quiet([*ns.prefix(), "ip", "link", "set", "lo", "up"])
            ns._verify()
        except BaseException:
            ns.close()
            raise
        return ns

    def _verify(self) -> None:
        """Refuse a namespace that has anything but a loopback interface, or whose lo is down."""
        probe = (
            "import socket;s=socket.socket();s.bind(('127.0.0.1',0));s.listen(1);"
            "socket.create_connection(s.getsockname(),timeout=3).close()"
        )
        res = _quiet([*self.prefix(), sys.executable, "-c", probe])
        if res.returncode != 0:
            raise NetNSUnavailable(f"loopback not usable in namespace: {res.stderr.strip()[-300:]}")
        links = _quiet([*self.prefix(), "ip", "-o", "link", "show"])
        names = [
            line.split(":")[1].strip().split("@")[0] for line in links.stdout.splitlines() if ":" in line
        ]
        if links.returncode != 0 or names != ["lo"]:
            raise NetNSUnavailable(
                f"namespace is not loopback-only: interfaces={names or links.stderr.strip()}"
            )
        if self.holder is not None:
            self.inode = _netns_inode(self.holder.pid)
        else:
            res = _quiet([*self.prefix(), "readlink", "/proc/self/ns/net"])
            self.inode = res.stdout.strip() or None
        if not self.inode or self.inode == _netns_inode("self"):
            raise NetNSUnavailable("could not confirm that commands run outside the host network namespace")

    # --- running commands --------------------------------------------------------------------------------
    def prefix(self) -> list[str]:
        if self.closed:
            raise RuntimeError("namespace already closed")
        if self.name:
            return ["ip", "netns", "exec", self.name]
        assert self.holder is not None
        if self.user_ns:  # unprivileged: join the holder's user namespace too, keeping our uid
            return ["nsenter", "-t", str(self.holder.pid), "-U", "-n", "--preserve-credentials"]
        return ["nsenter", "-t", str(self.holder.pid), "-n"]

    def popen(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        stdin: Any = subprocess.DEVNULL,
        stdout: Any = subprocess.PIPE,
        stderr: Any = subprocess.PIPE,
        text: bool = True,
    ) -> NsProcess:
        """Start ``argv`` inside the namespace, in a new session/process group, SIGINT at default."""
        full = [*self.prefix(), *map(str, argv)]
        popen = subprocess.Popen(
            full,
            env=dict(env) if env is not None else None,
            cwd=str(cwd) if cwd is not None else None,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            text=text,
            start_new_session=True,
            preexec_fn=_reset_signals,
        )
        proc = NsProcess(self, list(map(str, argv)), popen)
        self.processes.append(proc)
        return proc

    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        timeout: float = 120,
        input: str | None = None,
    ) -> RunResult:
        """Run to completion; on timeout the process group is killed and ``timed_out`` is set."""
        start = time.monotonic()
        proc = self.popen(
            argv, env=env, cwd=cwd, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL
        )
        try:
            out, err = proc.popen.communicate(input=input, timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            proc.kill_group(grace=2)
            out, err = proc.popen.communicate()
            timed_out = True
        finally:
            if proc.poll() is not None:
                proc.send_signal_group(signal.SIGKILL)  # helpers left behind in the group
        return RunResult(
            argv=proc.argv,
            returncode=None if timed_out else proc.popen.returncode,
            stdout=out or "",
            stderr=err or "",
            duration=time.monotonic() - start,
            timed_out=timed_out,
        )

    # --- small helpers that must run inside ----------------------------------------------------------------
    def free_port(self) -> int:
        res = self.run(
            [
                sys.executable,
                "-c",
                "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])",
            ],
            timeout=15,
        )
        if res.returncode != 0:
            raise RuntimeError(res.describe())
        return int(res.stdout.strip())

    def http(self, method: str, url: str, body: Any = None, timeout: float = 10) -> tuple[int | None, Any]:
        """One HTTP request made from inside the namespace. Returns ``(status, parsed JSON or text)``;
        ``(None, "<error>")`` when the connection fails."""
        res = self.run(
            [sys.executable, str(Path(__file__).with_name("ns_http.py")), method, url, json.dumps(body)],
            timeout=timeout + 10,
        )
        if res.returncode != 0 or not res.stdout.strip():
            return None, f"client failed: {res.stderr.strip()[-500:]}"
        reply = json.loads(res.stdout)
        return reply["status"], reply["body"]

    # --- teardown ----------------------------------------------------------------------------------------
    def pids_inside(self) -> list[int]:
        """Every process currently in this namespace (all were started by us)."""
        if not self.inode:
            return []
        me = os.getpid()
        pids = []
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) != me and _netns_inode(entry) == self.inode:
                if self.holder is not None and int(entry) == self.holder.pid:
                    continue
                pids.append(int(entry))
        return pids

    def kill_all(self) -> None:
        for proc in self.processes:
            proc.kill_group(grace=3)
        for _ in range(3):
            pids = self.pids_inside()
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)
        for proc in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.popen.wait(timeout=2)
            for stream in (proc.popen.stdout, proc.popen.stderr, proc.popen.stdin):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
        self.processes.clear()

    def close(self) -> None:
        if self.closed:
            return
        try:
            self.kill_all()
        finally:
            self.closed = True
            if self.name:
                _quiet(["ip", "netns", "del", self.name])
            if self.holder is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.holder.pid, signal.SIGKILL)
                self.holder.wait(timeout=5)
                if self.holder.stderr:
                    self.holder.stderr.close()

    def __enter__(self) -> NetNS:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def available() -> tuple[bool, str]:
    """Can a private loopback-only namespace be made here? ``(ok, reason)``; cached per process."""
    global _AVAILABLE
    if _AVAILABLE is None:
        try:
            NetNS.create().close()
            _AVAILABLE = (True, "ok")
        except (NetNSUnavailable, OSError, subprocess.SubprocessError) as exc:
            _AVAILABLE = (False, f"no private network namespace available: {exc}")
    return _AVAILABLE

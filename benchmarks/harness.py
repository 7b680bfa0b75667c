"""The benchmarks' workshop: paths, the scratch projects and their environment, processes (through the
package's process layer), pipes read line by line with arrival times, and the official skill's scripts."""

from __future__ import annotations

import contextlib
import json
import math
import os
import selectors
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

from fake_massgen import EXECUTABLE as FAKE_MASSGEN

from massgen_skill import atomic
from massgen_skill.massgen import private_env
from massgen_skill.prepare import ports
from massgen_skill.run import procs

REPO = Path(__file__).resolve().parent.parent
TESTS = REPO / "tests"
SCRIPTS = REPO / "scripts"
SAMPLES = TESTS / "fixtures" / "massgen_0.1.97" / "runs"  # massgen's recorded runs, in the repository
PY = os.path.realpath(sys.executable)
TICKS = os.sysconf("SC_CLK_TCK")
TIMEOUT = 60.0  # upper bound for any single process we wait for


CRITERIA = {
    "aspiration": "An answer a senior engineer would forward to the team unchanged",
    "criteria": [
        {
            "text": "Correctness: every claim is right and checkable against the code",
            "category": "primary",
            "anti_patterns": ["hand-waving", "claims without a file or line"],
        },
        {
            "text": "Coverage: all parts of the question are answered",
            "category": "standard",
            "anti_patterns": ["answering an easier question", "skipping the edge cases"],
        },
        {
            "text": "Clarity: short sections, concrete examples",
            "category": "standard",
            "anti_patterns": ["walls of text", "jargon without definitions"],
        },
        {
            "text": "Extras: points out one risk nobody asked about",
            "category": "stretch",
            "anti_patterns": ["generic risk lists", "speculation without evidence"],
        },
    ],
}

CONFIG_YAML = """\
# written by benchmarks/run.py (the fake massgen ignores the models)
agents:
  - id: agent_a
    backend: {type: chatcompletion, model: fake-a, base_url: "http://127.0.0.1:9/v1"}
  - id: agent_b
    backend: {type: chatcompletion, model: fake-b, base_url: "http://127.0.0.1:9/v1"}
  - id: agent_c
    backend: {type: chatcompletion, model: fake-c, base_url: "http://127.0.0.1:9/v1"}
timeout_settings:
  orchestrator_timeout_seconds: 240
ui:
  display_type: textual_terminal
  logging_enabled: true
"""

# `massgen` stand-in for the latency runs: the tests' fake, plus one timestamp (CLOCK_MONOTONIC, the same
# clock in every process) taken right before the fake writes its `LOG_DIR:` line. No knob of the fake is used.
STAMP_MASSGEN = """\
#!/usr/bin/env python3
import os, sys, time
sys.path.insert(0, {tests!r})


class _Tap:
    def __init__(self, stream, fd):
        self._stream, self._fd, self._done = stream, fd, False

    def write(self, text):
        stamp = None
        if not self._done and text.startswith("LOG_DIR:"):
            stamp, self._done = time.monotonic(), True
        count = self._stream.write(text)
        if stamp is not None:
            os.write(self._fd, (repr(stamp) + "\\n").encode())
        return count

    def __getattr__(self, name):
        return getattr(self._stream, name)


if os.environ.get("BENCH_STAMP_FILE"):
    _fd = os.open(os.environ["BENCH_STAMP_FILE"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    sys.stdout = _Tap(sys.stdout, _fd)
from fake_massgen.main import main

sys.exit(main())
"""

# `uv run massgen …` → the massgen named by $BENCH_MASSGEN (the fake). Anything else is refused.
UV_SHIM = """\
#!/bin/sh
if [ "$1" = run ] && [ "$2" = massgen ]; then
  shift 2
  exec "${BENCH_MASSGEN:?}" "$@"
fi
echo "benchmark uv shim: only 'uv run massgen' is supported" >&2
exit 97
"""

# A process that looks like a running massgen of the review project (for our watcher's bare-LOG_DIR mode).
DUMMY_MASSGEN = "#!/usr/bin/env python3\nimport time\ntime.sleep(600)\n"


# ------------------------------------------------------------------------------------------------ helpers


def median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.1f} ms"


_STARTED: dict[int, tuple[subprocess.Popen[bytes], int | None]] = {}  # pid -> (process, its start time)
KILL_NOW = (0.0, 0.0)  # SIGINT, SIGTERM, SIGKILL without graces
ORDERLY = (10.0, 5.0)  # SIGINT first: a wrapper stops its massgen and writes its record


def spawn(
    argv: list[str], env: dict[str, str], cwd: Path, stdout: int = subprocess.DEVNULL
) -> subprocess.Popen[bytes]:
    """Start a process in its own session (the process layer's spawn); remembered for cleanup."""
    proc = procs.spawn_group(argv, cwd, env, stdout=stdout, stderr=subprocess.DEVNULL)
    _STARTED[proc.pid] = (proc, procs.process_start_time(proc.pid))
    return proc


def end_group(proc: subprocess.Popen[bytes], graces: tuple[float, float] = KILL_NOW) -> None:
    """Stop the group of a process this script started (the process layer's staged stop), then reap it."""
    procs.stop_child(proc, _STARTED.get(proc.pid, (proc, None))[1], graces)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def cleanup_started() -> None:
    for proc, _ in _STARTED.values():
        if proc.poll() is None:
            end_group(proc)


def timed_run(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int]:
    """Wall time of one command. A blocking wait: `Popen.wait(timeout=…)` polls in steps of up to 50 ms,
    which would quantise every figure; a watchdog timer ends the process group after TIMEOUT instead."""
    start = time.perf_counter()
    proc = spawn(argv, env, cwd)
    watchdog = threading.Timer(TIMEOUT, lambda: end_group(proc))
    watchdog.daemon = True
    watchdog.start()
    code = proc.wait()
    elapsed = time.perf_counter() - start
    watchdog.cancel()
    if elapsed >= TIMEOUT:
        raise RuntimeError(f"timed out: {' '.join(argv)}")
    return elapsed, code


def write_atomic(path: Path, data: object) -> None:
    atomic.write_text(path, json.dumps(data, indent=2))


def free_ports(count: int) -> list[int]:
    found: set[int] = set()
    while len(found) < count:
        found.add(ports.any_free())
    return sorted(found)


def proc_cpu_ticks(pid: int) -> int:
    """utime + stime + cutime + cstime of a process (children count once they are reaped)."""
    fields = procs.process_stat(pid)
    if fields is None:
        raise RuntimeError(f"process {pid} is gone")
    return sum(int(fields[i]) for i in (11, 12, 13, 14))


def children_of(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace").split("\0")[:-1]
    except OSError:
        return []


class Streams:
    """Line readers over several pipes at once; every line keeps the monotonic time it arrived."""

    def __init__(self) -> None:
        self.selector = selectors.DefaultSelector()
        self.lines: dict[str, list[tuple[float, str]]] = {}
        self._buffers: dict[str, bytes] = {}
        self.open: set[str] = set()

    def add(self, name: str, stream: IO[bytes] | None) -> None:
        assert stream is not None, "the stream must be a pipe"
        fd = stream.fileno()
        self.selector.register(fd, selectors.EVENT_READ, name)
        self.lines[name], self._buffers[name] = [], b""
        self.open.add(name)

    def pump(self, timeout: float) -> None:
        for key, _ in self.selector.select(max(0.0, timeout)):
            name = key.data
            chunk = os.read(key.fd, 65536)
            now = time.monotonic()
            if not chunk:
                self.selector.unregister(key.fd)
                self.open.discard(name)
                continue
            *complete, self._buffers[name] = (self._buffers[name] + chunk).split(b"\n")
            self.lines[name] += [(now, line.decode("utf-8", "replace")) for line in complete]

    def find(self, name: str, prefix: str, start: int = 0) -> tuple[int, float] | None:
        for index, (when, line) in enumerate(self.lines[name][start:], start):
            if line.startswith(prefix):
                return index, when
        return None

    def wait_for(
        self, wants: dict[str, tuple[str, int]], deadline: float
    ) -> dict[str, tuple[int, float] | None]:
        """For each stream: the first line starting with the prefix at or after the index, or None."""
        found: dict[str, tuple[int, float] | None] = {}
        while True:
            for name, (prefix, start) in wants.items():
                if found.get(name) is None:
                    found[name] = self.find(name, prefix, start)
            pending = [n for n in wants if found[n] is None and n in self.open]
            remaining = deadline - time.monotonic()
            if not pending or remaining <= 0:
                return found
            self.pump(min(remaining, 0.5))

    def drain_until_closed(self, deadline: float) -> None:
        while self.open and time.monotonic() < deadline:
            self.pump(deadline - time.monotonic())


# --------------------------------------------------------------------------------------------- environment


def find_peer() -> tuple[Path | None, str]:
    """The official skill's scripts folder inside the cached massgen 0.1.97 venv, or (None, why)."""
    root = private_env.venv_dir()  # a path only: nothing is installed or run
    found = sorted(root.glob("lib/python3*/site-packages/massgen/skills/massgen/scripts"))
    if not found:
        return None, f"peer unavailable (no massgen 0.1.97 venv with the skill at {root})"
    scripts = found[-1]
    for name in ("massgen_run.sh", "review_watcher.sh"):
        if not (scripts / name).is_file():
            return None, f"peer unavailable ({scripts / name} missing)"
    if not shutil.which("jq"):
        return None, "peer unavailable (jq not on PATH; the official scripts need it)"
    return scripts, str(scripts)


_SCRUB_NAMES = {
    "MASSGEN_LOG_BASE_DIR",
    "MASSGEN_RUNTIME_INBOX_DIR",
    "MASSGEN_BIN",
    "MASSGEN_SKILL_PYTHON",
    "CLAUDECODE",
    "HF_TOKEN",
    "PYTHONDONTWRITEBYTECODE",  # measure the steady state: bytecode cached, as after `pip install`
    "PYTHONUNBUFFERED",  # our wrapper sets it for massgen itself; the peer does not
    "PYTHONPATH",
}


class Bench:
    def __init__(self, tmp: Path, peer: Path | None) -> None:
        self.tmp = tmp
        self.peer = peer
        self.home = tmp / "home"
        self.shim_bin = tmp / "shim-bin"  # uv → fake
        self.stamp_bin = tmp / "stamp-bin"  # massgen → fake + LOG_DIR timestamp
        self.dummy_bin = tmp / "dummy-bin"
        for folder in (self.home, self.shim_bin, self.stamp_bin, self.dummy_bin):
            folder.mkdir(parents=True)
        self._script(self.shim_bin / "uv", UV_SHIM)
        self.stamp_massgen = self._script(self.stamp_bin / "massgen", STAMP_MASSGEN.format(tests=str(TESTS)))
        self.dummy_massgen = self._script(self.dummy_bin / "massgen", DUMMY_MASSGEN)
        self.criteria = tmp / "criteria.json"
        self.criteria.write_text(json.dumps(CRITERIA, indent=2), encoding="utf-8")
        self.counter = 0

    @staticmethod
    def _script(path: Path, text: str) -> Path:
        path.write_text(text, encoding="utf-8")
        path.chmod(0o755)
        return path

    def project(self, name: str) -> Path:
        project = self.tmp / name
        (project / ".massgen").mkdir(parents=True)
        (project / ".massgen" / "config.yaml").write_text(CONFIG_YAML, encoding="utf-8")
        return project

    def env(self, massgen: Path = FAKE_MASSGEN, home: Path | None = None, **knobs: object) -> dict[str, str]:
        """Child environment: `massgen` (and a `uv` shim for the peer) first on PATH, then the folder of
        this very interpreter (so `python3` is the same Python as the baseline, not a pyenv shim).
        Keywords are fake knobs (`SCENARIO="hang"` → FAKE_MASSGEN_SCENARIO) or BENCH_* variables."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("FAKE_MASSGEN_") and k not in _SCRUB_NAMES and not k.endswith("_API_KEY")
        }
        env["PATH"] = os.pathsep.join(
            [str(massgen.parent), str(self.shim_bin), os.path.dirname(PY), env.get("PATH", os.defpath)]
        )
        env["HOME"] = str(home or self.home)
        env["BENCH_MASSGEN"] = str(massgen)
        env["FAKE_MASSGEN_STEP_DELAY"] = "0"
        env["FAKE_MASSGEN_STATUS_INTERVAL"] = "0.01"
        for name, value in knobs.items():
            env[name if name.startswith("BENCH_") else f"FAKE_MASSGEN_{name.upper()}"] = str(value)
        return env

    def task(self, label: str) -> str:
        self.counter += 1
        return f"Benchmark task {label} #{self.counter}: summarise the cache layer"

    # command lines
    def ours_run(self, *args: str) -> list[str]:
        return [str(SCRIPTS / "massgen_run.sh"), *args]

    def peer_run(self, *args: str) -> list[str]:
        assert self.peer is not None
        return ["bash", str(self.peer / "massgen_run.sh"), *args]

#!/usr/bin/env python3
"""Idle CPU of `massgen-skill status --follow` on a run that makes no progress (target: the review watcher's
budget, ≤ 0.5 % of one core). Standard library only; not part of pytest.

    python3 benchmarks/follow_idle.py [--seconds 10]

A fake massgen run that hangs (status.json rewritten every 2 s, as the real one does) is followed for the
window after a settle period; the follower's utime + stime over the window is the figure.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The package and the tests' fake massgen, from this checkout (after this folder, which holds the modules).
sys.path[1:1] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "tests")]

from harness import PY, SCRIPTS, TICKS, Bench, cleanup_started, end_group, proc_cpu_ticks, spawn  # noqa: E402

TARGET = 0.5  # % of one core, the idle review watcher's budget (benchmarks/README.md)
SETTLE = 2.0  # seconds: the follower's start (imports, first look) is not idle time


def _start_hanging_run(bench: Bench, project: Path) -> str:
    env = bench.env(SCENARIO="hang", STATUS_INTERVAL=2)
    proc = spawn([str(SCRIPTS / "massgen_run.sh"), "--no-web", "--detach", "idle"], env, project, stdout=-1)
    out = proc.communicate(timeout=60)[0].decode()
    found = re.search(r"^RUN_ID: (\S+)$", out, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"no RUN_ID from the detached run: {out!r}")
    return found.group(1)


def main(argv: list[str] | None = None) -> int:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--seconds", type=float, default=10.0, help="idle window (10 s)")
    args = parser.parse_args(argv)
    bench = Bench(Path(tempfile.mkdtemp(prefix="mgskill-follow-")), None)
    project = bench.project("follow")
    env = bench.env()
    run_id = None
    try:
        run_id = _start_hanging_run(bench, project)
        argv_follow = [PY, "-m", "massgen_skill", "status", run_id, "--follow", "--timeout", "600"]
        follower = spawn(argv_follow, env, project)
        time.sleep(SETTLE)
        before, started = proc_cpu_ticks(follower.pid), time.monotonic()
        time.sleep(args.seconds)
        used = (proc_cpu_ticks(follower.pid) - before) / TICKS / (time.monotonic() - started) * 100
        end_group(follower)
        verdict = "met" if used <= TARGET else f"MISSED by {used - TARGET:.2f} %"
        step = 100 / TICKS / args.seconds  # one clock tick over the window
        figure = f"{used:.2f} % of one core (≤ {TARGET} %: {verdict}; resolution {step:.2f} %)"
        print(f"idle `status --follow` CPU over {args.seconds:g} s: {figure}")
        return 0
    finally:
        cleanup_started()
        if run_id:  # the detached run supervises itself: `stop` ends it and its fake massgen
            stop = [str(SCRIPTS / "massgen_skill.sh"), "stop", run_id]
            subprocess.run(stop, env=env, cwd=project, capture_output=True, timeout=60, check=False)


if __name__ == "__main__":
    sys.exit(main())

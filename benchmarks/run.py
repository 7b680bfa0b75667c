#!/usr/bin/env python3
"""massgen-skill benchmarks, side by side with the official MassGen skill's scripts. Standard library only.

    python3 benchmarks/run.py     # prints the table, appends a dated section to benchmarks/RESULTS.md

What each figure means and how it is measured: benchmarks/README.md. Nothing here is part of pytest.
`harness.py` holds the scratch projects and the process handling (the package's own process layer),
`figures.py` the measurements, `report.py` the table, the guard and RESULTS.md.

The official skill ("peer") is the pair of shell scripts shipped inside the massgen 0.1.97 package of the
integration suite's cached venv. They are run as they are, from where they are, with `jq` on PATH and a `uv`
shim that turns `uv run massgen …` into the tests' fake massgen. The real massgen package is never imported
or run here.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# The package and the tests' fake massgen, from this checkout (after this folder, which holds the modules).
sys.path[1:1] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "tests")]

from figures import (  # noqa: E402
    fig_concurrent,
    fig_overhead,
    fig_relay,
    fig_review,
    fig_status,
)
from harness import Bench, cleanup_started, find_peer  # noqa: E402
from report import RESULTS_MD, Report, append_results, machine, render  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="massgen-skill benchmarks (see benchmarks/README.md)")
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds per start-up figure (15)")
    parser.add_argument("--relay-samples", type=int, default=30, help="LOG_DIR relay samples (30)")
    parser.add_argument("--review-trials", type=int, default=20, help="review notice trials (20)")
    parser.add_argument("--idle-seconds", type=float, default=6.0, help="idle CPU window (6 s)")
    parser.add_argument("--concurrent", type=int, default=20, help="concurrent runs (20)")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=("overhead", "relay", "review", "status", "concurrent"),
        help="run only these figures (implies --no-write)",
    )
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("--json", metavar="FILE", help="also write the raw figures as JSON")
    args = parser.parse_args(argv)
    if args.rounds < 5 or args.relay_samples < 5 or args.review_trials < 5 or args.idle_seconds < 5:
        parser.error("at least 5 rounds/samples/trials and a 5 s idle window")
    if sys.platform != "linux":
        parser.error("Linux only (reads /proc)")

    peer, peer_note = find_peer()
    print(f"peer: {peer_note}", flush=True)
    began = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="mgskill-bench-"))
    report = Report()
    report.extra["load_start"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    bench = Bench(tmp, peer)
    state: dict[str, float] = {}
    steps: dict[str, Callable[[], object]] = {
        "overhead": lambda: state.update(base=fig_overhead(bench, report, args.rounds)),
        "relay": lambda: fig_relay(bench, report, args.relay_samples),
        "review": lambda: fig_review(bench, report, args.review_trials, args.idle_seconds),
        "status": lambda: fig_status(bench, report, args.rounds),
        "concurrent": lambda: fig_concurrent(bench, report, args.concurrent),
    }
    chosen = [name for name in steps if not args.only or name in args.only]
    try:
        for name in chosen:
            t = time.monotonic()
            print(f"… {name}", end="", flush=True)
            steps[name]()
            print(f" ({time.monotonic() - t:.0f} s)", flush=True)
    finally:
        cleanup_started()
        if args.keep:
            print(f"scratch folder kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    section = render(report, machine(), peer_note, time.monotonic() - began)
    print()
    print(section)
    if args.json:
        Path(args.json).write_text(json.dumps(report.extra, indent=1, default=str), encoding="utf-8")
    if not args.no_write and not args.only:
        append_results(section)
        print(f"appended to {RESULTS_MD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

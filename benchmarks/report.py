"""The benchmarks' report: rows of figures, verdicts against targets, the guard, RESULTS.md."""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from harness import PY, REPO, ms

from massgen_skill import atomic

RESULTS_MD = Path(__file__).resolve().parent / "RESULTS.md"


@dataclass
class Row:
    figure: str
    ours: str
    peer: str
    target: str
    verdict: str


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, object] = field(default_factory=dict)
    guard: dict[str, bool] = field(default_factory=dict)  # the performance guard's figures: met or not

    def add(self, *cells: str, guard: str | None = None) -> None:
        """One row; `guard` names it as one of the guard's figures (met when its verdict is "met")."""
        row = Row(*cells)
        self.rows.append(row)
        if guard:
            self.guard[guard] = row.verdict == "met"


def verdict(value: float, target: float, unit: str, fmt: str = "{:.2f}") -> str:
    if math.isnan(value):
        return "not measured"
    if value <= target:
        return "met"
    return f"MISSED by {fmt.format(value - target)}{unit}"


def machine() -> dict[str, str]:
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    try:
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        load = "?"
    return {
        "load": load,
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "nproc": str(os.cpu_count() or "?"),
        "python": f"{platform.python_version()} ({PY})",
        "os": f"{platform.system()} {platform.release()}",
        "commit": (commit or "?") + (" + uncommitted changes" if dirty else ""),
    }


def render(report: Report, info: dict[str, str], peer_note: str, seconds: float) -> str:
    lines = [
        f"## {info['date']} — nproc {info['nproc']}",
        "",
        f"Python {info['python']}; {info['os']}; commit {info['commit']}; peer: {peer_note}; "
        f"one bare `python3 -c pass` start = {ms(float(report.extra.get('python_start_s', math.nan)))}; "
        f"benchmark took {seconds:.0f} s; load average at start {report.extra.get('load_start', '?')}, "
        f"at end {info['load']}.",
        "",
        "| figure | ours | official skill (peer) | target | verdict |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {r.figure} | {r.ours} | {r.peer} | {r.target} | {r.verdict} |" for r in report.rows]
    if report.guard:
        missed = [name for name, met in report.guard.items() if not met]
        lines += [
            "",
            f"**Guard** ({', '.join(report.guard)}): "
            + (
                f"holds ({len(report.guard)}/{len(report.guard)} met)"
                if not missed
                else f"BROKEN: {', '.join(missed)}"
            ),
        ]
    if report.notes:
        lines.append("")
        lines += [f"- {note}" for note in report.notes]
    return "\n".join(lines) + "\n"


RESULTS_HEADER = """\
# Benchmark results

Written by `python3 benchmarks/run.py` (see README.md in this folder for what each figure means).
Each run appends a dated section; earlier sections stay as they were.
"""


def append_results(section: str) -> None:
    text = RESULTS_MD.read_text(encoding="utf-8") if RESULTS_MD.exists() else RESULTS_HEADER
    atomic.write_text(RESULTS_MD, text.rstrip("\n") + "\n\n" + section)

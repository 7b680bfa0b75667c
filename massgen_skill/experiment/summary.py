"""Per config: what the cells' rows say (success rate, time, tokens and cost per answer, agreement, winners),
and the one rule for "differs beyond noise". Pure: rows in, figures out.

The rule (stated in the report): two configs differ in success rate when their Wilson 95 % intervals do not
overlap; in time or in cost per run when each has at least MIN_RUNS successful runs and every successful run
of one is faster (cheaper) than every successful run of the other.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass
from itertools import combinations

from .database import CellRow

Z95 = 1.96
MIN_RUNS = 3
RULE = (
    f"success rates differ when their Wilson 95 % intervals do not overlap; time or cost differ when both "
    f"configs have at least {MIN_RUNS} successful runs and the ranges of their successful runs do not overlap"
)


@dataclass(frozen=True)
class ConfigSummary:
    index: int
    config: str
    runs: int
    ok: int
    elapsed: tuple[float, ...]  # successful runs, sorted
    costs: tuple[float, ...]  # successful runs, sorted
    tokens: int  # every run of the config (failed runs cost too)
    cost: float
    restarts: int
    agent_restarts: int
    voted: int  # runs with votes recorded
    agreed: int  # of those, runs where every vote went to the winner
    winners: tuple[tuple[str, int], ...]  # successful runs' winners, most frequent first

    @property
    def success_rate(self) -> float | None:
        return self.ok / self.runs if self.runs else None

    @property
    def median_elapsed(self) -> float | None:
        return statistics.median(self.elapsed) if self.elapsed else None

    @property
    def tokens_per_answer(self) -> float | None:
        return self.tokens / self.ok if self.ok else None

    @property
    def cost_per_answer(self) -> float | None:
        return self.cost / self.ok if self.ok else None


def summarise(rows: list[CellRow], configs: list[str]) -> list[ConfigSummary]:
    return [_one(i, name, [r for r in rows if r.config_index == i]) for i, name in enumerate(configs)]


def _one(index: int, config: str, rows: list[CellRow]) -> ConfigSummary:
    good = [r for r in rows if r.ok]
    return ConfigSummary(
        index=index,
        config=config,
        runs=len(rows),
        ok=len(good),
        elapsed=tuple(sorted(r.elapsed_s for r in good if r.elapsed_s is not None)),
        costs=tuple(sorted(r.cost for r in good)),
        tokens=sum(r.tokens for r in rows),
        cost=sum(r.cost for r in rows),
        restarts=sum(r.restarts for r in rows),
        agent_restarts=sum(r.agent_restarts for r in rows),
        voted=sum(1 for r in rows if r.votes_total),
        agreed=sum(1 for r in rows if r.votes_total and r.votes_for_winner == r.votes_total),
        winners=tuple(Counter(r.winner for r in good if r.winner).most_common()),
    )


def wilson(ok: int, runs: int) -> tuple[float, float]:
    """The Wilson 95 % interval of a success rate (sound for the handful of runs an experiment has)."""
    if runs == 0:
        return 0.0, 1.0
    p = ok / runs
    centre = (p + Z95**2 / (2 * runs)) / (1 + Z95**2 / runs)
    half = Z95 * math.sqrt(p * (1 - p) / runs + Z95**2 / (4 * runs**2)) / (1 + Z95**2 / runs)
    return max(0.0, centre - half), min(1.0, centre + half)


def _apart(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return len(a) >= MIN_RUNS and len(b) >= MIN_RUNS and (a[-1] < b[0] or b[-1] < a[0])


def findings(summaries: list[ConfigSummary]) -> list[str]:
    """Each difference beyond noise between two configs, with the counts behind it."""
    found = []
    for a, b in combinations(summaries, 2):
        (a_lo, a_hi), (b_lo, b_hi) = wilson(a.ok, a.runs), wilson(b.ok, b.runs)
        if a_hi < b_lo or b_hi < a_lo:
            found.append(
                f"success: {label(a)} {a.ok}/{a.runs} vs {label(b)} {b.ok}/{b.runs} "
                f"(95 % intervals {a_lo:.0%}–{a_hi:.0%} and {b_lo:.0%}–{b_hi:.0%})"
            )
        for what, unit, x, y in (("time", "s", a.elapsed, b.elapsed), ("cost", "$", a.costs, b.costs)):
            if _apart(x, y):
                fast, slow = (a, b) if x[-1] < y[0] else (b, a)
                low, high = (x, y) if fast is a else (y, x)
                found.append(
                    f"{what}: every successful run of {label(fast)} ({len(low)} runs, at most "
                    f"{low[-1]:.4g} {unit}) is below every one of {label(slow)} ({len(high)} runs, from "
                    f"{high[0]:.4g} {unit})"
                )
    return found


def label(summary: ConfigSummary) -> str:
    return f"C{summary.index + 1}"

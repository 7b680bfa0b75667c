"""A cell's figures, taken from the `analysis` readers of its run's log folder (never re-parsed here)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from massgen_skill.analysis import Analysis, AttemptAnalysis, analyze_log_dir, write_reports
from massgen_skill.exitcodes import SkillError


@dataclass(frozen=True)
class RunFigures:
    elapsed_s: float | None
    input_tokens: int
    output_tokens: int
    cost: float
    winner: str | None
    votes_for_winner: int
    votes_total: int
    restarts: int  # massgen's restarts of the whole team (attempts after the first)
    agent_restarts: int  # restarts of single agents (status.json), summed
    report: str | None  # the run's ANALYSIS_REPORT.md (the last turn's)

    @property
    def agreement(self) -> float | None:
        """The share of votes that went to the winner (1.0: the team agreed)."""
        return self.votes_for_winner / self.votes_total if self.votes_total else None


NO_FIGURES = RunFigures(None, 0, 0, 0.0, None, 0, 0, 0, 0, None)


def _elapsed(attempts: list[AttemptAnalysis]) -> float | None:
    known = [a.elapsed_s for a in attempts if a.elapsed_s is not None]
    return sum(known) if known else None


def figures(analysis: Analysis) -> RunFigures:
    attempts = [a for turn in analysis.turns for a in turn.attempts]
    last = attempts[-1] if attempts else None
    if last is None:
        return NO_FIGURES
    votes = last.vote_counts
    reports = [t.report_path for t in analysis.turns if t.report_path]
    return RunFigures(
        elapsed_s=_elapsed(attempts),
        input_tokens=sum(a.totals.input_tokens for a in attempts),
        output_tokens=sum(a.totals.output_tokens for a in attempts),
        cost=sum(a.totals.estimated_cost for a in attempts),
        winner=last.winner,
        votes_for_winner=votes.get(last.winner, 0) if last.winner else 0,
        votes_total=sum(votes.values()),
        restarts=sum(max(0, len(t.attempts) - 1) for t in analysis.turns),
        agent_restarts=sum(agent.restarts for a in attempts for agent in a.agents),
        report=reports[-1] if reports else None,
    )


def analyse_run(log_dir: Path) -> tuple[RunFigures, str | None]:
    """The run's figures, with its ANALYSIS_REPORT.md written by the `analyze` core; or why there are none."""
    try:
        analysis = analyze_log_dir(log_dir)
        write_reports(analysis)
    except SkillError as exc:
        return NO_FIGURES, exc.message
    return figures(analysis), None

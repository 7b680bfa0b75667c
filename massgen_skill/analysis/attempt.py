"""Analysing one attempt folder: read its files, calibrate the clock, then work out each part in turn.

The order matters where one part builds on another: agents before votes (voters are agents), votes before
the tally, the agent list before the totals (the fallback sums over agents), everything before the timeline,
the phases and the findings.
"""

from __future__ import annotations

from pathlib import Path

from massgen_skill.analysis.agents import add_event_errors, add_figures, roster, settle_status
from massgen_skill.analysis.answer import add_final_answer
from massgen_skill.analysis.changes import applied_changes, review
from massgen_skill.analysis.clock import calibrate
from massgen_skill.analysis.events import first_wall_clock, raw_events, timed, wall_clock
from massgen_skill.analysis.findings import attempt_findings
from massgen_skill.analysis.massgen_log import logged_errors
from massgen_skill.analysis.model import AttemptAnalysis
from massgen_skill.analysis.overview import describe
from massgen_skill.analysis.read import read_attempt
from massgen_skill.analysis.timeline import phases, timeline
from massgen_skill.analysis.usage import add_tools, add_totals
from massgen_skill.analysis.votes import collect_votes, decide, record_votes


def analyze_attempt(folder: Path, number: int) -> AttemptAnalysis:
    """Everything massgen recorded in one attempt folder (`turn_N/attempt_M/`)."""
    files = read_attempt(folder)
    stamped = wall_clock(files.event_rows)
    clock = calibrate(files.votes, files.start_epoch, first_wall_clock(stamped))
    events = timed(stamped, clock)
    result = AttemptAnalysis(attempt=number, path=str(folder))
    describe(result, files, events, clock)

    agents = roster(files, events)
    result.rounds = add_figures(agents, files, events)
    result.votes = collect_votes(files, events, clock)
    record_votes(agents, result.votes)
    decide(result, files, events, agents)
    add_event_errors(agents, events)
    settle_status(agents)
    result.agents = list(agents)

    add_totals(result, files)
    add_tools(result, files, events, clock)
    result.review = review(files, clock)
    result.applied_changes = applied_changes(events)
    add_final_answer(result, files)
    result.logged_errors = logged_errors(files.log_lines)

    result.timeline = timeline(result, files, events, clock)
    result.phases = phases(result, events, clock)
    result.raw_events = raw_events(events, files.coordination, clock)
    result.files = files.states
    result.findings = attempt_findings(result)
    return result

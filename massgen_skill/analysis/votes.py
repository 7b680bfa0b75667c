"""Votes, the tally and the winner of one attempt.

Votes come from the vote.json files (full reasons), else events.jsonl, else status.json's `vote_cast`; the
winner from status.json, coordination_events.json, the final presentation event or the only `final/` folder.
"""

from __future__ import annotations

from typing import Any

from massgen_skill.analysis.agents import Roster
from massgen_skill.analysis.clock import Clock, parse_stamp
from massgen_skill.analysis.coerce import as_bool, as_dict, as_float, as_int, as_list, as_str
from massgen_skill.analysis.events import TimedEvent
from massgen_skill.analysis.model import AttemptAnalysis, Vote
from massgen_skill.analysis.read import AttemptFiles
from massgen_skill.massgen import layout


def collect_votes(files: AttemptFiles, events: list[TimedEvent], clock: Clock) -> list[Vote]:
    """Every recorded vote, from the best source that has any, in time order (untimed last)."""
    votes = (
        _votes_from_files(files.votes, clock)
        or _votes_from_events(events, clock)
        or _votes_from_status(as_dict(as_dict(files.status).get("agents")))
    )
    votes.sort(key=lambda v: (v.time is None, v.time or 0.0))
    return votes


def _votes_from_files(vote_files: list[tuple[str, dict[str, Any]]], clock: Clock) -> list[Vote]:
    votes = []
    for voter, data in vote_files:
        epoch = as_float(data.get("unix_timestamp"))
        if epoch is None and (stamp := parse_stamp(as_str(data.get("timestamp")) or "")) is not None:
            epoch = clock.from_naive(stamp)
        votes.append(
            Vote(
                voter=as_str(data.get("voter_id")) or voter,
                voted_for=as_str(data.get("voted_for")),
                voted_for_label=as_str(data.get("voted_for_label")),
                reason=as_str(data.get("reason")) or "",
                time=epoch,
                clock=clock.show(epoch),
            )
        )
    return votes


def _votes_from_events(events: list[TimedEvent], clock: Clock) -> list[Vote]:
    votes = []
    for _n, row, epoch in events:
        if row.get("event_type") == "vote":
            data = as_dict(row.get("data"))
            votes.append(
                Vote(
                    as_str(row.get("agent_id")) or "?",
                    as_str(data.get("target_id")),
                    as_str(data.get("voted_for_label")),
                    as_str(data.get("reason")) or "",
                    epoch,
                    clock.show(epoch),
                )
            )
    return votes


def _votes_from_status(status_agents: dict[str, Any]) -> list[Vote]:
    votes = []
    for agent_id, entry in status_agents.items():
        cast = as_dict(as_dict(entry).get("vote_cast"))
        if cast:
            votes.append(
                Vote(
                    str(agent_id),
                    as_str(cast.get("voted_for_agent")),
                    as_str(cast.get("voted_for_label")),
                    as_str(cast.get("reason_preview")) or "",
                    None,
                    "",
                )
            )
    return votes


def record_votes(agents: Roster, votes: list[Vote]) -> None:
    """Each voter's choice and reason on its agent report."""
    for vote in votes:
        voter = agents.get(vote.voter)
        voter.voted_for, voter.vote_reason = vote.voted_for, vote.reason


def decide(result: AttemptAnalysis, files: AttemptFiles, events: list[TimedEvent], agents: Roster) -> None:
    """Set the winner, whether the vote was tied, the tally and each agent's votes received."""
    presentation = next(
        (row for _n, row, _t in events if row.get("event_type") == "final_presentation_start"), None
    )
    results = as_dict(as_dict(files.status).get("results"))
    final_dirs = [p.name for p in layout.final_dirs(files.folder)]
    result.winner = (
        as_str(results.get("winner"))
        or as_str(files.session.get("final_winner"))
        or (as_str(presentation.get("agent_id")) if presentation is not None else None)
        or (final_dirs[0] if len(final_dirs) == 1 else None)
    )
    counts: dict[str, int] = {}
    if presentation is not None:
        data = as_dict(presentation.get("data"))
        counts = {str(k): as_int(v) for k, v in as_dict(data.get("vote_counts")).items()}
        result.is_tie = bool(as_bool(data.get("is_tie")))
    if not counts:
        counts = _counts_by_label(as_dict(results.get("votes")), label_owners(files))
    if not counts:
        counts = _counts_from_votes(result.votes)
    result.vote_counts = counts
    for agent_id, count in counts.items():
        agents.get(agent_id).votes_received = count


def label_owners(files: AttemptFiles) -> dict[str, str]:
    """Answer label (`agent1.1`) → agent id, from snapshot_mappings.json, status.json and the vote files."""
    owners: dict[str, str] = {}
    for label, entry in as_dict(files.mappings).items():
        entry = as_dict(entry)
        if as_str(entry.get("type")) == "answer" and as_str(entry.get("agent_id")):
            owners[str(label)] = str(entry["agent_id"])
    for entry in as_list(as_dict(files.status).get("historical_workspaces")):
        entry = as_dict(entry)
        if as_str(entry.get("answerLabel")) and as_str(entry.get("agentId")):
            owners[str(entry["answerLabel"])] = str(entry["agentId"])
    for _agent, data in files.votes:
        for label, agent_id in as_dict(data.get("answer_label_to_agent")).items():
            if isinstance(agent_id, str):
                owners.setdefault(str(label), agent_id)
    return owners


def _counts_by_label(by_label: dict[str, Any], owners: dict[str, str]) -> dict[str, int]:
    """status.json `results.votes` counts answer labels; add them up per agent."""
    counts: dict[str, int] = {}
    for label, count in by_label.items():
        owner = owners.get(str(label), str(label))
        counts[owner] = counts.get(owner, 0) + as_int(count)
    return counts


def _counts_from_votes(votes: list[Vote]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for vote in votes:
        if vote.voted_for:
            counts[vote.voted_for] = counts.get(vote.voted_for, 0) + 1
    return counts

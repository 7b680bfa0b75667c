"""What happened in a run between two looks at its status.json: new answers, votes, restarts, errors, the
final presentation, a review waiting. Pure: two `Progress` summaries in, events out (no I/O, no clock).

massgen rewrites status.json every 2 s and on every answer and vote (contract §3), so two answers of one agent
between looks show as one event each (the count says how many), never as none.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from massgen_skill.massgen.status import AgentProgress, Progress

ANSWER = "answer"
VOTE = "vote"
RESTART = "restart"
AGENT_ERROR = "agent-error"
PRESENTATION = "final-presentation"
REVIEW = "review-pending"
END = "end"
KINDS = (ANSWER, VOTE, RESTART, AGENT_ERROR, PRESENTATION, REVIEW, END)

PRESENTATION_PHASE = "presentation"  # status.json coordination.phase once the winner presents (contract §3)
RESTARTING = "restarting"  # an agent's status while massgen restarts it
FAILED_STATES = ("error", "timeout")


@dataclass(frozen=True)
class RunEvent:
    kind: str  # one of KINDS, or the follower's own end of watching
    agent: str | None = None
    detail: str = ""
    code: int | None = None  # END: the run's outcome code (what `wait` exits with)
    reason: str | None = None  # END: why, when the outcome is not ok

    def text(self) -> str:
        """One line for people: `answer: agent_a (answer 2)`, `end: ok (exit 0)`."""
        who = f" {self.agent}" if self.agent else ""
        what = f" ({self.detail})" if self.detail and self.agent else f" {self.detail}" if self.detail else ""
        code = f" (exit {self.code})" if self.code is not None else ""
        why = f": {self.reason}" if self.reason and self.code else ""
        return f"{self.kind}:{who}{what}{code}{why}"

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"event": self.kind, "agent": self.agent, "detail": self.detail}
        if self.code is not None:
            data.update(exit_code=self.code, reason=self.reason)
        return data


def _attempt(progress: Progress) -> str | None:
    return Path(progress.path).parent.name if progress.path else None


def _agent_events(before: AgentProgress | None, after: AgentProgress) -> list[RunEvent]:
    events = []
    if after.answers > (before.answers if before else 0):
        events.append(RunEvent(ANSWER, after.agent_id, f"answer {after.answers}"))
    if after.voted_for and after.voted_for != (before.voted_for if before else None):
        events.append(RunEvent(VOTE, after.agent_id, f"voted for {after.voted_for}"))
    was = before.status if before else None
    if after.status == RESTARTING and was != RESTARTING:
        events.append(RunEvent(RESTART, after.agent_id, "agent restarting"))
    if after.status in FAILED_STATES and was != after.status:
        events.append(RunEvent(AGENT_ERROR, after.agent_id, after.error or after.status))
    return events


def derive(before: Progress | None, after: Progress) -> list[RunEvent]:
    """The events between two looks; `before` None (or unreadable): everything so far counts as new."""
    if after.problem:
        return []  # nothing known now: say nothing rather than guess
    known = before if before is not None and not before.problem else None
    events: list[RunEvent] = []
    if known is not None and _attempt(known) != _attempt(after):
        # an orchestration restart: a new attempt folder, whose counts start again from zero
        events.append(RunEvent(RESTART, None, f"new attempt {_attempt(after)}"))
        known = None
    previous = {a.agent_id: a for a in known.agents} if known else {}
    for agent in after.agents:
        events += _agent_events(previous.get(agent.agent_id), agent)
    if after.phase == PRESENTATION_PHASE and (known is None or known.phase != PRESENTATION_PHASE):
        events.append(RunEvent(PRESENTATION, after.winner, "the winner presents the final answer"))
    if after.review_pending and (known is None or not known.review_pending):
        events.append(RunEvent(REVIEW, None, "file changes wait for a human decision"))
    return events

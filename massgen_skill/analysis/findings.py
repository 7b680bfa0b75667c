"""What the report flags: the rules that turn an attempt's (and a turn's) analysis into findings.

Each finding has a severity (error | warning | info), a stable code and one message. Rules run in a fixed
order, which is also the order findings are listed in within a severity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from massgen_skill.analysis.model import AttemptAnalysis, Finding, TurnAnalysis
from massgen_skill.massgen import layout
from massgen_skill.output import one_line


@dataclass
class _Found:
    """The findings of one attempt, as the rules add them."""

    attempt: int
    items: list[Finding] = field(default_factory=list)

    def add(self, severity: str, code: str, message: str) -> None:
        self.items.append(Finding(severity, code, message, self.attempt))


def attempt_findings(result: AttemptAnalysis) -> list[Finding]:
    found = _Found(result.attempt)
    for rule in (
        _file_rules,
        _failure_rules,
        _winner_rules,
        _activity_rules,
        _review_rules,
        _logged_errors_rule,
        _cost_rule,
    ):
        rule(result, found)
    return found.items


def _file_rules(result: AttemptAnalysis, found: _Found) -> None:
    """status.json missing; any file damaged or unreadable."""
    status = next(f for f in result.files if f.name == layout.STATUS_FILE)
    if status.state == "missing":
        found.add(
            "warning",
            "status_missing",
            f"{layout.STATUS_FILE}: missing — massgen never wrote it (the run failed within ~2 s of "
            "starting, or was killed); figures below come from the other files",
        )
    for state in result.files:
        if state.state in ("damaged", "unreadable"):
            found.add("warning", "file_damaged", state.line)


def _failure_rules(result: AttemptAnalysis, found: _Found) -> None:
    """Failed before coordination, agents that timed out or failed, the run's own time limit."""
    if result.failure_stage or result.failure_error:
        found.add(
            "error",
            "failed_before_start",
            f"massgen failed before coordination (stage {result.failure_stage or '?'}): "
            f"{one_line(result.failure_error or '', 300)}",
        )
    for report in result.agents:
        if report.error_type == "timeout" or report.status == "timeout":
            detail = report.error_message or "no detail"
            found.add("error", "agent_timeout", f"{report.agent_id} timed out: {detail}")
        elif report.error_message or report.status == "error":
            detail = report.error_message or "no detail recorded"
            found.add("error", "agent_error", f"{report.agent_id} failed: {detail}")
    if result.finish_reason == "timeout":
        detail = result.finish_details or "no detail"
        found.add("error", "run_timeout", f"the run hit its time limit ({detail})")
    elif result.finish_reason == "in_progress":
        found.add(
            "warning",
            "not_finished",
            f"{layout.STATUS_FILE} still says in_progress: the run is still going, or was stopped or killed "
            "before massgen could finish it",
        )


def _winner_rules(result: AttemptAnalysis, found: _Found) -> None:
    """No winner (and why), a tie, a winner without its final answer file."""
    if not result.winner:
        found.add("error", "no_winner", f"no winner: {_why_no_winner(result)}")
    elif result.is_tie:
        found.add("info", "tie", f"the vote was tied; massgen broke the tie in favour of {result.winner}")
    elif not result.final_answer_path and result.finish_reason != "in_progress":
        missing = f"{layout.FINAL_DIR}/{result.winner}/{layout.ANSWER_FILE}"
        found.add("warning", "no_final_answer", f"winner {result.winner} but no {missing}")


def _why_no_winner(result: AttemptAnalysis) -> str:
    if result.agents and all(a.error_message or a.status in ("error", "timeout") for a in result.agents):
        why = "every agent failed"
    elif not any(a.answers for a in result.agents):
        why = "no agent produced an answer"
    else:
        why = "no vote was decided"
    if result.logged_errors:
        why += f" (massgen logged: {result.logged_errors[-1].split(': ', 1)[-1]})"
    return why


def _activity_rules(result: AttemptAnalysis, found: _Found) -> None:
    """Agent restarts, ignored votes, workflow retries, failed tool calls."""
    restarts = sum(a.restarts for a in result.agents)
    if restarts:
        found.add(
            "info",
            "agent_restarts",
            f"{restarts} agent restart(s) — agents start over when a new answer arrives; many restarts "
            "mean slow convergence",
        )
    ignored = [e for e in result.timeline if e.kind == "vote ignored"]
    if ignored:
        found.add("info", "votes_ignored", f"{len(ignored)} vote(s) ignored because new answers arrived")
    retries = [e for e in result.timeline if e.kind == "retry"]
    if retries:
        who = ", ".join(sorted({e.agent or "?" for e in retries}))
        found.add("warning", "retries", f"{len(retries)} retry(ies) for not using the workflow tools: {who}")
    if result.tool_failures:
        sample = "; ".join(f"{c.agent}: {c.tool}: {one_line(c.error, 80)}" for c in result.tool_failures[:3])
        found.add("warning", "tool_failures", f"{len(result.tool_failures)} tool call(s) failed ({sample})")
    elif result.totals.tool_failures:
        found.add("warning", "tool_failures", f"{result.totals.tool_failures} tool call(s) failed")


def _review_rules(result: AttemptAnalysis, found: _Found) -> None:
    """How the review of file changes ended, or changes written to the project without one."""
    review = result.review
    if review is None:
        if result.applied_changes:
            changed = ", ".join(result.applied_changes)
            found.add(
                "warning",
                "applied_without_review",
                f"changes were written to the project without a review: {changed}",
            )
        return
    files = ", ".join(review.files) or "no files listed"
    if review.outcome == "approved":
        message = f"review approved by {review.resolved_by}: {files} applied to the project"
        found.add("info", "review_approved", message)
    elif review.outcome == "partly approved":
        kept = ", ".join(review.approved_files or []) or "none"
        found.add("info", "review_partly_approved", f"review approved only some files ({kept}) of: {files}")
    elif review.outcome == "timed out":
        message = f"review timed out with no decision (treated as rejected): {files} not applied"
        found.add("warning", "review_timed_out", message)
    elif review.outcome == "rejected":
        message = f"review rejected by {review.resolved_by}: {files} not applied"
        found.add("warning", "review_rejected", message)
    else:
        found.add("warning", "review_pending", f"review opened but no decision recorded: {files}")


def _logged_errors_rule(result: AttemptAnalysis, found: _Found) -> None:
    """Errors in massgen.log, when no other rule found an error."""
    if result.logged_errors and not any(f.severity == "error" for f in found.items):
        count = len(result.logged_errors)
        found.add("warning", "logged_errors", f"massgen logged {count} error line(s) (see below)")


def _cost_rule(result: AttemptAnalysis, found: _Found) -> None:
    """Tokens used but no cost: the models are not in massgen's price list."""
    tokens = result.totals.input_tokens + result.totals.output_tokens
    if tokens and not result.totals.estimated_cost:
        found.add(
            "info",
            "cost_unknown",
            f"estimated cost is $0 for {tokens} tokens: the models are probably not in massgen's price list",
        )


def turn_findings(turn: TurnAnalysis, folder: Path) -> list[Finding]:
    """A turn without attempts, or with orchestration restarts (more than one attempt)."""
    if not turn.attempts:
        return [Finding("error", "no_attempts", f"no attempt_M folders in {folder}")]
    if len(turn.attempts) > 1:
        restarts = len(turn.attempts) - 1
        message = (
            f"massgen restarted the whole coordination {restarts} time(s) "
            f"({len(turn.attempts)} attempts); the summary describes the last attempt"
        )
        return [Finding("warning", "orchestration_restarts", message)]
    return []

"""`massgen-skill status [RUN]`: a run's phase, agents, votes, cost — from its newest status.json."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

from massgen_skill import output
from massgen_skill.commands._common import add_run_argument, resolve
from massgen_skill.follow.results import outcome_of
from massgen_skill.follow.steering import unread_messages
from massgen_skill.massgen.status import Progress, progress_for
from massgen_skill.massgen.status import one_line as progress_line
from massgen_skill.review.gate import review_state_of
from massgen_skill.run.records import ACTIVE_STATES, REVIEW_PENDING, RUNNING, RunRecord, effective_state

EPILOG = """\
Reads the newest turn_N/attempt_M/status.json (the STATUS path massgen printed goes stale after a restart).
A missing, half-written or damaged file is reported, never a crash. Once the run ended, "outcome" and
"exit_code" are the run's one outcome (what `run`, `wait` and `result` exit with); status itself exits 0.
A review is shown as decided once review_result.json says so (massgen's status.json keeps its pending flag).

examples:
  massgen-skill status
  massgen-skill status 20261125-101500-ab12cd --json
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    add_run_argument(parser)


def describe(record: RunRecord) -> dict[str, Any]:
    """Record + live progress + the run's one outcome, as one dict (shared by status and wait)."""
    state = effective_state(record)
    progress = progress_for(Path(record.log_dir) if record.log_dir else None, state not in ACTIVE_STATES)
    review = review_state_of(record.log_dir)  # status.json keeps review_pending after the decision
    progress = replace(progress, review_pending=progress.review_pending and not review.decided)
    state = RUNNING if state == REVIEW_PENDING and review.decided else state  # the relay may lag the file
    outcome = outcome_of(record, state)
    return {
        "run_id": record.run_id,
        "state": state,
        "mode": record.mode,
        "web": record.web,
        "web_port": record.web_port,
        "project_dir": record.project_dir,
        "cwd": record.cwd or record.project_dir,
        "detached": record.detached,
        "launch": record.launch,  # "warm", or "cold: <why not warm>" (references/warm.md)
        "log_dir": record.log_dir,
        "answer_path": record.answer_path,
        "partial_answer": record.partial_answer,
        "outcome": outcome.word if outcome else None,
        "exit_code": int(outcome.code) if outcome else None,
        "reason": outcome.reason if outcome else None,
        "warnings": list(record.warnings),
        "progress": progress.as_dict(),
        "review": review.as_dict(),
        "unread_steering": unread_messages(record).as_dict(),
    }


def _value(text: str) -> str:
    """A value massgen or a record supplied, on one line whatever it holds."""
    return output.one_line(text, 65536, collapse=False)


def render(info: dict[str, Any]) -> str:
    progress = info["progress"]
    shown = info["outcome"] and info["outcome"] != info["state"]  # not "lost (lost)", "stopped (stopped)"
    lines = [f"run {info['run_id']}: {info['state']}" + (f" ({info['outcome']})" if shown else "")]
    lines.append(f"  log dir: {_value(info['log_dir'] or '(not yet)')}")
    lines.append(f"  progress: {progress_line(Progress(**{**progress, 'agents': ()}))}")
    for agent in progress["agents"]:
        extra = f" voted for {agent['voted_for']}" if agent["voted_for"] else ""
        error = f" error: {agent['error']}" if agent["error"] else ""
        lines.append(
            _value(f"    {agent['agent_id']}: {agent['status']}, {agent['answers']} answer(s){extra}{error}")
        )
    if progress["votes"]:
        lines.append(_value("  votes: " + ", ".join(f"{k}={v}" for k, v in progress["votes"].items())))
    if progress["cost"] is not None or progress["input_tokens"] is not None:
        lines.append(
            f"  tokens: {progress['input_tokens'] or 0} in / {progress['output_tokens'] or 0} out,"
            f" cost ${progress['cost'] or 0:.4f}"
        )
    if info["answer_path"]:
        lines.append(f"  answer: {_value(info['answer_path'])}")
    if info["partial_answer"]:
        lines.append(f"  partial answer (not the team's answer): {_value(info['partial_answer'])}")
    if info["review"]["decision"]:
        review = info["review"]
        lines.append(f"  review: {review['state']} ({_value(review['decision']['resolved_by'])})")
    if info["unread_steering"]["note"]:
        lines.append(f"  steering: {_value(info['unread_steering']['note'])}")
    if info["exit_code"] is not None:
        lines.append(f"  exit code: {info['exit_code']}")
    if info["reason"] and info["exit_code"] != 0:
        lines.append(f"  reason: {_value(info['reason'])}")
    lines += [f"  warning: {_value(text)}" for text in info["warnings"]]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    info = describe(resolve(args))
    if args.json:
        output.print_json(info)
    else:
        print(render(info))
    return 0

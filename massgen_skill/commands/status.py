"""`massgen-skill status [RUN]`: a run's phase, agents, votes, cost — from its newest status.json."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from massgen_skill import output
from massgen_skill.commands._common import add_run_argument, resolve
from massgen_skill.follow.steering import unread_messages
from massgen_skill.review.gate import review_state_of

EPILOG = """\
Reads the newest turn_N/attempt_M/status.json (the STATUS path massgen printed goes stale after a restart).
A missing, half-written or damaged file is reported, never a crash.

examples:
  massgen-skill status
  massgen-skill status 20261125-101500-ab12cd --json
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    add_run_argument(parser)


def describe(record) -> dict:  # type: ignore[no-untyped-def]
    """Record + live progress, as one dict (shared by status and wait)."""
    from massgen_skill.massgen.status import progress_for
    from massgen_skill.run.records import ACTIVE_STATES, REVIEW_PENDING, RUNNING, effective_state

    state = effective_state(record)
    progress = progress_for(Path(record.log_dir) if record.log_dir else None, state not in ACTIVE_STATES)
    review = review_state_of(record.log_dir)  # status.json keeps review_pending after the decision
    progress = replace(progress, review_pending=progress.review_pending and not review.decided)
    state = RUNNING if state == REVIEW_PENDING and review.decided else state  # the relay may lag the file
    return {
        "run_id": record.run_id,
        "state": state,
        "mode": record.mode,
        "web": record.web,
        "web_port": record.web_port,
        "log_dir": record.log_dir,
        "answer_path": record.answer_path,
        "outcome": record.outcome,
        "exit_code": record.exit_code,
        "reason": record.reason,
        "progress": progress.as_dict(),
        "review": review.as_dict(),
        "unread_steering": unread_messages(record).as_dict(),
    }


def _value(text: str) -> str:
    """A value massgen or a record supplied, on one line whatever it holds."""
    return output.one_line(text, 65536, collapse=False)


def render(info: dict) -> str:
    from massgen_skill.massgen.status import Progress, one_line

    progress = info["progress"]
    lines = [f"run {info['run_id']}: {info['state']}" + (f" ({info['outcome']})" if info["outcome"] else "")]
    lines.append(f"  log dir: {_value(info['log_dir'] or '(not yet)')}")
    lines.append(f"  progress: {one_line(Progress(**{**progress, 'agents': ()}))}")
    for agent in progress["agents"]:
        extra = f" voted for {agent['voted_for']}" if agent["voted_for"] else ""
        error = f" error: {agent['error']}" if agent["error"] else ""
        lines.append(
            _value(f"    {agent['agent_id']}: {agent['status']}, {agent['answers']} answer(s){extra}{error}")
        )
    if progress["votes"]:
        lines.append("  votes: " + ", ".join(f"{k}={v}" for k, v in progress["votes"].items()))
    if progress["cost"] is not None or progress["input_tokens"] is not None:
        lines.append(
            f"  tokens: {progress['input_tokens'] or 0} in / {progress['output_tokens'] or 0} out,"
            f" cost ${progress['cost'] or 0:.4f}"
        )
    if info["answer_path"]:
        lines.append(f"  answer: {_value(info['answer_path'])}")
    if info["review"]["decision"]:
        lines.append(
            f"  review: {info['review']['state']} ({_value(info['review']['decision']['resolved_by'])})"
        )
    if info["unread_steering"]["note"]:
        lines.append(f"  steering: {_value(info['unread_steering']['note'])}")
    if info["reason"] and info["outcome"] != "ok":
        lines.append(f"  reason: {_value(info['reason'])}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from massgen_skill.output import print_json

    info = describe(resolve(args))
    if args.json:
        print_json(info)
    else:
        print(render(info))
    return 0

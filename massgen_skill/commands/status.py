"""`massgen-skill status [RUN]`: a run's phase, agents, votes, cost — from its newest status.json;
`--follow`: one line per event until the run ends."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from massgen_skill import output
from massgen_skill.commands._common import (
    add_run_argument,
    project_dir,
    resolve,
    seconds,
    seconds_or_zero,
)
from massgen_skill.commands._experiments import experiment_status
from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.experiment.record import is_experiment_ref
from massgen_skill.follow.events import RunEvent
from massgen_skill.follow.progress import LOOK_EVERY, FollowSettings, follow
from massgen_skill.follow.results import outcome_of
from massgen_skill.follow.steering import unread_messages
from massgen_skill.loop import control as loop_control
from massgen_skill.loop import record as loops
from massgen_skill.massgen.status import Progress, progress_for
from massgen_skill.massgen.status import one_line as progress_line
from massgen_skill.review.gate import ReviewState, review_state_of
from massgen_skill.run.outcome import budget_passed, usd
from massgen_skill.run.records import ACTIVE_STATES, REVIEW_PENDING, RUNNING, RunRecord, effective_state

EPILOG = """\
Reads the newest turn_N/attempt_M/status.json (the STATUS path massgen printed goes stale after a restart).
A missing, half-written or damaged file is reported, never a crash. Once the run ended, "outcome" and
"exit_code" are the run's one outcome (what `run`, `wait` and `result` exit with); status itself exits 0.
A review is shown as decided once review_result.json says so (massgen's status.json keeps its pending flag).
A run started with --max-cost shows its spend against the budget ("budget" in --json).

--follow prints one line per event (answer, vote, restart, agent-error, final-presentation, review-pending)
until the run ends, then `end: WORD (exit N)` and exits with the run's outcome code (as `wait` does);
--json gives one JSON object per line. --timeout S (600) bounds it: then `timeout:` and exit 10 (11 when a
review waits for a decision).

examples:
  massgen-skill status
  massgen-skill status 20261125-101500-ab12cd --json
  massgen-skill status --follow --timeout 900
  massgen-skill status latest --follow --json --timeout 60
  massgen-skill status exp-20261130-011500-ab12cd    # an experiment: cells ok / failed / left
  massgen-skill status loop-20261130-010203-ab12cd   # a loop: round k of N, the last verdict
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    add_run_argument(parser)
    parser.add_argument(
        "--follow", action="store_true", help="one line per event until the run ends; exit with its outcome"
    )
    parser.add_argument(
        "--timeout", type=seconds_or_zero, metavar="S", help="--follow: give up after S seconds (600)"
    )
    parser.add_argument(
        "--interval",
        type=seconds,
        metavar="S",
        help=f"--follow: longest pause between looks ({LOOK_EVERY:g})",
    )


def _look(record: RunRecord) -> tuple[str, Progress, ReviewState]:
    """The run's state and progress now, a decided review counted as decided."""
    state = effective_state(record)
    log_dir = Path(record.log_dir) if record.log_dir else None
    progress = progress_for(log_dir, state not in ACTIVE_STATES, record.turn)
    review = review_state_of(record.log_dir)  # status.json keeps review_pending after the decision
    progress = replace(progress, review_pending=progress.review_pending and not review.decided)
    state = RUNNING if state == REVIEW_PENDING and review.decided else state  # the relay may lag the file
    return state, progress, review


def _budget(record: RunRecord, progress: Progress) -> dict[str, Any] | None:
    if record.max_cost is None:
        return None
    over = budget_passed(progress.cost, record.max_cost) is not None
    return {"max_cost": record.max_cost, "spent": progress.cost, "over": over}


def describe(record: RunRecord) -> dict[str, Any]:
    """Record + live progress + the run's one outcome, as one dict (shared by status and wait)."""
    state, progress, review = _look(record)
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
        "budget": _budget(record, progress),
        "review": review.as_dict(),
        "unread_steering": unread_messages(record).as_dict(),
        **record.session_info(),
    }


def _value(text: str) -> str:
    """A value massgen or a record supplied, on one line whatever it holds."""
    return output.one_line(text, 65536, collapse=False)


def render(info: dict[str, Any]) -> str:
    progress = info["progress"]
    shown = info["outcome"] and info["outcome"] != info["state"]  # not "lost (lost)", "stopped (stopped)"
    lines = [f"run {info['run_id']}: {info['state']}" + (f" ({info['outcome']})" if shown else "")]
    lines.append(f"  log dir: {_value(info['log_dir'] or '(not yet)')}")
    if info["previous_run"]:
        session = _value(info["session_id"] or "?")
        lines.append(f"  turn {info['turn']} of session {session}, after {info['previous_run']}")
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
    if info["budget"]:
        budget = info["budget"]
        over = " (over the budget)" if budget["over"] else ""
        lines.append(f"  budget: {usd(budget['spent'] or 0)} of {usd(budget['max_cost'])}{over}")
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


def _print_event(run_id: str, as_json: bool) -> Callable[[RunEvent, Progress], None]:
    def emit(event: RunEvent, progress: Progress) -> None:
        if as_json:
            data = {"run_id": run_id, **event.as_dict(), "elapsed": progress.elapsed, "cost": progress.cost}
            print(json.dumps(data, ensure_ascii=True), flush=True)  # one line under every line boundary
        else:
            print(_value(event.text()), flush=True)

    return emit


def _follow(args: argparse.Namespace) -> int:
    record = resolve(args)
    settings = FollowSettings(
        timeout=600.0 if args.timeout is None else args.timeout, interval=args.interval or LOOK_EVERY
    )
    return int(follow(record.path, settings, _look_state, _print_event(record.run_id, args.json)))


def _look_state(record: RunRecord) -> tuple[str, Progress]:
    state, progress, _ = _look(record)
    return state, progress


def run(args: argparse.Namespace) -> int:
    if loops.is_loop_ref(args.run_ref):
        return _loop_status(args)
    if is_experiment_ref(args.run_ref):  # `status exp-…`: the experiment's cells
        return experiment_status(args)
    if args.follow:
        return _follow(args)
    if args.timeout is not None or args.interval is not None:
        raise SkillError("--timeout and --interval only apply with --follow", ExitCode.USAGE)
    info = describe(resolve(args))
    if args.json:
        output.print_json(info)
    else:
        print(render(info))
    return 0


def _loop_status(args: argparse.Namespace) -> int:
    """`status LOOP`: round k of N, the last verdict, the current run."""
    found = loop_control.describe(loops.resolve(args.run_ref, project_dir(args)))
    if args.json:
        output.print_json(found)
    else:
        print(loop_control.render(found))
    return 0

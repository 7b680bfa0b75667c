"""`massgen-skill status [RUN]`: a run's phase, agents, votes, cost — from its newest status.json."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from massgen_skill.commands._common import add_run_argument, resolve

if TYPE_CHECKING:
    from massgen_skill.run.records import RunRecord

EPILOG = """\
Reads the newest turn_N/attempt_M/status.json (the STATUS path massgen printed goes stale after a restart).
A missing, half-written or damaged file is reported, never a crash. Once the run ended, "outcome" and
"exit_code" are the run's one outcome (what `run`, `wait` and `result` exit with); status itself exits 0.

examples:
  massgen-skill status
  massgen-skill status 20261125-101500-ab12cd --json
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    add_run_argument(parser)


def describe(record: RunRecord) -> dict[str, Any]:
    """Record + live progress + the run's one outcome, as one dict (shared by status and wait)."""
    from massgen_skill.follow.results import outcome_of
    from massgen_skill.massgen.status import progress_for
    from massgen_skill.run.records import ACTIVE_STATES, effective_state

    state = effective_state(record)
    progress = progress_for(Path(record.log_dir) if record.log_dir else None, state not in ACTIVE_STATES)
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
        "log_dir": record.log_dir,
        "answer_path": record.answer_path,
        "partial_answer": record.partial_answer,
        "outcome": outcome.word if outcome else None,
        "exit_code": int(outcome.code) if outcome else None,
        "reason": outcome.reason if outcome else None,
        "warnings": list(record.warnings),
        "progress": progress.as_dict(),
    }


def render(info: dict[str, Any]) -> str:
    from massgen_skill.massgen.status import Progress, one_line

    progress = info["progress"]
    shown = info["outcome"] and info["outcome"] != info["state"]  # not "lost (lost)", "stopped (stopped)"
    lines = [f"run {info['run_id']}: {info['state']}" + (f" ({info['outcome']})" if shown else "")]
    lines.append(f"  log dir: {info['log_dir'] or '(not yet)'}")
    lines.append(f"  progress: {one_line(Progress(**{**progress, 'agents': ()}))}")
    for agent in progress["agents"]:
        extra = f" voted for {agent['voted_for']}" if agent["voted_for"] else ""
        error = f" error: {agent['error']}" if agent["error"] else ""
        lines.append(
            f"    {agent['agent_id']}: {agent['status']}, {agent['answers']} answer(s){extra}{error}"
        )
    if progress["votes"]:
        lines.append("  votes: " + ", ".join(f"{k}={v}" for k, v in progress["votes"].items()))
    if progress["cost"] is not None or progress["input_tokens"] is not None:
        lines.append(
            f"  tokens: {progress['input_tokens'] or 0} in / {progress['output_tokens'] or 0} out,"
            f" cost ${progress['cost'] or 0:.4f}"
        )
    if info["answer_path"]:
        lines.append(f"  answer: {info['answer_path']}")
    if info["partial_answer"]:
        lines.append(f"  partial answer (not the team's answer): {info['partial_answer']}")
    if info["exit_code"] is not None:
        lines.append(f"  exit code: {info['exit_code']}")
    if info["reason"] and info["exit_code"] != 0:
        lines.append(f"  reason: {info['reason']}")
    lines += [f"  warning: {text}" for text in info["warnings"]]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from massgen_skill.output import print_json

    info = describe(resolve(args))
    if args.json:
        print_json(info)
    else:
        print(render(info))
    return 0

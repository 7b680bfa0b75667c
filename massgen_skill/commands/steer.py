"""`massgen-skill steer [RUN] "message" [--agent ID]…`: send a message to a running CLI-mode team."""

from __future__ import annotations

import argparse
from pathlib import Path

from massgen_skill.commands._common import RUN_HELP, add_project_argument
from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.follow.steering import WHEN_READ, unread_messages, write_message
from massgen_skill.massgen.status import progress_for
from massgen_skill.output import print_json, warn
from massgen_skill.run import records

EPILOG = f"""\
The message reaches the agents on their next tool use: {WHEN_READ};
a team that only answers and votes never sees it. `status` and `result` report messages still unread.
Only runs launched without the web UI have an inbox: massgen ignores --inbox-dir under --web.
Without --agent every agent gets it.

Refused (exit {int(ExitCode.REFUSED)}) for a finished, stopped or lost run and for a web-mode run; an empty
message is a usage error (exit {int(ExitCode.USAGE)}).

examples:
  massgen-skill steer "Focus on the error handling, skip the UI"
  massgen-skill steer 20261125-101500-ab12cd "Add tests" --agent agent_b
  massgen-skill steer --json latest "Wrap up: one more round at most"
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.usage = f"{parser.prog} [RUN] MESSAGE [--agent ID]… [--project DIR] [--json]"
    parser.add_argument(
        "words", nargs="+", metavar="[RUN] MESSAGE", help=f"RUN: {RUN_HELP}; MESSAGE: the text"
    )
    parser.add_argument(
        "--agent",
        dest="agents",
        action="append",
        default=[],
        metavar="ID",
        help="send only to this agent (repeat for several)",
    )
    add_project_argument(parser)
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    if len(args.words) > 2:
        raise SkillError(
            f"expected [RUN] MESSAGE, got {len(args.words)} arguments; quote the message as one argument"
        )
    run_ref, message = (None, args.words[0]) if len(args.words) == 1 else args.words
    if not message.strip():
        raise SkillError("the message is empty; say what the team should do differently")
    agents = [a.strip() for a in args.agents]
    if any(not a for a in agents):
        raise SkillError("--agent needs an agent id (e.g. agent_a)")

    record = records.resolve_run(run_ref, Path(args.project).resolve())
    state = records.effective_state(record)
    if state not in records.ACTIVE_STATES:
        why = {
            records.LOST: "its supervisor is gone",
            records.STOPPED: "it was stopped",
            records.FINISHED: "it has finished",
        }.get(state, f"it is {state}")
        raise SkillError(
            f"run {record.run_id} is {state} ({why}); steering reaches only a running team", ExitCode.REFUSED
        )
    if record.web:
        raise SkillError(
            f"run {record.run_id} uses the web UI, where massgen ignores the steering inbox; "
            "steer it in the browser, or start CLI runs with --no-web",
            ExitCode.REFUSED,
        )
    if not record.inbox_dir:
        raise SkillError(f"run {record.run_id} was launched without a steering inbox", ExitCode.REFUSED)
    if agents:
        _check_agents(record, agents)
    waiting = unread_messages(record).count
    warn(
        f"{WHEN_READ}; a team that only answers and votes never reads it"
        + (f" ({waiting} earlier message(s) still unread)" if waiting else "")
    )
    sent = write_message(Path(record.inbox_dir), message, agents or None)
    data = {
        "ok": True,
        "run_id": record.run_id,
        "state": state,
        "file": str(sent.path),
        "target_agents": agents or None,
        "chars": len(message),
        "unread_before": waiting,
    }
    if args.json:
        print_json(data)
    else:
        target = ", ".join(agents) if agents else "all agents"
        print(f"{record.run_id}: message for {target} queued in {sent.path}", flush=True)
    return int(ExitCode.OK)


def _check_agents(record: records.RunRecord, agents: list[str]) -> None:
    """Unknown agent ids are an error when the run's status.json lists its agents; else only a warning."""
    progress = progress_for(Path(record.log_dir) if record.log_dir else None, turn=record.turn)
    known = [a.agent_id for a in progress.agents]
    if not known:
        warn("agent ids not checked: the run lists no agents yet")
        return
    unknown = [a for a in agents if a not in known]
    if unknown:
        raise SkillError(f"no agent {', '.join(unknown)} in run {record.run_id} (agents: {', '.join(known)})")

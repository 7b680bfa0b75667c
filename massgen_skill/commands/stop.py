"""`massgen-skill stop [RUN]`: stop a run's whole process group and mark its record stopped."""

from __future__ import annotations

import argparse
import os
import signal
import time

from massgen_skill.commands._common import add_run_argument, project_dir, seconds

EPILOG = """\
Asks the supervising wrapper to stop (it sends SIGINT to massgen's group so massgen saves its logs, then
SIGTERM, then SIGKILL). When the wrapper is gone (state "lost"), stops massgen's group itself.
Stopping a finished run does nothing and succeeds.

examples:
  massgen-skill stop
  massgen-skill stop 20261125-101500-ab12cd --grace 2
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    add_run_argument(parser)
    parser.add_argument("--grace", type=seconds, default=5.0, metavar="S", help="seconds between signals (5)")


def _wait_final(path, timeout: float):  # type: ignore[no-untyped-def]
    from massgen_skill.run import records

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = records.load(path)
        if record.state not in records.ACTIVE_STATES:
            return record
        time.sleep(0.1)
    return None


def run(args: argparse.Namespace) -> int:
    from massgen_skill.exitcodes import ExitCode
    from massgen_skill.output import print_json
    from massgen_skill.run import records
    from massgen_skill.run.launcher import group_exists, stop_group

    grace = max(0.1, args.grace)
    record = records.resolve_run(args.run_ref, project_dir(args))
    state = records.effective_state(record)
    how = "already ended"
    if state in records.ACTIVE_STATES:
        os.kill(record.wrapper_pid, signal.SIGTERM)  # the wrapper stops the group and finalises the record
        done = _wait_final(record.path, grace * 2 + 5)
        how = "stopped by its wrapper"
        record = done or records.load(record.path)
        state = records.effective_state(record)
    if state == records.LOST or (record.pgid and group_exists(record.pgid)):
        last = stop_group(record.pgid, (grace, grace)) if record.pgid else "none"
        with records.locked(project_dir(args), record.run_id):
            record = records.load(record.path)
            record.state = records.STOPPED
            record.outcome = record.outcome or "stopped"
            record.exit_code = record.exit_code if record.exit_code is not None else int(ExitCode.STOPPED)
            record.reason = record.reason or f"stopped by `massgen-skill stop` (last signal {last})"
            record.ended_at = record.ended_at or time.time()
            records.save(record)
        how = f"massgen's group stopped (last signal {last})"
    alive = bool(record.pgid and group_exists(record.pgid))
    data = {"run_id": record.run_id, "state": record.state, "how": how, "processes_left": alive}
    if args.json:
        print_json(data)
    else:
        print(f"{record.run_id}: {record.state} ({how})")
    return int(ExitCode.INTERNAL) if alive else 0

"""`massgen-skill stop [RUN]`: stop every process of a run and mark its record stopped."""

from __future__ import annotations

import argparse

from massgen_skill.commands._common import add_run_argument, project_dir, seconds
from massgen_skill.commands._experiments import experiment_stop
from massgen_skill.exitcodes import ExitCode
from massgen_skill.experiment.record import is_experiment_ref
from massgen_skill.loop import control as loop_control
from massgen_skill.loop import record as loops
from massgen_skill.output import print_json, warn
from massgen_skill.run import records
from massgen_skill.run.procs import DEFAULT_GRACES, RUN_MARKER, TREE_FILE
from massgen_skill.run.stopping import stop_run

EPILOG = f"""\
Asks the supervising wrapper to stop (it sends SIGINT to massgen's group so massgen saves its logs, then
SIGTERM, then SIGKILL). Then stops, in the same stages, whatever of the run is still alive: massgen's group,
every descendant that carries {RUN_MARKER}=<run id> in its environment, and the descendants in sessions of
their own (massgen's MCP servers) that the wrapper recorded in the run folder ({TREE_FILE}).
A process is signalled only while its pid and start time are still the recorded ones.
Stopping a finished run does nothing and succeeds. Exit {int(ExitCode.INTERNAL)} when processes of the run
are left, {int(ExitCode.REFUSED)} when the wrapper cannot be identified (nothing is signalled then).

examples:
  massgen-skill stop
  massgen-skill stop 20261125-101500-ab12cd --grace 2
  massgen-skill stop exp-20261130-011500-ab12cd    # an experiment: its running cells, then itself
  massgen-skill stop loop-20261130-010203-ab12cd   # a loop: its current run, and the loop
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    add_run_argument(parser)
    parser.add_argument(
        "--grace",
        type=seconds,
        default=DEFAULT_GRACES[0],
        metavar="S",
        help="seconds between signals (default: %(default)s)",
    )


def run(args: argparse.Namespace) -> int:
    if loops.is_loop_ref(args.run_ref):
        return _stop_loop(args)
    if is_experiment_ref(args.run_ref):  # `stop exp-…`: the experiment and its running cells
        return experiment_stop(args, max(0.1, args.grace))
    record = records.resolve_run(args.run_ref, project_dir(args))
    result = stop_run(record, max(0.1, args.grace))
    for note in result.refused:
        warn(note)
    if args.json:
        print_json(
            {
                "run_id": result.run_id,
                "state": result.state,
                "how": result.how,
                "signalled": result.signalled,
                "last_signal": result.last_signal,
                "refused": result.refused,
                "processes_left": bool(result.processes_left),
                "pids_left": result.processes_left,
            }
        )
    else:
        print(f"{result.run_id}: {result.state} ({result.how})")
        if result.processes_left:
            print(f"processes left: {', '.join(map(str, result.processes_left))}")
    return int(result.code)


def _stop_loop(args: argparse.Namespace) -> int:
    """`stop LOOP`: stop the loop's current run; the loop ends with it (stopped)."""
    loop = loops.resolve(args.run_ref, project_dir(args))
    result, code = loop_control.stop_loop(loop, max(0.1, args.grace))
    how = f"run {result.run_id}: {result.state} ({result.how})" if result else f"already ended ({loop.state})"
    if args.json:
        print_json({"loop_id": loop.loop_id, "how": how, "exit_code": int(code)})
    else:
        print(f"{loop.loop_id}: {how}")
    return int(code)

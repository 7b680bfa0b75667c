"""`status exp-…` and `stop exp-…`: the experiment ids the run commands hand over (kept apart from
`_common`, so other commands never import the experiment room)."""

from __future__ import annotations

import argparse

from massgen_skill.commands._common import project_dir
from massgen_skill.exitcodes import ExitCode
from massgen_skill.experiment import control
from massgen_skill.experiment import record as experiment
from massgen_skill.output import print_json


def experiment_status(args: argparse.Namespace) -> int:
    """`status exp-…`: cells ok / failed / left (the experiment's own record)."""
    info = control.describe(experiment.resolve(args.run_ref, project_dir(args)))
    if args.json:
        print_json(info)
    else:
        print(control.render(info))
    return int(ExitCode.OK)


def experiment_stop(args: argparse.Namespace, grace: float) -> int:
    """`stop exp-…`: the supervisor stops its running cells in stages; the record then says stopped."""
    record = control.stop(experiment.resolve(args.run_ref, project_dir(args)), grace)
    info = control.describe(record)
    if args.json:
        print_json(info)
    else:
        print(control.render(info).splitlines()[0])
    return int(ExitCode.OK if info["state"] != experiment.EXP_RUNNING else ExitCode.INTERNAL)

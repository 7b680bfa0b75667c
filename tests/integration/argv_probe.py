"""Check flag sets against massgen's REAL argument parser, many per process.

Run with the massgen venv's python INSIDE the test namespace (importing massgen touches the network):

    python argv_probe.py CASES.json    # CASES.json: [["--automation", "--config", "x.yaml", "q"], ...]

Prints ``{"import_seconds", "results": [{"argv", "exit", "error", "question", "single_agent"}, …]}``.
``exit`` (0 or 2) mirrors what ``massgen``'s
``cli_main`` does right after ``parse_args`` (massgen/cli/entrypoint.py): argparse usage errors,
``--plan-steps``/``--plan-chunks`` <= 0 and incompatible mode flags exit 2; 0 means "got past argument
checking". Importing massgen.cli once costs several seconds; each case then costs milliseconds, while a full
``massgen`` process per case costs the whole start-up (and some flag sets never exit on a missing config,
e.g. ``--web --automation``).
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time


def main(argv: list[str]) -> int:
    with open(argv[0], encoding="utf-8") as fh:
        cases = json.load(fh)
    t0 = time.monotonic()
    from massgen.cli.entrypoint import main_parser
    from massgen.cli.mode_flags import validate_mode_flag_combinations

    import_seconds = time.monotonic() - t0
    results = []
    for case in cases:
        err = io.StringIO()
        entry: dict[str, object] = {
            "argv": case,
            "exit": 0,
            "error": "",
            "question": None,
            "single_agent": None,
        }
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                args = main_parser().parse_args(case)
        except SystemExit as exc:
            entry["exit"] = exc.code if isinstance(exc.code, int) else 2
            entry["error"] = (
                err.getvalue().strip().splitlines()[-1:] and err.getvalue().strip().splitlines()[-1]
            )
            results.append(entry)
            continue
        entry["question"] = args.question
        entry["single_agent"] = args.single_agent
        problems = []
        if args.plan_steps is not None and args.plan_steps <= 0:
            problems.append("--plan-steps must be a positive integer")
        if args.plan_chunks is not None and args.plan_chunks <= 0:
            problems.append("--plan-chunks must be a positive integer")
        problems += validate_mode_flag_combinations(args)
        if problems:
            entry["exit"] = 2
            entry["error"] = "; ".join(problems)
        results.append(entry)
    print(json.dumps({"import_seconds": round(import_seconds, 2), "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

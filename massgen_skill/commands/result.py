"""`massgen-skill result [RUN]`: the answer (bounded), winner, workspace, plan/spec files of a run."""

from __future__ import annotations

import argparse
from pathlib import Path

from massgen_skill.commands._common import add_run_argument, project_dir
from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.follow.steering import unread_messages
from massgen_skill.output import content_lines, one_line, print_json

EPILOG = """\
Works for CLI-mode and web-mode log layouts, from the run record alone or from --log-dir.

examples:
  massgen-skill result
  massgen-skill result --max-chars 20000 --json
  massgen-skill result --log-dir .massgen/massgen_logs/log_20261125_101500_123456
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    add_run_argument(parser)
    parser.add_argument("--log-dir", metavar="DIR", help="read this massgen log dir instead of a run record")
    parser.add_argument("--max-chars", type=int, default=4000, metavar="N", help="answer text limit (4000)")


def _target(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from massgen_skill.run import records

    if args.log_dir:
        folder = Path(args.log_dir)
        if not folder.is_dir():
            raise SkillError(f"--log-dir {args.log_dir}: not a folder", ExitCode.NOT_FOUND)
        return None, folder.resolve()
    record = records.resolve_run(args.run_ref, project_dir(args))
    if not record.log_dir:
        raise SkillError(
            f"run {record.run_id} has no log dir (massgen never printed LOG_DIR)", ExitCode.NO_ANSWER
        )
    return record, Path(record.log_dir)


def run(args: argparse.Namespace) -> int:
    from massgen_skill.follow import results
    from massgen_skill.run import records

    if args.max_chars <= 0:
        raise SkillError("--max-chars must be > 0")
    record, log_dir = _target(args)
    hint = Path(record.answer_path) if record and record.answer_path else None
    found = results.find(log_dir, record.winner if record else None, hint)
    text, truncated = (
        results.read_bounded(found.answer_path, args.max_chars) if found.answer_path else ("", False)
    )
    state = records.effective_state(record) if record else "finished"
    data = {
        "run_id": record.run_id if record else None,
        "state": state,
        "outcome": record.outcome if record else None,
        "log_dir": str(log_dir),
        "winner": found.winner,
        "answer_path": str(found.answer_path) if found.answer_path else None,
        "answer": text,
        "truncated": truncated,
        "workspace": str(found.workspace) if found.workspace else None,
        "plan_file": str(found.plan_file) if found.plan_file else None,
        "spec_file": str(found.spec_file) if found.spec_file else None,
        "plan_dir": record.plan_dir if record else None,
        "changed_files": record.changed_files if record else None,
        "reason": record.reason if record else None,
        "unread_steering": unread_messages(record).as_dict() if record else None,
    }
    if args.json:
        print_json(data)
    else:
        for key in ("winner", "answer_path", "workspace", "plan_file", "spec_file", "plan_dir"):
            if data[key]:
                print(f"{key.upper()}: {one_line(data[key], 65536, collapse=False)}")
        if data["unread_steering"] and data["unread_steering"]["note"]:
            print(f"STEERING: {one_line(data['unread_steering']['note'])}")
        if data["changed_files"] is not None:
            changed = ", ".join(data["changed_files"]) or "(nothing)"
            print(f"CHANGED: {one_line(changed, 65536, collapse=False)}")
        if text:
            print("--- answer ---")
            print("\n".join(content_lines(text.rstrip("\n"))))
            if truncated:
                print("[… truncated; --max-chars or open ANSWER_PATH for all of it]")
    if found.answer_path:
        return 0
    if state in records.ACTIVE_STATES:
        return int(ExitCode.STILL_RUNNING)
    if not args.json:
        print(f"no answer: {one_line(data['reason'] or 'the run produced none', 1000)}")
    return int(ExitCode.NO_ANSWER)

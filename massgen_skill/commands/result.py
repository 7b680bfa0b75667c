"""`massgen-skill result [RUN]`: the answer (bounded), winner, workspace, plan/spec files of a run."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from massgen_skill.commands._common import add_run_argument, project_dir
from massgen_skill.evaluate.artefacts import VERDICT_FILE, locate, read_evaluation
from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.follow import media, results
from massgen_skill.follow.results import Found
from massgen_skill.follow.steering import unread_messages
from massgen_skill.output import content_lines, one_line, print_json
from massgen_skill.run import records
from massgen_skill.run.outcome import Outcome
from massgen_skill.run.records import RunRecord

EPILOG = """\
Works for CLI-mode and web-mode log layouts, from the run record alone or from --log-dir.
Exits with the run's one outcome code (the same as `run` and `wait`): 0 only when the team answered.
A time limit's fallback answer, or an answer written before a stop, is shown as a partial answer.
Plan and spec runs: the task titles of the plan/spec file (the first 20).
Media: one line per image, video or audio file in the winner's workspace, `MEDIA: "<path>" <kind> <bytes>`
(the path JSON-quoted, so spaces survive; the first 50, then `MEDIA_MORE:`); `--json`: `media` as objects
(path, kind, size), `media_more`, `media_complete`.
Structured evaluations (`run --structured`): VERDICT:, one SCORE: line per criterion, NEXT_TASK: lines and
CRITIQUE: (the critique_packet.md path); a missing or invalid verdict.json / next_tasks.json is a WARNING:.

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


def _target(args: argparse.Namespace) -> tuple[RunRecord | None, Path | None]:
    if args.log_dir:
        folder = Path(args.log_dir)
        if not folder.is_dir():
            raise SkillError(f"--log-dir {args.log_dir}: not a folder", ExitCode.NOT_FOUND)
        return None, folder.resolve()
    record = records.resolve_run(args.run_ref, project_dir(args))
    return record, Path(record.log_dir) if record.log_dir else None


def _answer_and_partial(
    record: RunRecord | None, found: Found, outcome: Outcome | None
) -> tuple[Path | None, Path | None]:
    """(answer, partial answer): an answer file is the team's answer only when the run ended ok."""
    if found.answer_path is None:
        return None, None
    if record is None or (outcome is not None and outcome.code == ExitCode.OK):
        return found.answer_path, None
    return None, found.answer_path


def _tasks(found: Found) -> dict[str, Any] | None:
    artifact = found.plan_file or found.spec_file
    return results.tasks_json(results.task_titles(artifact)) if artifact else None


def _media(found: Found) -> dict[str, Any]:
    listing = media.list_media(found.workspace)
    return {
        "media": [f.as_dict() for f in listing.files],
        "media_more": listing.more,
        "media_complete": listing.complete,
    }


def _print_text(data: dict[str, Any], text: str, truncated: bool) -> None:
    for key in ("winner", "answer_path", "partial_answer", "workspace", "plan_file", "spec_file", "plan_dir"):
        if data[key]:
            print(f"{key.upper()}: {_value(data[key])}")
    if data.get("previous_run"):
        session = _value(data["session_id"] or "?")
        print(f"TURN: {data['turn']} (session {session}, after {data['previous_run']})")
    for item in data["media"]:
        print(f"MEDIA: {_value(media.media_line(item['path'], item['kind'], item['size']))}")
    if data["media_more"] or not data["media_complete"]:
        more = f"{data['media_more']} more" if data["media_complete"] else "more may exist"
        print(f"MEDIA_MORE: {more} (not listed; open WORKSPACE)")
    if data["unread_steering"] and data["unread_steering"]["note"]:
        print(f"STEERING: {_value(data['unread_steering']['note'])}")
    tasks = data["tasks"]
    if tasks:
        shown = len(tasks["titles"])
        print(f"TASKS: {tasks['total']}" + (f" (first {shown} shown)" if shown < tasks["total"] else ""))
        print(
            "\n".join(f"  - {_value(title)}" for title in tasks["titles"])
            or f"  ({_value(tasks['problem'])})"
        )
    _print_evaluation(data["evaluation"])
    if data["changed_files"] is not None:
        print(f"CHANGED: {_value(', '.join(data['changed_files']) or '(nothing)')}")
    for warning in data["warnings"]:
        print(f"WARNING: {_value(warning)}")
    if text:
        label = "answer" if data["answer_path"] else "partial answer (not the team's answer)"
        key = "ANSWER_PATH" if data["answer_path"] else "PARTIAL_ANSWER"
        more = f"\n[… truncated; --max-chars or open {key} for all of it]"
        print(f"--- {label} ---")
        print("\n".join(content_lines(text.rstrip("\n"))) + (more if truncated else ""))


def _print_evaluation(evaluation: dict[str, Any] | None) -> None:
    """The structured evaluation's verdict, scores, next tasks and critique path, one value per line."""
    if not evaluation:
        return
    if evaluation["verdict"]:
        print(f"VERDICT: {_value(evaluation['verdict'])}")
    for criterion, score in evaluation["scores"].items():
        print(f"SCORE: {_value(criterion)} {score}")
    for task in evaluation["next_tasks"]:
        line = f"[{task['category']}] {task['id']}: {task['description']}"
        print(f"NEXT_TASK: {_value(line)}")
    if evaluation["critique_file"]:
        print(f"CRITIQUE: {_value(evaluation['critique_file'])}")


def _evaluation(record: RunRecord | None, found: Found, state: str) -> dict[str, Any] | None:
    """A structured run's files once it ended (a --log-dir read: when the workspace holds a verdict)."""
    structured = record.structured if record else locate(found.workspace, VERDICT_FILE) is not None
    if not structured or state in records.ACTIVE_STATES:
        return None
    return read_evaluation(found.workspace).as_dict()


def _value(text: str) -> str:
    """A value massgen or a record supplied, on one line whatever it holds."""
    return one_line(text, 65536, collapse=False)


def run(args: argparse.Namespace) -> int:
    if args.max_chars <= 0:
        raise SkillError("--max-chars must be > 0")
    record, log_dir = _target(args)
    hint_text = (record.answer_path or record.partial_answer) if record else None
    hint = Path(hint_text) if hint_text else None
    # No log dir: massgen never printed LOG_DIR; the run's outcome still says why.
    winner, turn = (record.winner, record.turn) if record else (None, None)
    found = results.find(log_dir, winner, hint, turn) if log_dir else results.NOTHING
    state = records.effective_state(record) if record else records.FINISHED
    outcome = results.outcome_of(record, state) if record else None
    answer, partial = _answer_and_partial(record, found, outcome)
    shown = answer or partial
    text, truncated = results.read_bounded(shown, args.max_chars) if shown else ("", False)
    evaluation = _evaluation(record, found, state)
    data = {
        "run_id": record.run_id if record else None,
        "state": state,
        "outcome": outcome.word if outcome else None,
        "exit_code": int(outcome.code) if outcome else None,
        "log_dir": str(log_dir) if log_dir else None,
        "winner": found.winner,
        "answer_path": str(answer) if answer else None,
        "answer": text if answer else "",
        "partial_answer": str(partial) if partial else None,
        "partial_text": text if partial else "",
        "truncated": truncated,
        "workspace": str(found.workspace) if found.workspace else None,
        **_media(found),
        "plan_file": str(found.plan_file) if found.plan_file else None,
        "spec_file": str(found.spec_file) if found.spec_file else None,
        "tasks": _tasks(found),
        "plan_dir": record.plan_dir if record else None,
        "changed_files": record.changed_files if record else None,
        "warnings": (list(record.warnings) if record else []) + (evaluation or {}).get("warnings", []),
        "evaluation": evaluation,
        "reason": outcome.reason if outcome else None,
        "unread_steering": unread_messages(record).as_dict() if record else None,
        **(record.session_info() if record else {}),
    }
    if args.json:
        print_json(data)
    else:
        _print_text(data, text, truncated)
    return _exit_code(args, record, state, outcome, answer, data["reason"])


def _exit_code(
    args: argparse.Namespace,
    record: RunRecord | None,
    state: str,
    outcome: Outcome | None,
    answer: Path | None,
    reason: str | None,
) -> int:
    """The run's one outcome code (as `wait` and `run` give it); 10 while it is still going."""
    if outcome is not None:
        if outcome.code != ExitCode.OK and not args.json:
            print(f"RESULT: {outcome.word} ({_value(reason or '')})")
        return int(outcome.code)
    if record is not None:
        return int(ExitCode.STILL_RUNNING)  # active: no outcome yet
    if answer:
        return 0
    if not args.json:
        print("no answer: the log dir holds none")
    return int(ExitCode.NO_ANSWER)

"""`run --continue RUN`: which session a follow-up continues (checked before launch), and that session made
ready.

massgen's own session ids have one-second resolution, so two runs started within one second share one (its
registry then names only the later run's log folder, and the same storage folder holds both). A follow-up
therefore never continues massgen's id: the first follow-up of a run opens a session of our own,
`skill_<first run id>`, saves that run's turn into its storage from the run's own log folder, and registers
it with that log folder. massgen logs each follow-up in a new log folder of its own (`turn_<N+1>/` in it;
see massgen/sessions.py). Later turns continue the same session. Only the newest turn of a session can be
continued (massgen continues after the last saved turn, so a second branch would follow the first).
massgen's web UI ignores `--session-id`: follow-ups run on the CLI path.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

from massgen_skill.exitcodes import RESULT_WORDS, ExitCode, SkillError
from massgen_skill.massgen import flags, layout, sessions
from massgen_skill.prepare.intent import REVIEWLESS_MODES
from massgen_skill.prepare.request import RunRequest
from massgen_skill.run import claims, records

SESSION_PREFIX = "skill_"  # our sessions: skill_<first run id> (massgen's own are session_<time>)
OK_WORD = RESULT_WORDS[ExitCode.OK]  # the outcome of a run that produced the team's answer


@dataclass(frozen=True)
class Continuation:
    previous: records.RunRecord
    session_id: str
    turn: int  # the turn this follow-up will be
    log_root: Path  # the continued run's log folder (registered; massgen logs the turn in a new one)
    cwd: Path  # massgen runs where the session is stored
    config: str | None  # the previous turn's --config (massgen's own lookup when it had none)

    @property
    def first_run(self) -> str:
        return self.previous.first_run or self.previous.run_id


def _after_dashdash(argv: list[str]) -> str | None:
    return argv[argv.index("--") + 1] if "--" in argv[:-1] else None


def _flag_value(argv: list[str], flag: str) -> str | None:
    return argv[argv.index(flag) + 1] if flag in argv[:-1] else None


def _refuse(run_id: str, why: str, code: ExitCode = ExitCode.REFUSED) -> SkillError:
    return SkillError(f"--continue {run_id}: {why}", code)


def _check_previous(previous: records.RunRecord) -> None:
    """A finished run that answered, with a task of its own (check_newest: and no one went on from it)."""
    state = records.effective_state(previous)
    if state in records.ACTIVE_STATES:
        wait = f"massgen-skill wait {previous.run_id}"
        raise _refuse(previous.run_id, f"the run is still {state}; wait for it ({wait})")
    if previous.outcome != OK_WORD or not previous.answer_path or not previous.log_dir:
        why = previous.outcome or state
        raise _refuse(previous.run_id, f"the run ended {why}, so massgen saved no turn to continue")
    if _after_dashdash(previous.argv) is None:
        raise _refuse(previous.run_id, "the run had no task of its own (execute-plan/-spec)")


def check_newest(previous: records.RunRecord) -> None:
    """Only the newest turn goes on: massgen continues after the last turn saved in the session, so a second
    follow-up of one run would follow the first. A follow-up that failed saved no turn and does not count."""
    for later in records.list_records(Path(previous.project_dir)):
        going = records.effective_state(later) in records.ACTIVE_STATES or later.outcome == OK_WORD
        if later.previous_run == previous.run_id and going:
            why = f"already continued by {later.run_id}; continue that run (or `latest`)"
            raise _refuse(previous.run_id, why)


def find(ref: str, start: Path) -> Continuation:
    """The session and turn a follow-up of run `ref` (id, unique prefix or `latest`) continues."""
    previous = records.resolve_run(ref, start)
    _check_previous(previous)
    check_newest(previous)
    cwd = Path(previous.cwd or previous.project_dir)
    root = claims.log_root(previous.log_dir or "", claims.log_bases(cwd, os.environ))
    if root is None:
        raise _refuse(previous.run_id, f"its log folder {previous.log_dir} is gone or not massgen's")
    turn = (previous.turn or 1) + 1
    session_id = previous.session_id or SESSION_PREFIX + (previous.first_run or previous.run_id)
    return Continuation(previous, session_id, turn, root, cwd, _flag_value(previous.argv, flags.CONFIG))


def adjusted(request: RunRequest, found: Continuation) -> RunRequest:
    """The follow-up as massgen must run it: in the session's folder, on the CLI path, same config."""
    if request.web:
        raise SkillError(
            f"--continue cannot be combined with --web: massgen 0.1.97 ignores {flags.SESSION_ID} there",
            ExitCode.USAGE,
        )
    if request.mode in REVIEWLESS_MODES:  # auto never picks these on its own
        raise SkillError(
            f"--continue cannot be combined with --mode {request.mode}: massgen runs it sessionless"
        )
    return dataclasses.replace(request, cwd=found.cwd, web=False, config=request.config or found.config)


def _first_turn(previous: records.RunRecord, root: Path) -> sessions.SavedTurn:
    """The continued run's turn, from its own log folder (never from massgen's storage, which two runs
    started within one second share)."""
    answer = Path(previous.answer_path or "")
    if not answer.is_file() or not claims.within(answer, root):
        raise _refuse(previous.run_id, "its answer file is gone from its log folder")
    workspace = answer.parent / layout.WORKSPACE_DIR  # final/<winner>/workspace, beside the answer
    text = answer.read_text(encoding="utf-8", errors="replace")
    winner = previous.winner or answer.parent.name
    task = _after_dashdash(previous.argv) or ""
    owned = workspace.is_dir() and claims.within(workspace, root)
    return sessions.SavedTurn(1, task, winner, text, workspace if owned else None)


def open_session(found: Continuation, home: Path) -> None:
    """Make the session continuable: the first follow-up saves turn 1 and registers the session."""
    saved = sessions.saved_turns(found.cwd, found.session_id)
    expected = list(range(1, found.turn))
    try:
        if not saved and found.turn == 2:
            sessions.save_turn(found.cwd, found.session_id, _first_turn(found.previous, found.log_root))
        elif saved != expected:
            raise _refuse(
                found.previous.run_id,
                f"session {found.session_id} holds turns {saved or 'none'} in "
                f"{sessions.storage_dir(found.cwd, found.session_id)}, expected {expected}",
            )
        sessions.register(home, found.session_id, found.log_root, found.config)
    except OSError as exc:
        why = f"cannot prepare session {found.session_id}: {exc}"
        raise SkillError(why, ExitCode.ENV_NOT_READY) from None

"""One supervised run: massgen's markers → run record updates and stable, absolute lines for the host agent.

Relayed lines (one per line, in this order as they become known):
    RUN_ID, LOG_DIR, STATUS, WEB_UI, [review block], ANSWER | PARTIAL_ANSWER, OUTPUT_FILE, WORKSPACE, MEDIA,
    CHANGED, WARNING, REASON, RESULT (last)
ANSWER and what follows it are printed once the outcome is decided: an answer file is the team's answer only
when the run ended ok (a time limit's fallback answer is a PARTIAL_ANSWER).
massgen's own output goes to log files in the run's folder, never mixed into these lines.
"""

from __future__ import annotations

import dataclasses
import json
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.follow import media, results
from massgen_skill.follow.progress import LOOK_EVERY, ProgressLine, compact
from massgen_skill.massgen import flags, layout, markers, sessions
from massgen_skill.massgen.status import progress_for
from massgen_skill.output import one_line, warn
from massgen_skill.review import block
from massgen_skill.run import claims, records
from massgen_skill.run.launcher import EXITED, STDOUT, Event, Supervisor
from massgen_skill.run.outcome import Evidence, Outcome, Spend, budget_passed, decide, usd
from massgen_skill.run.projectgit import changed_since, snapshot

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
WRITE_ERROR = "WRITE_ERROR"  # relayed before RESULT: what could not be written (disk full, read-only)
_MAX_VALUE = markers.MAX_LINE  # a relayed value is never longer than the line massgen printed


@dataclass
class RunSettings:
    cwd: Path
    env: dict[str, str]
    argv: list[str]
    graces: Sequence[float]
    json_lines: bool = False
    track_changes: bool = False  # headless rw: list what changed in the project
    on_started: Callable[[], None] | None = None  # massgen has been launched (`run --detach` returns then)
    output_file: Path | None = None  # the --output-file massgen was given (absolute)
    max_cost: float | None = None  # USD: stop the run once massgen's reported cost passes it
    progress: TextIO | None = None  # a terminal: the self-overwriting progress line goes there


class Emitter:
    """Writes relayed lines: `KEY: value` for people and agents, or one JSON object per line."""

    def __init__(self, json_lines: bool, stream: TextIO | None = None) -> None:
        self.json_lines = json_lines
        self.stream = stream or sys.stdout
        self.before_write: Callable[[], None] = lambda: None  # e.g. clear a progress line on the terminal

    # One line each, whatever the value holds: text mode shows line breaks and controls as visible escapes;
    # JSON escapes every non-ASCII character, as json.dumps(ensure_ascii=False) would leave U+2028 raw.
    def line(self, key: str, value: str = "") -> None:
        if self.json_lines:
            text = json.dumps({"event": key.lower(), "value": value}, ensure_ascii=True)
        else:
            value = one_line(value, _MAX_VALUE, collapse=False)
            text = f"{key}: {value}" if value else key
        self.before_write()
        self.stream.write(text + "\n")
        self.stream.flush()

    def raw(self, text: str) -> None:
        if self.json_lines:
            text = json.dumps({"event": "review", "line": text}, ensure_ascii=True)
        else:
            text = one_line(text, _MAX_VALUE, collapse=False)
        self.before_write()
        self.stream.write(text + "\n")
        self.stream.flush()


class RunRelay:
    def __init__(self, record: records.RunRecord, settings: RunSettings, emit: Emitter) -> None:
        self.record = record
        self.settings = settings
        self.emit = emit
        self.parser = markers.MarkerParser()
        self.error_line: str | None = None
        self.answer_hint: Path | None = None
        self.signal_received: int | None = None
        self.stopping = False
        self.review_opened_at = 0.0
        self.roots = claims.RunRoots.before_launch(settings.cwd, settings.env)
        self.unsaved: dict[str, str] = {}  # what could not be written → why (reported before RESULT)
        self.over_budget: Spend | None = None
        self.next_look = 0.0  # monotonic time of the next look at status.json (progress line, budget)
        self.line = ProgressLine(settings.progress) if settings.progress is not None else None
        if self.line is not None:
            emit.before_write = self.line.clear

    # --- record ---------------------------------------------------------------------------------------
    def save(self) -> None:
        """Write the record; a full disk or a read-only folder is noted, never fatal: massgen runs on."""
        try:
            with records.locked(Path(self.record.project_dir), self.record.run_id):
                records.save(self.record)
        except (OSError, SkillError) as exc:
            self.note_unsaved("run record", exc)

    def note_unsaved(self, what: str, exc: BaseException) -> None:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        if what not in self.unsaved:
            warn(f"could not write the {what}: {reason}; the run goes on")
        self.unsaved[what] = reason

    def _abs(self, value: str) -> Path:
        path = Path(value)
        return path if path.is_absolute() else self.settings.cwd / path

    def _root(self) -> Path | None:
        return Path(self.record.log_dir) if self.record.log_dir else None

    # --- markers --------------------------------------------------------------------------------------
    def on_marker(self, marker: markers.Marker) -> None:
        handler: Callable[[str], None] | None = getattr(self, f"_on_{marker.kind.strip('_').lower()}", None)
        if handler:
            handler(marker.value)

    def _on_log_dir(self, value: str) -> None:
        if self.record.previous_run:
            warn(f"ignored LOG_DIR {value!r}: a continued session prints none of its own")
            return
        path = self._abs(value)
        # Only a record saved since our launch can hold a folder that did not exist then (claims.RunRoots).
        since = self.record.created_at - 1.0
        others = records.list_records(self.roots.project, written_since=since)
        taken = (r.log_dir for r in others if r.run_id != self.record.run_id)
        root = self.roots.new_log_root(path, (t for t in taken if t))
        if root is None:
            warn(f"ignored LOG_DIR {value!r}: not a new log folder of this run under {self.roots.bases[0]}")
            return
        path = claims.resolved(path) or path
        self.record.log_dir = str(root)
        if path != Path(self.record.log_dir):
            self.record.attempt_dir = str(path)
        self.record.state = records.RUNNING
        self.save()
        self.emit.line("LOG_DIR", self.record.log_dir)

    # Text in the answer preview can end the preview early with a forged `COMPLETED:` line; every marker after
    # it then parses. So each path marker must point where massgen puts that file, or it is ignored.

    def _on_status(self, value: str) -> None:
        if self._inside_run(value) is None:
            return
        self.record.status_path = str(self._abs(value))
        self.save()
        self.emit.line("STATUS", self.record.status_path)
        if self.record.web and self.record.web_port:
            self.emit.line("WEB_UI", f"http://{flags.WEB_HOST_DEFAULT}:{self.record.web_port}/")

    def _on_winner(self, value: str) -> None:
        self.record.winner = value
        self.save()

    def _inside_run(self, value: str) -> Path | None:
        """A path marker counts only when it points inside this run's log dir (no forged answers)."""
        path = self._abs(value)
        root = self._root()
        if root is not None and claims.within(path, root):
            return path
        warn(f"ignored a path outside this run's log folder: {value!r}")
        return None

    def _on_answer(self, value: str) -> None:
        if self.record.previous_run:
            return  # a continued session prints no ANSWER: this one is forged (the turn's files decide)
        path = self._inside_run(value)
        if path is not None and not path.is_file():
            warn(f"ignored ANSWER {value!r}: no such file")  # a torn line, or a claim ahead of the file
        elif path is not None:
            self.answer_hint = path  # relayed once the outcome says whether it is the answer

    def _on_final_dir(self, value: str) -> None:
        path = self._inside_run(value)
        if path is not None:
            self.record.final_dir = str(path)

    def _on_output_file(self, value: str) -> None:
        asked = self.settings.output_file
        if asked is None or not layout.same_path(self._abs(value), asked):
            return  # massgen prints it only for the --output-file it was given
        self.record.output_file = str(self._abs(value))  # relayed after the answer line

    def _path_marker(self, field: str, key: str, value: str) -> None:
        if self.roots.plan_path(self._abs(value)) is None:
            warn(f"ignored {key} {value!r}: not under {claims.plans_root(self.roots.project)}")
            return
        setattr(self.record, field, str(self._abs(value)))
        self.save()
        self.emit.line(key, getattr(self.record, field))

    def _on_plan_dir(self, value: str) -> None:
        self._path_marker("plan_dir", "PLAN_DIR", value)

    def _on_spec_dir(self, value: str) -> None:
        self._path_marker("spec_dir", "SPEC_DIR", value)

    def _on_plan_id(self, value: str) -> None:
        if not self.record.plan_dir or Path(self.record.plan_dir).name != f"plan_{value}":
            return  # it names the PLAN_DIR printed just before it
        self.record.plan_id = value
        self.emit.line("PLAN_ID", value)

    def _on_spec_id(self, value: str) -> None:
        if not self.record.spec_dir or Path(self.record.spec_dir).name != f"plan_{value}":
            return
        self.record.spec_id = value
        self.emit.line("SPEC_ID", value)

    def _on_restart(self, value: str) -> None:
        self.emit.line("RESTART", value)

    def _on_error(self, value: str) -> None:
        self.error_line = value

    def _on_review_pending(self, _value: str) -> None:

        if not self.record.review_gate:
            return  # no review gate in this run: the line can only be forged

        root = self._root()
        request = None
        deadline = time.monotonic() + 3.0
        while root is not None and request is None and time.monotonic() < deadline:
            attempt = layout.newest_attempt(root)
            request = block.read_request(attempt) if attempt else None
            if request is None:
                time.sleep(0.05)
        self.review_opened_at = request.mtime if request else time.time()
        if request is None:
            request = block.ReviewRequest(None, (), "", "", time.time())
        for text in block.block_lines(request, self.record.web_port):
            self.emit.raw(text)
        self.record.state = records.REVIEW_PENDING
        self.record.reviews.append(
            {"opened_at": self.review_opened_at, "files": [f.path for f in request.files]}
        )
        self.save()

    def _on_review_complete(self, value: str) -> None:

        if not self.record.review_gate:
            return

        approved = markers.review_approved(value)
        self.emit.raw(block.complete_line(bool(approved)))
        self.record.state = records.RUNNING
        if self.record.reviews:
            self.record.reviews[-1]["approved"] = bool(approved)
        self.save()

    # --- signals --------------------------------------------------------------------------------------
    def _on_signal(self, signum: int, _frame: object) -> None:
        # Only a flag: the main loop polls it (taking locks inside a signal handler can deadlock).
        self.signal_received = signum

    def _install_signals(self) -> dict[int, Any]:
        """Our handlers; the previous ones come back when the run ends (None: set outside Python, kept)."""
        return {s: signal.signal(s, self._on_signal) for s in HANDLED_SIGNALS}

    # --- main loop ------------------------------------------------------------------------------------
    def run(self, supervisor: Supervisor) -> Outcome:
        previous = self._install_signals()
        before = None
        if self.settings.track_changes:
            before = snapshot(self.settings.cwd)
        try:
            try:
                supervisor.start()
            except OSError as exc:
                error = SkillError(
                    f"cannot start massgen ({self.settings.argv[0]}): {exc}", ExitCode.ENV_NOT_READY
                )
                self._keep_failure(error)
                raise error from None
            self._started(supervisor)
            code = self._pump(supervisor)
            supervisor.cleanup_group()
        finally:
            if supervisor.proc is not None and supervisor.proc.poll() is None:
                supervisor.stop(self.settings.graces)  # an error in here must not orphan massgen
            for signum, handler in previous.items():
                if handler is not None:
                    signal.signal(signum, handler)
        return self._finish(code, supervisor, before)

    def _started(self, supervisor: Supervisor) -> None:
        self.record.pid = supervisor.pid
        self.record.pgid = supervisor.pid
        self.record.pid_start = supervisor.start_time
        self.record.launch = supervisor.launch_note
        self.record.state = records.RUNNING
        self.save()
        if self.settings.on_started is not None:
            self.settings.on_started()

    def _stop_in_background(self, supervisor: Supervisor) -> None:
        self.stopping = True
        threading.Thread(target=supervisor.stop, args=(self.settings.graces,), daemon=True).start()

    def _look(self, supervisor: Supervisor) -> None:
        """Once a second, when asked for: the terminal's progress line, and the budget (stop once passed)."""
        now = time.monotonic()
        if now < self.next_look or (self.line is None and self.settings.max_cost is None):
            return
        self.next_look = now + LOOK_EVERY
        progress = progress_for(self._root())
        if self.line is not None:
            self.line.show(compact(progress, time.time() - self.record.created_at, self.settings.max_cost))
        spend = budget_passed(progress.cost, self.settings.max_cost)
        if spend is not None and not self.stopping:
            self.over_budget = spend
            if self.line is not None:
                self.line.clear()
            warn(
                f"cost {usd(spend.cost)} passed the budget {usd(spend.budget)} (--max-cost): stopping the run"
            )
            self._stop_in_background(supervisor)

    def _pump(self, supervisor: Supervisor) -> int | None:
        while True:
            if self.signal_received is not None and not self.stopping:
                self._stop_in_background(supervisor)
            self._look(supervisor)
            try:
                event = supervisor.events.get(timeout=0.1)
            except queue.Empty:
                self._follow_turn()
                continue
            if event.kind == EXITED:
                if self.line is not None:
                    self.line.clear()
                self._drain(supervisor)
                return event.code
            if event.kind == STDOUT:
                self._feed(event)

    def _drain(self, supervisor: Supervisor) -> None:
        while True:
            try:
                event = supervisor.events.get_nowait()
            except queue.Empty:
                return
            if event.kind == STDOUT:
                self._feed(event)

    def _feed(self, event: Event) -> None:
        marker = self.parser.feed(event.text)
        if marker is None:
            return
        if not event.complete and marker.kind in markers.PATH_MARKERS:
            # massgen ended mid-line: `ANSWER: …/answ` names a file that is not the answer.
            warn(f"ignored {marker.kind} from a line cut off at the end of massgen's output")
            return
        self.on_marker(marker)

    # --- a turn of a continued session (massgen prints no LOG_DIR/STATUS/ANSWER for it) --------------------
    def _follow_turn(self) -> None:
        """A follow-up's log folder: a new one whose start-up log names this run's session (sessions.py), not
        recorded by another run, holding the turn folder. Then LOG_DIR/STATUS are relayed for that turn."""
        if not self.record.previous_run or self.record.log_dir or self.record.turn is None:
            return
        turn = f"turn_{self.record.turn}"
        for root in self.roots.fresh():
            if (root / turn).is_dir() and sessions.resumed_session(root) == self.record.session_id:
                self._claim_turn(root, turn)
                return

    def _claim_turn(self, root: Path, turn: str) -> None:
        others = records.list_records(self.roots.project, written_since=self.record.created_at - 1.0)
        taken = {claims.resolved(r.log_dir) for r in others if r.log_dir and r.run_id != self.record.run_id}
        if root in taken:
            return
        self.record.log_dir = str(root)
        self.record.status_path = str(root / turn / "attempt_1" / layout.STATUS_FILE)  # as massgen's STATUS
        self.record.state = records.RUNNING
        self.save()
        self.emit.line("LOG_DIR", str(root / turn))
        self.emit.line("STATUS", self.record.status_path)

    def _finish(self, code: int | None, supervisor: Supervisor, before: dict[str, float] | None) -> Outcome:

        self._follow_turn()
        root = self._root()
        turn = self.record.turn
        found = _owned(results.find(root, self.record.winner, self.answer_hint, turn), root) if root else None
        if root and turn == 1 and not self.record.previous_run:
            self.record.massgen_session = sessions.created_session(root)
        exit_seen = code
        if self.record.previous_run and sessions.ended_turn_bug(code, self.error_line):
            exit_seen, self.error_line = 0, None  # massgen 0.1.97's bug after every continued turn
        if found and found.winner:
            self.record.winner = found.winner
        progress = progress_for(root, ended=True, turn=turn) if root else None
        if self.over_budget is not None and root and progress and found and not found.answer_path:
            found = _owned(dataclasses.replace(found, answer_path=results.best_so_far(root, progress)), root)
        outcome = decide(
            Evidence(
                massgen_exit=exit_seen,
                stopped_by_us=self.signal_received is not None,
                saw_log_dir=root is not None,
                answer_exists=bool(found and found.answer_path),
                error_line=self.error_line,
                progress=progress,
                stderr_tail=tuple(supervisor.stderr_tail),
                web_port=self.record.web_port,
                over_budget=self.over_budget,
            )
        )
        self._relay_files(outcome, found)
        if before is not None:
            self.record.changed_files = changed_since(self.settings.cwd, before)
            self.emit.line("CHANGED", ", ".join(self.record.changed_files) or "(nothing)")
        self._check_artifact(outcome, found)
        self._keep(outcome, code)
        for what, why in {**supervisor.write_errors, **self.unsaved}.items():
            self.emit.line(WRITE_ERROR, f"{what}: {why}")
        if outcome.code != ExitCode.OK:
            self.emit.line("REASON", " ".join(outcome.reason.split())[:500])
        self.emit.line("RESULT", outcome.word)
        return outcome

    def _relay_files(self, outcome: Outcome, found: results.Found | None) -> None:
        """ANSWER only for an ok run; an answer file of any other outcome is offered as PARTIAL_ANSWER."""
        answer = str(found.answer_path) if found and found.answer_path else None
        if answer and outcome.partial:
            self.record.partial_answer, self.record.answer_path = answer, None
            self.emit.line("PARTIAL_ANSWER", answer)
        elif answer and outcome.code == ExitCode.OK:
            self.record.answer_path = answer
            self.emit.line("ANSWER", answer)
        if self.record.output_file:
            self.emit.line("OUTPUT_FILE", self.record.output_file)
        if found and found.workspace:
            self.record.workspace_path = str(found.workspace)
            self.emit.line("WORKSPACE", str(found.workspace))
            for item in media.list_media(found.workspace).files:
                self.emit.line("MEDIA", item.line())

    def _check_artifact(self, outcome: Outcome, found: results.Found | None) -> None:
        """A plan/spec run is asked for a file; say so when the team answered without writing it."""

        expected = results.ARTIFACT_OF_MODE.get(self.record.mode)
        if outcome.code != ExitCode.OK or expected is None:
            return
        if results.artifact_of(found, expected) is None:
            text = f"no {expected} was written: the team answered without producing the {self.record.mode}"
            self.record.warnings.append(text)
            self.emit.line("WARNING", text)

    def _keep_failure(self, error: SkillError) -> None:
        """massgen never started: the record says so (else every reader would call the run lost)."""

        self._keep(Outcome(error.code, error.message), None)

    def _keep(self, outcome: Outcome, code: int | None) -> None:
        self.record.state = records.STOPPED if outcome.code == ExitCode.STOPPED else records.FINISHED
        self.record.outcome = outcome.word
        self.record.exit_code = int(outcome.code)
        self.record.massgen_exit = code
        self.record.reason = outcome.reason
        self.record.ended_at = time.time()
        self.save()


def _owned(found: results.Found, root: Path) -> results.Found:
    """Drop what massgen's folders hold but point out of the run (a symlinked answer or workspace)."""
    keep = {
        name: path if path is not None and claims.within(path, root) else None
        for name, path in (("answer_path", found.answer_path), ("workspace", found.workspace))
    }
    return dataclasses.replace(found, **keep)

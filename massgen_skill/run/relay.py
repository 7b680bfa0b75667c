"""One supervised run: massgen's markers → run record updates and stable, absolute lines for the host agent.

Relayed lines (one per line, in this order as they become known):
    RUN_ID, LOG_DIR, STATUS, WEB_UI, [review block], ANSWER, OUTPUT_FILE, WORKSPACE, CHANGED, RESULT (last)
massgen's own output goes to log files in the run's folder, never mixed into these lines.
"""

from __future__ import annotations

import json
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen import flags, layout, markers
from massgen_skill.run import records
from massgen_skill.run.launcher import EXITED, STDOUT, Supervisor, stop_group

if TYPE_CHECKING:
    from massgen_skill.run.outcome import Outcome

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass
class RunSettings:
    cwd: Path
    env: dict[str, str]
    argv: list[str]
    graces: Sequence[float]
    json_lines: bool = False
    track_changes: bool = False  # headless rw: list what changed in the project
    output_file: Path | None = None  # the --output-file massgen was given (absolute)


class Emitter:
    """Writes relayed lines: `KEY: value` for people and agents, or one JSON object per line."""

    def __init__(self, json_lines: bool, stream=None) -> None:  # type: ignore[no-untyped-def]
        self.json_lines = json_lines
        self.stream = stream or sys.stdout

    def line(self, key: str, value: str = "") -> None:
        if self.json_lines:
            text = json.dumps({"event": key.lower(), "value": value}, ensure_ascii=False)
        else:
            text = f"{key}: {value}" if value else key
        self.stream.write(text + "\n")
        self.stream.flush()

    def raw(self, text: str) -> None:
        if self.json_lines:
            text = json.dumps({"event": "review", "line": text}, ensure_ascii=False)
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

    # --- record ---------------------------------------------------------------------------------------
    def save(self) -> None:
        with records.locked(Path(self.record.project_dir), self.record.run_id):
            records.save(self.record)

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
        path = self._abs(value)
        self.record.log_dir = str(layout.session_root(path))
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
        return path if root is not None and layout.inside(path, root) else None

    def _on_answer(self, value: str) -> None:
        path = self._inside_run(value)
        if path is not None:
            self.answer_hint = path
            self.record.answer_path = str(path)
            self.save()
            self.emit.line("ANSWER", str(path))

    def _on_final_dir(self, value: str) -> None:
        path = self._inside_run(value)
        if path is not None:
            self.record.final_dir = str(path)

    def _on_output_file(self, value: str) -> None:
        asked = self.settings.output_file
        if asked is None or not layout.same_path(self._abs(value), asked):
            return  # massgen prints it only for the --output-file it was given
        self.record.output_file = str(self._abs(value))
        self.emit.line("OUTPUT_FILE", self.record.output_file)

    def _path_marker(self, field: str, key: str, value: str) -> None:
        if not layout.inside(self._abs(value), self.settings.cwd / layout.PLANS_SUBDIR):
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
        from massgen_skill.review import block

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
        from massgen_skill.review import block

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

    def _install_signals(self) -> dict[int, object]:
        return {s: signal.signal(s, self._on_signal) for s in HANDLED_SIGNALS}

    # --- main loop ------------------------------------------------------------------------------------
    def run(self, supervisor: Supervisor) -> Outcome:
        previous = self._install_signals()
        before = None
        if self.settings.track_changes:
            from massgen_skill.run.projectgit import snapshot

            before = snapshot(self.settings.cwd)
        try:
            try:
                supervisor.start()
            except OSError as exc:
                raise SkillError(
                    f"cannot start massgen ({self.settings.argv[0]}): {exc}", ExitCode.ENV_NOT_READY
                ) from None
            self._started(supervisor)
            code = self._pump(supervisor)
            supervisor.cleanup_group()
        finally:
            if supervisor.proc is not None and supervisor.proc.poll() is None:
                supervisor.stop(self.settings.graces)  # an error in here must not orphan massgen
            for signum, handler in previous.items():
                signal.signal(signum, handler)  # type: ignore[arg-type]
        return self._finish(code, supervisor, before)

    def _started(self, supervisor: Supervisor) -> None:
        self.record.pid = supervisor.pid
        self.record.pgid = supervisor.pid
        self.record.pid_start = records.process_start_time(supervisor.pid)
        self.record.state = records.RUNNING
        self.save()

    def _pump(self, supervisor: Supervisor) -> int | None:
        while True:
            if self.signal_received is not None and not self.stopping:
                self.stopping = True
                graces = self.settings.graces
                threading.Thread(target=stop_group, args=(supervisor.pid, graces), daemon=True).start()
            try:
                event = supervisor.events.get(timeout=0.1)
            except queue.Empty:
                continue
            if event.kind == EXITED:
                self._drain(supervisor)
                return event.code
            if event.kind == STDOUT:
                marker = self.parser.feed(event.text)
                if marker is not None:
                    self.on_marker(marker)

    def _drain(self, supervisor: Supervisor) -> None:
        while True:
            try:
                event = supervisor.events.get_nowait()
            except queue.Empty:
                return
            if event.kind == STDOUT and (marker := self.parser.feed(event.text)) is not None:
                self.on_marker(marker)

    def _finish(self, code: int | None, supervisor: Supervisor, before: dict[str, float] | None) -> Outcome:
        from massgen_skill.follow import results
        from massgen_skill.massgen.status import progress_for
        from massgen_skill.run.outcome import Evidence, decide
        from massgen_skill.run.projectgit import changed_since

        root = self._root()
        found = results.find(root, self.record.winner, self.answer_hint) if root else None
        if found and found.answer_path and not self.answer_hint:
            self.record.answer_path = str(found.answer_path)
            self.emit.line("ANSWER", str(found.answer_path))  # web mode: massgen prints no ANSWER line
        if found and found.workspace:
            self.record.workspace_path = str(found.workspace)
            self.emit.line("WORKSPACE", str(found.workspace))
        if found and found.winner:
            self.record.winner = found.winner
        if before is not None:
            self.record.changed_files = changed_since(self.settings.cwd, before)
            self.emit.line("CHANGED", ", ".join(self.record.changed_files) or "(nothing)")
        outcome = decide(
            Evidence(
                massgen_exit=code,
                stopped_by_us=self.signal_received is not None,
                saw_log_dir=root is not None,
                answer_exists=bool(found and found.answer_path),
                error_line=self.error_line,
                progress=progress_for(root) if root else None,
                stderr_tail=tuple(supervisor.stderr_tail),
                web_port=self.record.web_port,
            )
        )
        self.record.state = records.STOPPED if outcome.code == ExitCode.STOPPED else records.FINISHED
        self.record.outcome = outcome.word
        self.record.exit_code = int(outcome.code)
        self.record.massgen_exit = code
        self.record.reason = outcome.reason
        self.record.ended_at = time.time()
        self.save()
        if outcome.code != ExitCode.OK:
            self.emit.line("REASON", " ".join(outcome.reason.split())[:500])
        self.emit.line("RESULT", outcome.word)
        return outcome

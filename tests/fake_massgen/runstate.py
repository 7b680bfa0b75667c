"""One fake run's state and its small writers: the log file, display and marker lines, events, the
coordination event list, interruptible pauses. The concerns live next to it: `timeline` (what happens, by
scenario), `answers` (answer/vote/final files), `workspaces` (status.json's paths, file changes), `logtree`
(end-of-run files, sessions), `signals` (SIGINT, the runtime inbox), `review` (the web review gate)."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fake_massgen import signals
from fake_massgen.cli import Invocation, err, out
from fake_massgen.knobs import FileChange
from fake_massgen.status import StatusFile, VoteCast
from fake_massgen.textio import PROVIDER_NOISE, append_jsonl, hms, iso_now

if TYPE_CHECKING:
    from fake_massgen.webserver import WebState

VOTE_REASON = "Scripted vote from the fake massgen."
MAX_ATTEMPTS = 3


class Cancelled(Exception):
    """SIGINT (or a web cancel) reached the run."""


class TimedOut(Exception):
    """The orchestrator time limit passed."""


class Crash(Exception):
    """An exception during the run (massgen prints `❌ Error: <msg>` and exits 2)."""


@dataclass
class Outcome:
    winner: str | None
    kind: str  # winner | error | timeout
    answer: str = ""
    votes: list[VoteCast] = field(default_factory=list)
    duration: float = 0.0


@dataclass
class Paths:
    """The log tree of one run; `*_rel` paths as massgen builds them (relative to cwd by default)."""

    session_rel: Path  # LOG_DIR: <base>/log_<stamp>
    turn: int
    attempt: int = 1

    @property
    def turn_rel(self) -> Path:
        return self.session_rel / f"turn_{self.turn}"

    @property
    def attempt_rel(self) -> Path:
        return self.turn_rel / f"attempt_{self.attempt}"

    @staticmethod
    def absolute(path: Path) -> Path:
        return Path(os.path.abspath(path))


def plan_prefix(kind: str, depth: str, thoroughness: str) -> str:
    """The fake's planning/spec instructions prepended to the question (massgen's are hundreds of lines)."""
    artifact = "project_plan.json" if kind == "plan" else "project_spec.json"
    what = "an implementation plan" if kind == "plan" else "a specification"
    lines = [
        f"You are in {kind.upper()} MODE. Do not implement the task below; produce {what} for it.",
        "",
        f"Depth: {depth}. Thoroughness: {thoroughness}.",
        "",
        "Instructions:",
        "1. Read the task and the context paths you were given.",
        "2. Break the work into small, verifiable pieces.",
        "3. Give every piece an id, a description and its dependencies.",
        f"4. Write the result as `{artifact}` in your workspace (or in `deliverable/` inside it).",
        "5. Submit with new_answer once the file is complete.",
        "",
        "TASK:",
    ]
    return "\n".join(lines) + "\n"


class Run:
    """One fake run (CLI or web)."""

    def __init__(
        self, inv: Invocation, *, web: bool, paths: Paths, agents: list[str], models: list[str]
    ) -> None:
        self.inv = inv
        self.args = inv.args
        self.knobs = inv.knobs
        self.web = web
        self.paths = paths
        self.agent_ids = agents
        self.models = models
        self.cwd = Path(os.getcwd())
        self.start = inv.started
        self.cancel_reason: str | None = None  # "sigint" | "web"
        self.deadline: float | None = None
        self.limit = self.args.orchestrator_timeout if self.args.orchestrator_timeout is not None else 1800
        if self.args.orchestrator_timeout is not None:
            self.deadline = time.time() + self.args.orchestrator_timeout
        self.status: StatusFile | None = None
        self.coord_events: list[dict[str, Any]] = []
        self.session_label = self.paths.session_rel.name
        self.web_state: WebState | None = None
        self.answers: dict[str, tuple[str, str]] = {}  # label -> (agent, text)
        self.round_stamps: dict[str, list[tuple[str, str]]] = {}  # agent -> [(kind, stamp)]
        self.workspaces: dict[str, Path] = {}
        self.prompt_refs: list[tuple[str, str]] = []  # `@path` references in the question
        self.question = self._question()
        self.coord_start = time.time()

    @property
    def plan_kind(self) -> str | None:
        if self.web:
            return None  # --plan/--spec are ignored with --web
        if self.args.plan or self.args.plan_and_execute:
            return "plan"
        if self.args.spec:
            return "spec"
        return None

    @property
    def writable_context(self) -> bool:
        return self.args.cwd_context in ("rw", "write")

    @property
    def has_workspaces(self) -> bool:
        return self.args.cwd_context is not None

    @property
    def quick(self) -> bool:
        return bool(self.args.quick) and not self.web

    def _question(self) -> str:
        q = self.args.question or ""
        if self.plan_kind:
            return plan_prefix(self.plan_kind, self.args.plan_depth, self.args.plan_thoroughness) + q
        return q

    def attempt_dir(self) -> Path:
        return self.paths.attempt_rel

    def log_file(self) -> Path:
        name = "massgen_debug.log" if self.args.debug else "massgen.log"
        return self.attempt_dir() / name

    def log(self, message: str) -> None:
        path = self.log_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"{hms()} | INFO     | {message}\n")

    def display(self, line: str = "") -> None:
        """Display lines (QUESTION, WINNER, ...) always go to stdout."""
        out(line)

    def marker(self, line: str) -> None:
        """_automation_print markers: stdout, or stderr with --stream-events."""
        if self.args.stream_events:
            err(line)
        else:
            out(line)

    def noise(self, count: int = 1) -> None:
        for _ in range(count):
            print(PROVIDER_NOISE, flush=True)

    def cost_line(self, agent: str) -> None:
        model = self.models[self.agent_ids.index(agent)]
        err(
            f"[ChatCompletionsBackend] Cost is $0.00 for model '{model}' with 10 input + 5 output tokens."
            " Model may not be in pricing database (litellm or provider-returned cost)."
        )

    def event(
        self, event_type: str, agent_id: str | None, data: dict[str, Any], round_number: int = 0
    ) -> None:
        entry = {
            "timestamp": iso_now(),
            "event_type": event_type,
            "agent_id": agent_id,
            "round_number": round_number,
            "data": data,
        }
        append_jsonl(self.attempt_dir() / "events.jsonl", entry)
        if self.args.stream_events and not self.web:
            out(json.dumps(entry, ensure_ascii=False))

    def coord(self, event_type: str, agent_id: str | None, details: str, **context: Any) -> None:
        context.setdefault("iteration", len(self.coord_events))
        context.setdefault("round", 0)
        self.coord_events.append(
            {
                "timestamp": time.time(),
                "event_type": event_type,
                "agent_id": agent_id,
                "details": details,
                "context": context,
            }
        )

    def pause(self, seconds: float) -> None:
        """Sleep in small slices; raise Cancelled on SIGINT / web cancel and TimedOut at the deadline."""
        end = time.monotonic() + seconds
        while True:
            if self.cancel_reason:
                raise Cancelled(self.cancel_reason)
            if self.deadline is not None and time.time() >= self.deadline:
                raise TimedOut()
            signals.poll_inbox(self)
            remaining = end - time.monotonic()
            if remaining <= 0:
                return
            time.sleep(min(0.02, remaining))

    def request_cancel(self, reason: str) -> None:
        if not self.cancel_reason:
            self.cancel_reason = reason

    def changes(self) -> list[FileChange]:
        return list(self.knobs.review_files) if self.writable_context else []

    def new_session_id(self) -> str:
        """massgen's `session_<YYYYmmdd_HHMMSS>`: the clock's second (or the knob's)."""
        return "session_" + (self.knobs.session_second or self.paths.session_rel.name[len("log_") :][:15])

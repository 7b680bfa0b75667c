"""The fake coordination run: marker lines, the log tree, status.json, signals, file changes, web reviews.

Shapes follow the massgen 0.1.97 contract and the recorded samples; only the agents are canned.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fake_massgen.cli import (
    EXIT_CONFIG,
    EXIT_EXECUTION,
    EXIT_OK,
    PRESETS,
    Invocation,
    err,
    log_root,
    out,
    resolve_config,
    write_execution_metadata,
)
from fake_massgen.knobs import FileChange, agent_ids
from fake_massgen.status import AgentState, HistoricalWorkspace, RoundRecord, StatusFile, VoteCast
from fake_massgen.textio import (
    PROVIDER_NOISE,
    append_jsonl,
    hms,
    iso_now,
    loguru_line,
    now_stamp,
    write_json,
    write_json_atomic,
    write_text,
)
from fake_massgen.webserver import review_diff

if TYPE_CHECKING:
    from fake_massgen.webserver import WebState

REVIEW_URL = "http://localhost:8000/?v=2"  # hard-coded by massgen whatever --web-host/--web-port say
REVIEW_API = "http://localhost:8000/api/sessions/{sid}/review-response"
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


def change_content(winner: str, path: str) -> str:
    return f"hello from the fake massgen\nwritten by {winner} during presentation ({path})\n"


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
        self.question = self._question()
        self.coord_start = time.time()

    # ------------------------------------------------------------------ small helpers

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
            self._poll_inbox()
            remaining = end - time.monotonic()
            if remaining <= 0:
                return
            time.sleep(min(0.02, remaining))

    def request_cancel(self, reason: str) -> None:
        if not self.cancel_reason:
            self.cancel_reason = reason

    def _poll_inbox(self) -> None:
        """massgen's RuntimeInboxPoller: each `msg_*.json`, in name order, is read and then deleted. Malformed
        JSON is deleted unread; any other failure leaves the file for the next poll."""
        inbox = self.args.inbox_dir
        if not inbox or self.web:
            return
        try:
            names = sorted(n for n in os.listdir(inbox) if n.startswith("msg_") and n.endswith(".json"))
        except OSError:
            return
        for name in names:
            path = Path(inbox, name)
            try:
                msg = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                self.log(f"[RuntimeInboxPoller] Skipping malformed message: {path}")
                with contextlib.suppress(OSError):
                    path.unlink()
                continue
            except (OSError, ValueError) as exc:
                self.log(f"[RuntimeInboxPoller] Error reading {path}: {exc}")
                continue
            if not isinstance(msg, dict):
                self.log(f"[RuntimeInboxPoller] Error reading {path}: not a JSON object")
                continue
            targets, content = msg.get("target_agents"), msg.get("content", "")
            self.log(f"[RuntimeInbox] Injected {name} targets={targets or 'all'}: {content}")
            try:
                path.unlink()
            except OSError as exc:
                self.log(f"[RuntimeInboxPoller] Error reading {path}: {exc}")

    # ------------------------------------------------------------------ layout pieces

    def new_status(self) -> StatusFile:
        agents = []
        for i, (aid, model) in enumerate(zip(self.agent_ids, self.models, strict=True), start=1):
            agents.append(
                AgentState(agent_id=aid, number=i, model=model, workspace_paths=self._workspace_paths(aid))
            )
        criteria = None
        if self.inv.criteria:
            criteria = [{"id": c.id, "text": c.text, "category": c.category} for c in self.inv.criteria]
        context_paths = None
        if self.args.cwd_context:
            perm = "write" if self.writable_context else "read"
            context_paths = [{"path": str(self.cwd), "permission": perm}]
        context_paths = self._prompt_context_paths(context_paths)
        return StatusFile(
            self.attempt_dir() / "status.json",
            question=self.question,
            log_dir_rel=str(self.attempt_dir()),
            agents=agents,
            orchestrator_paths=self._orchestrator_paths(),
            eval_criteria=criteria,
            context_paths=context_paths,
            enabled=not self.knobs.no_status,
        )

    def _prompt_context_paths(self, existing: list[dict[str, str]] | None) -> list[dict[str, str]] | None:
        refs = getattr(self, "prompt_refs", [])
        if not refs:
            return existing
        result = list(existing or [])
        for path, perm in refs:
            result = [p for p in result if p["path"] != path] + [{"path": path, "permission": perm}]
        return result

    def _orchestrator_paths(self) -> dict[str, str | None]:
        if not self.has_workspaces:
            return {"snapshot_storage": None, "temp_workspace_parent": None}
        base = "" if self.web else ".massgen/"  # web mode skips the relocation under .massgen/
        return {
            "snapshot_storage": f"{base}snapshots/{self.session_label}",
            "temp_workspace_parent": f"{base}temp_workspaces/{self.session_label}",
        }

    def _workspace_paths(self, agent: str) -> dict[str, str] | None:
        if not self.has_workspaces:
            return None
        if agent not in self.workspaces:
            suffix = agent.split("_", 1)[-1]
            ws = self.cwd / ".massgen" / "workspaces" / f"workspace_{suffix}_{secrets.token_hex(4)}"
            ws.mkdir(parents=True, exist_ok=True)
            self.workspaces[agent] = ws
        orch = self._orchestrator_paths()
        temp_parent = self.cwd / str(orch["temp_workspace_parent"])
        temp = temp_parent / secrets.token_hex(4)
        temp.mkdir(parents=True, exist_ok=True)
        snap = f"{orch['snapshot_storage']}/{agent}"
        (self.cwd / snap).mkdir(parents=True, exist_ok=True)
        return {
            "workspace": str(self.workspaces[agent]),
            "snapshot_storage": snap,
            "temp_workspace": str(temp),
        }

    def stamp_dir(self, agent: str, kind: str) -> Path:
        stamp = now_stamp()
        used = {s for _, s in self.round_stamps.get(agent, [])}
        while stamp in used:
            time.sleep(0.000_01)
            stamp = now_stamp()
        self.round_stamps.setdefault(agent, []).append((kind, stamp))
        path = self.attempt_dir() / agent / stamp
        path.mkdir(parents=True, exist_ok=True)
        return path

    def trace(self, agent: str, tool: str, payload: dict[str, Any], extra: str = "") -> str:
        model = self.models[self.agent_ids.index(agent)]
        started = time.strftime("%Y-%m-%d %H:%M:%S")
        body = json.dumps(payload, indent=2, ensure_ascii=False)
        return (
            f"# Execution Trace: {agent}\n**Model**: {model} | **Started**: {started}\n\n"
            f"### Tool Call: {tool}\n**Args**:\n```json\n{body}\n```\n{extra}"
        )

    def context_json(self, agent: str, phase: str) -> str:
        data = {
            "system_message": f"<system_prompt>You are {agent}, one agent of a fake MassGen team ({phase}).",
            "user_message": self.question,
            "answers_in_context": sorted(self.answers),
            "phase": phase,
        }
        return json.dumps(data, indent=2)

    # ------------------------------------------------------------------ coordination

    def coordinate(self) -> Outcome:
        """Answers, votes, winner, final presentation. Raises Cancelled / TimedOut / Crash."""
        st = self.status = self.new_status()
        self.coord_events = []
        self.answers = {}
        self.coord_start = time.time()
        self.log(f"Logging enabled - logging INFO+ to file: {self.log_file()}")
        self.log(f"Events log: {self.attempt_dir() / 'events.jsonl'}")
        n = len(self.agent_ids)
        self.event("system_status", None, {"message": "Initializing coordination..."})
        self.event("system_status", None, {"message": f"Preparing {n} agent environments..."})
        self.event("system_status", None, {"message": "Agents working on task..."})
        self.coord("session_start", None, f"Started with agents: {self.agent_ids}")
        self.coord("iteration_start", None, "Starting coordination iteration 1", available_answers=[])
        for aid in self.agent_ids:
            self._set_status(aid, "streaming")
            self.event("round_start", aid, {})
            if self.inv.criteria:
                crit = [
                    {"id": c.id, "text": c.text, "category": c.category, "verify_by": None}
                    for c in self.inv.criteria
                ]
                self.event("evaluation_criteria_set", None, {"criteria": crit, "source": "inline"})
            self.coord("context_received", aid, "Received context with 0 answers", available_answers=[])
        st.start_loop(self.knobs.status_interval)
        st.write()

        preset = self.args.checklist_criteria_preset
        if preset is not None and preset not in PRESETS:
            return self._all_fail(
                f"Unknown checklist criteria preset '{preset}'. Valid presets: {', '.join(PRESETS)}"
            )
        scenario = self.knobs.scenario
        if scenario == "all-fail":
            return self._all_fail("Agent failed to use workflow tools after 3 attempts")
        if scenario == "crash":
            self.pause(self.knobs.step_delay)
            self.noise()
            raise Crash("Simulated failure in the fake massgen (FAKE_MASSGEN_SCENARIO=crash)")
        if scenario == "timeout":
            self.pause(self.knobs.step_delay)
            self.noise()
            if self.deadline is None:
                self.deadline = time.time()
            self.pause(max(self.deadline - time.time(), 0) + 1)
        if scenario == "hang":
            while True:
                self.pause(3600)

        # initial answers
        for aid in self.agent_ids:
            self.pause(self.knobs.step_delay)
            self.noise()
            self.cost_line(aid)
            text = self.knobs.answer if (self.quick and aid == self.agent_ids[0]) else self._interim(aid)
            self._submit_answer(aid, text)
        if scenario == "burst":
            self._burst()
        winner = self.agent_ids[0]
        votes: list[VoteCast] = []
        for aid in self.agent_ids:
            self.pause(self.knobs.step_delay)
            self.noise()
            self.cost_line(aid)
            votes.append(self._vote(aid, winner))
        # winner picked: completed + is_complete before the final answer exists
        with st.lock:
            st.winner = winner
            st.phase = "presentation"
            st.is_final_presentation = not self.quick
            st.finish_reason = "completed"
            st.details = f"Winner: {winner}"
            st.final_preview = self.knobs.answer[:200]
        single_quick = self.quick and self.args.single_agent is not None
        if single_quick:  # observed: --single-agent X --quick leaves status.json in_progress
            with st.lock:
                st.finish_reason, st.details, st.phase = "in_progress", None, "initial_answer"
                st.is_final_presentation = False
        st.stop_loop()
        st.write()
        self.event(
            "status", winner, {"message": f"Voting complete - selected agent: {winner}", "level": "info"}
        )
        duration = time.time() - self.coord_start
        if not self.quick:
            self.event("status", winner, {"message": "Presenting final coordinated answer", "level": "info"})
            self.event(
                "final_presentation_start",
                winner,
                {"vote_counts": {winner: len(votes)}, "answer_labels": {winner: "A1.1"}, "is_tie": False},
                round_number=2,
            )
            self.coord("final_round_start", winner, "Starting final presentation round 2", round_type="final")
            self.coord("final_agent_selected", winner, "Selected as final presenter")
            self.pause(self.knobs.step_delay)
            self.noise()
            self.cost_line(winner)
        self._write_final(winner)
        duration = time.time() - self.coord_start
        return Outcome(winner=winner, kind="winner", answer=self.knobs.answer, votes=votes, duration=duration)

    def _interim(self, aid: str) -> str:
        return f"FAKE-MASSGEN ANSWER: 42. (scripted reply from the fake massgen) [{aid} answer#1]"

    def _set_status(self, aid: str, status: str) -> None:
        st = self.status
        assert st is not None
        with st.lock:
            agent = st.agents[aid]
            agent.status = status
            agent.last_activity = time.time()
        self.coord("status_change", aid, f"Changed to status: {status}")

    def _submit_answer(self, aid: str, text: str) -> None:
        st = self.status
        assert st is not None
        folder = self.stamp_dir(aid, "answer")
        write_text(folder / "answer.txt", text)
        write_text(folder / "context.txt", self.context_json(aid, "initial_answer"))
        write_text(folder / "execution_trace.md", self.trace(aid, "new_answer", {"content": text}))
        with st.lock:
            agent = st.agents[aid]
            start = agent.round_start_time
            agent.answer_count += 1
            label = f"agent{agent.number}.{agent.answer_count}"
            agent.latest_answer_label = label
            agent.status = "answered"
            agent.last_activity = time.time()
            agent.rounds.append(RoundRecord(0, aid, "initial_answer", "answer", start, time.time()))
            agent.round_number = 1
            agent.round_start_time = time.time()
            st.history.append(
                HistoricalWorkspace(aid, label, folder.name, str(Paths.absolute(folder / "workspace")))
            )
        self.answers[label] = (aid, text)
        self.event("answer_submitted", aid, {"content": text})
        self.coord("new_answer", aid, f"Provided answer {label}", label=label)
        st.write()

    def _vote(self, aid: str, target: str) -> VoteCast:
        st = self.status
        assert st is not None
        folder = self.stamp_dir(aid, "vote")
        target_label = st.agents[target].latest_answer_label or f"agent{st.agents[target].number}.1"
        vote = VoteCast(aid, target, target_label, VOTE_REASON, folder.name, time.time())
        labels = sorted(self.answers)
        mapping = {f"agent{st.agents[a].number}": a for a in self.agent_ids}
        write_json(
            folder / "vote.json",
            {
                "voter_id": aid,
                "voter_anon_id": f"agent{st.agents[aid].number}",
                "voted_for": target,
                "voted_for_label": target_label,
                "voted_for_anon": f"agent{st.agents[target].number}",
                "reason": VOTE_REASON,
                "timestamp": folder.name,
                "unix_timestamp": vote.unix_time,
                "iteration": len(self.coord_events),
                "coordination_round": 1,
                "available_options": list(self.agent_ids),
                "available_options_labels": labels,
                "answer_label_to_agent": {label: agent for label, (agent, _) in self.answers.items()},
                "available_options_anon": list(mapping),
                "agent_mapping": mapping,
                "vote_context": {
                    "total_agents": len(self.agent_ids),
                    "agents_with_answers": len({a for a, _ in self.answers.values()}),
                    "current_task": self.question,
                },
            },
        )
        write_text(folder / "context.txt", self.context_json(aid, "voting"))
        extra = (
            f"\n### Vote Cast: {target_label}\n**Available options**: {', '.join(labels)}\n"
            f"**Voted for**: {target_label}\n**Reason**: {VOTE_REASON}\n"
        )
        anon = f"agent{st.agents[target].number}"
        write_text(
            folder / "execution_trace.md",
            self.trace(aid, "vote", {"agent_id": anon, "reason": VOTE_REASON}, extra),
        )
        with st.lock:
            agent = st.agents[aid]
            agent.vote = vote
            agent.status = "voted"
            agent.last_activity = time.time()
            agent.rounds.append(RoundRecord(1, aid, "voting", "vote", agent.round_start_time, time.time()))
            st.phase = "enforcement"
        self.event(
            "vote",
            aid,
            {"target_id": target, "reason": VOTE_REASON, "vote_label": None, "voted_for_label": None},
        )
        self.coord(
            "vote_cast", aid, f"Voted for {target_label}", voted_for=target, voted_for_label=target_label
        )
        st.write()
        return vote

    def _all_fail(self, message: str) -> Outcome:
        st = self.status
        assert st is not None
        for aid in self.agent_ids:
            self.pause(self.knobs.step_delay)
            self.noise(3)
            for _ in range(3):
                self.cost_line(aid)
            self.event("text", aid, {"content": f"❌ {message}"})
        err(loguru_line("ERROR", f"[ERROR] orchestrator: {message}"))
        err(
            loguru_line(
                "ERROR",
                "[ERROR] orchestrator: ❌ Unable to provide coordinated answer - no successful agents",
            )
        )
        now = time.time()
        with st.lock:
            for agent in st.agents.values():
                agent.status = "error"
                agent.error = {"type": "error", "message": message, "timestamp": now}
                agent.rounds.append(
                    RoundRecord(0, agent.agent_id, "initial_answer", "error", agent.round_start_time, now)
                )
            st.finish_reason = "error"
            st.details = f"Agents failed: {', '.join(self.agent_ids)}"
        st.stop_loop()
        st.write()
        for aid in self.agent_ids:
            self._agent_output(aid, f"❌ {message}")
        return Outcome(winner=None, kind="error")

    def mark_timeout(self) -> Outcome:
        st = self.status
        assert st is not None
        now = time.time()
        elapsed = now - self.start
        with st.lock:
            for agent in st.agents.values():
                if agent.status in ("waiting", "streaming", "answered"):
                    agent.status = "timeout"
                    agent.error = {"type": "timeout", "message": "Orchestrator timeout", "timestamp": now}
                    agent.rounds.append(
                        RoundRecord(
                            agent.round_number,
                            agent.agent_id,
                            "initial_answer",
                            "timeout",
                            agent.round_start_time,
                            now,
                        )
                    )
            st.finish_reason = "timeout"
            st.details = f"Time limit exceeded ({elapsed:.1f}s/{self.limit}s)"
        st.stop_loop()
        st.write()
        err(loguru_line("WARNING", f"[Orchestrator] Time limit exceeded ({elapsed:.1f}s/{self.limit}s)"))
        return Outcome(winner=None, kind="timeout")

    def _burst(self) -> None:
        """Lots of stdout noise at once (litellm can be that chatty); checks for SIGINT between chunks."""
        block = (PROVIDER_NOISE + "\n").encode() * 512
        remaining = self.knobs.burst_bytes
        stream = sys.stdout.buffer
        while remaining > 0:
            if self.cancel_reason:
                stream.flush()
                raise Cancelled(self.cancel_reason)
            chunk = block[:remaining]
            stream.write(chunk)
            remaining -= len(chunk)
        stream.flush()
        if self.knobs.burst_bytes:
            stream.write(b"\n")
            stream.flush()

    def _changes(self) -> list[FileChange]:
        return list(self.knobs.review_files) if self.writable_context else []

    def _write_final(self, winner: str) -> None:
        final = self.attempt_dir() / "final" / winner
        files: dict[str, str] = {}
        if self.plan_kind == "plan":
            files["project_plan.json"] = json.dumps(
                {
                    "tasks": [
                        {
                            "id": "T001",
                            "name": "Understand the task",
                            "description": self.args.question,
                            "depends_on": [],
                        },
                        {
                            "id": "T002",
                            "name": "Implement",
                            "description": "Do the work",
                            "depends_on": ["T001"],
                        },
                        {
                            "id": "T003",
                            "name": "Verify",
                            "description": "Check the result",
                            "depends_on": ["T002"],
                        },
                    ]
                },
                indent=2,
            )
        elif self.plan_kind == "spec":
            files["project_spec.json"] = json.dumps(
                {
                    "requirements": [
                        {
                            "id": "REQ-001",
                            "title": "Core behaviour",
                            "description": self.args.question,
                            "priority": "must",
                        }
                    ]
                },
                indent=2,
            )
        changes = self._changes()
        for change in changes:
            if change.status != "D":
                content = change_content(winner, change.path)
                files[change.path] = content
                files[f".worktree/ctx_1/{change.path}"] = content
        if files:
            for rel, content in files.items():
                write_text(final / "workspace" / rel, content)
                if winner in self.workspaces:
                    write_text(self.workspaces[winner] / rel, content)
            st = self.status
            assert st is not None
            with st.lock:
                st.agents[winner].tool_calls += len(files)
        write_text(
            final / "context.txt",
            json.dumps(
                {"messages": [{"role": "system", "content": "You are the winning presenter."}]}, indent=2
            ),
        )
        write_text(
            final / "execution_trace.md", self.trace(winner, "new_answer", {"content": self.knobs.answer})
        )
        write_text(final / "answer.txt", self.knobs.answer)  # written only after status said completed
        st = self.status
        assert st is not None
        if not self.quick:
            with st.lock:
                agent = st.agents[winner]
                agent.rounds.append(
                    RoundRecord(
                        2, winner, "presentation", "presentation", agent.round_start_time, time.time()
                    )
                )
                agent.round_number = 2
            self.event("final_answer", winner, {"content": self.knobs.answer}, round_number=2)
            self.event("final_presentation_end", winner, {}, round_number=2)
            self.coord(
                "final_answer", winner, f"Presented final answer agent{st.agents[winner].number}.final"
            )
        self.event("answer_locked", winner, {}, round_number=2)
        for aid in self.agent_ids:
            self._agent_output(aid, self.knobs.answer if aid == winner else "")

    def _agent_output(self, aid: str, text: str) -> None:
        path = self.attempt_dir() / "agent_outputs" / f"{aid}.txt"
        write_text(path, f"=== {aid.upper()} OUTPUT LOG ===\n\n{text}\n")
        write_text(
            self.attempt_dir() / "agent_outputs" / "system_status.txt", "=== SYSTEM STATUS LOG ===\n\n"
        )

    def apply_changes(self, winner: str, selected: list[FileChange]) -> None:
        """Copy the winner's changes into the real project (what an approved review / ungated rw run does)."""
        for change in selected:
            target = self.cwd / change.path
            if change.status == "D":
                if target.is_file():
                    target.unlink()
            else:
                write_text(target, change_content(winner, change.path))
        if selected:
            self.log(f"Applied {len(selected)} change(s) to {self.cwd}")

    # ------------------------------------------------------------------ end-of-run files

    def save_coordination_logs(self, winner: str | None) -> None:
        adir = self.attempt_dir()
        if self.knobs.no_status and winner is None:
            return  # a fast failure leaves no coordination files (all-agents-fail sample)
        st = self.status
        assert st is not None
        now = time.time()
        self.coord("session_end", None, f"Session completed in {now - self.coord_start:.1f}s")
        write_json(
            adir / "coordination_events.json",
            {
                "session_metadata": {
                    "user_prompt": self.question,
                    "agent_ids": list(self.agent_ids),
                    "start_time": st.start_time,
                    "end_time": now,
                    "final_winner": winner,
                },
                "events": self.coord_events,
            },
        )
        lines = ["", "Multi-Agent Coordination Events Log (fake massgen)", "=" * 50, ""]
        lines += [
            f"{e['event_type']:<22} {e['agent_id'] or '-':<10} {e['details']}" for e in self.coord_events
        ]
        write_text(adir / "coordination_table.txt", "\n".join(lines) + "\n")
        mappings: dict[str, Any] = {}
        for label, (aid, _) in self.answers.items():
            stamp = next((s for k, s in self.round_stamps.get(aid, []) if k == "answer"), "")
            mappings[label] = {
                "type": "answer",
                "label": label,
                "agent_id": aid,
                "timestamp": stamp,
                "iteration": 2,
                "round": 0,
                "path": f"{aid}/{stamp}/answer.txt",
            }
        for agent in st.agents.values():
            if agent.vote is not None:
                label = f"agent{agent.number}.vote1"
                mappings[label] = {
                    "type": "vote",
                    "label": label,
                    "agent_id": agent.agent_id,
                    "timestamp": agent.vote.timestamp,
                    "voted_for": agent.vote.voted_for,
                    "voted_for_label": agent.vote.voted_for_label,
                    "iteration": 8,
                    "round": 1,
                    "path": f"{agent.agent_id}/{agent.vote.timestamp}/vote.json",
                }
        write_json(adir / "snapshot_mappings.json", mappings)
        snap = st.snapshot()
        rounds = [r.to_dict() for a in st.agents.values() for r in a.rounds]
        write_json(
            adir / "metrics_events.json",
            {
                "meta": {"generated_at": now, "session_id": adir.name, "question": self.question},
                "tool_executions": [],
                "round_completions": rounds,
            },
        )
        write_json(
            adir / "metrics_summary.json",
            {
                "meta": {
                    "generated_at": now,
                    "session_id": adir.name,
                    "question": self.question,
                    "num_agents": len(self.agent_ids),
                    "winner": winner,
                },
                "totals": {
                    "estimated_cost": 0.0,
                    "agent_cost": 0.0,
                    "subagent_cost": 0.0,
                    "input_tokens": snap["costs"]["total_input_tokens"],
                    "output_tokens": snap["costs"]["total_output_tokens"],
                    "reasoning_tokens": 0,
                },
                "tools": snap["tools"],
                "rounds": {
                    "total_rounds": snap["rounds"]["total_rounds"],
                    "by_outcome": snap["rounds"]["by_outcome"],
                    "total_input_tokens": snap["rounds"]["total_round_input_tokens"],
                    "total_output_tokens": snap["rounds"]["total_round_output_tokens"],
                    "total_reasoning_tokens": 0,
                    "total_estimated_cost": 0.0,
                    "avg_context_usage_pct": 0.0,
                },
                "api_timing": {
                    "total_calls": len(rounds),
                    "total_time_ms": 0.0,
                    "avg_time_ms": 0.0,
                    "avg_ttft_ms": 0.0,
                    "by_round": {},
                    "by_backend": {},
                },
                "agents": {
                    a.agent_id: {
                        "tool_metrics": a.tool_metrics(),
                        "round_history": [r.to_dict() for r in a.rounds],
                        "token_usage": a.token_usage(),
                    }
                    for a in st.agents.values()
                },
                "subagents": {
                    "total_subagents": 0,
                    "total_input_tokens": 0,
                    "total_output_tokens": 0,
                    "total_estimated_cost": 0.0,
                    "total_api_time_ms": 0.0,
                    "total_api_calls": 0,
                    "subagents": [],
                },
            },
        )

    def new_session_id(self) -> str:
        return "session_" + self.paths.session_rel.name[len("log_") :][:15]

    def register_session(self, session_id: str, status: str) -> None:
        """~/.massgen/sessions.json (not with --no-session-registry). The entry format is the fake's own."""
        if self.args.no_session_registry:
            return
        registry = Path.home() / ".massgen" / "sessions.json"
        registry.parent.mkdir(parents=True, exist_ok=True)
        # massgen locks the registry (sessions.json.lock): concurrent runs must not share a half-written one
        with open(registry.with_name("sessions.json.lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._update_registry(registry, session_id, status)

    def _update_registry(self, registry: Path, session_id: str, status: str) -> None:
        try:
            data = json.loads(registry.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("sessions"), dict):
                raise ValueError
        except (OSError, ValueError):
            data = {"sessions": {}}
        entry = data["sessions"].setdefault(session_id, {"session_id": session_id, "created_at": iso_now()})
        entry.update(
            {
                "log_dir": str(Paths.absolute(self.paths.session_rel)),
                "working_directory": str(self.cwd),
                "question": self.args.question,
                "status": status,
                "updated_at": iso_now(),
            }
        )
        write_json_atomic(registry, data)


# -------------------------------------------------------------------------------------------------- CLI mode


def pick_agents(inv: Invocation, web: bool) -> tuple[list[str], list[str]] | str:
    """(agent ids, model names) or an error message for an unknown --single-agent id."""
    knob = inv.knobs.agents
    if knob:
        ids = list(knob)
    elif inv.config is not None and inv.config.quick_agent:
        ids = ["agent1"]
    else:
        ids = list(agent_ids(2 if web else 3))
    single = inv.args.single_agent
    if single is not None and not web:
        if single is True:
            ids = ids[:1]
        elif single in ids:
            ids = [single]
        else:
            return f"❌ Agent '{single}' not found. Available agents: {', '.join(ids)}"
    if inv.config is not None and inv.config.quick_agent:
        models = [inv.args.model] * len(ids)
    else:
        models = [f"fake-{aid.split('_', 1)[-1]}" for aid in ids]
    return ids, models


def _prompt_refs(question: str) -> list[tuple[str, str]] | str:
    """`@path` / `@path:w` tokens -> [(abs path, read|write)], or the missing path."""
    refs: list[tuple[str, str]] = []
    for token in question.split():
        if not token.startswith("@") or len(token) < 2:
            continue
        raw = token[1:].rstrip(".,;:!?)\"'") if not token.endswith(":w") else token[1:]
        perm = "read"
        if raw.endswith(":w"):
            raw, perm = raw[:-2], "write"
        path = Path(raw).expanduser()
        if not path.exists():
            return raw
        refs.append((str(Paths.absolute(path)), perm))
    return refs


def _install_sigint(run: Run, also_sigterm: bool = False) -> None:
    """Cancel on SIGINT. An inherited SIG_IGN is kept (a backgrounded real massgen ignores Ctrl-C)."""

    def handler(signum: int, frame: object) -> None:
        if run.cancel_reason:
            if also_sigterm:  # resumed sessions: a second signal forces exit
                os._exit(1)
            return
        run.request_cancel("signal")

    signals = [signal.SIGINT] + ([signal.SIGTERM] if also_sigterm else [])
    for sig in signals:
        if signal.getsignal(sig) is signal.SIG_IGN:
            continue
        signal.signal(sig, handler)


def _validation_error_text(bad: list[tuple[int, str, str]]) -> str:
    count = len(bad)
    head = f"{count} validation error{'s' if count != 1 else ''} for CoordinationConfig"
    body = []
    for idx, key, typ in bad:
        body.append(f"checklist_criteria_inline.{idx}.{key}")
        body.append(f"  Input should be a valid string [type=string_type, input_type={typ}]")
    return "\n".join([head, *body])


def run_cli(inv: Invocation) -> int:
    picked = pick_agents(inv, web=False)
    if isinstance(picked, str):
        out(picked)
        return EXIT_CONFIG
    ids, models = picked
    paths = Paths(session_rel=log_root() / f"log_{now_stamp()}", turn=1)
    run = Run(inv, web=False, paths=paths, agents=ids, models=models)
    if inv.args.execute_plan or inv.args.execute_spec:
        return _execute_plan(run)
    return _cli_session(run, resumed=False)


def _execute_plan(run: Run) -> int:
    """--execute-plan/--execute-spec: look the plan up under ./.massgen/plans (after LOG_DIR); run it."""
    args = run.args
    target = args.execute_plan or args.execute_spec
    kind = "plan" if args.execute_plan else "spec"
    plans = Path(".massgen") / "plans"
    write_execution_metadata(run.attempt_dir(), args, run.inv.config)
    run.marker(f"LOG_DIR: {Paths.absolute(run.paths.session_rel)}")
    run.marker(f"STATUS: {Paths.absolute(run.attempt_dir() / 'status.json')}")
    found: Path | None = None
    candidates = sorted(plans.glob("plan_*")) if plans.is_dir() else []
    if target == "latest":
        resumable = [p for p in candidates if _plan_status(p) == "resumable"]
        found = (resumable or candidates or [None])[-1]
    else:
        name = Path(target).name
        for cand in (plans / name, plans / f"plan_{name}"):
            if cand.is_dir():
                found = cand
                break
    if found is not None and kind == "spec" and not (found / "frozen" / "spec.json").is_file():
        found = None
    if found is None:
        out(f"❌ {kind.capitalize()} not found: {target}")
        return EXIT_CONFIG
    code = _cli_session(run, resumed=False, header_done=True)
    run.marker(f"PLAN_DIR: {found}" if kind == "plan" else f"SPEC_DIR: {found}")
    run.marker(
        f"PLAN_ID: {found.name[len('plan_') :]}"
        if kind == "plan"
        else f"SPEC_ID: {found.name[len('plan_') :]}"
    )
    return code


def _plan_status(plan_dir: Path) -> str | None:
    try:
        return json.loads((plan_dir / "plan_metadata.json").read_text(encoding="utf-8")).get("status")
    except (OSError, ValueError, AttributeError):
        return None


def _cli_session(run: Run, *, resumed: bool, header_done: bool = False, session_id: str | None = None) -> int:
    inv, args = run.inv, run.args
    if not header_done:
        write_execution_metadata(run.attempt_dir(), args, inv.config)
        if not resumed:
            run.marker(f"LOG_DIR: {Paths.absolute(run.paths.session_rel)}")
            run.marker(f"STATUS: {Paths.absolute(run.attempt_dir() / 'status.json')}")
    if args.inbox_dir and not resumed:
        inbox = Path(args.inbox_dir)
        inbox.mkdir(parents=True, exist_ok=True)
        os.environ["MASSGEN_RUNTIME_INBOX_DIR"] = str(Paths.absolute(inbox))
        run.marker(f"RUNTIME_INBOX: {Paths.absolute(inbox)}")
    _install_sigint(run, also_sigterm=resumed)
    if args.parse_at_references and args.question:
        refs = _prompt_refs(args.question)
        if isinstance(refs, str):
            out(f"❌ Context path from prompt does not exist: {refs}")
            return EXIT_CONFIG
        if refs:
            run.display("📂 Context paths from prompt:")
            for path, perm in refs:
                run.display(f"   {path} ({perm})")
            run.prompt_refs = refs  # type: ignore[attr-defined]
    if inv.bad_criteria_values:
        out(f"❌ Error: {_validation_error_text(inv.bad_criteria_values)}")
        return EXIT_EXECUTION
    session_id = session_id or run.new_session_id()
    if not resumed:
        write_text(Path(".massgen") / ".session_id", session_id)
        run.register_session(session_id, "running")
    run.log(f"📝 Created session for single-question mode: {session_id}")

    run.display(f"QUESTION: {run.question}")
    run.display("[Coordination in progress - monitor status.json for real-time updates]")
    outcome: Outcome
    try:
        try:
            outcome = run.coordinate()
            if run.knobs.scenario == "restart" and outcome.winner:
                _restart(run)
                outcome = run.coordinate()
        except TimedOut:
            outcome = run.mark_timeout()
    except Cancelled:
        return _cancelled_cli(run, resumed, session_id)
    except Crash as exc:
        if run.status is not None:
            run.status.stop_loop()
        out(f"❌ Error: {exc}")
        return EXIT_EXECUTION
    return _finish_cli(run, outcome, resumed, session_id)


def _restart(run: Run) -> None:
    """Post-evaluation asks for a restart: attempt_1 stays as it was ('completed'); attempt_2 goes on."""
    st = run.status
    assert st is not None
    with st.lock:
        st.post_evaluations += 1
        st.restarts += 1
    st.write()
    run.save_coordination_logs(st.winner)
    run.pause(run.knobs.step_delay)
    run.paths.attempt += 1
    run.display(f"RESTART: Attempt {run.paths.attempt}/{MAX_ATTEMPTS}")


def _cancelled_cli(run: Run, resumed: bool, session_id: str) -> int:
    st = run.status
    if st is not None:
        st.stop_loop()  # status.json stays in_progress: never finalized on signals
    time.sleep(run.knobs.cancel_delay)
    with contextlib.suppress(OSError, AssertionError):
        run.save_coordination_logs(None)
    if resumed:
        out("")
        out("⚠️  Cancellation requested - stopping the agents...")
        if run.answers:
            out(f"💾 Partial progress saved to .massgen/sessions/{session_id}")
    run.display("")
    run.display(f"COMPLETED: {len(run.agent_ids)} agents, {time.time() - run.start:.1f}s total")
    if not resumed:
        run.register_session(session_id, "completed")
    return EXIT_OK


def _finish_cli(run: Run, outcome: Outcome, resumed: bool, session_id: str) -> int:
    args = run.args
    st = run.status
    assert st is not None
    winner = outcome.winner
    final_rel = run.attempt_dir() / "final"
    if winner:
        if run.writable_context:
            run.apply_changes(winner, run._changes())  # no review gate outside web mode
        run.display("")
        run.display(f"WINNER: {winner}")
        run.display(f"ANSWER_FILE: {final_rel / winner / 'answer.txt'}")
        run.display(f"DURATION: {outcome.duration:.1f}s")
        if outcome.votes:
            run.display("")
            run.display("TIMELINE:")
            for vote in outcome.votes:
                run.display(f"  [VOTE] {vote.voter} -> {vote.voted_for}")
                reason = vote.reason if len(vote.reason) <= 50 else vote.reason[:50] + "..."
                run.display(f"         Reason: {reason}")
            run.display("  [RESULTS]")
            counts: dict[str, int] = {}
            for vote in outcome.votes:
                counts[vote.voted_for] = counts.get(vote.voted_for, 0) + 1
            for agent, n in sorted(counts.items(), key=lambda kv: -kv[1]):
                tag = " (winner)" if agent == winner else ""
                run.display(f"    {agent}: {n} vote{'s' if n != 1 else ''}{tag}")
        run.display(f"ANSWER_PREVIEW: {outcome.answer[:200]}")
    run.save_coordination_logs(winner)
    if not (run.quick and args.single_agent is not None):
        st.write()  # once more when the coordination logs are saved
    turn_answer = None
    if winner:
        turn_final = run.paths.turn_rel / "final" / winner
        if turn_final.exists():
            shutil.rmtree(turn_final)
        shutil.copytree(final_rel / winner, turn_final)
        turn_answer = turn_final / "answer.txt"
        _write_session_turn(run, session_id, winner, outcome.answer)
    run.display("")
    run.display(f"COMPLETED: {len(run.agent_ids)} agents, {time.time() - run.start:.1f}s total")
    if winner and turn_answer is not None and not resumed:
        run.marker(f"ANSWER: {Paths.absolute(turn_answer)}")
    if winner and args.output_file:
        target = Path(args.output_file).expanduser()
        write_text(target, outcome.answer)
        run.marker(f"OUTPUT_FILE: {Paths.absolute(target)}")
    if final_rel.is_dir():
        run.marker(f"FINAL_DIR: {final_rel}")
    if args.plan_and_execute and winner:
        plan_id = now_stamp()
        plan_dir = Path(".massgen") / "plans" / f"plan_{plan_id}"
        _write_plan_dir(run, plan_dir, plan_id, winner)
        run.marker(f"PLAN_DIR: {plan_dir}")
        run.marker(f"PLAN_ID: {plan_id}")
    if not resumed:
        run.register_session(session_id, "completed")
    return EXIT_OK


def _write_plan_dir(run: Run, plan_dir: Path, plan_id: str, winner: str) -> None:
    plan_file = run.attempt_dir() / "final" / winner / "workspace" / "project_plan.json"
    for sub in ("workspace", "frozen"):
        (plan_dir / sub).mkdir(parents=True, exist_ok=True)
        if plan_file.is_file():
            shutil.copy(plan_file, plan_dir / sub / "plan.json")
    write_json(
        plan_dir / "plan_metadata.json",
        {
            "plan_id": plan_id,
            "created_at": iso_now(),
            "planning_session_id": run.new_session_id(),
            "planning_log_dir": str(Paths.absolute(run.paths.session_rel)),
            "planning_prompt": run.args.question,
            "status": "completed",
            "artifact_type": "plan",
        },
    )
    (plan_dir / "execution_log.jsonl").write_text("", encoding="utf-8")


def _write_session_turn(run: Run, session_id: str, winner: str, answer: str) -> None:
    sdir = Path(".massgen") / "sessions" / session_id
    turn_dir = sdir / f"turn_{run.paths.turn}"
    stamp = iso_now()
    write_text(turn_dir / "answer.txt", answer)
    write_json(
        turn_dir / "metadata.json",
        {
            "turn": run.paths.turn,
            "timestamp": stamp,
            "winning_agent": winner,
            "task": run.args.question,
            "session_id": session_id,
        },
    )
    ws = run.attempt_dir() / "final" / winner / "workspace"
    if ws.is_dir():
        shutil.copytree(ws, turn_dir / "workspace", dirs_exist_ok=True)
    history_path = sdir / "winning_agents_history.json"
    try:
        history = json.loads(history_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        history = []
    history.append({"agent_id": winner, "turn": run.paths.turn})
    write_json(history_path, history)
    sabs = Paths.absolute(sdir)
    with open(sdir / "SESSION_SUMMARY.txt", "a", encoding="utf-8") as fh:
        if run.paths.turn == 1 or fh.tell() == 0:
            fh.write("=" * 80 + f"\nMulti-Turn Session: {session_id}\n" + "=" * 80 + "\n\n")
        fh.write(
            "\n" + "=" * 80 + f"\nTURN {run.paths.turn}\n" + "=" * 80 + f"\nTimestamp: {stamp}\n"
            f"Winning Agent: {winner}\nTask: {run.args.question}\n"
            f"Workspace: {sabs}/turn_{run.paths.turn}/workspace\n"
            f"Answer: See {sabs}/turn_{run.paths.turn}/answer.txt\n"
        )


# ------------------------------------------------------------------------------------------- resumed session


def run_resumed(inv: Invocation) -> int:
    args = inv.args
    if args.continue_session and not args.session_id:
        try:
            session_id = (Path(".massgen") / ".session_id").read_text(encoding="utf-8").strip()
        except OSError:
            session_id = ""
        if not session_id:
            out("❌ No previous session to continue in this directory")
            return EXIT_CONFIG
    else:
        session_id = args.session_id
    log_dir = _find_session_log_dir(session_id)
    if log_dir is None:
        out(f"❌ Session not found: {session_id}")
        return EXIT_CONFIG
    config, cfg_error = resolve_config(args)
    if cfg_error or config is None:
        err(f"❌ Configuration error: {cfg_error or 'No default configuration found.'}")
        return EXIT_CONFIG
    inv.config = config
    if not args.question:
        err("❌ Error: a question is required in automation mode")
        return EXIT_CONFIG
    picked = pick_agents(inv, web=False)
    if isinstance(picked, str):
        out(picked)
        return EXIT_CONFIG
    ids, models = picked
    turns = sorted(
        int(p.name.split("_")[1]) for p in log_dir.glob("turn_*") if p.name.split("_")[1].isdigit()
    )
    previous = turns[-1] if turns else 0
    paths = Paths(session_rel=log_dir, turn=previous + 1)
    run = Run(inv, web=False, paths=paths, agents=ids, models=models)
    out(f"🔄 Continuing session: {session_id}")
    out(f"   Restored {previous} previous turn(s)")
    out(f"Agents: {', '.join(ids)}")
    out(f"History: {previous} turn(s)")
    out(f"Question: {args.question}")
    out("=" * 60)
    return _cli_session(run, resumed=True, session_id=session_id)


def _find_session_log_dir(session_id: str) -> Path | None:
    registry = Path.home() / ".massgen" / "sessions.json"
    try:
        entry = json.loads(registry.read_text(encoding="utf-8"))["sessions"][session_id]
        log_dir = Path(entry["log_dir"])
        if log_dir.is_dir():
            return _relative_if_possible(log_dir)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    if not (Path(".massgen") / "sessions" / session_id).is_dir():
        return None
    stamp = session_id[len("session_") :]
    candidates = sorted(log_root().glob(f"log_{stamp}_*")) or sorted(log_root().glob("log_*"))
    return candidates[-1] if candidates else None


def _relative_if_possible(path: Path) -> Path:
    try:
        return path.relative_to(Path(os.getcwd()))
    except ValueError:
        return path


# -------------------------------------------------------------------------------------------------- web mode


def run_web(inv: Invocation) -> int:
    from fake_massgen.webserver import WebState, start_server

    args = inv.args
    picked = pick_agents(inv, web=True)
    assert not isinstance(picked, str)
    ids, models = picked
    host, port = args.web_host, args.web_port
    config_label = inv.config.label if inv.config is not None else ""
    out("\x1b[96m🌐 Starting MassGen Web UI...\x1b[0m")
    out(f"\x1b[92m   Server: http://{host}:{port}\x1b[0m")
    out(f"\x1b[92m   Config: {config_label}\x1b[0m")
    out(f"\x1b[92m   UI: http://{host}:{port}/?config={config_label}\x1b[0m")
    out("\x1b[93m   Run starting immediately — open browser anytime to monitor\x1b[0m")
    out("\x1b[93m   Press Ctrl+C to stop\x1b[0m")
    out("")
    sid = "auto-" + secrets.token_hex(6)
    paths = Paths(session_rel=log_root() / f"log_{now_stamp()}", turn=1)
    run = Run(inv, web=True, paths=paths, agents=ids, models=models)
    state = WebState(session_id=sid, question=args.question, config=config_label, models=models, run=run)
    run.web_state = state
    try:
        server = start_server(host, port, state)
    except OSError as exc:
        err(
            f"ERROR:    [Errno {exc.errno}] error while attempting to bind on address ('{host}', {port}): "
            f"{(exc.strerror or str(exc)).lower()}"
        )
        return EXIT_CONFIG
    webui_log = Path.home() / ".massgen" / "webui_logs" / "workspace_browser.log"
    webui_log.parent.mkdir(parents=True, exist_ok=True)
    webui_log.touch()
    err(f"[{hms()}] [WORKSPACE] INFO: WebUI logs writing to: {webui_log}")
    err(f"[{hms()}] [WORKSPACE] INFO: WorkspaceConnectionManager initialized")
    err(f"[{hms()}] [WORKSPACE] INFO: Loaded 0 persisted WebUI sessions")
    err(f"[{hms()}] [WORKSPACE] INFO: [AutoStart] Starting coordination immediately: session={sid}")
    _install_sigint(run)
    try:
        return _web_session(run, state)
    finally:
        err(f"[{hms()}] [WORKSPACE] INFO: [AutoStart] Coordination finished — shutting down server")
        state.finish()
        server.shutdown()
        server.server_close()


def _web_session(run: Run, state: WebState) -> int:
    inv = run.inv
    write_execution_metadata(run.attempt_dir(), run.args, inv.config)
    run.status = run.new_status()
    run.status.write()
    err(f"[{hms()}] [WORKSPACE] INFO: Saved initial status.json with workspace paths")
    attempt = run.attempt_dir()
    out(f"LOG_DIR: {attempt}")
    out(f"STATUS: {attempt / 'status.json'}")
    out(f"[WebUI] LOG_DIR: {attempt}")
    out(f"[WebUI] STATUS: {attempt / 'status.json'}")
    if inv.bad_criteria_values:
        out(f"[WebUI Error] {_validation_error_text(inv.bad_criteria_values)}")
        return EXIT_OK
    try:
        try:
            outcome = run.coordinate()
        except TimedOut:
            outcome = run.mark_timeout()
    except Cancelled:
        st = run.status
        st.stop_loop()
        if run.cancel_reason == "web":
            with st.lock:
                st.phase = "cancelled"
                st.cancelled_at = time.time()
            st.write_in_place()
        time.sleep(run.knobs.cancel_delay)
        run.save_coordination_logs(None)
        return EXIT_OK
    except Crash as exc:
        run.status.stop_loop()
        out(f"[WebUI Error] {exc}")
        return EXIT_OK
    winner = outcome.winner
    run.save_coordination_logs(winner)
    run.status.write()
    if not winner:
        return EXIT_OK
    changes = run._changes()
    if changes and run.args.web_review:
        for _ in range(run.knobs.reviews):
            if not _web_review(run, state, winner, changes):
                return EXIT_OK  # cancelled while waiting
    elif changes:
        run.apply_changes(winner, changes)
    turn = run.paths.turn_rel
    session = run.paths.session_rel
    out(f"[WebUI] Saving metadata: turn_dir={turn}, session_dir={session}")
    stamp = iso_now()
    write_text(turn / "answer.txt", outcome.answer)
    write_json(
        turn / "metadata.json",
        {
            "turn": run.paths.turn,
            "timestamp": stamp,
            "winning_agent": winner,
            "task": run.args.question,
            "session_id": session.name,
        },
    )
    write_json(
        session / "winning_agents_history.json",
        [{"agent_id": winner, "turn": run.paths.turn, "timestamp": stamp}],
    )
    run.register_session(session.name, "completed")
    out(f"[WebUI] Registered session: {session.name}")
    out(f"[WebUI] Saved session metadata: turn={run.paths.turn}, winner={winner}")
    state.mark_completed(winner)
    return EXIT_OK


def _web_review(run: Run, state: WebState, winner: str, changes: list[FileChange]) -> bool:
    """One review gate. Returns False when the run was cancelled while waiting."""
    st = run.status
    assert st is not None
    files = [{"path": c.path, "status": c.status} for c in changes]
    request = {
        "review_pending": True,
        "url": REVIEW_URL,
        "api_url": REVIEW_API.format(sid=state.session_id),
        "files": files,
        "answer_preview": run.knobs.answer[:200],
    }
    state.begin_review(request, _review_payload(run, state, winner, changes))
    with st.lock:
        st.review_pending = True
    st.write()
    write_json_atomic(run.attempt_dir() / "review_request.json", request)
    out(f"__REVIEW_PENDING__ URL={REVIEW_URL}")
    deadline = time.monotonic() + run.knobs.review_timeout
    decision: dict[str, Any] | None = None
    while decision is None:
        if run.cancel_reason:
            state.end_review()
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        decision = state.wait_decision(min(remaining, 0.05))
    state.end_review()
    if decision is None:
        result = {"approved": False, "approved_files": None, "action": "approve", "resolved_by": "unknown"}
    else:
        approved = bool(decision.get("approved", False))
        action = decision.get("action") or ("approve" if approved else "reject")
        result = {
            "approved": approved,
            "approved_files": decision.get("approved_files"),
            "action": action,
            "resolved_by": "api",
        }
    result["timestamp"] = time.time()
    write_json_atomic(run.attempt_dir() / "review_result.json", result)
    out(f"__REVIEW_COMPLETE__ APPROVED={result['approved']}")
    if result["approved"]:
        wanted = result["approved_files"]
        if wanted is None:
            selected = changes
        else:
            names = {str(w) for w in wanted} if isinstance(wanted, list) else set()
            ctx = str(run.cwd)
            selected = [c for c in changes if c.path in names or f"{ctx}::{c.path}" in names]
        run.apply_changes(winner, selected)
    return True


def _review_payload(run: Run, state: WebState, winner: str, changes: list[FileChange]) -> dict[str, Any]:
    import subprocess

    try:
        proc = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
        base_ref = (proc.stdout.strip() or None) if proc.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        base_ref = None
    ws = run.workspaces.get(winner)
    isolated = str(ws / ".worktree" / "ctx_1") if ws else str(run.cwd)
    st = run.status
    assert st is not None
    voters = [a.agent_id for a in st.agents.values() if a.vote is not None and a.vote.voted_for == winner]
    return {
        "review_pending": True,
        "changes": [
            {
                "original_path": str(run.cwd),
                "isolated_path": isolated,
                "repo_root": str(run.cwd),
                "base_ref": base_ref,
                "context_prefix": ".",
                "changes": [{"status": c.status, "path": c.path} for c in changes],
                "diff": review_diff(run.cwd, changes, lambda path: change_content(winner, path)),
            }
        ],
        "answer_content": run.knobs.answer,
        "vote_results": {
            "vote_counts": {winner: len(voters)},
            "voter_details": {winner: [{"voter": v, "reason": VOTE_REASON} for v in voters]},
            "winner": winner,
            "is_tie": False,
            "total_votes": len(voters),
            "agents_with_answers": len(run.agent_ids),
            "agents_voted": len(voters),
            "agent_mapping": {f"agent{i}": a for i, a in enumerate(run.agent_ids, start=1)},
        },
        "agent_id": winner,
        "model_name": run.models[run.agent_ids.index(winner)],
        "context_paths": None,
    }

#!/usr/bin/env python3
"""A scripted OpenAI-compatible Chat Completions server: the embedded default model that lets the real massgen
run a whole team without keys or network (`doctor --live`, the test suite; contract §12).

Standard library only, so any Python can run it, in-process (`ScriptedModelServer`) or as a script:

    python3 scripted_model.py --port 0 --port-file F [--mode normal|never-tool|write-file] [--log REQ.jsonl]

Behaviour, keyed on the request's ``model`` (give every agent its own model name):

* a request offering ``vote`` from a model that has not answered yet -> ``new_answer`` tool call;
* a later request offering ``vote`` -> ``vote`` tool call for ``--vote-for``: an id of the tool's ``agent_id``
  enum (massgen fills it with anonymised ids ``agent1``, ``agent2``… in config order) or a 1-based position;
  default the first;
* a request offering ``new_answer`` but not ``vote`` (the winner's final presentation) -> ``new_answer``
  (``--final tool``) or plain text (``--final text``). In ``write-file`` mode the presenter first calls
  ``mcp__filesystem__write_file`` on ``<write dir>/<--write-name>``, where the write dir is the worktree
  massgen names in the presentation prompt ("checked out at `<workspace>/.worktree/ctx_1`"), or with
  ``--write-in workspace`` the agent's own workspace (a made file, such as an image);
* a request whose last message is a tool result for one of our workflow calls (massgen rejected it) -> the
  other workflow tool;
* ``never-tool`` mode: every reply is plain text (massgen gives up after its retries: no winner);
* ``structured`` mode: the presenter first writes a structured evaluation (``verdict.json``,
  ``next_tasks.json``, ``critique_packet.md``) at the top of its workspace, one call each.

Replies are SSE chunks (``data: {...}``) ending with a usage chunk and ``data: [DONE]``.
Every request body is appended to ``--log`` (JSONL) with the decision taken, for debugging.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODES = ("normal", "never-tool", "write-file", "structured")
# What a `structured` presenter writes (run --structured asks for these; references/evaluate.md).
STRUCTURED_FILES = (
    ("verdict.json", '{"schema_version": "1", "verdict": "iterate", "scores": {"E1": 6, "E2": 8}}\n'),
    (
        "next_tasks.json",
        '{"schema_version": "2", "objective": "scripted", "fix_tasks": [{"id": "fix_1",'
        ' "task_category": "fix", "description": "Show the working", "priority": "high"}],'
        ' "evolution_tasks": []}\n',
    ),
    ("critique_packet.md", "# Critique (scripted)\n\nE1 is met; E2 needs the working shown.\n"),
)
WRITE_TOOL = "mcp__filesystem__write_file"
WORKTREE_REL = ".worktree/ctx_1"
WRITE_IN = ("worktree", "workspace")


@dataclass
class Options:
    mode: str = "normal"
    vote_for: str | None = None
    final: str = "tool"
    write_name: str = "hello_e2e.txt"
    write_content: str = "hello from the scripted LLM\n"
    write_in: str = "worktree"  # or "workspace": the agent's own workspace root (a made file, e.g. media)
    answer_text: str = "SCRIPTED ANSWER: 42 [model={model}]"
    delay: float = 0.0
    log_path: str | None = None


@dataclass
class ModelState:
    requests: int = 0
    answered: bool = False
    votes: int = 0
    wrote: bool = False
    structured_written: int = 0


@dataclass
class Decision:
    kind: str  # "tool" | "text"
    tool: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    note: str = ""


def tool_names(body: dict[str, Any]) -> list[str]:
    names = []
    for tool in body.get("tools") or []:
        fn = tool.get("function") or {}
        if fn.get("name"):
            names.append(fn["name"])
    return names


def vote_enum(body: dict[str, Any]) -> list[str]:
    for tool in body.get("tools") or []:
        fn = tool.get("function") or {}
        if fn.get("name") == "vote":
            prop = ((fn.get("parameters") or {}).get("properties") or {}).get("agent_id") or {}
            return list(prop.get("enum") or [])
    return []


def pick_vote(enum: list[str], wanted: str | None) -> str:
    """massgen's enum holds anonymised ids (``agent1``, ``agent2``… in config order). ``wanted`` may be one
    of them or a 1-based position ("2"); anything else falls back to the first id."""
    if wanted and wanted in enum:
        return wanted
    if wanted and wanted.isdigit() and 1 <= int(wanted) <= len(enum):
        return enum[int(wanted) - 1]
    return enum[0] if enum else (wanted or "agent1")


def _message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


_CHECKOUT = re.compile(r"checked out at `([^`]+)`")
_WORKTREE = re.compile(r"(/[^\s`'\"]*?/\.worktree/ctx_\d+)")
_WORKSPACE = re.compile(r"Your Workspace\**:\s*`([^`]+)`")


def find_workspace(body: dict[str, Any]) -> str | None:
    """The agent's own workspace, as the system prompt names it ("**Your Workspace**: `…`")."""
    match = _WORKSPACE.search("\n".join(_message_text(m) for m in body.get("messages") or []))
    return match.group(1) if match else None


def find_write_dir(body: dict[str, Any]) -> str | None:
    """The directory the presenter should write into: the git worktree of the writable context path.

    massgen 0.1.97 says so in the final-presentation user message ("The project is checked out at
    `<workspace>/.worktree/ctx_1`"); the system prompt names the workspace ("**Your Workspace**: `…`")."""
    texts = [_message_text(m) for m in body.get("messages") or []]
    blob = "\n".join(texts)
    for pattern in (_CHECKOUT, _WORKTREE):
        match = pattern.search(blob)
        if match:
            return match.group(1)
    workspace = find_workspace(body)
    return os.path.join(workspace, WORKTREE_REL) if workspace else None


_NO_ANSWERS_YET = "(no answers available yet)"  # massgen 0.1.97's first coordination prompt says so


def _fresh_run(body: dict[str, Any]) -> bool:
    """A first request of a run: no answers yet and nothing said in this conversation."""
    messages = body.get("messages") or []
    if any(m.get("role") in ("assistant", "tool") for m in messages):
        return False
    return any(_NO_ANSWERS_YET in _message_text(m) for m in messages)


def _structured_write(body: dict[str, Any], state: ModelState) -> Decision | None:
    """The next evaluation file to write at the top of the workspace; None once all are written."""
    match = _WORKSPACE.search("\n".join(_message_text(m) for m in body.get("messages") or []))
    if match is None or state.structured_written >= len(STRUCTURED_FILES):
        return None
    name, content = STRUCTURED_FILES[state.structured_written]
    state.structured_written += 1
    path = os.path.join(match.group(1), name)
    return Decision("tool", WRITE_TOOL, {"path": path, "content": content}, note="structured write")


def last_tool_result_for(body: dict[str, Any]) -> str | None:
    """Name of the tool whose result is the last message (massgen's reply to our call), if any."""
    messages = body.get("messages") or []
    if not messages or messages[-1].get("role") != "tool":
        return None
    call_id = messages[-1].get("tool_call_id")
    for message in reversed(messages):
        for call in message.get("tool_calls") or []:
            if call.get("id") == call_id:
                return (call.get("function") or {}).get("name")
    return None


class Brain:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.lock = threading.Lock()
        self.states: dict[str, ModelState] = {}

    def decide(self, body: dict[str, Any]) -> Decision:
        opts = self.options
        model = str(body.get("model", "?"))
        names = tool_names(body)
        answer = opts.answer_text.format(model=model)
        with self.lock:
            if _fresh_run(body):  # one server can serve several massgen runs (a loop's rounds)
                self.states.pop(model, None)
            state = self.states.setdefault(model, ModelState())
            state.requests += 1
            if opts.mode == "never-tool":
                return Decision("text", text=f"I will not use any tool. [model={model}]", note="never-tool")
            previous = last_tool_result_for(body)
            if "vote" in names:
                if not state.answered and previous != "new_answer":
                    state.answered = True
                    return Decision("tool", "new_answer", {"content": answer}, note="first answer")
                if previous == "vote":
                    return Decision("tool", "new_answer", {"content": answer}, note="vote rejected")
                target = pick_vote(vote_enum(body), opts.vote_for)
                state.votes += 1
                return Decision(
                    "tool",
                    "vote",
                    {"agent_id": target, "reason": "Scripted vote from the fake LLM."},
                    note="vote",
                )
            if "new_answer" in names:
                if opts.mode == "structured" and WRITE_TOOL in names:
                    write = _structured_write(body, state)
                    if write is not None:
                        return write
                if opts.mode == "write-file" and WRITE_TOOL in names and not state.wrote:
                    write_dir = find_workspace(body) if opts.write_in == "workspace" else find_write_dir(body)
                    if write_dir:
                        state.wrote = True
                        path = os.path.join(write_dir, opts.write_name)
                        return Decision(
                            "tool",
                            WRITE_TOOL,
                            {"path": path, "content": opts.write_content},
                            note="presenter write",
                        )
                    note = "write-file: workspace not found"
                else:
                    note = "final presentation"
                if opts.final == "text":
                    return Decision("text", text=answer, note=note)
                return Decision("tool", "new_answer", {"content": answer}, note=note)
            return Decision("text", text=answer, note="no workflow tools offered")


def sse_chunks(model: str, decision: Decision) -> list[dict[str, Any]]:
    cid = "chatcmpl-" + uuid.uuid4().hex[:12]
    now = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        return {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": now,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    chunks = [chunk({"role": "assistant", "content": ""}, None)]
    if decision.kind == "tool":
        call = {
            "index": 0,
            "id": "call_" + uuid.uuid4().hex[:16],
            "type": "function",
            "function": {"name": decision.tool, "arguments": json.dumps(decision.arguments)},
        }
        chunks.append(chunk({"tool_calls": [call]}, None))
        chunks.append(chunk({}, "tool_calls"))
    else:
        chunks.append(chunk({"content": decision.text}, None))
        chunks.append(chunk({}, "stop"))
    chunks.append(
        {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": now,
            "model": model,
            "choices": [],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }
    )
    return chunks


def completion(model: str, decision: Decision) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": decision.text or None}
    finish = "stop"
    if decision.kind == "tool":
        finish = "tool_calls"
        message["tool_calls"] = [
            {
                "id": "call_" + uuid.uuid4().hex[:16],
                "type": "function",
                "function": {"name": decision.tool, "arguments": json.dumps(decision.arguments)},
            }
        ]
    return {
        "id": "chatcmpl-" + uuid.uuid4().hex[:12],
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


class Handler(BaseHTTPRequestHandler):
    server: ScriptedModelServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self._send_json(200, {"object": "list", "data": []})
        elif self.path.rstrip("/").endswith("/health"):
            self._send_json(200, {"status": "ok"})
        else:
            self._send_json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send_json(404, {"error": {"message": f"unknown path {self.path}"}})
            return
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._send_json(400, {"error": {"message": "invalid JSON"}})
            return
        decision = self.server.brain.decide(body)
        self.server.record(body, decision)
        if self.server.brain.options.delay:
            time.sleep(self.server.brain.options.delay)
        model = str(body.get("model", "fake"))
        if not body.get("stream"):
            self._send_json(200, completion(model, decision))
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        for item in sse_chunks(model, decision):
            self.wfile.write(b"data: " + json.dumps(item).encode() + b"\n\n")
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


class ScriptedModelServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, options: Options) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.brain = Brain(options)
        self.log_lock = threading.Lock()
        self.counter = 0

    def record(self, body: dict[str, Any], decision: Decision) -> None:
        path = self.brain.options.log_path
        with self.log_lock:
            self.counter += 1
            if not path:
                return
            entry = {
                "n": self.counter,
                "t": time.time(),
                "model": body.get("model"),
                "tools": tool_names(body),
                "decision": {
                    "kind": decision.kind,
                    "tool": decision.tool,
                    "arguments": decision.arguments,
                    "note": decision.note,
                },
                "body": body,
            }
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry) + "\n")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", help="write the bound port here (atomically) once listening")
    parser.add_argument("--mode", choices=MODES, default="normal")
    parser.add_argument(
        "--vote-for",
        default=None,
        help="id from the vote enum (agent1…) or 1-based position (default: first)",
    )
    parser.add_argument("--final", choices=("tool", "text"), default="tool")
    parser.add_argument("--write-name", default=Options.write_name)
    parser.add_argument("--write-content", default=Options.write_content)
    parser.add_argument("--answer-text", default=Options.answer_text)
    parser.add_argument("--write-in", choices=WRITE_IN, default=Options.write_in)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before every reply")
    parser.add_argument("--log", default=None, help="append every request as JSONL here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    options = Options(
        mode=args.mode,
        vote_for=args.vote_for,
        final=args.final,
        write_name=args.write_name,
        write_content=args.write_content,
        answer_text=args.answer_text,
        write_in=args.write_in,
        delay=args.delay,
        log_path=args.log,
    )
    server = ScriptedModelServer(args.port, options)
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(str(port))
        os.replace(tmp, args.port_file)
    print(f"llm_server listening on 127.0.0.1:{port} mode={args.mode}", file=sys.stderr, flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Helpers for the review-gate tests: synthetic log dirs, run records, a stub review server, processes.

The stub (`StubServer`) plays massgen's review endpoints on 127.0.0.1 with an ephemeral port; on a decision it
writes review_result.json like massgen does. `mode` makes it misbehave: "500", "404", "nonjson", "redirect".
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from massgen_skill.run import records

LOG_NAME = "log_20261125_120000_000001"


# --- a synthetic run -------------------------------------------------------------------------------------


def status_data(review_pending: bool = False, completed: bool = False) -> dict[str, Any]:
    return {
        "finish_reason": "completed" if completed else "in_progress",
        "finish_reason_details": "Winner: agent_a" if completed else "Phase: initial_answer",
        "is_complete": completed,
        "review_pending": review_pending,
        "meta": {"last_updated": time.time(), "session_id": "attempt_1"},
        "coordination": {"phase": "presentation" if completed else "initial_answer"},
        "agents": {},
        "results": {"votes": {}, "winner": "agent_a" if completed else None},
    }


def request_data(
    sid: str = "auto-0123456789ab",
    files: list[tuple[str, str]] | None = None,
    preview: str = "the answer",
    host: str = "localhost:8000",
) -> dict[str, Any]:
    """review_request.json as massgen 0.1.97 writes it (localhost:8000 hard-coded)."""
    return {
        "review_pending": True,
        "url": f"http://{host}/?v=2",
        "api_url": f"http://{host}/api/sessions/{sid}/review-response",
        "files": [{"path": p, "status": s} for p, s in (files or [("a.py", "M"), ("b.py", "?")])],
        "answer_preview": preview,
    }


def write_json(path: Path, data: Any, mtime_ns: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(tmp, path)
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))


def make_run(project: Path, attempt: int = 1) -> Path:
    """<project>/.massgen/massgen_logs/log_…/turn_1/attempt_N with a status.json; returns the attempt dir."""
    folder = project / ".massgen" / "massgen_logs" / LOG_NAME / "turn_1" / f"attempt_{attempt}"
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / "status.json", status_data())
    return folder


def session_root(attempt: Path) -> Path:
    return attempt.parent.parent


def save_record(project: Path, root: Path | None, port: int | None, **overrides: Any) -> records.RunRecord:
    """A live-looking record: this test process plays the supervising wrapper."""
    record = records.RunRecord(
        run_id=overrides.pop("run_id", records.new_run_id()),
        project_dir=str(project),
        created_at=time.time(),
        mode="general",
        cwd_context="rw",
        web=port is not None,
        web_port=port,
        review_gate=port is not None,
        state=records.RUNNING,
        wrapper_pid=os.getpid(),
        wrapper_start=records.process_start_time(os.getpid()),
        log_dir=str(root) if root else None,
    )
    for key, value in overrides.items():
        setattr(record, key, value)
    records.save(record)
    return record


# --- a stub review server --------------------------------------------------------------------------------


class StubServer:
    def __init__(
        self,
        attempt: Path | None,
        sid: str = "auto-0123456789ab",
        files: list[tuple[str, str]] | None = None,
        diff: str = "diff --git a/a.py b/a.py\n+x = 1",
        mode: str = "ok",
        pending: bool = True,
    ) -> None:
        self.attempt = attempt
        self.sid = sid
        self.files = files or [("a.py", "M"), ("b.py", "?")]
        self.diff = diff
        self.mode = mode
        self.pending = pending
        self.calls: list[tuple[str, str, Any]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def _send(self, code: int, body: bytes, ctype: str = "application/json") -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                if code in (301, 302, 307):
                    self.send_header("Location", "http://192.0.2.1:9/api/active-session")
                self.end_headers()
                self.wfile.write(body)

            def _reply(self, payload: dict[str, Any]) -> None:
                if stub.mode == "500":
                    return self._send(500, b"Internal Server Error", "text/plain")
                if stub.mode == "404":
                    return self._send(404, json.dumps({"error": "Session not found"}).encode())
                if stub.mode == "nonjson":
                    return self._send(200, b"<html>not json</html>", "text/html")
                if stub.mode == "redirect":
                    return self._send(302, b"")
                return self._send(200, json.dumps(payload).encode())

            def do_GET(self) -> None:
                stub.calls.append(("GET", self.path, None))
                if self.path == "/api/active-session":
                    return self._reply({"session_id": stub.sid, "source": "automation"})
                if self.path == f"/api/sessions/{stub.sid}/review":
                    return self._reply(stub.review_payload())
                return self._reply({"review_pending": False})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                body = json.loads(raw) if raw else None
                stub.calls.append(("POST", self.path, body))
                if stub.mode == "ok" and stub.pending and isinstance(body, dict) and stub.attempt is not None:
                    stub.pending = False
                    approved = bool(body.get("approved", False))
                    write_json(
                        stub.attempt / "review_result.json",
                        {
                            "approved": approved,
                            "approved_files": body.get("approved_files"),
                            "action": body.get("action") or ("approve" if approved else "reject"),
                            "resolved_by": "api",
                            "timestamp": time.time(),
                        },
                    )
                return self._reply({"status": "ok"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.daemon = True
        self.thread.start()

    def review_payload(self) -> dict[str, Any]:
        if not self.pending:
            return {"review_pending": False}
        return {
            "review_pending": True,
            "changes": [
                {
                    "original_path": "/project",
                    "changes": [{"status": s, "path": p} for p, s in self.files],
                    "diff": self.diff,
                }
            ],
            "answer_content": "the full answer",
        }

    def posts(self) -> list[Any]:
        return [body for method, _, body in self.calls if method == "POST"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- processes -------------------------------------------------------------------------------------------


class LineReader:
    """A background process whose stdout lines arrive in a queue (reads never block the test)."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str], stderr: Path) -> None:
        self._err = open(stderr, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self._err,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def next_line(self, timeout: float = 10.0) -> str | None:
        line = self.lines.get(timeout=timeout)
        if line is not None:
            self.seen.append(line)
        return line

    def until(self, predicate: Callable[[str], bool], timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no matching line within {timeout} s; saw {self.seen[-20:]}")
            try:
                line = self.next_line(remaining)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"process ended first; saw {self.seen[-20:]}")
            if predicate(line):
                return line

    def rest(self, timeout: float = 10.0) -> list[str]:
        """Every remaining line until the process closes stdout."""
        out: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            line = self.next_line(max(0.01, deadline - time.monotonic()))
            if line is None:
                return out
            out.append(line)

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, 9)
        self.proc.wait(timeout=10)
        self._err.close()


def json_events(lines: Iterator[str] | list[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines if line.startswith("{")]

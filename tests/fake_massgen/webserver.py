"""The fake WebUI server (stdlib http.server) with the REST endpoints of massgen 0.1.97 that wrappers use."""

from __future__ import annotations

import difflib
import json
import re
import signal
import socketserver
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fake_massgen.cli import EXIT_CONFIG, EXIT_OK, EXIT_SERVER_STARTUP, Invocation, err, log_root, out
from fake_massgen.knobs import FileChange

if TYPE_CHECKING:
    from fake_massgen.engine import Run


def review_diff(cwd: Path, changes: Sequence[FileChange], new_content: Callable[[str], str]) -> str:
    """The review's diff as massgen's (`git diff` of the isolated worktree against its base): a real unified
    diff per file — a modified file shows its removed lines, a deleted one all of them."""
    return "\n".join(_file_diff(change, _old_text(cwd / change.path), new_content) for change in changes)


def _old_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    except OSError:
        return ""


def _file_diff(change: FileChange, old: str, new_content: Callable[[str], str]) -> str:
    path = change.path
    head = f"diff --git a/{path} b/{path}"
    if change.status == "D":
        head += f"\ndeleted file mode 100644\nindex 1111111..0000000\n--- a/{path}\n+++ /dev/null"
        new = ""
    elif change.status in ("A", "?") or not old:
        head += f"\nnew file mode 100644\nindex 0000000..2222222\n--- /dev/null\n+++ b/{path}"
        old, new = "", new_content(path)
    else:
        head += f"\nindex 1111111..2222222 100644\n--- a/{path}\n+++ b/{path}"
        new = new_content(path)
    hunks = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=3)
    body = [line for line in hunks if not line.startswith(("---", "+++"))]
    return "\n".join([head, *body])


class WebState:
    """What the server knows about the live automation session; shared by the run thread and handlers."""

    def __init__(
        self, *, session_id: str | None, question: str | None, config: str, models: list[str], run: Run | None
    ) -> None:
        self.session_id = session_id
        self.question = question
        self.config = config
        self.models = models
        self.run = run
        self.cond = threading.Condition()
        self.review_request: dict[str, Any] | None = None
        self.review_payload: dict[str, Any] | None = None
        self.decision: dict[str, Any] | None = None
        self.is_running = run is not None
        self.completed_at: float | None = None
        self.winner: str | None = None
        self.quickstart_result: tuple[str, str | None] | None = None  # ("complete"|"cancel", config_path)

    # review gate
    def begin_review(self, request: dict[str, Any], payload: dict[str, Any]) -> None:
        with self.cond:
            self.review_request, self.review_payload, self.decision = request, payload, None

    def end_review(self) -> None:
        with self.cond:
            self.review_request = self.review_payload = self.decision = None

    def wait_decision(self, timeout: float) -> dict[str, Any] | None:
        with self.cond:
            if self.decision is None:
                self.cond.wait(timeout)
            return self.decision

    def submit_decision(self, body: dict[str, Any]) -> None:
        """Ignored silently when no review is pending (the real server answers 200 anyway)."""
        with self.cond:
            if self.review_request is not None and self.decision is None:
                self.decision = body
                self.cond.notify_all()

    @property
    def review_pending(self) -> bool:
        with self.cond:
            return self.review_request is not None

    def mark_completed(self, winner: str | None) -> None:
        with self.cond:
            self.winner = winner

    def finish(self) -> None:
        with self.cond:
            self.is_running = False
            self.completed_at = time.time()

    def set_quickstart(self, result: tuple[str, str | None]) -> None:
        with self.cond:
            self.quickstart_result = result
            self.cond.notify_all()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: WebState, quickstart: bool = False) -> None:
        self.state = state
        self.quickstart = quickstart
        super().__init__(address, Handler)

    def server_bind(self) -> None:
        # Skip HTTPServer's getfqdn(): it can stall on a host without DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


SESSION_ROUTE = re.compile(r"^/api/sessions/([^/]+)(/[a-z_-]+)?$")


class Handler(BaseHTTPRequestHandler):
    server: Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet, like the real server's defaults
        return

    # ------------------------------------------------------------------ plumbing
    def _send(self, code: int, payload: Any, content_type: str = "application/json") -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _known(self, sid: str) -> bool:
        return self.server.state.session_id is not None and sid == self.server.state.session_id

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        state = self.server.state
        if path == "/api/health":
            return self._send(200, {"status": "ok", "service": "massgen-web"})
        if path == "/":
            return self._send(200, b"<html><body>MassGen (fake)</body></html>", "text/html; charset=utf-8")
        if path == "/api/active-session":
            if state.session_id and state.is_running:
                return self._send(200, {"session_id": state.session_id, "source": "automation"})
            return self._send(200, {"session_id": None})
        if path == "/api/sessions":
            return self._send(200, {"sessions": self._sessions()})
        match = SESSION_ROUTE.match(path)
        if match:
            sid, sub = match.group(1), match.group(2) or ""
            if sub == "/review":
                if self._known(sid) and state.review_payload is not None:
                    return self._send(200, state.review_payload)
                return self._send(200, {"review_pending": False})
            if sub == "":
                if not self._known(sid):
                    return self._send(404, {"error": f"Session {sid} not found"})
                return self._send(200, self._snapshot())
            if sub == "/status":
                if not self._known(sid):
                    return self._send(404, {"error": f"Session {sid} not found"})
                return self._send(200, self._status())
            if sub == "/final-answer":
                return self._final_answer(sid)
        if path in ("/api/quickstart/complete", "/api/quickstart/cancel") or (
            match and match.group(2) in ("/review-response", "/cancel")
        ):
            return self._send(405, {"detail": "Method Not Allowed"})
        return self._send(404, {"detail": "Not Found"})

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        state = self.server.state
        raw = self._body()
        if self.server.quickstart and path in ("/api/quickstart/complete", "/api/quickstart/cancel"):
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {}
            # Answer first, then let the server end: the reply must not race the shutdown.
            if path.endswith("complete"):
                cfg = body.get("config_path") if isinstance(body, dict) else None
                self._send(200, {"success": True, "status": "completed", "config_path": cfg})
                return state.set_quickstart(("complete", cfg))
            self._send(200, {"success": True, "status": "cancelled", "config_path": None})
            return state.set_quickstart(("cancel", None))
        if path in ("/api/quickstart/complete", "/api/quickstart/cancel"):  # a plain --web server
            return self._send(404, {"error": "Temporary quickstart session is not active"})
        match = SESSION_ROUTE.match(path)
        if match and match.group(2) == "/review-response":
            if not self._known(match.group(1)):
                return self._send(404, {"error": f"Session {match.group(1)} not found"})
            try:
                body = json.loads(raw)
                if not isinstance(body, dict):
                    raise ValueError("body must be a JSON object")
            except ValueError:
                return self._send(500, b"Internal Server Error", "text/plain; charset=utf-8")
            self._send(200, {"status": "ok"})
            return state.submit_decision(body)
        if match and match.group(2) == "/cancel":
            sid = match.group(1)
            if not self._known(sid):
                return self._send(404, {"error": f"Session {sid} not found"})
            if not state.is_running or state.run is None:
                return self._send(200, {"status": "already_completed", "session_id": sid})
            state.run.request_cancel("web")
            return self._send(200, {"status": "cancelled", "session_id": sid})
        if path in ("/api/health", "/api/sessions", "/api/active-session") or match:
            return self._send(405, {"detail": "Method Not Allowed"})
        return self._send(404, {"detail": "Not Found"})

    # ------------------------------------------------------------------ payloads
    def _sessions(self) -> list[dict[str, Any]]:
        state = self.server.state
        sessions: list[dict[str, Any]] = []
        if state.session_id:
            status = "disconnected" if state.is_running else "completed"
            sessions.append(
                {
                    "session_id": state.session_id,
                    "connections": 0,
                    "has_display": True,
                    "is_running": state.is_running,
                    "question": state.question,
                    "status": status,
                    "completed_at": state.completed_at,
                    "config": state.config,
                    "models": state.models,
                }
            )
        root = log_root()
        dirs = sorted(root.glob("log_*"), reverse=True) if root.is_dir() else []
        for d in dirs:
            sessions.append(
                {
                    "session_id": d.name,
                    "status": "completed",
                    "log_dir": str(d.resolve()),
                    "start_time": d.stat().st_mtime,
                }
            )
        return sessions[:50]

    def _attempt_dir(self) -> Path | None:
        run = self.server.state.run
        return run.attempt_dir() if run is not None else None

    def _status(self) -> dict[str, Any]:
        attempt = self._attempt_dir()
        assert attempt is not None
        status_file = attempt / "status.json"
        result: dict[str, Any] = {"status": None, "status_file": str(status_file.resolve())}
        result["log_dir_used"] = str(attempt.resolve())
        try:
            result["status"] = json.loads(status_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:
            result["error"] = str(exc)
        return result

    def _snapshot(self) -> dict[str, Any]:
        state = self.server.state
        run = state.run
        snap: dict[str, Any] = {
            "session_id": state.session_id,
            "question": state.question,
            "is_running": state.is_running,
            "status": "running" if state.is_running else "completed",
            "agents": list(run.agent_ids) if run else [],
            "winner": state.winner,
            "log_dir": str(self._attempt_dir()) if run else None,
            "review_pending": state.review_pending,
        }
        if state.review_request is not None:
            snap["review_request"] = state.review_request
        return snap

    def _final_answer(self, sid: str) -> None:
        run = self.server.state.run
        if self._known(sid) and run is not None:
            final = run.attempt_dir() / "final"
            for answer in sorted(final.glob("*/answer.txt")) if final.is_dir() else []:
                text = answer.read_text(encoding="utf-8")
                return self._send(
                    200, {"answer": text, "agent_id": answer.parent.name, "path": str(answer.resolve())}
                )
        return self._send(404, {"error": "No final answer available", "answer": None})


def start_server(host: str, port: int, state: WebState, quickstart: bool = False) -> Server:
    server = Server((host, port), state, quickstart=quickstart)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server


def _wait_forever_until_sigint() -> None:
    """Serve until SIGINT (exit 0) or SIGTERM (default action: death by signal)."""
    stop = threading.Event()
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.is_set():
        time.sleep(0.05)


def _bind_error(host: str, port: int, exc: OSError) -> str:
    """uvicorn's line (stderr) when the port cannot be bound."""
    reason = (exc.strerror or str(exc)).lower()
    where = f"('{host}', {port})"
    return f"ERROR:    [Errno {exc.errno}] error while attempting to bind on address {where}: {reason}"


def banner(host: str, port: int, label: str, start_line: str) -> None:
    """The lines the web UI prints before it binds its port (stdout, coloured as massgen's)."""
    out("\x1b[96m🌐 Starting MassGen Web UI...\x1b[0m")
    out(f"\x1b[92m   Server: http://{host}:{port}\x1b[0m")
    out(f"\x1b[92m   Config: {label}\x1b[0m")
    out(f"\x1b[92m   UI: http://{host}:{port}/?config={label}\x1b[0m")
    out(f"\x1b[93m   {start_line}\x1b[0m")
    out("\x1b[93m   Press Ctrl+C to stop\x1b[0m")
    out("")


def serve_idle(inv: Invocation) -> int:
    """--web without something to start (no --automation, no question, or no config): serve until killed."""
    args = inv.args
    host, port = args.web_host, args.web_port
    label = inv.config.label if inv.config is not None else ""
    banner(host, port, label, "Open the UI in a browser to start")
    state = WebState(session_id=None, question=args.question, config=label, models=[], run=None)
    try:
        server = start_server(host, port, state)
    except OSError as exc:
        err(_bind_error(host, port, exc))
        return EXIT_SERVER_STARTUP  # observed: 0.1.97 exits 3 here
    try:
        _wait_forever_until_sigint()
    except KeyboardInterrupt:
        pass  # SIGINT came before the handler was in place (the port already answers): the same clean stop
    finally:
        server.shutdown()
        server.server_close()
    return EXIT_OK


def run_web_quickstart(args: Any) -> int:
    """Temporary wizard server: ends on POST /api/quickstart/complete (exit 0), /cancel or SIGINT (exit 1).

    As in massgen, the address is printed before the server binds its port."""
    host, port = args.web_host, args.web_port
    out("\x1b[96m🌐 Starting MassGen Web Quickstart...\x1b[0m")
    out(f"\x1b[92m   Server: http://{host}:{port}/?temporary=1&wizard=open\x1b[0m")
    out("\x1b[93m   This temporary setup session will close automatically when complete\x1b[0m")
    out("")
    state = WebState(session_id=None, question=None, config="", models=[], run=None)
    try:
        server = start_server(host, port, state, quickstart=True)
    except OSError as exc:
        err(_bind_error(host, port, exc))
        return EXIT_SERVER_STARTUP
    stop = threading.Event()
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        while not stop.is_set():
            with state.cond:
                state.cond.wait(0.05)
                result = state.quickstart_result
            if result is not None:
                break
        else:
            result = ("cancel", None)
    finally:
        server.shutdown()
        server.server_close()
    if result[0] == "complete":
        if result[1]:  # completed without a path: massgen prints nothing and exits 0
            out(f"\x1b[92m✅ Configuration saved to: {result[1]}\x1b[0m")
            out(f'\x1b[96mRun with: massgen --config {result[1]} "Your question"\x1b[0m')
        return EXIT_OK
    out("\x1b[93m⚠️  Web quickstart cancelled\x1b[0m")
    return EXIT_CONFIG

"""Generated review-server replies (200/301/404/418/500/503, non-JSON, empty, slow beyond the timeout, closed
mid-body, not HTTP at all) from a stub on 127.0.0.1 for `review show|approve|reject --url http://127.0.0.1:P`.
Each ends as the documented code of the first thing that went wrong, one line, no traceback.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from robust_util import assert_clean, fuzz, invoke_bounded, make_log_dir

from massgen_skill.exitcodes import ExitCode
from massgen_skill.massgen import layout
from massgen_skill.review.gate import parse_review

E = ExitCode
SID = "auto-0123456789ab"
HTTP_TIMEOUT = 0.6  # --http-timeout of every call; "slow" replies take SLOW seconds
SLOW = 1.5
FAILURE_MODES = ("slow", "slow-body", "close-mid-body", "close-now", "not-http")


@dataclass
class Reply:
    mode: str = "reply"  # reply | slow | slow-body | close-mid-body | close-now | not-http
    status: int = 200
    body: bytes = b"{}"
    write_result: bool = True  # POST: write review_result.json as massgen does


class FuzzServer:
    """Plays massgen's review endpoints with a scripted reply per endpoint: active, review, respond."""

    def __init__(self, attempt: Path) -> None:
        self.attempt = attempt
        self.plan: dict[str, Reply] = {}
        self.calls: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _endpoint(self) -> str:
                if self.path == "/api/active-session":
                    return "active"
                return "respond" if self.path.endswith("/review-response") else "review"

            def _serve(self) -> None:
                name = self._endpoint()
                server.calls.append(name)
                reply = server.plan.get(name, Reply())
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if reply.mode == "close-now":
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if reply.mode == "not-http":
                    self.wfile.write(b"\x00\xffSSH-2.0-garbage\r\n\r\n")
                    return
                if reply.mode == "slow":
                    time.sleep(SLOW)
                if name == "respond" and reply.mode == "reply" and reply.status == 200 and reply.write_result:
                    sent = json.loads(body) if body else {}
                    result = {
                        "approved": bool(sent.get("approved")),
                        "approved_files": sent.get("approved_files"),
                        "action": sent.get("action"),
                        "resolved_by": "api",
                        "timestamp": time.time(),
                    }
                    (server.attempt / layout.REVIEW_RESULT).write_text(json.dumps(result))
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header(
                    "Content-Length", str(len(reply.body) + (10 if reply.mode == "close-mid-body" else 0))
                )
                self.end_headers()
                if reply.mode == "slow-body":
                    self.wfile.write(reply.body[:1])
                    self.wfile.flush()
                    time.sleep(SLOW)
                    self.wfile.write(reply.body[1:])
                    return
                self.wfile.write(reply.body)
                if reply.mode == "close-mid-body":
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)

            do_GET = _serve
            do_POST = _serve

            def handle(self) -> None:
                with contextlib.suppress(OSError):  # the client gave up, or we closed on purpose
                    super().handle()

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                return  # never print a server-side traceback into the stderr a test is reading

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def attempt(tmp_path: Path) -> Path:
    return make_log_dir(tmp_path / "proj") / "turn_1" / "attempt_1"


@pytest.fixture
def server(attempt: Path) -> Iterator[FuzzServer]:
    stub = FuzzServer(attempt)
    yield stub
    stub.close()


REVIEW_OK = {
    "review_pending": True,
    "changes": [
        {"original_path": "/p", "changes": [{"path": "a.py", "status": "M"}], "diff": "+x\n__END__\n\x1b[2J"}
    ],
    "answer_content": "answer",
}
GOOD = {"active": {"session_id": SID}, "review": REVIEW_OK, "respond": {"status": "ok"}}
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=8), kids, max_size=3),
    max_leaves=10,
)


@st.composite
def replies(draw: st.DrawFn, endpoint: str) -> Reply:
    mode = draw(st.sampled_from(["reply"] * 6 + list(FAILURE_MODES)))
    status = draw(st.sampled_from([200, 200, 200, 301, 404, 418, 500, 503]))
    body_kind = draw(
        st.sampled_from(["good", "good", "json", "odd-review", "not-json", "empty", "array", "big"])
    )
    body = {
        "good": lambda: json.dumps(GOOD[endpoint]).encode(),
        "json": lambda: json.dumps(draw(JSONISH)).encode(),
        "odd-review": lambda: json.dumps(  # pending, but every other field of any shape
            {
                "review_pending": True,
                "changes": draw(
                    JSONISH
                    | st.lists(
                        st.fixed_dictionaries(
                            {
                                "changes": JSONISH
                                | st.lists(st.dictionaries(st.sampled_from(["path", "status"]), JSONISH))
                            },
                            optional={"diff": JSONISH, "original_path": JSONISH},
                        ),
                        max_size=2,
                    )
                ),
                "answer_content": draw(JSONISH),
                "session_id": draw(JSONISH),
            }
        ).encode(),
        "not-json": lambda: draw(st.sampled_from([b"<html>oops</html>", b"\xff\xfe", b"{", b"NaN"])),
        "empty": lambda: b"",
        "array": lambda: b"[1, 2]",
        "big": lambda: json.dumps({**GOOD[endpoint], "pad": "x" * 2_000_000}).encode(),
    }[body_kind]()
    return Reply(mode, status, body, draw(st.booleans()) if endpoint == "respond" else True)


def expected(reply: Reply, endpoint: str, body: Any) -> set[int] | None:
    """The code this reply must produce, or None when it lets the command go on to the next step."""
    if reply.mode in ("slow", "close-mid-body", "close-now") or (
        reply.mode == "slow-body" and len(reply.body) > 1
    ):
        return {E.SERVER_UNREACHABLE}
    if reply.mode == "not-http":
        return {E.SERVER_UNREACHABLE, E.SERVER_ERROR}
    if reply.status != 200 or not isinstance(body, dict):
        return {E.SERVER_ERROR}
    if endpoint == "active" and not (isinstance(body.get("session_id"), str) and body["session_id"]):
        return {E.NO_REVIEW}
    if endpoint == "review" and body.get("review_pending") is not True:
        return {E.NO_REVIEW}
    if endpoint == "respond" and not reply.write_result:
        return {E.NO_REVIEW}  # the server said ok, but massgen wrote no review_result.json
    return None


def _body(reply: Reply) -> Any:
    try:
        return json.loads(reply.body.decode()) if reply.body else None
    except ValueError:
        return None


@fuzz(70)
@given(
    action=st.sampled_from(["show", "approve", "reject"]),
    with_request=st.booleans(),
    plan=st.fixed_dictionaries({name: replies(name) for name in ("active", "review", "respond")}),
    files=st.sampled_from([None, ["a.py"], ["./a.py"], ["nope.py"]]),
)
def test_review_against_any_server_reply(
    attempt: Path, server: FuzzServer, action: str, with_request: bool, plan: dict[str, Reply], files: Any
) -> None:
    (attempt / layout.REVIEW_RESULT).unlink(missing_ok=True)
    request = attempt / layout.REVIEW_REQUEST
    if with_request:
        request.write_text(
            json.dumps(
                {
                    "review_pending": True,
                    "files": [{"path": "a.py", "status": "M"}],
                    "api_url": f"http://localhost:8000/api/sessions/{SID}/review-response",
                }
            )
        )
    else:
        request.unlink(missing_ok=True)
    server.plan, server.calls = plan, []
    argv = ["review", action, str(attempt), "--url", server.url, "--http-timeout", str(HTTP_TIMEOUT)]
    if action != "show":
        argv += ["--confirm-timeout", "0.2"]
    if action == "approve" and files:
        argv += ["--files", *files]
    called = invoke_bounded(argv, seconds=30)
    event(f"exit code {called.code}")  # shown by --hypothesis-show-statistics

    # The oracle: walk the steps the command takes; the first that fails decides the code.
    steps = (["active"] if not with_request else []) + ["review"] + ([] if action == "show" else ["respond"])
    want: set[int] = {E.OK}
    for step in steps:
        outcome = expected(plan[step], step, _body(plan[step]))
        if step == "review" and outcome is None and action == "approve" and files:
            known = {f.path for f in parse_review(_body(plan[step]))[0]} | (
                {"a.py"} if with_request else set()
            )
            if any((f[2:] if f.startswith("./") else f) not in known for f in files):
                outcome = {E.REFUSED}  # a file not in the review is refused before anything is sent
        if outcome is not None:
            want = outcome
            break
    assert_clean(called, want, (argv, {k: (v.mode, v.status, v.body[:80]) for k, v in plan.items()}))
    assert server.calls == steps[: len(server.calls)]  # nothing after the first failure, nothing skipped
    if called.code == E.REFUSED:
        assert "respond" not in server.calls  # refused before anything was sent


@pytest.mark.parametrize("status", [200, 301, 404, 418, 500, 503])
@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'{"review_pending": false}'])
def test_each_status_code_and_body(attempt: Path, server: FuzzServer, status: int, body: bytes) -> None:
    (attempt / layout.REVIEW_REQUEST).unlink(missing_ok=True)
    server.plan = {
        "active": Reply(status=status, body=json.dumps({"session_id": SID}).encode()),
        "review": Reply(status=status, body=body),
    }
    called = invoke_bounded(["review", "show", str(attempt), "--url", server.url, "--json"])
    if status != 200:
        want = {E.SERVER_ERROR}
    else:
        want = {E.NO_REVIEW} if body == b'{"review_pending": false}' else {E.SERVER_ERROR}
    assert_clean(called, want, (status, body))
    assert json.loads(called.out)["exit_code"] == called.code


def test_nothing_listens(attempt: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for action in ("show", "approve", "reject"):
        called = invoke_bounded(["review", action, str(attempt), "--url", f"http://127.0.0.1:{port}"])
        assert_clean(called, {E.SERVER_UNREACHABLE}, action)

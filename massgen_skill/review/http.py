"""The loopback rule and the JSON client for massgen's review server (contract §5).

- Only loopback addresses are contacted (127.0.0.0/8, ::1, `localhost` → 127.0.0.1); a URL pointing elsewhere
  is refused unless the caller allows it explicitly.
- No proxies, no .netrc, no redirects (`trust_env=False`, `allow_redirects=False`).
- Every request has a TOTAL deadline: requests' own timeout is per socket read, so a server trickling one byte
  a second would hold a call for ever. The call runs in a worker thread; when the deadline passes, the
  connection is shut down (which wakes a blocked read) and the caller gets a one-line error at once.
- Every response body is bounded.

`requests` is imported where used (the one third-party import here), so `watch-review` never pays for it.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import re
import socket
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen.flags import WEB_HOST_DEFAULT
from massgen_skill.output import one_line

# massgen's REST endpoints (contract §5).
ACTIVE_SESSION = "/api/active-session"
SESSION_REVIEW = "/api/sessions/{sid}/review"
REVIEW_RESPONSE = "/api/sessions/{sid}/review-response"

HTTP_TIMEOUT = 10.0  # seconds: the whole request, connect to last byte
MAX_RESPONSE_BYTES = 32 * 1024 * 1024
_CHUNK = 65536


# --- loopback only -------------------------------------------------------------------------------------


def is_loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def shown_url(url: str) -> str:
    """A URL fit for an error message: never the user:password part."""
    return one_line(re.sub(r"//[^/@]*@", "//***@", url), 200)


def base_url(url: str, allow_remote: bool = False, source: str = "--url") -> str:
    """scheme://host:port of a review server URL; refuses anything that is not loopback (unless allowed)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise SkillError(f"{source}: not a valid URL: {shown_url(url)} ({exc})", ExitCode.USAGE) from None
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        raise SkillError(f"{source}: expected http://127.0.0.1:PORT, got {shown_url(url)}", ExitCode.USAGE)
    if parts.username is not None or parts.password is not None:
        raise SkillError(f"{source}: a URL with credentials is refused", ExitCode.REFUSED)
    if not is_loopback_host(host) and not allow_remote:
        raise SkillError(
            f"{source} points at {host}, which is not this machine; only loopback review servers are"
            " contacted (pass --allow-remote to override)",
            ExitCode.REFUSED,
        )
    if host.lower() == "localhost":
        host = WEB_HOST_DEFAULT  # never trust name resolution: massgen binds 127.0.0.1 by default
    shown = f"[{host}]" if ":" in host else host
    port = port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{shown}:{port}"


def port_of(base: str) -> int | None:
    return urlsplit(base).port


# --- one call, bounded in time and size ------------------------------------------------------------------


@dataclass
class _Reply:
    status: int = 0
    body: bytes = b""
    error: SkillError | None = None


class _Call:
    """One request in a worker thread; `cancel` shuts its socket down so a blocked read returns."""

    def __init__(self, client: ReviewClient, method: str, path: str, body: dict[str, Any] | None) -> None:
        self.client = client
        self.method = method
        self.path = path
        self.body = body
        self.reply = _Reply()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._cancelled = False

    @property
    def what(self) -> str:
        return f"{self.method} {self.path}"

    def remember(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            cancelled = self._cancelled
        if cancelled:
            self._shutdown(sock)

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            sockets = list(self._sockets)
        for sock in sockets:
            self._shutdown(sock)

    @staticmethod
    def _shutdown(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    def run(self) -> None:
        try:
            self.reply = self.client.exchange(self)
        except SkillError as exc:
            self.reply = _Reply(error=exc)
        except Exception as exc:  # the worker hands every failure to the caller: none may vanish
            self.reply = _Reply(
                error=SkillError(
                    f"review server {self.client.base}: {self.what} failed: {type(exc).__name__}",
                    ExitCode.SERVER_ERROR,
                )
            )


class ReviewClient:
    """JSON over HTTP to one review server, with every failure mapped to a one-line SkillError."""

    def __init__(self, base: str, timeout: float = HTTP_TIMEOUT) -> None:
        import requests

        self.base = base
        self.timeout = timeout
        self._requests = requests
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy variables, no .netrc credentials
        self._current: _Call | None = None
        adapter = _tracking_adapter(self)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def note_socket(self, sock: socket.socket) -> None:
        call = self._current
        if call is not None:
            call.remember(sock)

    def close(self) -> None:
        self.session.close()

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        call = _Call(self, method, path, body)
        self._current = call
        worker = threading.Thread(target=call.run, name="review-http", daemon=True)
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():
            call.cancel()
            worker.join(1.0)
            raise SkillError(
                f"review server {self.base} did not finish answering {call.what} within {self.timeout:g} s",
                ExitCode.SERVER_UNREACHABLE,
            )
        self._current = None
        if call.reply.error is not None:
            raise call.reply.error
        return _json_object(call.reply, call.what)

    def exchange(self, call: _Call) -> _Reply:
        """The request itself (in the worker thread): status and bounded body, or a mapped error."""
        requests = self._requests
        try:
            response = self.session.request(
                call.method,
                self.base + call.path,
                json=call.body,
                timeout=(self.timeout, self.timeout),
                allow_redirects=False,
                stream=True,
            )
        except requests.exceptions.Timeout:
            raise SkillError(
                f"review server {self.base} did not answer {call.what} within {self.timeout:g} s",
                ExitCode.SERVER_UNREACHABLE,
            ) from None
        except requests.exceptions.ConnectionError:
            raise SkillError(
                f"review server {self.base} is not reachable (connection refused); the run may have ended"
                " (its server stops with it) — check `massgen-skill status`",
                ExitCode.SERVER_UNREACHABLE,
            ) from None
        except requests.exceptions.RequestException as exc:
            raise SkillError(
                f"review server {self.base}: {call.what} failed: {type(exc).__name__}", ExitCode.SERVER_ERROR
            ) from None
        with response:
            return _Reply(response.status_code, self._read(response, call.what))

    def _read(self, response: Any, what: str) -> bytes:
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(_CHUNK):
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise SkillError(
                        f"review server's answer to {what} is larger than {MAX_RESPONSE_BYTES >> 20} MiB",
                        ExitCode.SERVER_ERROR,
                    )
                chunks.append(chunk)
        except self._requests.exceptions.RequestException as exc:
            raise SkillError(
                f"review server {self.base}: reading the answer to {what} failed: {type(exc).__name__}",
                ExitCode.SERVER_UNREACHABLE,
            ) from None
        return b"".join(chunks)

    def active_session(self) -> str | None:
        sid = self.call("GET", ACTIVE_SESSION).get("session_id")
        return sid if isinstance(sid, str) and sid else None

    def review(self, sid: str) -> dict[str, Any]:
        return self.call("GET", SESSION_REVIEW.format(sid=quote(sid, safe="")))

    def respond(self, sid: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("POST", REVIEW_RESPONSE.format(sid=quote(sid, safe="")), body)


def _tracking_adapter(client: ReviewClient) -> Any:
    """requests' adapter whose connections report their socket to `client` as they connect."""
    from requests.adapters import HTTPAdapter

    class TrackingAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            manager = self.poolmanager
            # A new dict: urllib3's default one is shared by every pool manager in the process.
            manager.pool_classes_by_scheme = {
                scheme: _tracking_pool(pool_cls, client)
                for scheme, pool_cls in manager.pool_classes_by_scheme.items()
            }

    return TrackingAdapter(max_retries=0)


def _tracking_pool(pool_cls: type, client: ReviewClient) -> type:
    base_conn: type = pool_cls.ConnectionCls

    def connect(conn: Any) -> None:
        base_conn.connect(conn)
        sock = getattr(conn, "sock", None)
        if isinstance(sock, socket.socket):
            client.note_socket(sock)

    tracking = type(f"Tracking{base_conn.__name__}", (base_conn,), {"connect": connect})
    return type(pool_cls.__name__, (pool_cls,), {"ConnectionCls": tracking})


def _json_object(reply: _Reply, what: str) -> dict[str, Any]:
    data: Any = None
    try:
        data = json.loads(reply.body.decode("utf-8")) if reply.body else None
    except (UnicodeDecodeError, ValueError):
        data = None
    if reply.status >= 300:
        detail = ""
        if isinstance(data, dict):
            detail = str(data.get("error") or data.get("detail") or "")
        raise SkillError(
            f"review server answered HTTP {reply.status} to {what}"
            + (f": {one_line(detail, 200)}" if detail else ""),
            ExitCode.SERVER_ERROR,
        )
    if not isinstance(data, dict):
        raise SkillError(
            f"review server answered {what} with something that is not a JSON object", ExitCode.SERVER_ERROR
        )
    return data

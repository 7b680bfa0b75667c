"""The review gate over HTTP (contract §5): find a run's review server and session, show, approve, reject.

Safety rules, all enforced here:
- only loopback addresses are ever contacted (127.0.0.0/8, ::1, `localhost` → 127.0.0.1); a URL that points
  elsewhere is refused unless the caller allows it explicitly;
- no proxies, no .netrc, no redirects (`trust_env=False`, `allow_redirects=False`), a timeout on every request
  and a bound on every response body;
- file names to approve are checked against the pending review BEFORE anything is sent (massgen answers ok
  and silently applies nothing for unknown names);
- the server answers `{"status": "ok"}` even when nothing is pending, so the outcome is confirmed from
  `review_result.json`, never from the HTTP answer.

`requests` is imported inside functions: `watch-review` uses the target look-up here without paying for it.
"""

from __future__ import annotations

import ipaddress
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen import layout
from massgen_skill.massgen.flags import WEB_HOST_DEFAULT
from massgen_skill.output import one_line
from massgen_skill.review import block
from massgen_skill.run import records

# massgen's REST endpoints (contract §5).
ACTIVE_SESSION = "/api/active-session"
SESSION_REVIEW = "/api/sessions/{sid}/review"
REVIEW_RESPONSE = "/api/sessions/{sid}/review-response"

HTTP_TIMEOUT = 10.0  # seconds, connect and read, per request
MAX_RESPONSE_BYTES = 32 * 1024 * 1024
CONFIRM_TIMEOUT = 15.0  # seconds to wait for review_result.json after sending a decision
DIFF_LINES = 200  # `review show` prints at most this many diff lines unless --full
MASSGEN_REVIEW_TIMEOUT = 600  # massgen rejects a review nobody decided after this many seconds


# --- which run -----------------------------------------------------------------------------------------


@dataclass
class ReviewTarget:
    """A run to watch or decide on: its session root (log_<ts>), its record when it has one, its port."""

    project: Path
    root: Path | None  # None while a just-started run has not printed LOG_DIR yet
    record: records.RunRecord | None = None
    port: int | None = None  # the real web UI port (massgen's own files always say 8000)

    @property
    def label(self) -> str:
        return self.record.run_id if self.record else str(self.root)

    def attempt(self) -> Path | None:
        return layout.newest_attempt(self.root) if self.root else None

    def reload(self) -> None:
        """Re-read the record (a starting run gets its LOG_DIR and port later)."""
        if self.record is None:
            return
        self.record = records.load(self.record.path)
        if self.record.log_dir:
            self.root = Path(self.record.log_dir)
        if self.record.web_port and self.port is None:
            self.port = self.record.web_port


def project_of(root: Path) -> Path | None:
    """The project of a log dir in massgen's default place, <project>/.massgen/massgen_logs/log_<ts>."""
    if (
        root.parent.name == layout.LOGS_SUBDIR.name
        and root.parent.parent.name == layout.LOGS_SUBDIR.parent.name
    ):
        return root.parent.parent.parent
    return None


def record_for_log_dir(root: Path, projects: list[Path]) -> records.RunRecord | None:
    """The newest record (in any of `projects`) whose log_dir is this session root."""
    found = [
        rec
        for project in dict.fromkeys(projects)
        for rec in records.list_records(project)
        if rec.log_dir and layout.same_path(rec.log_dir, root)
    ]
    return found[-1] if found else None


def looks_like_path(ref: str) -> bool:
    return "/" in ref or ref.startswith(".") or Path(ref).exists()


def resolve_target(ref: str | None, project: Path, port: int | None = None) -> ReviewTarget:
    """RUN (id, prefix, record path, 'latest'/None) or a LOG_DIR (session root, turn or attempt dir)."""
    if ref and not ref.endswith(".json") and looks_like_path(ref):
        path = Path(ref).expanduser()
        if not path.is_dir():
            raise SkillError(f"no such LOG_DIR: {ref}", ExitCode.NOT_FOUND)
        root = layout.session_root(path.resolve())
        if not root.name.startswith(layout.ROOT_PREFIX) and not layout.turns(root):
            raise SkillError(
                f"{ref} is not a massgen log dir (expected …/.massgen/massgen_logs/log_<ts>)",
                ExitCode.NOT_FOUND,
            )
        home = project_of(root)
        record = record_for_log_dir(root, [p for p in (home, project) if p is not None])
        target = ReviewTarget(home or project, root, record, port)
    else:
        record = records.resolve_run(ref, project)
        root = Path(record.log_dir) if record.log_dir else None
        target = ReviewTarget(Path(record.project_dir), root, record, port)
    if target.port is None and target.record is not None:
        target.port = target.record.web_port
    return target


# --- loopback only -------------------------------------------------------------------------------------


def _loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def _shown(url: str) -> str:
    """A URL fit for an error message: never the user:password part."""
    return one_line(re.sub(r"//[^/@]*@", "//***@", url), 200)


def base_url(url: str, allow_remote: bool = False, source: str = "--url") -> str:
    """scheme://host:port of a review server URL; refuses anything that is not loopback (unless allowed)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise SkillError(f"{source}: not a valid URL: {_shown(url)} ({exc})", ExitCode.USAGE) from None
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        raise SkillError(f"{source}: expected http://127.0.0.1:PORT, got {_shown(url)}", ExitCode.USAGE)
    if parts.username is not None or parts.password is not None:
        raise SkillError(f"{source}: a URL with credentials is refused", ExitCode.REFUSED)
    if not _loopback_host(host) and not allow_remote:
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


# --- HTTP ----------------------------------------------------------------------------------------------


class ReviewClient:
    """JSON over HTTP to one review server, with every failure mapped to a one-line SkillError."""

    def __init__(self, base: str, timeout: float = HTTP_TIMEOUT) -> None:
        import requests

        self.base = base
        self.timeout = timeout
        self._requests = requests
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy variables, no .netrc credentials

    def close(self) -> None:
        self.session.close()

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        requests = self._requests
        what = f"{method} {path}"
        try:
            response = self.session.request(
                method,
                self.base + path,
                json=body,
                timeout=(self.timeout, self.timeout),
                allow_redirects=False,
                stream=True,
            )
        except requests.exceptions.Timeout:
            raise SkillError(
                f"review server {self.base} did not answer {what} within {self.timeout:g} s",
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
                f"review server {self.base}: {what} failed: {type(exc).__name__}", ExitCode.SERVER_ERROR
            ) from None
        with response:
            raw = self._read(response, what)
        data: Any = None
        try:
            data = json.loads(raw.decode("utf-8")) if raw else None
        except (UnicodeDecodeError, ValueError):
            data = None
        if response.status_code >= 300:
            detail = ""
            if isinstance(data, dict):
                detail = str(data.get("error") or data.get("detail") or "")
            raise SkillError(
                f"review server answered HTTP {response.status_code} to {what}"
                + (f": {one_line(detail, 200)}" if detail else ""),
                ExitCode.SERVER_ERROR,
            )
        if not isinstance(data, dict):
            raise SkillError(
                f"review server answered {what} with something that is not a JSON object",
                ExitCode.SERVER_ERROR,
            )
        return data

    def _read(self, response: Any, what: str) -> bytes:
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(65536):
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
        return self.call("GET", SESSION_REVIEW.format(sid=_quote(sid)))

    def respond(self, sid: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("POST", REVIEW_RESPONSE.format(sid=_quote(sid)), body)


def _quote(sid: str) -> str:
    from urllib.parse import quote

    return quote(sid, safe="")


# --- the pending review --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingFile:
    path: str
    status: str
    context: str | None = None  # the writable context (repo) the change belongs to


@dataclass
class PendingReview:
    session_id: str
    base: str
    files: list[PendingFile]
    diff: str
    answer: str
    request: block.ReviewRequest | None
    attempt: Path | None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        parts = urlsplit(self.base)
        return block.review_urls(parts.port, self.session_id, parts.hostname or WEB_HOST_DEFAULT)[0]

    def names(self) -> list[str]:
        """Every name a file may be approved by: the server's paths and review_request.json's."""
        found = [f.path for f in self.files]
        if self.request:
            found += [f.path for f in self.request.files]
        return list(dict.fromkeys(found))


def parse_review(data: dict[str, Any]) -> tuple[list[PendingFile], str]:
    """GET …/review → (changed files, the whole diff text)."""
    files: list[PendingFile] = []
    diffs: list[str] = []
    contexts = data.get("changes")
    for context in contexts if isinstance(contexts, list) else []:  # a server may send anything
        if not isinstance(context, dict):
            continue
        repo = context.get("original_path")
        changes = context.get("changes")
        for change in changes if isinstance(changes, list) else []:
            if isinstance(change, dict) and isinstance(change.get("path"), str):
                files.append(
                    PendingFile(
                        change["path"],
                        str(change.get("status") or "?"),
                        repo if isinstance(repo, str) else None,
                    )
                )
        if isinstance(context.get("diff"), str) and context["diff"]:
            diffs.append(context["diff"])
    return files, "\n".join(diffs)


@dataclass
class Connection:
    target: ReviewTarget
    base: str
    client: ReviewClient
    request: block.ReviewRequest | None
    attempt: Path | None


def connect(
    target: ReviewTarget, url: str | None, allow_remote: bool, timeout: float = HTTP_TIMEOUT
) -> Connection:
    """Pick the server URL (--url, the record's port, else the one in review_request.json) — loopback only."""
    attempt = target.attempt()
    request = block.read_request(attempt) if attempt else None
    if not url and target.record is not None and target.record.state in (records.FINISHED, records.STOPPED):
        raise SkillError(
            f"run {target.label} has ended ({target.record.outcome or target.record.state}); no review can"
            " be pending (its server stopped with it)",
            ExitCode.NO_REVIEW,
        )
    if url:
        base = base_url(url, allow_remote, "--url")
    elif target.port:
        base = base_url(f"http://{WEB_HOST_DEFAULT}:{target.port}", allow_remote, "the run record")
    elif target.record is not None and not target.record.web:
        raise SkillError(
            f"run {target.label} is not a web run, so it has no review gate (only --web runs with"
            " --cwd-context rw wait for a review)",
            ExitCode.NO_REVIEW,
        )
    else:
        api = _api_url(request)
        if not api:
            raise SkillError(
                f"no review server known for {target.label}: no port in a run record and no"
                f" {layout.REVIEW_REQUEST}; pass --url http://127.0.0.1:PORT",
                ExitCode.NO_REVIEW,
            )
        base = base_url(api, allow_remote, layout.REVIEW_REQUEST)
    return Connection(target, base, ReviewClient(base, timeout), request, attempt)


def _api_url(request: block.ReviewRequest | None) -> str | None:
    if request is None:
        return None
    data, problem = _read_json(Path(request.path))
    api = data.get("api_url") if not problem and isinstance(data, dict) else None
    return api if isinstance(api, str) else None


def _read_json(path: Path) -> tuple[Any, str | None]:
    from massgen_skill.massgen.status import read_json

    return read_json(path)


def find_pending(conn: Connection, url: str | None = None) -> PendingReview:
    """The review the server holds now; NO_REVIEW when there is none."""
    sid = (block.session_from_url(url) if url else None) or (
        conn.request.session_id if conn.request else None
    )
    sid = sid or conn.client.active_session()
    if not sid:
        raise SkillError(
            f"no review is pending: the server at {conn.base} has no active session", ExitCode.NO_REVIEW
        )
    data = conn.client.review(sid)
    if data.get("review_pending") is not True:
        raise SkillError(f"no review is pending for session {sid}{_last_decision(conn)}", ExitCode.NO_REVIEW)
    files, diff = parse_review(data)
    if not files and conn.request:
        files = [PendingFile(f.path, f.status) for f in conn.request.files]
    answer = data.get("answer_content")
    return PendingReview(
        session_id=sid,
        base=conn.base,
        files=files,
        diff=diff,
        answer=answer if isinstance(answer, str) else (conn.request.answer_preview if conn.request else ""),
        request=conn.request,
        attempt=conn.attempt,
        raw=data,
    )


def _last_decision(conn: Connection) -> str:
    if conn.attempt is None:
        return " (already decided, timed out, or never opened)"
    result = block.read_result(conn.attempt, conn.request.mtime if conn.request else 0.0)
    if result is None:
        return " (already decided, timed out, or never opened)"
    return f" (the last one was decided: approved={str(result.get('approved') is True).lower()})"


# --- deciding ------------------------------------------------------------------------------------------


def decision_body(approve: bool, files: list[str] | None, feedback: str | None) -> dict[str, Any]:
    """Always an explicit boolean `approved` (massgen defaults it to false: an `action` alone rejects)."""
    body: dict[str, Any] = {"approved": approve, "action": "approve" if approve else "reject"}
    if approve and files is not None:
        body["approved_files"] = files
    if feedback:
        body["feedback"] = feedback
    return body


def check_files(pending: PendingReview, wanted: list[str]) -> list[str]:
    """The names as the review spells them; REFUSED (before anything is sent) for any that is not pending."""
    known = pending.names()
    chosen: list[str] = []
    unknown: list[str] = []
    for name in wanted:
        candidate = name[2:] if name.startswith("./") else name
        if candidate in known:
            chosen.append(candidate)
        else:
            unknown.append(name)
    if unknown:
        raise SkillError(
            f"not in the pending review: {', '.join(one_line(u, 200) for u in unknown)}; pending files:"
            f" {', '.join(known) or '(none)'} — nothing was sent",
            ExitCode.REFUSED,
        )
    if not chosen:
        raise SkillError("--files needs at least one file name", ExitCode.USAGE)
    return list(dict.fromkeys(chosen))


@dataclass(frozen=True)
class Landed:
    approved: bool
    approved_files: list[str] | None
    action: str | None
    resolved_by: str | None
    files: list[str]  # what massgen applies: the approved subset, or every file; [] when rejected
    path: str


def send_and_confirm(
    conn: Connection, pending: PendingReview, body: dict[str, Any], confirm_timeout: float = CONFIRM_TIMEOUT
) -> Landed:
    """POST the decision, then wait (bounded) for massgen's review_result.json that answers this request."""
    attempt = pending.attempt or conn.target.attempt()
    request = pending.request
    if attempt is not None and request is None:
        request = _wait_request(attempt, 2.0)
    sent_at = time.time()
    conn.client.respond(pending.session_id, body)
    if attempt is None:
        raise SkillError(
            f"decision sent to session {pending.session_id}, but no log dir is known to confirm it from"
            f" {layout.REVIEW_RESULT}",
            ExitCode.NO_REVIEW,
        )
    # A result file counts only when written after the request it answers (never a stale one).
    newer_than = request.mtime if request else sent_at - 0.5
    deadline = time.monotonic() + confirm_timeout
    result = block.read_result(attempt, newer_than)
    while result is None and time.monotonic() < deadline:
        time.sleep(0.05)
        result = block.read_result(attempt, newer_than)
    if result is None:
        raise SkillError(
            f"decision sent, but massgen wrote no {layout.REVIEW_RESULT} within {confirm_timeout:g} s: no"
            " review was waiting for it (already decided or timed out)",
            ExitCode.NO_REVIEW,
        )
    return _landed(result, attempt / layout.REVIEW_RESULT, pending)


def _wait_request(attempt: Path, seconds: float) -> block.ReviewRequest | None:
    deadline = time.monotonic() + seconds
    while True:
        request = block.read_request(attempt)
        if request is not None or time.monotonic() >= deadline:
            return request
        time.sleep(0.05)


def _landed(result: dict[str, Any], path: Path, pending: PendingReview) -> Landed:
    approved = result.get("approved") is True
    chosen = result.get("approved_files")
    chosen_list = [str(c) for c in chosen] if isinstance(chosen, list) else None
    all_files = [f.path for f in pending.files]
    if not approved:
        applied: list[str] = []
    elif chosen_list is None:
        applied = all_files
    else:
        applied = [c.split("::", 1)[1] if "::" in c else c for c in chosen_list]
    action = result.get("action")
    resolved_by = result.get("resolved_by")
    return Landed(
        approved=approved,
        approved_files=chosen_list,
        action=action if isinstance(action, str) else None,
        resolved_by=resolved_by if isinstance(resolved_by, str) else None,
        files=applied,
        path=str(path),
    )


def check_landed(landed: Landed, body: dict[str, Any]) -> None:
    """NO_REVIEW when what landed is not what was sent (massgen timed the review out, or someone else won)."""
    if landed.approved == body["approved"]:
        return
    if landed.resolved_by == "unknown":
        raise SkillError(
            f"the review had timed out before the decision arrived (massgen rejects after"
            f" {MASSGEN_REVIEW_TIMEOUT} s); nothing was applied",
            ExitCode.NO_REVIEW,
        )
    raise SkillError(
        f"another decision landed first: approved={str(landed.approved).lower()}"
        f" (resolved by {landed.resolved_by or 'unknown'})",
        ExitCode.NO_REVIEW,
    )

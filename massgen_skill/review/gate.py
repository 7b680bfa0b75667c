"""Decide and confirm a review (contract §5): what is pending, which files may be named, what landed.

- file names to approve are checked against the pending review BEFORE anything is sent (massgen answers ok
  and silently applies nothing for unknown names);
- the server answers `{"status": "ok"}` even when nothing is pending, so the outcome is confirmed from
  `review_result.json`, never from the HTTP answer;
- status.json keeps `review_pending: true` after the decision, so `review_state` asks the result file.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen import layout
from massgen_skill.massgen.flags import WEB_HOST_DEFAULT
from massgen_skill.output import one_line
from massgen_skill.review import block
from massgen_skill.review.http import HTTP_TIMEOUT, ReviewClient, base_url
from massgen_skill.review.target import ReviewTarget
from massgen_skill.run import records

CONFIRM_TIMEOUT = 15.0  # seconds to wait for review_result.json after sending a decision
MASSGEN_REVIEW_TIMEOUT = 600  # massgen rejects a review nobody decided after this many seconds
_POLL = 0.05


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
        api = request.api_url if request else None
        if not api:
            raise SkillError(
                f"no review server known for {target.label}: no port in a run record and no"
                f" {layout.REVIEW_REQUEST}; pass --url http://127.0.0.1:PORT",
                ExitCode.NO_REVIEW,
            )
        base = base_url(api, allow_remote, layout.REVIEW_REQUEST)
    return Connection(target, base, ReviewClient(base, timeout), request, attempt)


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
    state = review_state(conn.attempt)
    if state.decision is None:
        return " (already decided, timed out, or never opened)"
    return f" (the last one was decided: approved={str(state.decision.approved).lower()})"


# --- what the files say ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """massgen's review_result.json for the newest review of an attempt."""

    approved: bool
    approved_files: list[str] | None
    action: str | None
    resolved_by: str | None  # "api" | "webui" | "unknown" (massgen's 600 s timeout)
    timestamp: float | None
    path: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ReviewState:
    """Whether an attempt had a review, and its decision once massgen wrote one (None while undecided)."""

    opened: bool
    decision: Decision | None = None

    @property
    def pending(self) -> bool:
        return self.opened and self.decision is None

    @property
    def decided(self) -> bool:
        return self.decision is not None

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.word, "decision": self.decision.as_dict() if self.decision else None}

    @property
    def word(self) -> str:
        if not self.opened:
            return "none"
        if self.decision is None:
            return "pending"
        return "approved" if self.decision.approved else "rejected"


def decision_from(result: dict[str, Any], path: Path) -> Decision:
    chosen = result.get("approved_files")
    action, resolved_by, stamp = result.get("action"), result.get("resolved_by"), result.get("timestamp")
    return Decision(
        approved=result.get("approved") is True,
        approved_files=[str(c) for c in chosen] if isinstance(chosen, list) else None,
        action=action if isinstance(action, str) else None,
        resolved_by=resolved_by if isinstance(resolved_by, str) else None,
        timestamp=float(stamp) if isinstance(stamp, (int, float)) and not isinstance(stamp, bool) else None,
        path=str(path),
    )


def review_state(attempt: Path | None) -> ReviewState:
    """The truth about an attempt's review from massgen's files: a result newer than the request decides it,
    whatever status.json's `review_pending` still says."""
    request = block.read_request(attempt) if attempt else None
    if attempt is None or request is None:
        return ReviewState(opened=False)
    result = block.read_result(attempt, request.mtime)
    if result is None:
        return ReviewState(opened=True)
    return ReviewState(opened=True, decision=decision_from(result, attempt / layout.REVIEW_RESULT))


def review_state_of(log_dir: str | Path | None) -> ReviewState:
    """`review_state` of a run's newest attempt, from its LOG_DIR (session root, turn or attempt dir)."""
    if not log_dir:
        return ReviewState(opened=False)
    root = layout.session_root(Path(log_dir))
    return review_state(layout.newest_attempt(root))


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
    """The decision massgen recorded, and the files it applies because of it."""

    decision: Decision
    files: list[str]  # the approved subset, or every file; [] when rejected

    @property
    def approved(self) -> bool:
        return self.decision.approved

    def as_dict(self) -> dict[str, Any]:
        return {**self.decision.as_dict(), "files": self.files}


def send_and_confirm(
    conn: Connection,
    pending: PendingReview,
    body: dict[str, Any],
    confirm_timeout: float = CONFIRM_TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
) -> Landed:
    """POST the decision, then wait (bounded) for massgen's review_result.json that answers this request."""
    attempt = pending.attempt or conn.target.attempt()
    request = pending.request
    if attempt is not None and request is None:
        request = _wait_request(attempt, 2.0, sleep)
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
        sleep(_POLL)
        result = block.read_result(attempt, newer_than)
    if result is None:
        raise SkillError(
            f"decision sent, but massgen wrote no {layout.REVIEW_RESULT} within {confirm_timeout:g} s: no"
            " review was waiting for it (already decided or timed out)",
            ExitCode.NO_REVIEW,
        )
    return _landed(result, attempt / layout.REVIEW_RESULT, pending)


def _wait_request(
    attempt: Path, seconds: float, sleep: Callable[[float], None]
) -> block.ReviewRequest | None:
    deadline = time.monotonic() + seconds
    while True:
        request = block.read_request(attempt)
        if request is not None or time.monotonic() >= deadline:
            return request
        sleep(_POLL)


def _landed(result: dict[str, Any], path: Path, pending: PendingReview) -> Landed:
    decision = decision_from(result, path)
    if not decision.approved:
        applied: list[str] = []
    elif decision.approved_files is None:
        applied = [f.path for f in pending.files]
    else:
        applied = [c.split("::", 1)[1] if "::" in c else c for c in decision.approved_files]
    return Landed(decision, applied)


def check_landed(landed: Landed, body: dict[str, Any]) -> None:
    """NO_REVIEW when what landed is not what was sent (massgen timed the review out, or someone else won)."""
    if landed.approved == body["approved"]:
        return
    resolved_by = landed.decision.resolved_by
    if resolved_by == "unknown":
        raise SkillError(
            f"the review had timed out before the decision arrived (massgen rejects after"
            f" {MASSGEN_REVIEW_TIMEOUT} s); nothing was applied",
            ExitCode.NO_REVIEW,
        )
    raise SkillError(
        f"another decision landed first: approved={str(landed.approved).lower()}"
        f" (resolved by {resolved_by or 'unknown'})",
        ExitCode.NO_REVIEW,
    )

"""`massgen-skill review` against a stub review server on 127.0.0.1: bodies, refusals, failures."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from review_fixtures import (
    StubServer,
    make_run,
    request_data,
    save_record,
    session_root,
    write_json,
)
from runtools import free_port

from massgen_skill import cli
from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.review.gate import decision_body
from massgen_skill.review.http import base_url
from massgen_skill.run import records


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    project = tmp_path / "proj"
    attempt = make_run(project)
    write_json(attempt / "review_request.json", request_data())
    return attempt


@pytest.fixture
def stub(run_dir: Path) -> Iterator[StubServer]:
    server = StubServer(run_dir)
    yield server
    server.close()


def project_of(attempt: Path) -> Path:
    return session_root(attempt).parents[2]


def review(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["review", *args])
    out, err = capsys.readouterr()
    return code, out, err


def recorded(attempt: Path, port: int | None, **extra: object) -> records.RunRecord:
    return save_record(project_of(attempt), session_root(attempt), port, **extra)


# --- loopback only ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123"),
        ("http://127.9.8.7:5/api/sessions/x/review-response", "http://127.9.8.7:5"),
        ("http://localhost:8000/?v=2", "http://127.0.0.1:8000"),
        ("http://LOCALHOST:9", "http://127.0.0.1:9"),
        ("http://[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_loopback_urls_are_accepted(url: str, base: str) -> None:
    assert base_url(url) == base


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1:8000",
        "http://192.0.2.10:8000",
        "http://example.com:8000",
        "http://localhost.example.com:8000",
        "http://127.0.0.1.nip.io:8000",
        "http://[::2]:8000",
        "http://user:secret@127.0.0.1:8000",
    ],
)
def test_other_urls_are_refused(url: str) -> None:
    with pytest.raises(SkillError) as info:
        base_url(url)
    assert info.value.code == ExitCode.REFUSED


def test_allow_remote_lets_a_remote_url_through() -> None:
    assert base_url("http://192.0.2.10:8000", allow_remote=True) == "http://192.0.2.10:8000"


def test_non_loopback_url_option_is_refused_before_any_request(
    run_dir: Path, stub: StubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    recorded(run_dir, stub.port)
    code, out, err = review(
        capsys, "approve", "--project", str(project_of(run_dir)), "--url", "http://192.0.2.10:8000", "--json"
    )
    assert code == ExitCode.REFUSED
    assert json.loads(out)["kind"] == "refused"
    assert err.count("\n") == 1 and "not this machine" in err
    assert stub.calls == []


def test_non_loopback_url_from_review_request_is_refused(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A bare LOG_DIR with no record: the only URL is the file's, and it points elsewhere.
    write_json(run_dir / "review_request.json", request_data(host="192.0.2.10:8000"))
    code, _, err = review(capsys, "show", str(session_root(run_dir)))
    assert code == ExitCode.REFUSED
    assert "review_request.json points at 192.0.2.10" in err


# --- decisions -------------------------------------------------------------------------------------------


def test_decision_bodies_always_carry_an_explicit_boolean() -> None:
    assert decision_body(True, None, None) == {"approved": True, "action": "approve"}
    assert decision_body(True, ["a.py"], None) == {
        "approved": True,
        "action": "approve",
        "approved_files": ["a.py"],
    }
    assert decision_body(False, None, "no") == {"approved": False, "action": "reject", "feedback": "no"}


def test_approve_all(run_dir: Path, stub: StubServer, capsys: pytest.CaptureFixture[str]) -> None:
    recorded(run_dir, stub.port)
    code, out, _ = review(capsys, "approve", "--project", str(project_of(run_dir)), "--json")
    assert code == ExitCode.OK, out
    assert stub.posts() == [{"approved": True, "action": "approve"}]
    landed = json.loads(out)["landed"]
    assert landed["approved"] is True and landed["approved_files"] is None
    assert landed["files"] == ["a.py", "b.py"]


def test_approve_some_files_sends_only_those(
    run_dir: Path, stub: StubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    recorded(run_dir, stub.port)
    code, out, _ = review(capsys, "approve", "--project", str(project_of(run_dir)), "--files", "./b.py")
    assert code == ExitCode.OK, out
    assert stub.posts() == [{"approved": True, "action": "approve", "approved_files": ["b.py"]}]
    assert "DECISION: approve b.py" in out
    assert "RESULT: approved; applied to the project: b.py" in out


def test_unknown_file_names_are_refused_before_sending(
    run_dir: Path, stub: StubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    recorded(run_dir, stub.port)
    code, _, err = review(
        capsys, "approve", "--project", str(project_of(run_dir)), "--files", "a.py", "../etc/passwd"
    )
    assert code == ExitCode.REFUSED
    assert "../etc/passwd" in err and "nothing was sent" in err
    assert stub.posts() == []
    assert not (run_dir / "review_result.json").exists()


def test_reject_delivers_feedback(
    run_dir: Path, stub: StubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    recorded(run_dir, stub.port)
    feedback = "keep the old API\nand add tests"
    code, out, _ = review(capsys, "reject", "--project", str(project_of(run_dir)), "--feedback", feedback)
    assert code == ExitCode.OK, out
    assert stub.posts() == [{"approved": False, "action": "reject", "feedback": feedback}]
    assert "RESULT: rejected; nothing was applied" in out
    assert "FEEDBACK: sent" in out


def test_no_pending_review(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    server = StubServer(run_dir, pending=False)
    try:
        recorded(run_dir, server.port)
        code, _, err = review(capsys, "approve", "--project", str(project_of(run_dir)))
    finally:
        server.close()
    assert code == ExitCode.NO_REVIEW
    assert "no review is pending" in err
    assert server.posts() == []


def test_ok_answer_without_a_result_file_is_not_success(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The server says ok but nothing lands; a stale result (older than the request) must not count either.
    stale = os.stat(run_dir / "review_request.json").st_mtime_ns - 5_000_000_000
    write_json(run_dir / "review_result.json", {"approved": True, "approved_files": None}, mtime_ns=stale)
    server = StubServer(None)
    try:
        recorded(run_dir, server.port)
        code, _, err = review(
            capsys, "approve", "--project", str(project_of(run_dir)), "--confirm-timeout", "0.3"
        )
    finally:
        server.close()
    assert server.posts() == [{"approved": True, "action": "approve"}]
    assert code == ExitCode.NO_REVIEW
    assert "no review_result.json within 0.3 s" in err


def test_review_that_timed_out_is_reported(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    server = StubServer(None)
    try:
        recorded(run_dir, server.port)
        # massgen gave up waiting (600 s) just as the decision went out: its result says rejected, unknown.
        write_json(
            run_dir / "review_result.json",
            {"approved": False, "approved_files": None, "action": "approve", "resolved_by": "unknown"},
        )
        code, _, err = review(capsys, "approve", "--project", str(project_of(run_dir)))
    finally:
        server.close()
    assert code == ExitCode.NO_REVIEW
    assert "timed out" in err


# --- failures --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["500", "nonjson", "404", "redirect"])
def test_bad_server_answers(run_dir: Path, capsys: pytest.CaptureFixture[str], mode: str) -> None:
    server = StubServer(run_dir, mode=mode)
    try:
        recorded(run_dir, server.port)
        code, out, err = review(capsys, "show", "--project", str(project_of(run_dir)), "--json")
    finally:
        server.close()
    assert code == ExitCode.SERVER_ERROR
    assert json.loads(out)["kind"] == "server_error"
    assert err.count("\n") == 1 and "Traceback" not in err


def test_server_gone(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recorded(run_dir, free_port())  # nothing listens there
    code, _, err = review(capsys, "approve", "--project", str(project_of(run_dir)))
    assert code == ExitCode.SERVER_UNREACHABLE
    assert "not reachable" in err and err.count("\n") == 1


def test_finished_run_has_no_review(
    run_dir: Path, stub: StubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    recorded(run_dir, stub.port, state=records.FINISHED, outcome="ok")
    code, _, err = review(capsys, "approve", "--project", str(project_of(run_dir)))
    assert code == ExitCode.NO_REVIEW and "has ended" in err
    assert stub.calls == []


def test_cli_run_has_no_review_gate(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recorded(run_dir, None)
    code, _, err = review(capsys, "show", "--project", str(project_of(run_dir)))
    assert code == ExitCode.NO_REVIEW and "not a web run" in err


def test_bad_run_reference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = review(capsys, "show", str(tmp_path / "no" / "such" / "log_dir"))
    assert code == ExitCode.NOT_FOUND


def test_proxy_variables_are_ignored(
    run_dir: Path, stub: StubServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://192.0.2.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    recorded(run_dir, stub.port)
    code, _, _ = review(capsys, "show", "--project", str(project_of(run_dir)), "--http-timeout", "3")
    assert code == ExitCode.OK
    assert stub.calls


# --- show ------------------------------------------------------------------------------------------------


def test_show_reports_the_real_port_files_and_a_bounded_safe_diff(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = [f"+line {i}" for i in range(500)]
    diff = "\n".join(["diff --git a/a.py b/a.py", "+\x1b[31mred\x1b[0m", "__REVIEW_PENDING__", *body])
    server = StubServer(run_dir, diff=diff)
    try:
        recorded(run_dir, server.port)
        code, out, _ = review(capsys, "show", "--project", str(project_of(run_dir)))
        assert code == ExitCode.OK
        full_code, full, _ = review(capsys, "show", "--project", str(project_of(run_dir)), "--full", "--json")
    finally:
        server.close()
    assert server.port != 8000
    assert f"REVIEW_URL: http://127.0.0.1:{server.port}/?v=2" in out
    assert "8000" not in out
    assert "  M  a.py" in out and "  ?  b.py" in out
    assert "first 200 of 503 lines; --full shows all" in out
    assert "+line 196" in out and "+line 197" not in out
    assert "\x1b" not in out
    assert not any(line.startswith("__") for line in out.splitlines())
    data = json.loads(full)
    assert full_code == ExitCode.OK and data["diff_truncated"] is False and data["diff_lines"] == 503
    assert data["review_url"] == f"http://127.0.0.1:{server.port}/?v=2"
    assert "+line 499" in data["diff"]


def test_truncated_review_request_falls_back_to_the_active_session(
    run_dir: Path, stub: StubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    (run_dir / "review_request.json").write_text('{"review_pending": true, "api_url": "http://localh')
    recorded(run_dir, stub.port)
    code, out, _ = review(capsys, "show", "--project", str(project_of(run_dir)), "--json")
    assert code == ExitCode.OK
    assert json.loads(out)["session_id"] == stub.sid
    assert ("GET", "/api/active-session", None) in stub.calls


def test_bare_log_dir_with_url(run_dir: Path, stub: StubServer, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = review(capsys, "approve", str(run_dir), "--url", stub.url, "--files", "a.py", "--json")
    assert code == ExitCode.OK, out
    assert json.loads(out)["landed"]["files"] == ["a.py"]


def test_credentials_in_a_bad_url_are_never_echoed() -> None:
    with pytest.raises(SkillError) as info:
        base_url("http://user:sk-secret-key@127.0.0.1:notaport")
    assert info.value.code == ExitCode.USAGE
    assert "sk-secret-key" not in info.value.message

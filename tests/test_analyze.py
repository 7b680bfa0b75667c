"""`massgen-skill analyze` against the recorded real runs (copied to tmp first: the samples are read-only)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import types
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runtools import SAMPLES, copy_sample_logs

from massgen_skill import analysis, atomic
from massgen_skill.cli import main
from massgen_skill.commands import analyze as analyze_command
from massgen_skill.exitcodes import ExitCode, SkillError


def _copy(sample: str, dest: Path) -> Path:
    """Copy one recorded run's log tree into dest; returns the session root (log_<ts>)."""
    return copy_sample_logs(sample, dest)


def _attempt(root: Path, turn: int = 1, attempt: int = 1) -> Path:
    return root / f"turn_{turn}" / f"attempt_{attempt}"


def _codes(findings: list[analysis.Finding]) -> set[str]:
    return {f.code for f in findings}


@pytest.fixture
def multi(tmp_path: Path) -> Path:
    return _copy("multi", tmp_path)


# --- the recorded runs --------------------------------------------------------------------------------------


def test_multi_agents_votes_winner_and_tokens(multi: Path) -> None:
    status = json.loads((_attempt(multi) / "status.json").read_text())
    result = analysis.analyze_log_dir(multi)
    (turn,) = result.turns
    (attempt,) = turn.attempts
    assert [a.agent_id for a in attempt.agents] == ["agent_a", "agent_b", "agent_c"]
    assert [a.model for a in attempt.agents] == ["fake-a", "fake-b", "fake-c"]
    assert {a.backend for a in attempt.agents} == {"chatcompletion"}
    assert attempt.winner == "agent_a"
    assert attempt.vote_counts == {"agent_a": 3}
    assert [(v.voter, v.voted_for) for v in attempt.votes] == [
        ("agent_c", "agent_a"),
        ("agent_a", "agent_a"),
        ("agent_b", "agent_a"),
    ]
    assert all(v.reason == "Scripted vote from fake LLM." for v in attempt.votes)
    # Token figures are status.json's, per agent and in total.
    for report in attempt.agents:
        usage = status["agents"][report.agent_id]["token_usage"]
        assert (report.input_tokens, report.output_tokens) == (usage["input_tokens"], usage["output_tokens"])
    assert attempt.totals.input_tokens == status["costs"]["total_input_tokens"] == 90
    assert attempt.totals.output_tokens == status["costs"]["total_output_tokens"] == 45
    assert attempt.finish_reason == "completed"
    assert attempt.question == status["meta"]["question"]
    assert attempt.elapsed_s == pytest.approx(status["meta"]["elapsed_seconds"])
    assert all(f.ok for f in attempt.files), [f.line for f in attempt.files]
    assert not [f for f in turn.findings if f.severity == "error"]
    assert "cost_unknown" in _codes(turn.findings)  # 135 tokens at $0: fake models have no price
    assert turn.final_answer_path == str(multi / "turn_1" / "final" / "agent_a" / "answer.txt")
    kinds = [e.kind for e in attempt.timeline]
    assert kinds.count("answer") == 3 and kinds.count("vote") == 3 and "final answer" in kinds
    assert kinds.count("vote ignored") == 2
    assert {p.name for p in attempt.phases} >= {"answering", "voting", "final presentation", "total"}
    # Times are the recording machine's clock, as in events.jsonl.
    first_answer = next(e for e in attempt.timeline if e.kind == "answer")
    assert first_answer.clock == "22:51:58.222"


def test_multi_report_written_next_to_the_attempts(multi: Path) -> None:
    result = analysis.analyze_log_dir(multi)
    (path,) = analysis.write_reports(result)
    assert path == multi / "turn_1" / analysis.REPORT_NAME
    text = path.read_text()
    assert "winner **agent_a** (3 of 3 votes)" in text
    assert "| agent_a | chatcompletion/fake-a | voted | 1 | 3 | agent_a |" in text
    assert "| **total** | 90 | 45 |" in text
    for heading in ("## Findings", "## Agents", "## Votes", "## Tokens and estimated cost", "## Tool calls"):
        assert heading in text
    for heading in ("## Time per phase", "## Timeline", "## Final answer", "## Files read", "## SQL"):
        assert heading in text
    for table in analysis.SQLITE_TABLES:
        assert f"`{table}`" in text
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_all_agents_fail_no_winner_missing_status_and_the_error(tmp_path: Path) -> None:
    root = _copy("all-agents-fail", tmp_path)
    (turn,) = analysis.analyze_log_dir(root).turns
    attempt = turn.last
    assert attempt is not None
    assert attempt.winner is None
    states = {f.name: f for f in attempt.files}
    assert states["status.json"].line == "status.json: missing"
    assert states["events.jsonl"].ok
    codes = _codes(turn.findings)
    assert {"status_missing", "no_winner", "agent_error", "retries"} <= codes
    (agent,) = attempt.agents
    assert (agent.agent_id, agent.model, agent.status) == ("agent1", "fake-solo", "error")
    assert agent.error_message == "Agent failed to use workflow tools after 3 attempts"
    no_winner = next(f for f in turn.findings if f.code == "no_winner")
    assert "every agent failed" in no_winner.message
    assert "Unable to provide coordinated answer - no successful agents" in no_winner.message
    assert any("Unable to provide coordinated answer" in line for line in attempt.logged_errors)
    text = analysis.render_markdown(turn, analysis.analyze_log_dir(root))
    assert "**no winner**" in text
    assert "status.json: missing" in text
    assert "| status.json | missing |" in text


def test_web_review_attempt_dir_is_normalised_and_review_approved(tmp_path: Path) -> None:
    root = _copy("web-review", tmp_path)
    decision = json.loads((_attempt(root) / "review_result.json").read_text())
    assert decision["approved"] is True  # what the recording says; the finding must follow it
    result = analysis.analyze_log_dir(_attempt(root))  # web mode prints the attempt dir as LOG_DIR
    assert result.log_dir == str(root)
    (turn,) = result.turns
    attempt = turn.last
    assert attempt is not None and attempt.review is not None
    assert (attempt.review.outcome, attempt.review.resolved_by) == ("approved", decision["resolved_by"])
    assert attempt.review.files == ["hello_e2e.txt"]
    review = next(f for f in turn.findings if f.code == "review_approved")
    assert "hello_e2e.txt" in review.message
    (tool,) = attempt.tools
    assert (tool.name, tool.calls, tool.failures) == ("mcp__filesystem__write_file", 3, 0)
    assert attempt.totals.tool_calls == 3 and not attempt.tool_failures
    assert turn.final_answer_path == str(root / "turn_1" / "answer.txt")  # web layout: no turn-level final/
    assert any(p.name == "review / applying changes" for p in attempt.phases)
    (path,) = analysis.write_reports(result)
    assert path.parent == root / "turn_1"
    assert "## Review of file changes" in path.read_text()


def test_cwd_rw_headless_changes_applied_without_review(tmp_path: Path) -> None:
    root = _copy("cwd-rw-headless", tmp_path)
    (turn,) = analysis.analyze_log_dir(root).turns
    attempt = turn.last
    assert attempt is not None
    assert attempt.winner == "agent_a" and attempt.vote_counts == {"agent_a": 2}
    assert attempt.review is None
    assert attempt.applied_changes == ["hello_e2e.txt"]
    assert "applied_without_review" in _codes(turn.findings)


@pytest.mark.parametrize("sample", ["multi", "web-review", "cwd-rw-headless", "all-agents-fail"])
def test_every_recorded_run_through_the_cli(
    sample: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _copy(sample, tmp_path)
    assert main(["analyze", str(root)]) == 0
    out = capsys.readouterr().out
    report = root / "turn_1" / analysis.REPORT_NAME
    assert f"REPORT: {report}" in out
    assert report.read_text().startswith(f"# MassGen run analysis: {root.name}, turn 1")


# --- locating the log folders -------------------------------------------------------------------------------


def test_root_turn_attempt_and_file_all_normalise_to_the_same_turn(multi: Path) -> None:
    for given_path in (multi, multi / "turn_1", _attempt(multi), _attempt(multi) / "status.json"):
        target = analysis.locate(given_path)
        assert target.session_root == multi.resolve()
        assert target.turns == [(1, (multi / "turn_1").resolve())]


def test_locate_errors(multi: Path, tmp_path: Path) -> None:
    with pytest.raises(SkillError) as wrong_turn:
        analysis.locate(multi / "turn_1", turn=2)
    assert wrong_turn.value.code == ExitCode.USAGE
    with pytest.raises(SkillError) as no_turn:
        analysis.locate(multi, turn=5)
    assert no_turn.value.code == ExitCode.NOT_FOUND
    assert "turns: 1" in no_turn.value.message
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SkillError) as not_logs:
        analysis.locate(empty)
    assert not_logs.value.code == ExitCode.INVALID_INPUT
    with pytest.raises(SkillError) as missing:
        analysis.locate(tmp_path / "nope")
    assert missing.value.code == ExitCode.NOT_FOUND


def test_multi_turn_multi_attempt_tree(multi: Path) -> None:
    shutil.copytree(_attempt(multi), _attempt(multi, 1, 2))  # an orchestration restart in turn 1
    shutil.copytree(multi / "turn_1", multi / "turn_2")  # and a second turn (with both attempts)
    shutil.rmtree(_attempt(multi, 2, 1))  # turn 2: only attempt_2 left
    result = analysis.analyze_log_dir(multi)
    assert [t.turn for t in result.turns] == [1, 2]
    first, second = result.turns
    assert [a.attempt for a in first.attempts] == [1, 2]
    assert [a.attempt for a in second.attempts] == [2]
    assert "orchestration_restarts" in _codes(first.findings)
    assert "orchestration_restarts" not in _codes(second.findings)
    paths = analysis.write_reports(result)
    assert paths == [multi / "turn_1" / analysis.REPORT_NAME, multi / "turn_2" / analysis.REPORT_NAME]
    text = paths[0].read_text()
    assert "## Attempt 1" in text and "## Attempt 2" in text and "### Votes" in text
    assert "attempt 2: " in text  # findings say which attempt they come from
    only_second = analysis.analyze_log_dir(multi, turn=2)
    assert [t.turn for t in only_second.turns] == [2]
    assert only_second.turns[0].last is not None and only_second.turns[0].last.winner == "agent_a"


def test_cli_turn_flag_and_attempt_path(multi: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(multi / "turn_1", multi / "turn_2")
    assert main(["analyze", str(multi), "--turn", "2"]) == 0
    assert (multi / "turn_2" / analysis.REPORT_NAME).is_file()
    assert not (multi / "turn_1" / analysis.REPORT_NAME).exists()
    capsys.readouterr()
    assert main(["analyze", str(_attempt(multi)), "--turn", "2"]) == ExitCode.USAGE
    assert "does not match" in capsys.readouterr().err


# --- damaged and missing files ------------------------------------------------------------------------------


def test_damaged_events_line_and_status_are_reported_not_fatal(multi: Path) -> None:
    events = _attempt(multi) / "events.jsonl"
    lines = events.read_text().splitlines()
    lines[11] = '{"timestamp": "2026-11-25T22:51:58.25'  # line 12 cut mid-write
    events.write_text("\n".join(lines) + "\n")
    status = _attempt(multi) / "status.json"
    status.write_text(status.read_text()[:500])
    (turn,) = analysis.analyze_log_dir(multi).turns
    attempt = turn.last
    assert attempt is not None
    states = {f.name: f for f in attempt.files}
    assert states["events.jsonl"].line.startswith("events.jsonl: line 12 is not JSON")
    assert states["status.json"].line.startswith("status.json: not valid JSON")
    assert {f.message for f in turn.findings if f.code == "file_damaged"} >= {
        states["events.jsonl"].line,
        states["status.json"].line,
    }
    # The other files still tell the story.
    assert attempt.winner == "agent_a"
    assert attempt.vote_counts == {"agent_a": 3}
    assert attempt.totals.input_tokens == 90  # from metrics_summary.json
    text = analysis.render_markdown(turn, analysis.Analysis(str(multi), [turn]))
    assert "events.jsonl: line 12 is not JSON" in text


def test_wrong_types_inside_files_do_not_crash(multi: Path) -> None:
    (_attempt(multi) / "status.json").write_text(
        json.dumps({"agents": {"agent_a": {"token_usage": "lots", "error": 3}}, "costs": [], "results": "x"})
    )
    (_attempt(multi) / "coordination_events.json").write_text("[1, 2, 3]")
    (_attempt(multi) / "execution_metadata.yaml").write_text("query: [unclosed\n")
    (_attempt(multi) / "metrics_summary.json").write_text("")
    (turn,) = analysis.analyze_log_dir(multi).turns
    attempt = turn.last
    assert attempt is not None
    states = {f.name: f.state for f in attempt.files}
    assert states["coordination_events.json"] == "damaged"
    assert states["execution_metadata.yaml"] == "damaged"
    assert states["metrics_summary.json"] == "damaged"
    assert attempt.winner == "agent_a"  # events.jsonl final_presentation_start
    analysis.render_markdown(turn, analysis.Analysis(str(multi), [turn]))


def test_attempt_with_only_metadata(tmp_path: Path) -> None:
    attempt = tmp_path / "log_20990101_000000_000000" / "turn_1" / "attempt_1"
    attempt.mkdir(parents=True)
    (attempt / "execution_metadata.yaml").write_text(
        "query: hi\ncli_args:\n  failure_stage: config\n  failure_error: bad key\n"
    )
    (turn,) = analysis.analyze_log_dir(attempt).turns
    assert turn.last is not None and turn.last.question == "hi"
    assert {"status_missing", "failed_before_start", "no_winner"} <= _codes(turn.findings)
    assert "bad key" in next(f.message for f in turn.findings if f.code == "failed_before_start")


def test_turn_without_attempts(tmp_path: Path) -> None:
    turn_dir = tmp_path / "log_x" / "turn_1"
    turn_dir.mkdir(parents=True)
    (turn,) = analysis.analyze_log_dir(turn_dir).turns
    assert turn.attempts == [] and "no_attempts" in _codes(turn.findings)
    assert "nothing to analyse" in analysis.render_markdown(turn, analysis.Analysis(str(tmp_path), [turn]))


_JUNK = st.one_of(
    st.binary(max_size=200),
    st.just(b"{}"),
    st.just(b"[]"),
    st.just(b"null"),
    st.just(b'{"agents": {"a": null}, "results": {"votes": {"x": "y"}}}'),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(["status.json", "events.jsonl", "coordination_events.json", "metrics_events.json"]),
    cut=st.floats(min_value=0, max_value=1),
    junk=_JUNK,
)
def test_any_truncation_or_junk_never_crashes(multi: Path, name: str, cut: float, junk: bytes) -> None:
    path = _attempt(multi) / name
    original = (SAMPLES / "multi" / "project" / ".massgen" / "massgen_logs").glob(
        f"log_*/turn_1/attempt_1/{name}"
    )
    data = next(original).read_bytes()
    path.write_bytes(data[: int(len(data) * cut)] + junk)
    result = analysis.analyze_log_dir(multi)
    (turn,) = result.turns
    analysis.render_markdown(turn, result)
    json.dumps(analysis.to_dict(result), default=str)


# --- outputs: JSON, stdout, SQLite, writing -----------------------------------------------------------------


def test_cli_json_is_the_same_analysis(multi: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(multi), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["log_dir"] == str(multi)
    (turn,) = data["turns"]
    assert turn["report_path"] == str(multi / "turn_1" / analysis.REPORT_NAME)
    (attempt,) = turn["attempts"]
    assert attempt["winner"] == "agent_a" and attempt["vote_counts"] == {"agent_a": 3}
    assert [a["input_tokens"] for a in attempt["agents"]] == [40, 30, 20]
    assert attempt["totals"]["input_tokens"] == 90
    assert "raw_events" not in attempt and "markdown" not in turn
    assert data["sqlite"] is None


def test_cli_stdout_prints_and_writes_nothing(multi: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(multi), "--stdout"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"# MassGen run analysis: {multi.name}, turn 1")
    assert not (multi / "turn_1" / analysis.REPORT_NAME).exists()


def test_sqlite_export(multi: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db_path = tmp_path / "run.sqlite"
    db_path.write_text("an old file that gets replaced")
    assert main(["analyze", str(multi), "--sqlite", str(db_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["sqlite"] == str(db_path) and data["sqlite_tables"] == list(analysis.SQLITE_TABLES)
    db = sqlite3.connect(db_path)
    try:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert tables == set(analysis.SQLITE_TABLES)
        assert db.execute("SELECT SUM(input_tokens), SUM(output_tokens) FROM agents").fetchone() == (90, 45)
        assert db.execute("SELECT agent_id FROM agents WHERE is_winner = 1").fetchall() == [("agent_a",)]
        assert db.execute("SELECT COUNT(*) FROM votes WHERE voted_for = 'agent_a'").fetchone() == (3,)
        events_lines = len((_attempt(multi) / "events.jsonl").read_text().splitlines())
        coordination = json.loads((_attempt(multi) / "coordination_events.json").read_text())["events"]
        counts = dict(db.execute("SELECT source, COUNT(*) FROM events GROUP BY source").fetchall())
        assert counts == {"events.jsonl": events_lines, "coordination_events.json": len(coordination)}
        votes_in_events = db.execute(
            "SELECT COUNT(*) FROM events "
            "WHERE event_type = 'vote' AND json_extract(data, '$.target_id') = 'agent_a'"
        ).fetchone()
        assert votes_in_events == (3,)
        assert db.execute("SELECT COUNT(*) FROM rounds").fetchone() == (7,)  # status.json rounds.total_rounds
        assert db.execute("SELECT winner, finish_reason FROM attempts").fetchall() == [
            ("agent_a", "completed")
        ]
    finally:
        db.close()
    text = (multi / "turn_1" / analysis.REPORT_NAME).read_text()
    assert f"Exported to `{db_path}`" in text


def test_report_replaces_an_existing_one_atomically(multi: Path) -> None:
    report = multi / "turn_1" / analysis.REPORT_NAME
    report.write_text("stale")
    analysis.write_reports(analysis.analyze_log_dir(multi))
    assert report.read_text().startswith("# MassGen run analysis")
    assert sorted(p.name for p in report.parent.iterdir() if p.name.startswith(".")) == []


def test_unwritable_report_location_is_one_line(multi: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (multi / "turn_1" / analysis.REPORT_NAME).mkdir()  # fails for root too: os.replace onto a directory
    assert main(["analyze", str(multi)]) == ExitCode.INVALID_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write" in err and "--stdout" in err
    assert not [p for p in (multi / "turn_1").iterdir() if p.name.endswith(".tmp")]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes to read-only folders")
def test_read_only_turn_folder(multi: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.chmod(multi / "turn_1", 0o555)
    try:
        assert main(["analyze", str(multi)]) == ExitCode.INVALID_INPUT
        assert "cannot write" in capsys.readouterr().err
    finally:
        os.chmod(multi / "turn_1", 0o755)


def test_unwritable_sqlite_target(multi: Path, tmp_path: Path) -> None:
    with pytest.raises(SkillError) as missing_dir:
        analysis.export_sqlite(analysis.analyze_log_dir(multi), tmp_path / "no" / "such" / "x.sqlite")
    assert missing_dir.value.code == ExitCode.INVALID_INPUT


# --- run ids through the run records ------------------------------------------------------------------------


def _fake_records(
    monkeypatch: pytest.MonkeyPatch, log_dir: str | None, seen: list[tuple[str | None, Path]]
) -> None:
    def resolve_run(ref: str | None, project_dir: Path) -> object:
        seen.append((ref, project_dir))
        return types.SimpleNamespace(log_dir=log_dir, run_id=ref or "run-latest")

    monkeypatch.setattr(analyze_command, "resolve_run", resolve_run)


def test_run_id_and_latest_resolve_through_records(
    multi: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[tuple[str | None, Path]] = []
    _fake_records(monkeypatch, str(multi), seen)
    assert main(["analyze", "--json", "--project", str(tmp_path)]) == 0
    assert main(["analyze", "run-1234", "--json", "--project", str(tmp_path)]) == 0
    assert seen == [(None, tmp_path), ("run-1234", tmp_path)]
    outputs = capsys.readouterr().out
    assert outputs.count('"winner": "agent_a"') == 2


def test_run_without_log_dir_or_records_is_not_found(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_records(monkeypatch, None, [])
    assert main(["analyze", "run-1"]) == ExitCode.NOT_FOUND
    assert "no log folder" in capsys.readouterr().err


def test_permission_denied_is_reported_with_the_reason(multi: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(atomic.os, "open", refuse)
    with pytest.raises(SkillError) as denied:
        analysis.write_reports(analysis.analyze_log_dir(multi))
    assert denied.value.code == ExitCode.INVALID_INPUT
    assert denied.value.message.startswith(
        f"cannot write {multi / 'turn_1' / analysis.REPORT_NAME}: Permission denied"
    )


# --- findings from what a run recorded ----------------------------------------------------------------------


def test_timeouts_and_agent_errors_from_status_and_events(multi: Path) -> None:
    status_path = _attempt(multi) / "status.json"
    status = json.loads(status_path.read_text())
    status["finish_reason"] = "timeout"
    status["finish_reason_details"] = "Time limit exceeded (301.0s/300s)"
    status["agents"]["agent_b"]["status"] = "timeout"
    status["agents"]["agent_b"]["error"] = {
        "type": "timeout",
        "message": "no reply in 300 s",
        "timestamp": 1.0,
    }
    status_path.write_text(json.dumps(status))
    events = _attempt(multi) / "events.jsonl"
    extra = [
        {
            "timestamp": "2026-11-25T22:51:59.100000",
            "event_type": "error",
            "agent_id": "agent_c",
            "data": {"error": "rate limited"},
        },
        {
            "timestamp": "2026-11-25T22:51:59.200000",
            "event_type": "orchestrator_timeout",
            "agent_id": None,
            "data": {"timeout_reason": "Time limit exceeded (301.0s/300s)", "selected_agent": "agent_a"},
        },
    ]
    events.write_text(events.read_text() + "".join(json.dumps(e) + "\n" for e in extra))
    (turn,) = analysis.analyze_log_dir(multi).turns
    messages = {f.code: f.message for f in turn.findings}
    assert messages["run_timeout"] == "the run hit its time limit (Time limit exceeded (301.0s/300s))"
    assert messages["agent_timeout"] == "agent_b timed out: no reply in 300 s"
    assert messages["agent_error"] == "agent_c failed: rate limited"
    attempt = turn.last
    assert attempt is not None
    kinds = {(e.agent, e.kind) for e in attempt.timeline}
    assert {("agent_c", "error"), (None, "timeout")} <= kinds


@pytest.mark.parametrize(
    ("decision", "outcome", "code"),
    [
        (
            {"approved": False, "approved_files": None, "action": "approve", "resolved_by": "unknown"},
            "timed out",
            "review_timed_out",
        ),
        (
            {"approved": False, "approved_files": None, "action": "reject", "resolved_by": "api"},
            "rejected",
            "review_rejected",
        ),
        (
            {"approved": True, "approved_files": [], "action": "approve", "resolved_by": "api"},
            "partly approved",
            "review_partly_approved",
        ),
        (None, "pending", "review_pending"),
    ],
)
def test_review_outcomes(tmp_path: Path, decision: dict[str, object] | None, outcome: str, code: str) -> None:
    root = _copy("web-review", tmp_path)
    result_file = _attempt(root) / "review_result.json"
    if decision is None:
        result_file.unlink()
    else:
        result_file.write_text(json.dumps({**decision, "timestamp": 1795647138.88}))
    (turn,) = analysis.analyze_log_dir(root).turns
    assert turn.last is not None and turn.last.review is not None
    assert turn.last.review.outcome == outcome
    assert code in _codes(turn.findings)
    assert "review_approved" not in _codes(turn.findings)

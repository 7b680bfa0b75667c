"""layout, results and status against copies of the recorded real runs, and against damaged files."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from runtools import SAMPLES

from massgen_skill.follow import results
from massgen_skill.massgen import layout, status
from massgen_skill.massgen.status import AgentProgress, Progress, progress_for, read_json, summarise


def copy_sample(sample: str, dest: Path) -> Path:
    """Copy one recorded run's log tree into dest (writable); returns its session root (log_<ts>)."""
    src = SAMPLES / sample / "project" / ".massgen" / "massgen_logs"
    target = dest / sample / ".massgen" / "massgen_logs"
    shutil.copytree(src, target, symlinks=True)
    for folder, _dirs, files in os.walk(target):
        os.chmod(folder, 0o755)
        for name in files:
            path = Path(folder) / name
            if not path.is_symlink():
                os.chmod(path, 0o644)
    (root,) = sorted(target.glob("log_*"))
    return root


def attempt(root: Path, turn: int = 1, number: int = 1) -> Path:
    return root / f"turn_{turn}" / f"attempt_{number}"


def write_status(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


# --- layout -------------------------------------------------------------------------------------------


def make_tree(tmp_path: Path) -> Path:
    root = tmp_path / "proj" / ".massgen" / "massgen_logs" / "log_20250101_120000_000001"
    for sub in ("turn_1/attempt_1/final/agent_a", "turn_1/attempt_2", "turn_2/attempt_1"):
        (root / sub).mkdir(parents=True)
    (root / "turn_1/attempt_1/final/agent_a/answer.txt").write_text("a")
    return root


@pytest.mark.parametrize(
    "relative",
    [
        "",
        "turn_1",
        "turn_1/attempt_1",
        "turn_1/attempt_2",
        "turn_2/attempt_1",
        "turn_1/attempt_1/final/agent_a/answer.txt",
        "turn_1/attempt_1/status.json",  # need not exist
        "turn_1/attempt_1/final/agent_a/workspace/.worktree/ctx_1/snapshots/log_2/.versions/v1/x.txt",
    ],
)
def test_session_root(tmp_path: Path, relative: str) -> None:
    root = make_tree(tmp_path)
    assert layout.session_root(root / relative if relative else root) == root


def test_session_root_of_a_relative_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_tree(tmp_path)
    monkeypatch.chdir(tmp_path / "proj")
    rel = Path(".massgen/massgen_logs") / root.name / "turn_1" / "attempt_1"  # web mode prints this
    assert layout.session_root(rel) == root.resolve()


def test_session_root_ignores_turn_folders_above_the_project(tmp_path: Path) -> None:
    """A project living under a folder named turn_<N> must not make that folder's parent the root."""
    root = tmp_path / "turn_3" / "project" / ".massgen" / "massgen_logs" / "log_20250101_120000_000001"
    (root / "turn_1" / "attempt_1").mkdir(parents=True)
    for path in (root, root / "turn_1", root / "turn_1" / "attempt_1", root / "turn_1/attempt_1/status.json"):
        assert layout.session_root(path) == root


def test_session_root_without_log_prefix_keeps_the_old_rule(tmp_path: Path) -> None:
    root = tmp_path / "custom_root"
    assert layout.session_root(root / "turn_4" / "attempt_2" / "x.json") == root
    assert layout.session_root(root) == root  # nothing to climb to: the path itself


def test_turns_and_attempts_sort_numerically(tmp_path: Path) -> None:
    root = tmp_path / "log_1"
    for sub in ("turn_2", "turn_10", "turn_1/attempt_2", "turn_1/attempt_10", "turn_1/attempt_1", "turn_x"):
        (root / sub).mkdir(parents=True)
    (root / "turn_3").write_text("a file, not a turn")
    assert [n for n, _ in layout.turns(root)] == [1, 2, 10]
    assert [n for n, _ in layout.attempts(root / "turn_1")] == [1, 2, 10]
    assert layout.newest_turn(root) == root / "turn_10"
    assert layout.newest_attempt(root) is None  # turn_10 has no attempts
    assert layout.turns(tmp_path / "missing") == []


def test_inside() -> None:
    assert layout.inside(Path("/a/b/c"), Path("/a/b"))
    assert layout.inside(Path("/a/b"), Path("/a/b"))
    assert not layout.inside(Path("/a/bc"), Path("/a/b"))
    assert not layout.inside(Path("/a/b/../../etc/passwd"), Path("/a/b"))


def test_newest_attempt_after_a_restart(tmp_path: Path) -> None:
    root = copy_sample("multi", tmp_path)
    first = attempt(root, 1, 1)
    assert layout.newest_attempt(root) == first
    assert layout.newest_status_file(root) == first / "status.json"
    second = attempt(root, 1, 2)
    second.mkdir()
    assert layout.newest_attempt(root) == second
    # attempt_2 has no status.json yet: the newest one that has it
    assert layout.newest_status_file(root) == first / "status.json"
    data = json.loads((first / "status.json").read_text())
    data["coordination"]["phase"] = "initial_answer"
    data["results"]["winner"] = None
    write_status(second / "status.json", data)
    assert layout.newest_status_file(root) == second / "status.json"
    progress = progress_for(first)  # the printed (stale) attempt_1 path still finds attempt_2
    assert progress.path == str(second / "status.json")
    assert progress.phase == "initial_answer" and progress.winner is None


# --- results.find on the recorded runs ----------------------------------------------------------------------


def test_find_cli_multi(tmp_path: Path) -> None:
    root = copy_sample("multi", tmp_path)
    found = results.find(root)
    assert found.answer_path == root / "turn_1" / "final" / "agent_a" / "answer.txt"  # turn-level copy
    assert found.winner == "agent_a"
    assert found.workspace is None  # the agents had no file system
    assert found.plan_file is None and found.spec_file is None
    assert "42" in found.answer_path.read_text()


@pytest.mark.parametrize("start", ["", "turn_1", "turn_1/attempt_1", "turn_1/attempt_1/status.json"])
def test_find_from_any_folder_of_the_run(tmp_path: Path, start: str) -> None:
    root = copy_sample("multi", tmp_path)
    assert (
        results.find(root / start if start else root).answer_path == root / "turn_1/final/agent_a/answer.txt"
    )


def test_find_web_review_without_an_answer_marker(tmp_path: Path) -> None:
    root = copy_sample("web-review", tmp_path)
    assert not (root / "turn_1" / "final").exists()  # web mode: no turn-level final/ copy
    found = results.find(root, answer_hint=None)
    assert found.answer_path == attempt(root) / "final" / "agent_a" / "answer.txt"
    assert found.winner == "agent_a"
    assert found.workspace == attempt(root) / "final" / "agent_a" / "workspace"
    assert (found.workspace / "hello_e2e.txt").is_file()


def test_find_web_turn_answer_when_no_final_dir(tmp_path: Path) -> None:
    root = copy_sample("web-review", tmp_path)
    shutil.rmtree(attempt(root) / "final")
    found = results.find(root)
    assert found.answer_path == root / "turn_1" / "answer.txt"
    assert found.winner == "agent_a"  # from status.json
    assert found.workspace is None


def test_find_cwd_rw_headless_workspace(tmp_path: Path) -> None:
    root = copy_sample("cwd-rw-headless", tmp_path)
    found = results.find(root)
    assert found.answer_path == root / "turn_1" / "final" / "agent_a" / "answer.txt"
    assert found.winner == "agent_a"
    assert found.workspace == root / "turn_1" / "final" / "agent_a" / "workspace"
    assert (found.workspace / "hello_e2e.txt").is_file()


def test_find_all_agents_fail_finds_nothing(tmp_path: Path) -> None:
    root = copy_sample("all-agents-fail", tmp_path)
    found = results.find(root)
    assert found == results.Found(None, None, None, None, None)


def test_winner_from_status_picks_its_final_dir(tmp_path: Path) -> None:
    root = copy_sample("multi", tmp_path)
    other = root / "turn_1" / "final" / "agent_b"
    other.mkdir()
    (other / "answer.txt").write_text("not the winner")
    assert results.find(root).answer_path == root / "turn_1/final/agent_a/answer.txt"
    assert results.find(root, winner="agent_b").answer_path == other / "answer.txt"


@pytest.mark.parametrize(
    ("plan_rel", "spec_rel"),
    [
        ("project_plan.json", "project_spec.json"),
        ("deliverable/project_plan.json", "deliverable/project_spec.json"),
        ("project_plan.json", None),
        (None, "deliverable/project_spec.json"),
    ],
)
def test_plan_and_spec_files(tmp_path: Path, plan_rel: str | None, spec_rel: str | None) -> None:
    root = copy_sample("cwd-rw-headless", tmp_path)
    workspace = root / "turn_1" / "final" / "agent_a" / "workspace"
    for rel in (plan_rel, spec_rel):
        if rel:
            (workspace / rel).parent.mkdir(parents=True, exist_ok=True)
            (workspace / rel).write_text("{}")
    found = results.find(root)
    assert found.plan_file == (workspace / plan_rel if plan_rel else None)
    assert found.spec_file == (workspace / spec_rel if spec_rel else None)


def test_plan_in_workspace_wins_over_deliverable(tmp_path: Path) -> None:
    root = copy_sample("cwd-rw-headless", tmp_path)
    workspace = root / "turn_1" / "final" / "agent_a" / "workspace"
    (workspace / "deliverable").mkdir()
    for path in (workspace / "project_plan.json", workspace / "deliverable" / "project_plan.json"):
        path.write_text("{}")
    assert results.find(root).plan_file == workspace / "project_plan.json"


def test_answer_hint_inside_the_run_is_used(tmp_path: Path) -> None:
    root = copy_sample("multi", tmp_path)
    hint = attempt(root) / "final" / "agent_a" / "answer.txt"
    assert results.find(root, answer_hint=hint).answer_path == hint


def test_answer_hint_outside_the_log_dir_is_ignored(tmp_path: Path) -> None:
    root = copy_sample("multi", tmp_path)
    outside = tmp_path / "elsewhere" / "answer.txt"
    outside.parent.mkdir()
    outside.write_text("forged")
    found = results.find(root, answer_hint=outside)
    assert found.answer_path == root / "turn_1/final/agent_a/answer.txt"
    # a symlink inside the run that points outside is outside too
    link = attempt(root) / "sneaky.txt"
    link.symlink_to(outside)
    assert results.find(root, answer_hint=link).answer_path == root / "turn_1/final/agent_a/answer.txt"
    # a hint that does not exist is ignored as well
    missing = attempt(root) / "nope.txt"
    assert results.find(root, answer_hint=missing).answer_path == root / "turn_1/final/agent_a/answer.txt"


def test_all_agents_fail_ignores_an_outside_hint(tmp_path: Path) -> None:
    root = copy_sample("all-agents-fail", tmp_path)
    outside = tmp_path / "x.txt"
    outside.write_text("x")
    assert results.find(root, answer_hint=outside).answer_path is None


def test_find_on_an_empty_folder(tmp_path: Path) -> None:
    assert results.find(tmp_path / "nothing") == results.Found(None, None, None, None, None)


# --- read_bounded -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "limit", "expected", "cut"),
    [
        ("hello", 10, "hello", False),
        ("hello", 5, "hello", False),
        ("hello!", 5, "hello", True),
        ("", 5, "", False),
        ("日本語テキスト", 3, "日本語", True),
        ("x" * 100_000, 1000, "x" * 1000, True),
    ],
)
def test_read_bounded(tmp_path: Path, content: str, limit: int, expected: str, cut: bool) -> None:
    path = tmp_path / "answer.txt"
    path.write_text(content, encoding="utf-8")
    assert results.read_bounded(path, limit) == (expected, cut)


def test_read_bounded_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "answer.txt"
    path.write_bytes(b"ok \xff\xfe end")
    text, cut = results.read_bounded(path, 100)
    assert text == "ok \ufffd\ufffd end" and not cut


# --- status.json --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "agents", "review_pending", "elapsed"),
    [
        ("multi", ("agent_a", "agent_b", "agent_c"), False, 1.774),
        ("cwd-rw-headless", ("agent_a", "agent_b"), False, 5.001),
        ("web-review", ("agent_a", "agent_b"), True, 6.023),
    ],
)
def test_progress_for_samples(
    tmp_path: Path, sample: str, agents: tuple[str, ...], review_pending: bool, elapsed: float
) -> None:
    root = copy_sample(sample, tmp_path)
    progress = progress_for(root)
    assert progress.problem is None
    assert progress.path == str(attempt(root) / "status.json")
    assert progress.finish_reason == "completed"
    assert progress.details == "Winner: agent_a"
    assert progress.is_complete is True
    assert progress.review_pending is review_pending
    assert progress.phase == "presentation"
    assert progress.completion == 100
    assert progress.elapsed == pytest.approx(elapsed)
    assert progress.winner == "agent_a"
    assert progress.votes == {"agent1.1": len(agents)}  # every agent voted for agent_a's answer
    assert (progress.input_tokens, progress.output_tokens, progress.cost) == (90, 45, 0.0)
    assert progress.age is not None and progress.age >= 0
    assert progress.agents == tuple(AgentProgress(a, "voted", 1, "agent_a", None) for a in agents)
    line = status.one_line(progress)
    assert "phase presentation" in line and "100%" in line and "winner agent_a" in line
    assert ("REVIEW PENDING" in line) is review_pending
    json.dumps(progress.as_dict())  # serialisable for --json


def test_progress_for_all_agents_fail_has_no_status(tmp_path: Path) -> None:
    root = copy_sample("all-agents-fail", tmp_path)
    progress = progress_for(root)
    assert progress.path is None
    assert progress.problem is not None and "no status.json" in progress.problem


def test_progress_for_none() -> None:
    assert "no LOG_DIR" in (progress_for(None).problem or "")


def _status_path(tmp_path: Path) -> Path:
    return tmp_path / "log_1" / "turn_1" / "attempt_1" / "status.json"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (
            b'{"finish_reason": "in_progress", "agents": {"a": {"sta',
            "status.json unreadable (JSONDecodeError)",
        ),
        (b"", "status.json unreadable (JSONDecodeError)"),
        (b"\x00\xff\xfe garbage \x80", "status.json unreadable"),
        (b"[" * 100_000 + b"]" * 100_000, "status.json unreadable"),
    ],
    ids=["truncated", "empty", "garbage", "nested-too-deep"],
)
def test_progress_for_damaged_file(tmp_path: Path, content: bytes, problem: str) -> None:
    path = _status_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    progress = progress_for(path.parent)
    assert progress.problem is not None and progress.problem.startswith(problem)
    assert progress.path == str(path)
    assert status.one_line(progress) == progress.problem


@pytest.mark.parametrize("data", [[], [1, 2], "text", 42, None, True])
def test_progress_for_non_object(tmp_path: Path, data: object) -> None:
    path = write_status(_status_path(tmp_path), data)
    progress = progress_for(path.parent)
    assert progress.problem == "not a JSON object"


WRONG_TYPES = [
    {"agents": [1, 2, 3]},
    {"agents": {"a": "not an object", "b": None, "c": [1]}},
    {"agents": {"a": {"status": 5, "answer_count": "three", "vote_cast": "x", "error": "boom"}}},
    {"agents": {"a": {"answer_count": True, "error": {"message": ["x"], "type": 3}}}},
    {"costs": "free", "coordination": [], "results": "none", "meta": 7},
    {"costs": {"total_input_tokens": "90", "total_estimated_cost": None}},
    {"coordination": {"completion_percentage": "100", "phase": 3}},
    {"results": {"votes": ["a"], "winner": 5}},
    {"results": {"votes": {"a": "3", "b": 2.5, "c": 1}}},
    {"meta": {"last_updated": "yesterday", "elapsed_seconds": "slow"}},
    {"is_complete": "yes", "review_pending": 1, "finish_reason": ["x"], "finish_reason_details": {}},
    {"coordination": {"completion_percentage": float("inf")}, "meta": {"elapsed_seconds": float("nan")}},
    {"costs": {"total_input_tokens": float("-inf"), "total_output_tokens": 1e300}},
]


@pytest.mark.parametrize("data", WRONG_TYPES)
def test_progress_with_wrong_types_never_raises(tmp_path: Path, data: dict) -> None:
    path = write_status(_status_path(tmp_path), data)
    progress = progress_for(path.parent)
    assert progress.problem is None
    assert progress.is_complete in (True, False)
    assert all(isinstance(a, AgentProgress) and isinstance(a.answers, int) for a in progress.agents)
    assert all(isinstance(v, int) for v in progress.votes.values())
    for number in (progress.completion, progress.input_tokens, progress.output_tokens):
        assert number is None or isinstance(number, int)
    status.one_line(progress)
    json.dumps(progress.as_dict(), default=str)


def test_wrong_types_are_dropped_not_guessed(tmp_path: Path) -> None:
    data = {
        "is_complete": "yes",
        "results": {"votes": {"a": "3", "b": 2}, "winner": 5},
        "agents": {
            "x": {"status": 5, "answer_count": "three", "error": {"message": ["m"], "type": "timeout"}}
        },
        "coordination": {"completion_percentage": float("inf")},
    }
    progress = progress_for(write_status(_status_path(tmp_path), data).parent)
    assert progress.is_complete is False
    assert progress.votes == {"b": 2}
    assert progress.winner is None
    assert progress.completion is None
    assert progress.agents == (AgentProgress("x", "unknown", 0, None, "timeout"),)


def test_five_megabyte_status_json(tmp_path: Path) -> None:
    data = {
        "finish_reason": "in_progress",
        "meta": {"question": "q" * (5 * 1024 * 1024)},
        "coordination": {"phase": "initial_answer", "completion_percentage": 50},
        "agents": {f"agent_{i}": {"status": "streaming", "answer_count": 0} for i in range(50)},
    }
    path = write_status(_status_path(tmp_path), data)
    assert path.stat().st_size > 5 * 1024 * 1024
    started = time.monotonic()
    progress = progress_for(path.parent)
    assert time.monotonic() - started < 5
    assert progress.problem is None and progress.completion == 50 and len(progress.agents) == 50


def test_oversized_status_json_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(status, "MAX_STATUS_BYTES", 1024 * 1024)
    path = write_status(_status_path(tmp_path), {"meta": {"question": "q" * (5 * 1024 * 1024)}})
    data, problem = read_json(path)
    assert data is None and problem == "larger than 1 MiB"
    assert progress_for(path.parent).problem == "status.json larger than 1 MiB"


def test_read_json_missing_and_retry(tmp_path: Path) -> None:
    assert read_json(tmp_path / "nope.json") == (None, "missing")
    path = tmp_path / "half.json"
    path.write_text('{"a": ')
    started = time.monotonic()
    assert read_json(path, attempts=3, delay=0.01) == (None, "unreadable (JSONDecodeError)")
    assert time.monotonic() - started >= 0.02  # it did retry


def test_summarise_without_path() -> None:
    assert summarise({}, None) == Progress(path=None)
    assert summarise([], None).problem == "not a JSON object"

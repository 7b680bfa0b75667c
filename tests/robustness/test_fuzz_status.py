"""Generated status.json and review_request.json contents (truncated, wrong types, huge, deeply nested, not
UTF-8) through status.summarise/progress_for, block.parse_request/block_lines, and
`massgen-skill status` on a record pointing at such a log dir. Nothing raises; every block line is one line;
only BEGIN/END start with `__`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from robust_util import Project, assert_clean, fuzz, invoke, make_log_dir, make_record

from massgen_skill.exitcodes import ExitCode
from massgen_skill.massgen import layout, status
from massgen_skill.review import block
from massgen_skill.run import records

TEXTS = st.text(max_size=30) | st.sampled_from(
    [
        "",
        "\n",
        "a\nb",
        "\r\n__REVIEW_PENDING__",
        "__END_REVIEW_INFO__",
        "\x1b[2J",
        "\u2028x",
        "\x85",
        "\x9b31m",
        "ANSWER: /etc/passwd",
        "\x00",
        "\ud800",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | TEXTS
    | st.sampled_from([10**300, -(10**300), 2**63, 1e308, -1e308])
)
ANY_JSON = st.recursive(
    SCALARS, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(TEXTS, kids, max_size=4), max_leaves=20
)
AGENT = st.fixed_dictionaries(
    {},
    optional={
        "status": ANY_JSON,
        "answer_count": ANY_JSON,
        "error": ANY_JSON | st.fixed_dictionaries({"message": ANY_JSON, "type": ANY_JSON}),
        "vote_cast": ANY_JSON | st.fixed_dictionaries({"voted_for_agent": ANY_JSON}),
    },
)
STATUS_LIKE = st.fixed_dictionaries(
    {},
    optional={
        "meta": ANY_JSON | st.fixed_dictionaries({"last_updated": SCALARS, "elapsed_seconds": SCALARS}),
        "costs": ANY_JSON
        | st.fixed_dictionaries(
            {"total_estimated_cost": SCALARS, "total_input_tokens": SCALARS, "total_output_tokens": SCALARS}
        ),
        "coordination": ANY_JSON
        | st.fixed_dictionaries({"phase": SCALARS, "completion_percentage": SCALARS}),
        "results": ANY_JSON
        | st.fixed_dictionaries(
            {"winner": SCALARS, "votes": ANY_JSON | st.dictionaries(TEXTS, SCALARS, max_size=4)}
        ),
        "agents": ANY_JSON | st.dictionaries(TEXTS, AGENT, max_size=4),
        "finish_reason": SCALARS,
        "finish_reason_details": SCALARS,
        "is_complete": SCALARS,
        "review_pending": SCALARS,
    },
)
FILES = st.lists(
    st.fixed_dictionaries({"path": TEXTS | ANY_JSON}, optional={"status": TEXTS | ANY_JSON}) | ANY_JSON,
    max_size=5,
)
REQUEST_LIKE = st.fixed_dictionaries(
    {},
    optional={
        "review_pending": SCALARS,
        "files": FILES | ANY_JSON,
        "answer_preview": TEXTS | ANY_JSON,
        "api_url": TEXTS
        | st.sampled_from(
            [
                "http://localhost:8000/api/sessions/auto-abc/review-response",
                "http://localhost:8000/api/sessions/__REVIEW_PENDING__/review-response",
                "http://localhost:8000/api/sessions/a b\nc/review-response",
                "http://x/api/sessions//review-response",
            ]
        ),
        "url": TEXTS,
    },
)


def _dump(document: Any) -> bytes:
    return json.dumps(document).encode()  # ensure_ascii: lone surrogates become \ud800 escapes


@st.composite
def file_bytes(draw: st.DrawFn, documents: st.SearchStrategy[Any]) -> bytes:
    """What massgen (or a torn write, or a disk error) may leave in the file."""
    kind = draw(
        st.sampled_from(["json", "json", "truncated", "binary", "deep", "huge-int", "bom", "empty", "big"])
    )
    if kind == "json":
        return _dump(draw(documents | ANY_JSON))
    if kind == "truncated":
        whole = _dump(draw(documents))
        return whole[: draw(st.integers(0, max(0, len(whole) - 1)))]
    if kind == "binary":
        return draw(st.binary(max_size=300))
    if kind == "deep":
        depth = draw(st.integers(100, 100_000))
        return b'{"agents": ' + b"[" * depth + b"]" * depth + b"}"
    if kind == "huge-int":  # Python refuses to parse integers of more than 4300 digits
        return b'{"meta": {"last_updated": ' + b"9" * draw(st.integers(4000, 20_000)) + b"}}"
    if kind == "bom":
        return b"\xef\xbb\xbf" + _dump(draw(documents))
    if kind == "empty":
        return draw(st.sampled_from([b"", b" ", b"\n", b"null", b"[]", b"{}"]))
    return _dump(
        {"agents": {f"agent_{i}": {"status": "x" * 100} for i in range(draw(st.integers(1, 20_000)))}}
    )


def _check_progress(progress: status.Progress) -> None:
    line = status.one_line(progress)
    assert isinstance(line, str)
    json.dumps(progress.as_dict())  # what `status --json` prints


# --- status.json --------------------------------------------------------------------------------------------


@fuzz(80)
@given(data=STATUS_LIKE | ANY_JSON)
def test_summarise_any_shape(data: Any) -> None:
    progress = status.summarise(data, Path("/x/status.json"))
    _check_progress(progress)
    assert progress.completion is None or isinstance(progress.completion, int)
    assert all(isinstance(v, int) for v in progress.votes.values())


@pytest.fixture
def attempt(tmp_path: Path) -> Path:
    root = make_log_dir(tmp_path / "proj")
    return root / "turn_1" / "attempt_1"


@fuzz(60)
@given(raw=file_bytes(STATUS_LIKE))
def test_progress_for_any_file(attempt: Path, raw: bytes) -> None:
    (attempt / layout.STATUS_FILE).write_bytes(raw)
    progress = status.progress_for(attempt.parent.parent)
    _check_progress(progress)
    assert progress.problem is None or "\n" not in progress.problem


@pytest.fixture
def recorded(scratch_project: Project) -> tuple[Project, Path, str]:
    root = make_log_dir(scratch_project.root, answer="the answer")
    record = make_record(
        scratch_project.root,
        "20261125-101500-aaaaaa",
        state=records.FINISHED,
        outcome="ok",
        exit_code=0,
        log_dir=str(root),
    )
    return scratch_project, root / "turn_1" / "attempt_1", record.run_id


@fuzz(40)
@given(raw=file_bytes(STATUS_LIKE), as_json=st.booleans())
def test_status_command_on_a_damaged_status_file(
    recorded: tuple[Project, Path, str], raw: bytes, as_json: bool
) -> None:
    _, attempt, run_id = recorded
    (attempt / layout.STATUS_FILE).write_bytes(raw)
    called = invoke(["status", run_id, *(["--json"] if as_json else [])])
    assert_clean(called, {ExitCode.OK}, raw[:200])
    if as_json:
        assert json.loads(called.out)["run_id"] == run_id


# --- review_request.json ------------------------------------------------------------------------------------


def _check_block(request: block.ReviewRequest, port: int | None) -> None:
    lines = block.block_lines(request, port)
    assert lines[0] == block.BEGIN and lines[-1] == block.END
    for line in lines:
        assert len(line.splitlines()) == 1 and line == line.splitlines()[0], line
        assert not any(ch in line for ch in "\x00\x1b\x7f"), line
        line.encode("utf-8", "backslashreplace")
    assert [line for line in lines if line.startswith("__")] == [block.BEGIN, block.END]
    assert all(line.split(": ", 1)[0].isupper() for line in lines[1:-1])


PORTS = st.none() | st.integers(-5, 70_000) | st.just(2**40)


@fuzz(80)
@given(data=REQUEST_LIKE | ANY_JSON, port=PORTS)
def test_parse_request_and_block_any_shape(data: Any, port: int | None) -> None:
    request = block.parse_request(data, Path("/x/review_request.json"), time.time())
    if request is None:
        assert not isinstance(data, dict) or data.get("review_pending") is False
        return
    assert (
        request.session_id is None
        or request.session_id.replace("-", "").replace(".", "").replace("_", "").isalnum()
    )
    _check_block(request, port)


@fuzz(50)
@given(raw=file_bytes(REQUEST_LIKE), port=PORTS)
def test_read_request_any_file(attempt: Path, raw: bytes, port: int | None) -> None:
    (attempt / layout.REVIEW_REQUEST).write_bytes(raw)
    request = block.read_request(attempt)
    if request is not None:
        _check_block(request, port)
    (attempt / layout.REVIEW_RESULT).write_bytes(raw)
    result = block.read_result(attempt, 0.0)
    assert result is None or isinstance(result, dict)

"""Generated bad criteria files through `criteria check|translate FILE` and `run --dry-run --criteria FILE`.

Whatever the file holds (any JSON, wrong types, > 1 MiB, deep nesting, not UTF-8, cut short), the answer is
0 (valid) or 3 (invalid), with one line per problem and never a traceback.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import event, given
from hypothesis import strategies as st
from robust_util import Project, assert_clean, fuzz, invoke

from massgen_skill.exitcodes import ExitCode
from massgen_skill.prepare.criteria import MAX_BYTES

CHECK_CODES = {ExitCode.OK, ExitCode.INVALID_INPUT}

# --- strategies ----------------------------------------------------------------------------------------

# Text with the awkward parts mixed in: lone surrogates, NUL, ANSI, newlines, marker look-alikes.
PIECES = st.sampled_from(
    ["\ud800", "\udfff", "\x00", "\x1b[31m", "\n", "__REVIEW_PENDING__", "ANSWER: /x", " "]
)
TEXTS = st.one_of(
    st.text(max_size=40),
    st.lists(PIECES | st.text(max_size=6), max_size=6).map("".join),
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | TEXTS
)
ANY_JSON = st.recursive(
    SCALARS, lambda kids: st.lists(kids, max_size=5) | st.dictionaries(TEXTS, kids, max_size=5), max_leaves=25
)
KEYS = st.sampled_from(["text", "category", "anti_patterns", "verify_by", "description", "name"]) | TEXTS
CATEGORIES = (
    st.sampled_from(["primary", "standard", "stretch", "Primary", "must", "could", " core ", ""]) | TEXTS
)
ITEM = st.dictionaries(KEYS, ANY_JSON | CATEGORIES | st.lists(TEXTS, max_size=4), max_size=6)
GOOD_ITEM = st.fixed_dictionaries(
    {
        "text": st.text(min_size=1, max_size=30).filter(str.strip),
        "category": st.sampled_from(["primary", "standard", "stretch"]),
        "anti_patterns": st.lists(st.text(min_size=1, max_size=20).filter(str.strip), min_size=2, max_size=4),
    },
    optional={"verify_by": TEXTS},
)
NEARLY_VALID = st.fixed_dictionaries(  # valid but for a second primary now and then
    {"criteria": st.lists(GOOD_ITEM, min_size=1, max_size=7)},
    optional={"aspiration": st.text(min_size=1, max_size=40).filter(str.strip)},
)
CRITERIA_LIKE = st.one_of(
    NEARLY_VALID,
    st.fixed_dictionaries(
        {"criteria": st.lists(ITEM | GOOD_ITEM | ANY_JSON, max_size=9)},
        optional={"aspiration": ANY_JSON | TEXTS, "extra": ANY_JSON},
    ),
    st.lists(ITEM | GOOD_ITEM, max_size=9),  # massgen's bare-list form
    st.fixed_dictionaries({"criteria": ANY_JSON, "aspiration": ANY_JSON}),
)


def _dump(document: Any) -> bytes:
    # NaN/Infinity allowed (json.loads accepts them); lone surrogates escaped (the file stays valid UTF-8)
    return json.dumps(document, ensure_ascii=True).encode("ascii")


@st.composite
def truncated(draw: st.DrawFn) -> bytes:
    whole = _dump(draw(CRITERIA_LIKE))
    return whole[: draw(st.integers(0, max(0, len(whole) - 1)))]


@st.composite
def not_utf8(draw: st.DrawFn) -> bytes:
    document = json.dumps(draw(CRITERIA_LIKE), ensure_ascii=False)
    how = draw(st.sampled_from(["utf-16", "inserted", "raw"]))
    if how == "utf-16":
        return document.encode("utf-16", "surrogatepass")
    if how == "raw":
        return draw(st.binary(min_size=1, max_size=200))
    data = document.encode("utf-8", "surrogatepass")
    at = draw(st.integers(0, len(data)))
    bad = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80", b"\xfe\xff"]))
    return data[:at] + bad + data[at:]


@st.composite
def huge(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["over-limit", "at-limit", "many-items", "long-text", "deep"]))
    if kind == "over-limit":
        return b'{"criteria": [' + b" " * (MAX_BYTES + draw(st.integers(0, 4096))) + b"]}"
    if kind == "at-limit":
        text = "x" * (MAX_BYTES - 200 - draw(st.integers(0, 1000)))
        return _dump(
            {"aspiration": "a", "criteria": [{"text": text, "category": "primary", "anti_patterns": ["b"]}]}
        )
    if kind == "many-items":
        count = draw(st.integers(8, 20000))
        return _dump({"criteria": [{"text": "t", "category": "standard", "anti_patterns": ["a"]}] * count})
    if kind == "long-text":
        return _dump({"criteria": [{"text": "\u00e9" * draw(st.integers(1000, 200_000)), "category": 1}]})
    depth = draw(st.integers(50, 200_000))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
    inner = (opener * depth + "1" + closer * depth).encode()
    return b'{"criteria": [{"text": ' + inner + b', "category": "primary"}]}'


JSON_FILES = st.one_of(
    ANY_JSON.map(_dump),
    CRITERIA_LIKE.map(_dump),
    CRITERIA_LIKE.map(lambda d: json.dumps(d, ensure_ascii=False).encode("utf-8", "surrogatepass")),
)

# --- the tests -----------------------------------------------------------------------------------------


def _check_file(project: Project, data: bytes) -> None:
    path = project.write("criteria.json", data)
    for argv in (["criteria", "check", str(path)], ["criteria", "check", "--json", str(path)]):
        called = invoke(argv)
        event(f"exit code {called.code}")  # shown by --hypothesis-show-statistics
        assert_clean(called, CHECK_CODES, data[:300])
        if "--json" in argv:
            report = json.loads(called.out)
            assert report["ok"] is (called.code == ExitCode.OK)
    translated = invoke(["criteria", "translate", str(path)])
    assert_clean(translated, CHECK_CODES, data[:300])
    if translated.code == ExitCode.OK:
        document = json.loads(translated.out)
        assert all(isinstance(v, str) for item in document["criteria"] for v in item.values())


@fuzz(70)
@given(data=JSON_FILES)
def test_random_json_and_wrong_types(scratch_project: Project, data: bytes) -> None:
    _check_file(scratch_project, data)


@fuzz(25)
@given(data=truncated())
def test_truncated_files(scratch_project: Project, data: bytes) -> None:
    _check_file(scratch_project, data)


@fuzz(25)
@given(data=not_utf8())
def test_files_that_are_not_utf8(scratch_project: Project, data: bytes) -> None:
    _check_file(scratch_project, data)


@fuzz(12)
@given(data=huge())
def test_huge_and_deeply_nested_files(scratch_project: Project, data: bytes) -> None:
    path = scratch_project.write("criteria.json", data)
    assert_clean(invoke(["criteria", "check", str(path)]), CHECK_CODES, data[:100])


@fuzz(50)
@given(data=st.one_of(JSON_FILES, truncated(), not_utf8()), as_json=st.booleans())
def test_run_dry_run_with_bad_criteria(scratch_project: Project, data: bytes, as_json: bool) -> None:
    path = scratch_project.write("criteria.json", data)
    argv = [
        "run",
        "--dry-run",
        "--no-web",
        "--criteria",
        str(path),
        *(["--json"] if as_json else []),
        "a task",
    ]
    called = invoke(argv)
    event(f"exit code {called.code}")  # shown by --hypothesis-show-statistics
    # ENV_NOT_READY: good criteria, then the pre-flight a dry run shares with the run (no massgen here)
    assert_clean(called, {*CHECK_CODES, ExitCode.ENV_NOT_READY}, data[:300])
    if called.code == ExitCode.INVALID_INPUT:
        assert called.err.count(": error: ") == 1
        assert not (scratch_project.root / ".massgen" / "skill_runs").exists()  # a dry run writes nothing
    if as_json and called.code == ExitCode.OK:
        assert json.loads(called.out)["dry_run"] is True


def test_missing_and_unreadable_criteria(scratch_project: Project) -> None:
    folder = scratch_project.root / "a_folder"
    folder.mkdir()
    for target in ("no/such/file.json", str(folder), ""):
        for argv in (["criteria", "check", target], ["run", "--dry-run", "--criteria", target, "a task"]):
            assert_clean(invoke(argv), {*CHECK_CODES, ExitCode.USAGE}, argv)

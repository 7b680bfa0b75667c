"""Criteria: the schema, the rules beyond it, unusable files, translation for massgen, presets, the CLI."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runtools import ROOT

from massgen_skill.cli import main
from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen import flags
from massgen_skill.prepare import criteria as C


def valid_document() -> dict[str, Any]:
    return {
        "aspiration": "A runbook an on-call engineer can follow half asleep without guessing.",
        "criteria": [
            {
                "text": "Every step runs exactly as written on a fresh machine.",
                "category": "primary",
                "anti_patterns": ["placeholders such as <your-db>", "steps that rely on unstated setup"],
                "verify_by": "run the steps in a clean container",
            },
            {
                "text": "A rollback path exists for each change.",
                "category": "standard",
                "anti_patterns": ["no rollback at all", "a rollback that drops data"],
            },
            {
                "text": "Each command says why it is there.",
                "category": "standard",
                "anti_patterns": ["bare command lists", "unexplained jargon", "copy-pasted log output"],
            },
            {
                "text": "Fits on one screen per section.",
                "category": "stretch",
                "anti_patterns": ["padding", "repeating the same warning"],
            },
        ],
    }


def write_json(tmp_path: Path, document: Any, name: str = "criteria.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def check(tmp_path: Path, document: Any) -> C.CriteriaReport:
    return C.load_criteria(write_json(tmp_path, document))


@dataclass
class Whole:
    """A change that replaces the whole document (needed to say `null`)."""

    value: Any


def mutate(change: Callable[[dict[str, Any]], Any]) -> Any:
    document = valid_document()
    result = change(document)
    if isinstance(result, Whole):
        return result.value
    return document if result is None else result


def set_in(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        target: Any = document
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return change


def drop(path: tuple[Any, ...]) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        target: Any = document
        for part in path[:-1]:
            target = target[part]
        del target[path[-1]]

    return change


# ------------------------------------------------------------------------------------------------- the schema


def test_schema_ships_in_the_package_and_is_valid_draft_2020_12() -> None:
    from jsonschema import Draft202012Validator

    schema = C.load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    assert (ROOT / "massgen_skill" / "prepare" / C.SCHEMA_NAME).is_file()
    Draft202012Validator(schema).validate(valid_document())
    criterion = schema["$defs"]["criterion"]
    assert criterion["required"] == ["text"]  # all massgen cannot do without; the rest is warned about
    assert tuple(C.CRITERION_KEYS) == tuple(criterion["properties"])


def test_valid_document_has_no_issues(tmp_path: Path) -> None:
    report = check(tmp_path, valid_document())
    assert report.ok
    assert report.errors == [] and report.warnings == []
    assert [c.category for c in report.criteria] == ["primary", "standard", "standard", "stretch"]
    assert report.criteria[0].verify_by == "run the steps in a clean container"
    assert report.criteria[1].verify_by is None
    assert report.aspiration == valid_document()["aspiration"]
    assert report.item_count == 4


# Each case breaks one thing; the report must hold exactly one error, at exactly this path, saying this.
ERROR_CASES = [
    (
        "category a number",
        set_in(("criteria", 1, "category"), 3),
        "criteria[1].category",
        "found the number 3, expected a string: primary, standard or stretch",
    ),
    (
        "text missing",
        drop(("criteria", 2, "text")),
        "criteria[2].text",
        "missing, expected a non-empty string",
    ),
    (
        "text empty",
        set_in(("criteria", 2, "text"), ""),
        "criteria[2].text",
        "found an empty string, expected a non-empty string",
    ),
    ("text blank", set_in(("criteria", 2, "text"), "  \n "), "criteria[2].text", "found a blank string"),
    (
        "text a number",
        set_in(("criteria", 2, "text"), 5),
        "criteria[2].text",
        "found the number 5, expected a non-empty string",
    ),
    ("text a list", set_in(("criteria", 2, "text"), ["a"]), "criteria[2].text", "found a list of 1 item"),
    (
        "anti-pattern empty",
        set_in(("criteria", 3, "anti_patterns"), ["ok", ""]),
        "criteria[3].anti_patterns[1]",
        "found an empty string, expected a non-empty string",
    ),
    (
        "anti-pattern a number",
        set_in(("criteria", 3, "anti_patterns"), ["ok", 7]),
        "criteria[3].anti_patterns[1]",
        "found the number 7",
    ),
    (
        "verify_by a list",
        set_in(("criteria", 0, "verify_by"), ["x", "y"]),
        "criteria[0].verify_by",
        "found a list of 2 items, expected a string",
    ),
    ("criteria missing", drop(("criteria",)), "criteria", "missing, expected a list of 1 or more criterion"),
    (
        "criteria an object",
        set_in(("criteria",), {"text": "x"}),
        "criteria",
        "found an object, expected a list",
    ),
    (
        "criteria empty",
        set_in(("criteria",), []),
        "criteria",
        "found an empty list, expected a list of 1 or more",
    ),
    (
        "criterion a string",
        set_in(("criteria", 1), "oops"),
        "criteria[1]",
        "found 'oops', expected a criterion object",
    ),
    (
        "criterion null",
        set_in(("criteria", 1), None),
        "criteria[1]",
        "found null, expected a criterion object",
    ),
    ("root a string", lambda d: "criteria", "$", "found 'criteria', expected an object"),
    ("root a number", lambda d: 42, "$", "found the number 42, expected an object"),
    ("root null", lambda d: Whole(None), "$", "found null, expected an object"),
]


@pytest.mark.parametrize(
    ("change", "path", "message"), [case[1:] for case in ERROR_CASES], ids=[case[0] for case in ERROR_CASES]
)
def test_each_rule_names_its_path(
    tmp_path: Path, change: Callable[..., Any], path: str, message: str
) -> None:
    report = check(tmp_path, mutate(change))
    assert not report.ok
    assert [issue.path for issue in report.errors] == [path]
    assert message in report.errors[0].message
    assert report.errors[0].severity == "error"
    assert str(report.errors[0]) == f"{path}: {report.errors[0].message}"


@pytest.mark.parametrize(
    ("written", "read_as", "hint"),
    [
        ("must", "standard", "massgen's legacy name"),
        ("core", "standard", "massgen's legacy name"),
        ("could", "stretch", "massgen's legacy name"),
        ("should", "standard", "not a category massgen knows"),
        ("top", "standard", "not a category massgen knows"),
        ("Standard", "standard", "written differently"),
        (" PRIMARY ", "primary", "written differently"),
    ],
)
def test_categories_are_read_as_massgen_reads_them(
    tmp_path: Path, written: str, read_as: str, hint: str
) -> None:
    report = check(tmp_path, mutate(set_in(("criteria", 2, "category"), written)))
    assert report.ok, report.errors
    assert C.massgen_category(written) == read_as
    assert [c.category for c in report.criteria][2] == read_as
    (warning,) = [w for w in report.warnings if w.path == "criteria[2].category" and "read as" in w.message]
    assert f"read as {read_as!r}" in warning.message and hint in warning.message


def _criterion(i: int, category: str = "standard") -> dict[str, Any]:
    return {"text": f"criterion {i}", "category": category, "anti_patterns": [f"bad {i}a", f"bad {i}b"]}


def with_alias(index: int, alias: str) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        item = document["criteria"][index]
        text = item.pop("text")
        document["criteria"][index] = {alias: text, **item}

    return change


WARNING_CASES = [
    ("no aspiration", drop(("aspiration",)), "aspiration", "missing, expected one or two sentences"),
    (
        "no primary",
        set_in(("criteria", 0, "category"), "standard"),
        "criteria",
        "found no 'primary' criterion",
    ),
    (
        "three criteria",
        lambda d: {**d, "criteria": d["criteria"][:3]},
        "criteria",
        "found 3 criteria, expected 4–7",
    ),
    (
        "one criterion",
        lambda d: {**d, "criteria": d["criteria"][:1]},
        "criteria",
        "found 1 criterion, expected 4–7",
    ),
    (
        "eight criteria",
        lambda d: {**d, "criteria": [_criterion(0, "primary")] + [_criterion(i) for i in range(7)]},
        "criteria",
        "found 8 criteria, expected 4–7",
    ),
    ("bare array", lambda d: d["criteria"], "$", "found a bare list of criteria"),
    (
        "description alias",
        with_alias(1, "description"),
        "criteria[1].description",
        "found 'description', expected 'text'; accepted",
    ),
    ("name alias", with_alias(0, "name"), "criteria[0].name", "found 'name', expected 'text'; accepted"),
    (
        "category missing",
        drop(("criteria", 1, "category")),
        "criteria[1].category",
        "missing, expected one of primary, standard, stretch; read as 'standard', as massgen does",
    ),
    (
        "one anti-pattern",
        set_in(("criteria", 0, "anti_patterns"), ["only one"]),
        "criteria[0].anti_patterns",
        "found a list of 1 item, expected 2–4; accepted",
    ),
    (
        "five anti-patterns",
        set_in(("criteria", 0, "anti_patterns"), list("abcde")),
        "criteria[0].anti_patterns",
        "found a list of 5 items, expected 2–4; accepted",
    ),
    (
        "anti-patterns missing",
        drop(("criteria", 1, "anti_patterns")),
        "criteria[1].anti_patterns",
        "missing, expected 2–4 ways an answer can look fine yet fail; accepted",
    ),
    (
        "unknown criterion key",
        set_in(("criteria", 3, "weight"), 2),
        "criteria[3].weight",
        "unknown key 'weight', expected only text, category, anti_patterns, verify_by; not passed to massgen",
    ),
    (
        "unknown top-level key",
        set_in(("notes",), "x"),
        "notes",
        "unknown key 'notes', expected only aspiration, criteria",
    ),
    (
        "odd unknown key",
        set_in(("criteria", 0, "my key"), "x"),
        'criteria[0]["my key"]',
        "unknown key 'my key'",
    ),
    (
        "anti-patterns a string",
        set_in(("criteria", 0, "anti_patterns"), "a; b"),
        "criteria[0].anti_patterns",
        "found 'a; b', expected a list of strings; read as one anti-pattern",
    ),
    (
        "verify_by empty",
        set_in(("criteria", 0, "verify_by"), ""),
        "criteria[0].verify_by",
        "found an empty string; ignored, as massgen does",
    ),
    (
        "aspiration a number",
        set_in(("aspiration",), 3),
        "aspiration",
        "found the number 3, expected one or two",
    ),
    (
        "aspiration blank",
        set_in(("aspiration",), " "),
        "aspiration",
        "found a blank string, expected one or two",
    ),
    (
        "two primaries",
        set_in(("criteria", 2, "category"), "primary"),
        "criteria[2].category",
        "found a second 'primary' (criteria[0] is primary already), expected at most one; accepted",
    ),
]


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [case[1:] for case in WARNING_CASES],
    ids=[case[0] for case in WARNING_CASES],
)
def test_each_warning_names_its_path(
    tmp_path: Path, change: Callable[..., Any], path: str, message: str
) -> None:
    report = check(tmp_path, mutate(change))
    assert report.ok, report.errors
    assert [issue.path for issue in report.warnings] == [path]
    assert message in report.warnings[0].message
    assert report.warnings[0].severity == "warning"


def test_eight_valid_criteria_are_still_accepted(tmp_path: Path) -> None:
    document = {
        "aspiration": "x",
        "criteria": [_criterion(0, "primary")] + [_criterion(i) for i in range(1, 8)],
    }
    report = check(tmp_path, document)
    assert report.ok and len(report.criteria) == 8


def test_every_error_is_reported_at_once_in_reading_order(tmp_path: Path) -> None:
    document = {
        "notes": "stray",
        "aspiration": 1,
        "criteria": [
            {"text": "", "category": 5, "anti_patterns": ["one"], "weight": 3},
            {"description": "  ", "category": "primary", "anti_patterns": ["a", "b"]},
            {"name": "n", "category": "primary", "anti_patterns": ["a", "b", 3], "verify_by": ""},
            "str",
            {},
        ],
    }
    report = check(tmp_path, document)
    assert [issue.path for issue in report.errors] == [
        "criteria[0].text",
        "criteria[0].category",
        "criteria[1].description",
        "criteria[2].anti_patterns[2]",
        "criteria[3]",
        "criteria[4].text",
    ]
    assert all("expected" in issue.message for issue in report.errors)
    assert [issue.path for issue in report.warnings] == [
        "aspiration",
        "criteria[0].anti_patterns",
        "criteria[0].weight",
        "criteria[1].description",
        "criteria[2].name",
        "criteria[2].category",
        "criteria[2].verify_by",
        "criteria[4].category",
        "criteria[4].anti_patterns",
        "notes",
    ]
    assert report.criteria == []  # no criterion came through clean
    assert report.item_count == 5


def test_only_clean_criteria_are_kept_when_others_have_errors(tmp_path: Path) -> None:
    report = check(tmp_path, mutate(set_in(("criteria", 1, "category"), ["must"])))
    assert [c.text for c in report.criteria] == [valid_document()["criteria"][i]["text"] for i in (0, 2, 3)]


def test_alias_with_text_present_is_an_unknown_key(tmp_path: Path) -> None:
    report = check(tmp_path, mutate(set_in(("criteria", 0, "name"), "also")))
    assert report.ok and [issue.path for issue in report.warnings] == ["criteria[0].name"]
    both = mutate(lambda d: None)
    item = both["criteria"][0]
    del item["text"]
    item["description"], item["name"] = "first alias wins", "second"
    report = check(tmp_path, both)
    assert [issue.path for issue in report.warnings] == ["criteria[0].description", "criteria[0].name"]
    assert report.criteria[0].text == "first alias wins"


# The shape of massgen's own skill's evaluate example: a bare list, legacy categories, no anti-patterns.
OFFICIAL_EVALUATE_EXAMPLE = [
    {"text": "Reconnects within 5 s with backoff and loses no message.", "category": "must"},
    {"text": "Status updates reach the client within 500 ms.", "category": "must"},
    {"text": "Three sessions at once never mix their messages.", "category": "must"},
    {"text": "Failures give clear client-side feedback.", "category": "should"},
    {"text": "Handler and hook keep concerns apart.", "category": "should"},
]


def test_the_official_evaluate_example_is_accepted_and_translated(tmp_path: Path) -> None:
    report = check(tmp_path, OFFICIAL_EVALUATE_EXAMPLE)
    assert report.ok, report.errors
    assert [c.category for c in report.criteria] == ["standard"] * 5
    assert all(w.severity == "warning" for w in report.warnings)
    assert {"$", "$[0].category", "$[3].category", "$[4].anti_patterns"} <= {w.path for w in report.warnings}
    translated = C.translate(report)["criteria"]
    assert [t["category"] for t in translated] == ["standard"] * 5
    assert all(set(t) == {"text", "category"} and isinstance(t["text"], str) for t in translated)
    assert main(["criteria", "check", str(write_json(tmp_path, OFFICIAL_EVALUATE_EXAMPLE))]) == 0


def test_bare_array_with_aliases_is_read_like_massgen_reads_it(tmp_path: Path) -> None:
    items = [
        {
            ("description" if i % 2 else "name"): f"item {i}",
            "category": "primary" if i == 0 else "standard",
            "anti_patterns": ["x", "y"],
        }
        for i in range(4)
    ]
    report = check(tmp_path, items)
    assert report.ok
    assert [c.text for c in report.criteria] == [f"item {i}" for i in range(4)]
    assert report.aspiration is None
    assert [w.path for w in report.warnings] == [
        "$",
        "$[0].name",
        "$[1].description",
        "$[2].name",
        "$[3].description",
    ]


# --------------------------------------------------------------------------------------------- unusable files


def _write_bytes(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "criteria.json"
    path.write_bytes(data)
    return path


LOAD_FAILURES = [
    ("not utf-8", lambda t: _write_bytes(t, b'{"aspiration": "caf\xe9"}'), "not UTF-8 (byte 0xe9 at offset"),
    ("not json", lambda t: _write_bytes(t, b'{"criteria": [}'), "not valid JSON: Expecting value (line 1"),
    ("empty", lambda t: _write_bytes(t, b"  \n"), "is empty"),
    ("too large", lambda t: _write_bytes(t, b" " * C.MAX_BYTES + b"[]"), "larger than 1 MiB"),
    ("missing", lambda t: t / "absent.json", "not found"),
    ("directory", lambda t: t, "is a directory"),
    (
        "duplicate key",
        lambda t: _write_bytes(t, b'{"criteria": [], "criteria": []}'),
        "duplicate key 'criteria'",
    ),
    ("too deep", lambda t: _write_bytes(t, b"[" * 200_000 + b"]" * 200_000), "nested too deeply"),
]


@pytest.mark.parametrize(
    ("make", "reason"), [case[1:] for case in LOAD_FAILURES], ids=[case[0] for case in LOAD_FAILURES]
)
def test_unusable_file_is_one_line_invalid_input(
    tmp_path: Path, make: Callable[[Path], Path], reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make(tmp_path)
    with pytest.raises(SkillError) as caught:
        C.load_criteria(path)
    assert caught.value.code == ExitCode.INVALID_INPUT
    assert "\n" not in caught.value.message
    assert caught.value.message.startswith(f"criteria file {path}: ")
    assert reason in caught.value.message

    assert main(["criteria", "check", str(path)]) == ExitCode.INVALID_INPUT
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("massgen-skill: error: criteria file ")
    assert "Traceback" not in err


def test_exactly_one_mib_is_still_read(tmp_path: Path) -> None:
    body = json.dumps(valid_document()).encode()
    path = _write_bytes(tmp_path, body + b" " * (C.MAX_BYTES - len(body)))
    assert path.stat().st_size == C.MAX_BYTES
    assert C.load_criteria(path).ok


def test_byte_order_mark_is_tolerated(tmp_path: Path) -> None:
    path = _write_bytes(tmp_path, b"\xef\xbb\xbf" + json.dumps(valid_document()).encode())
    assert C.load_criteria(path).ok


# ------------------------------------------------------------------------------------------------ translation


def massgen_would_accept(document: Any) -> bool:
    """What massgen 0.1.97 demands of `--eval-criteria` (contract §6): the loader's shape, string values."""
    if not isinstance(document, dict) or not isinstance(document.get("criteria"), list):
        return False
    for item in document["criteria"]:
        if not isinstance(item, dict) or not (
            item.get("text") or item.get("description") or item.get("name")
        ):
            return False
        if not all(isinstance(key, str) and isinstance(value, str) for key, value in item.items()):
            return False
    return set(document) == {"criteria"}


def assert_nothing_lost(source: dict[str, Any], translated: dict[str, Any]) -> None:
    assert massgen_would_accept(translated)
    items = translated["criteria"]
    assert len(items) == len(source["criteria"])
    for original, out in zip(source["criteria"], items, strict=True):
        assert set(out) <= {"text", "category", "verify_by"}
        assert out["category"] == original["category"]
        assert original["text"].strip() in out["text"]
        for pattern in original["anti_patterns"]:
            assert pattern.strip() in out["text"]
        assert out.get("verify_by") == original.get("verify_by")
    aspiration = source.get("aspiration")
    if aspiration is not None:
        carriers = [out for out in items if aspiration.strip() in out["text"]]
        assert carriers, "the aspiration was lost"
        primary = next((i for i, c in enumerate(source["criteria"]) if c["category"] == "primary"), 0)
        assert aspiration.strip() in items[primary]["text"]


def test_translation_keeps_everything_and_uses_only_strings(tmp_path: Path) -> None:
    source = valid_document()
    translated = C.translate(check(tmp_path, source))
    assert_nothing_lost(source, translated)
    assert "verify_by" not in translated["criteria"][1]
    assert source["aspiration"] not in translated["criteria"][1]["text"]


def test_aspiration_goes_to_the_first_criterion_without_a_primary(tmp_path: Path) -> None:
    source = mutate(set_in(("criteria", 0, "category"), "standard"))
    source["criteria"].append(source["criteria"].pop(0))
    translated = C.translate(check(tmp_path, source))
    assert source["aspiration"] in translated["criteria"][0]["text"]
    assert_nothing_lost(source, translated)


def test_aspiration_goes_to_the_primary_even_when_it_is_not_first(tmp_path: Path) -> None:
    source = valid_document()
    source["criteria"].append(source["criteria"].pop(0))
    translated = C.translate(check(tmp_path, source))
    assert source["aspiration"] in translated["criteria"][-1]["text"]
    assert all(source["aspiration"] not in item["text"] for item in translated["criteria"][:-1])


def test_translate_refuses_a_report_with_errors(tmp_path: Path) -> None:
    report = check(tmp_path, mutate(set_in(("criteria", 1, "category"), 3)))
    with pytest.raises(SkillError) as caught:
        C.translate(report)
    assert caught.value.code == ExitCode.INVALID_INPUT


nonblank = st.text(min_size=1, max_size=40).filter(lambda s: s.strip() != "")


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(min_value=1, max_value=9))
    primary = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=count - 1)))
    items = []
    for i in range(count):
        item: dict[str, Any] = {
            "text": draw(nonblank),
            "category": "primary" if i == primary else draw(st.sampled_from(["standard", "stretch"])),
            "anti_patterns": draw(st.lists(nonblank, min_size=2, max_size=4)),
        }
        if draw(st.booleans()):
            item["verify_by"] = draw(nonblank)
        items.append(item)
    document: dict[str, Any] = {"criteria": items}
    if draw(st.booleans()):
        document["aspiration"] = draw(nonblank)
    return document


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=documents())
def test_translation_round_trip_property(tmp_path: Path, source: dict[str, Any]) -> None:
    report = check(tmp_path, source)
    assert report.ok, report.errors
    translated = C.translate(report)
    assert_nothing_lost(source, translated)
    # The file massgen gets is ASCII and parses back to the same document.
    text = json.dumps(translated, ensure_ascii=True)
    assert json.loads(text) == translated


# -------------------------------------------------------------------------------------------- preparing a run


def test_prepare_writes_the_translation_atomically(tmp_path: Path) -> None:
    source = write_json(tmp_path, valid_document())
    dest = tmp_path / "run" / "inputs"
    written, report = C.prepare_for_massgen(source, dest)
    assert written == dest / C.TRANSLATED_NAME
    assert report.ok
    raw = written.read_bytes()
    assert raw.isascii()
    assert json.loads(raw) == C.translate(report)
    assert sorted(p.name for p in dest.iterdir()) == [C.TRANSLATED_NAME]
    assert json.loads(source.read_text()) == valid_document()  # the user's file is untouched
    # A second run replaces the file in place.
    written_again, _ = C.prepare_for_massgen(source, dest)
    assert written_again == written and sorted(p.name for p in dest.iterdir()) == [C.TRANSLATED_NAME]


def test_prepare_refuses_invalid_criteria_in_one_line_and_writes_nothing(tmp_path: Path) -> None:
    document = valid_document()
    document["criteria"][1]["category"] = ["must"]
    del document["criteria"][2]["text"]
    source = write_json(tmp_path, document)
    dest = tmp_path / "dest"
    with pytest.raises(SkillError) as caught:
        C.prepare_for_massgen(source, dest)
    assert caught.value.code == ExitCode.INVALID_INPUT
    assert caught.value.message == (
        f"criteria file {source}: 2 errors: "
        "criteria[1].category: found a list of 1 item, expected a string: primary, standard or stretch; "
        "criteria[2].text: missing, expected a non-empty string"
    )
    assert not dest.exists()


def test_prepare_passes_unusable_file_errors_through(tmp_path: Path) -> None:
    with pytest.raises(SkillError) as caught:
        C.prepare_for_massgen(tmp_path / "absent.json", tmp_path / "dest")
    assert caught.value.code == ExitCode.INVALID_INPUT
    assert not (tmp_path / "dest").exists()


def test_failed_write_leaves_no_temp_file_and_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_json(tmp_path, valid_document())
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / C.TRANSLATED_NAME).write_text("previous", encoding="utf-8")

    def broken_replace(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(C.atomic.os, "replace", broken_replace)
    with pytest.raises(OSError):
        C.prepare_for_massgen(source, dest)
    assert sorted(p.name for p in dest.iterdir()) == [C.TRANSLATED_NAME]
    assert (dest / C.TRANSLATED_NAME).read_text(encoding="utf-8") == "previous"


# ---------------------------------------------------------------------------------------------------- presets


def test_presets_match_the_contract() -> None:
    assert C.PRESETS == {
        "analysis": 5,
        "decomposition": 5,
        "evaluation": 5,
        "persona": 5,
        "planning": 7,
        "prompt": 5,
        "round_evaluator": 7,
        "spec": 6,
    }


@pytest.mark.parametrize("name", sorted(C.PRESETS))
def test_check_preset_accepts_real_presets(name: str) -> None:
    assert C.check_preset(name) == name


@pytest.mark.parametrize("name", ["", "Planning", "plan", "review", "planning "])
def test_check_preset_refuses_anything_else(name: str) -> None:
    with pytest.raises(SkillError) as caught:
        C.check_preset(name)
    assert caught.value.code == ExitCode.USAGE
    assert caught.value.message.startswith("--checklist-criteria-preset: unknown preset ")
    assert all(preset in caught.value.message for preset in C.PRESETS)
    assert "\n" not in caught.value.message


def test_check_preset_suggests_a_close_name() -> None:
    with pytest.raises(SkillError, match="did you mean 'planning'"):
        C.check_preset("planing")


# ---------------------------------------------------------------------------------------------------- the CLI


def test_cli_check_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_json(tmp_path, valid_document())
    assert main(["criteria", "check", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out == f"{path}: valid, 4 criteria (1 primary, 2 standard, 1 stretch), 0 warnings\n"
    assert err == ""


def test_cli_check_prints_warnings_but_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_json(tmp_path, valid_document()["criteria"])
    assert main(["criteria", "check", str(path)]) == 0
    out, err = capsys.readouterr()
    assert err.startswith("warning: $: found a bare list of criteria")
    assert "1 warning" in out


def test_cli_check_lists_one_line_per_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = valid_document()
    document["criteria"][2]["category"] = 7
    document["criteria"][1]["anti_patterns"] = ["one", 2]
    path = write_json(tmp_path, document)
    assert main(["criteria", "check", str(path)]) == ExitCode.INVALID_INPUT
    out, err = capsys.readouterr()
    assert err.splitlines() == [
        "error: criteria[1].anti_patterns[1]: found the number 2, expected a non-empty string",
        "error: criteria[2].category: found the number 7, expected a string: primary, standard or stretch",
    ]
    assert out == f"{path}: invalid, 2 errors, 0 warnings\n"
    assert "Traceback" not in out + err


def test_cli_check_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = valid_document()
    del document["aspiration"]
    document["criteria"][0]["category"] = None
    path = write_json(tmp_path, document)
    assert main(["criteria", "check", str(path), "--json"]) == ExitCode.INVALID_INPUT
    out, err = capsys.readouterr()
    payload = json.loads(out)
    assert payload == {
        "ok": False,
        "path": str(path),
        "errors": [
            {
                "path": "criteria[0].category",
                "message": "found null, expected a string: primary, standard or stretch",
            }
        ],
        "warnings": [
            {"path": "aspiration", "message": payload["warnings"][0]["message"]},
            {"path": "criteria", "message": payload["warnings"][1]["message"]},
        ],
        "criteria_count": 4,
    }
    assert err == ""


def test_cli_load_failure_in_json_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write_bytes(tmp_path, b"not json")
    assert main(["criteria", "check", "--json", str(path)]) == ExitCode.INVALID_INPUT
    out, err = capsys.readouterr()
    assert json.loads(out)["kind"] == "invalid_input"
    assert err.count("\n") == 1


def test_cli_translate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = valid_document()
    path = write_json(tmp_path, source)
    assert main(["criteria", "translate", str(path)]) == 0
    out, _ = capsys.readouterr()
    translated = json.loads(out)
    assert translated == C.translate(C.load_criteria(path))
    assert_nothing_lost(source, translated)

    assert main(["criteria", "translate", str(path), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] is True and payload["translated"] == translated and payload["criteria_count"] == 4


def test_cli_translate_refuses_invalid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_json(tmp_path, mutate(set_in(("criteria", 0, "text"), 3)))
    assert main(["criteria", "translate", str(path)]) == ExitCode.INVALID_INPUT
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "error: criteria[0].text: found the number 3, expected a non-empty string\n"


def test_cli_presets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["criteria", "presets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(C.PRESETS)
    assert "round_evaluator  7 criteria" in lines
    assert main(["criteria", "presets", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["flag"] == flags.CRITERIA_PRESET == "--checklist-criteria-preset"
    assert {p["name"]: p["criteria_count"] for p in payload["presets"]} == C.PRESETS


@pytest.mark.parametrize(
    "argv", [["criteria", "--help"], *[["criteria", a, "--help"] for a in ("check", "translate", "presets")]]
)
def test_cli_help_has_examples(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 0
    assert "examples:\n  massgen-skill criteria " in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv", [["criteria"], ["criteria", "lint"], ["criteria", "check"], ["criteria", "presets", "extra"]]
)
def test_cli_usage_errors_are_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error:" in err and "Traceback" not in err


def test_jsonschema_is_imported_lazily() -> None:
    code = (
        "import sys\n"
        "import massgen_skill.prepare.criteria, massgen_skill.commands.criteria\n"
        "from massgen_skill.cli import main\n"
        "assert main(['criteria', 'presets']) == 0\n"
        "assert 'jsonschema' not in sys.modules, 'jsonschema imported eagerly'\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_report_is_independent_of_the_input_object(tmp_path: Path) -> None:
    source = valid_document()
    before = copy.deepcopy(source)
    C.check_document(source, tmp_path / "x.json")
    assert source == before

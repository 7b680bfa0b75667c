"""The criteria fast path (`criteria._surely_valid`): a valid file is accepted without importing jsonschema,
and it never accepts what jsonschema would reject."""

from __future__ import annotations

import copy
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from runtools import ROOT

from massgen_skill.prepare import criteria as C

ODD_VALUES: list[Any] = [
    None,
    0,
    1,
    1.5,
    True,
    False,
    "",
    " ",
    "\n",
    "x",
    "primary",
    [],
    ["a"],
    ["a", "b"],
    {},
    {"a": 1},
]


def base_document() -> dict[str, Any]:
    return {
        "aspiration": "An answer a senior engineer would forward unchanged",
        "criteria": [
            {"text": "Correct", "category": "primary", "anti_patterns": ["hand-waving", "no sources"]},
            {
                "text": "Complete",
                "category": "standard",
                "anti_patterns": ["skips parts", "easier question", "padding"],
                "verify_by": "read it",
            },
            {"text": "Clear", "category": "stretch", "anti_patterns": ["jargon", "walls", "lists", "more"]},
        ],
    }


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value inside a document (not the root)."""
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, child in items:
        yield (*prefix, key)
        yield from _paths(child, (*prefix, key))


def _set(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    changed = copy.deepcopy(document)
    target = changed
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return changed


def _delete(document: Any, path: tuple[Any, ...]) -> Any:
    changed = copy.deepcopy(document)
    target = changed
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    return changed


def corpus() -> Iterator[Any]:
    """The base document, every single change to it (each value replaced by odd values, each key dropped, an
    unknown key added to each object), lists of every length, and some pairs of changes."""
    base = base_document()
    yield base
    yield from ODD_VALUES
    singles = []
    for path in _paths(base):
        for value in ODD_VALUES:
            singles.append(_set(base, path, value))
        singles.append(_delete(base, path))
    for path in [(), *[p for p in _paths(base) if isinstance(_get(base, p), dict)]]:
        singles.append(_set(base, (*path, "extra"), "x") if path else {**base, "extra": "x"})
    for n in range(7):
        singles.append({**base, "criteria": [copy.deepcopy(base["criteria"][0]) for _ in range(n)]})
        singles.append(_set(base, ("criteria", 0, "anti_patterns"), [f"p{i}" for i in range(n)]))
    singles.append({"criteria": base["criteria"]})
    singles.append(base["criteria"])  # the bare list
    yield from singles
    for first, second in itertools.islice(itertools.combinations(singles[::7], 2), 3000):
        if isinstance(first, dict) and isinstance(second, dict):
            yield {**first, **second}


def _get(document: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        document = document[part]
    return document


def test_fast_path_never_accepts_what_jsonschema_rejects() -> None:
    schema = C.load_schema()
    validator = Draft202012Validator(schema)
    accepted = rejected = 0
    for document in corpus():
        if C._surely_valid(document, schema, schema):
            accepted += 1
            errors = list(validator.iter_errors(document))
            assert not errors, (json.dumps(document)[:300], [e.message for e in errors])
        else:
            rejected += 1
    assert accepted >= 10 and rejected >= 100  # both sides were exercised


@pytest.mark.parametrize(
    "document",
    [
        base_document(),
        {"criteria": [{"text": "t", "category": "standard", "anti_patterns": ["a", "b"]}]},
        {
            "aspiration": "x",
            "criteria": [{"text": "t", "category": "primary", "anti_patterns": ["a", "b"]}] * 7,
        },
    ],
)
def test_valid_documents_take_the_fast_path(document: dict[str, Any]) -> None:
    schema = C.load_schema()
    assert not list(Draft202012Validator(schema).iter_errors(document))
    assert C._surely_valid(document, schema, schema)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": ["object", "null"]},
        {"minLength": 1},
        {"patternProperties": {"^x": {}}, "additionalProperties": False, "properties": {}},
        {"$ref": "#/$defs/a~1b", "$defs": {"a~1b": {}}},
        {"properties": {"a": {"$id": "urn:other", "type": "string"}}},
        {"prefixItems": [{"type": "string"}], "items": {"type": "string"}},
        {"enum": "abc"},
        True,
    ],
)
def test_unknown_keywords_fall_back_to_jsonschema(schema: Any) -> None:
    root = schema if isinstance(schema, dict) else {}
    assert not C._surely_valid({"a": "x"}, schema, root)


def test_valid_file_is_checked_without_importing_jsonschema(tmp_path: Path) -> None:
    path = tmp_path / "criteria.json"
    path.write_text(json.dumps(base_document()), encoding="utf-8")
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from massgen_skill import criteria\n"
        f"report = criteria.load_criteria(Path({str(path)!r}))\n"
        "assert report.ok, report.errors\n"
        "assert 'jsonschema' not in sys.modules, 'jsonschema imported for a valid file'\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr

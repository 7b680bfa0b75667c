"""As lenient as massgen: every criteria file massgen 0.1.97 runs with passes our check (warnings at most),
and each criterion's category is read the way massgen reads it.

What massgen runs with (contract §6): a bare list, or an object whose `criteria` is a list (every other key
dropped); each item an object whose values are all strings, with a truthy `text` (else `description`, else
`name`); any category, or none. Two points where we stay stricter, on purpose: a list of no criteria, and a
text that is only blanks (massgen would run with an empty criterion).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from massgen_skill.prepare import criteria as C

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
NON_BLANK = TEXT.filter(lambda t: bool(t.strip()))
KNOWN = {"text", "description", "name", "category", "anti_patterns", "verify_by"}
EXTRA_KEYS = st.dictionaries(
    st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=10).filter(lambda k: k not in KNOWN),
    TEXT,
    max_size=2,
)


def massgen_reads(item: dict[str, str]) -> str:
    """massgen's own mapping (`criteria_from_inline`), restated from the contract."""
    raw = str(item.get("category", "standard")).strip().lower()
    if raw in ("must", "core"):
        return "standard"
    if raw == "primary":
        return "primary"
    if raw in ("could", "stretch"):
        return "stretch"
    return "standard"


@st.composite
def massgen_item(draw: st.DrawFn) -> dict[str, str]:
    item: dict[str, str] = {draw(st.sampled_from(["text", "description", "name"])): draw(NON_BLANK)}
    for key, value in (
        (
            "category",
            st.sampled_from(["primary", "standard", "stretch", "must", "core", "could", "should"]) | TEXT,
        ),
        ("anti_patterns", TEXT),
        ("verify_by", TEXT),
    ):
        if draw(st.booleans()):
            item[key] = draw(value)
    item.update(draw(EXTRA_KEYS))
    return item


@st.composite
def massgen_document(draw: st.DrawFn) -> Any:
    items = draw(st.lists(massgen_item(), min_size=1, max_size=8))
    if draw(st.booleans()):
        return items
    extras = draw(
        st.dictionaries(st.sampled_from(["aspiration", "notes", "id"]), TEXT | st.integers(), max_size=2)
    )
    return {**extras, "criteria": items}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=massgen_document())
def test_what_massgen_runs_with_passes_and_reads_the_same(tmp_path: Path, document: Any) -> None:
    path = tmp_path / "criteria.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    report = C.load_criteria(path)
    assert report.ok, [str(e) for e in report.errors]
    items = document if isinstance(document, list) else document["criteria"]
    assert [c.category for c in report.criteria] == [massgen_reads(item) for item in items]
    translated = C.translate(report)["criteria"]
    assert len(translated) == len(items)
    assert all(isinstance(value, str) for entry in translated for value in entry.values())
    assert [entry["category"] for entry in translated] == [massgen_reads(item) for item in items]

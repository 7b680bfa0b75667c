"""Media tasks in the labelled intent corpus: which media work a task asks for (`prepare/media.py`).

The corpus lines with a `media` field ("generate image", "understand audio", or null for a text task that
merely names media) were written before the rules were tried on them; their `part` was drawn once, by
`random.Random(20261130).sample(range(24), 8)`. Every other line is a text task: reading media into any of
them would make `run` demand media keys for an ordinary task.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from massgen_skill.prepare.media import read_media

CORPUS = Path(__file__).parent / "fixtures" / "intent_corpus.jsonl"
TARGET = 0.95


def _rows(part: str) -> list[tuple[str, str | None]]:
    rows = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(r["task"], r.get("media")) for r in rows if r["part"] == part]


def _read(task: str) -> str | None:
    reading = read_media(task)
    return f"{reading.need.purpose} {reading.need.kind}" if reading else None


def test_the_media_lines_cover_every_kind_and_both_purposes() -> None:
    labels = {label for part in ("tune", "held-out") for _, label in _rows(part) if label}
    kinds = {label.split()[1] for label in labels}
    assert kinds == {"image", "video", "audio"}
    assert {label.split()[0] for label in labels} == {"generate", "understand"}


@pytest.mark.parametrize("part", ["tune", "held-out"])
def test_media_reading_meets_the_target(part: str, capsys: pytest.CaptureFixture[str]) -> None:
    rows = _rows(part)
    wrong = [(task, label, _read(task)) for task, label in rows if _read(task) != label]
    media_rows = [row for row in rows if row[1]]
    with capsys.disabled():
        print(f"\n[media intent] {part}: n={len(rows)} ({len(media_rows)} media), wrong {len(wrong)}")
    shown = "" if part == "held-out" else f"; wrong: {wrong}"
    assert 1 - len(wrong) / len(rows) >= TARGET, f"{len(wrong)} wrong{shown}"
    # A text task read as media is refused without media keys: none of those on the tuning part.
    assert not [w for w in wrong if w[1] is None], shown


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        ("Generate an image of a fox", "generate image"),
        ("An image of a lighthouse in a storm", "generate image"),
        ("Please make two pictures of a robot, one red and one blue", "generate image"),
        ("Convert notes.txt into an mp3 narration", "generate audio"),
        ("What is in photo.jpg?", "understand image"),
        ("Transcribe the meeting", "understand audio"),
        ("Draw up a plan for the migration", None),
        ("Draw a diagram of the request flow", None),
        ("Add a photo to the README", None),
        ("Create a video tutorial script", None),
        ("Write a speech for the retirement party", None),
    ],
)
def test_media_reading_rules(task: str, expected: str | None) -> None:
    assert _read(task) == expected


def test_the_reason_quotes_the_request_bounded() -> None:
    reading = read_media("Generate an image of " + "a very long subject " * 50)
    assert reading is not None
    assert reading.reason.startswith("media image generation: the task asks to 'generate an image'")
    assert len(reading.reason) < 200

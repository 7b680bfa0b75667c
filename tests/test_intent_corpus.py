"""The labelled corpus: how often auto chooses as a careful reader would, on both parts.

`tests/fixtures/intent_corpus.jsonl`: one task a line with its acceptable modes and project-access levels.
Its `part` field was drawn once, before the rules were changed: a third of the lines, by
`random.Random(20261129).sample(range(216), 72)`, are `held-out` and were never used to tune the rules;
the rest are `tune`. The 24 lines with a `media` field came later, with their own draw (test_media_intent.py).
Both parts must meet the targets of issue 12.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from massgen_skill.prepare.intent import REVIEWLESS_MODES, Request, decide

CORPUS = Path(__file__).parent / "fixtures" / "intent_corpus.jsonl"
PARTS = ("tune", "held-out")
MODE_TARGET = 0.95
ACCESS_TARGET = 0.92


@dataclass(frozen=True)
class Labelled:
    task: str
    modes: tuple[str, ...]
    access: tuple[str, ...]
    part: str


@dataclass(frozen=True)
class Figures:
    size: int
    mode_right: int
    access_right: int
    unasked_rw: tuple[str, ...]  # rw where the task did not ask for a change
    unconfirmed: tuple[str, ...]  # review-less rw runs auto would launch on its own
    wrong: tuple[str, ...]

    def line(self, part: str) -> str:
        return (
            f"{part}: n={self.size}, mode {self.mode_right / self.size:.1%}, "
            f"access {self.access_right / self.size:.1%}, unasked rw {len(self.unasked_rw)}, "
            f"unconfirmed review-less rw {len(self.unconfirmed)}"
        )


def load(part: str) -> list[Labelled]:
    rows = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = [Labelled(r["task"], tuple(r["modes"]), tuple(r["access"]), r["part"]) for r in rows]
    return [item for item in items if item.part == part]


def figures(items: list[Labelled]) -> Figures:
    mode_right = access_right = 0
    unasked: list[str] = []
    unconfirmed: list[str] = []
    wrong: list[str] = []
    for item in items:
        d = decide(Request(item.task))
        mode_right += d.mode in item.modes
        access_right += d.cwd_context in item.access
        if d.cwd_context == "rw" and "rw" not in item.access:
            unasked.append(item.task)
        if d.cwd_context == "rw" and d.mode in REVIEWLESS_MODES and not d.needs_confirmation:
            unconfirmed.append(item.task)
        if d.mode not in item.modes or d.cwd_context not in item.access:
            wrong.append(f"{item.task!r} -> {d.mode}/{d.cwd_context}")
    return Figures(len(items), mode_right, access_right, tuple(unasked), tuple(unconfirmed), tuple(wrong))


def test_the_corpus_is_large_and_split_once() -> None:
    tune, held_out = load("tune"), load("held-out")
    assert len(tune) + len(held_out) >= 200
    assert len(held_out) == (len(tune) + len(held_out)) // 3
    labels = [*tune, *held_out]
    assert len({item.task for item in labels}) == len(labels)  # no duplicates across the parts
    assert all(item.modes and item.access for item in labels)


@pytest.mark.parametrize("part", PARTS)
def test_corpus_targets(part: str, capsys: pytest.CaptureFixture[str]) -> None:
    result = figures(load(part))
    with capsys.disabled():
        print(f"\n[intent corpus] {result.line(part)}")
    # The held-out part's wrong tasks stay unprinted: reading them would turn them into tuning data.
    shown = "" if part == "held-out" else "; wrong: " + " | ".join(result.wrong)
    assert result.mode_right / result.size >= MODE_TARGET, result.line(part) + shown
    assert result.access_right / result.size >= ACCESS_TARGET, result.line(part) + shown
    assert not result.unasked_rw, result.line(part) + shown
    assert not result.unconfirmed, result.line(part)

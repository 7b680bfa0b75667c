"""Markdown building blocks for the report: table cells, tables, money and durations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from massgen_skill.output import one_line


def cell(value: Any, limit: int = 120) -> str:
    """One table cell: a single bounded line with `|` escaped; `–` for nothing."""
    if value is None or value == "":
        return "–"
    return one_line(str(value), limit).replace("|", "\\|")


def money(value: float) -> str:
    return f"${value:.2f}" if value >= 1 else f"${value:.4f}"


def secs(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} s" if value >= 10 else f"{value:.2f} s"


@dataclass
class Raw:
    """A table cell that is already Markdown (not escaped)."""

    text: str


def table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += [
        "| " + " | ".join(cell(c) if not isinstance(c, Raw) else c.text for c in row) + " |" for row in rows
    ]
    return lines

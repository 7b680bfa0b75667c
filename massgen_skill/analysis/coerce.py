"""Safe accessors for values read from massgen's files: any field may be absent or of the wrong type.

Each returns the value when it has the expected type and a neutral value otherwise, so the analysis never
trips over a damaged or unexpected file.
"""

from __future__ import annotations

from typing import Any


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str | None:
    """A string, or a number as text; None for anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    return None


def as_int(value: Any) -> int:
    """A number truncated to int; 0 when there is none."""
    number = as_float(value)
    return int(number) if number is not None else 0


def as_int_or_none(value: Any) -> int | None:
    """A number truncated to int; None when there is none."""
    return as_int(value) if as_float(value) is not None else None


def as_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None

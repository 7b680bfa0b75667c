"""Fixtures of the robustness suite (helpers: robust_util.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from robust_util import Project, make_project


@pytest.fixture
def scratch_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """A scratch project as the current directory, PATH without massgen, HOME a temp dir."""
    return make_project(tmp_path, monkeypatch)

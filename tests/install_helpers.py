"""What the installer tests share: the CLI's JSON answer (the `places` fixture is in conftest.py)."""

from __future__ import annotations

import json

import pytest

from massgen_skill.cli import main


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main([*args, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}

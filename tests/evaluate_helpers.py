"""Shared by the structured-evaluation and loop tests: a config whose agents have workspaces, criteria."""

from __future__ import annotations

import json
from pathlib import Path

WORKSPACE_CONFIG = """\
agents:
  - id: agent_a
    backend: {type: chatcompletion, model: fake-a, cwd: workspace_a}
  - id: agent_b
    backend: {type: chatcompletion, model: fake-b, cwd: workspace_b}
timeout_settings:
  orchestrator_timeout_seconds: 240
"""

CRITERIA = {
    "aspiration": "A function a reviewer would merge as is.",
    "criteria": [
        {
            "text": "It handles every input it can be given.",
            "category": "primary",
            "anti_patterns": ["crashing on empty input", "silently wrong results"],
        },
        {
            "text": "It is readable.",
            "category": "standard",
            "anti_patterns": ["one-letter names", "dead code"],
        },
    ],
}


def with_workspaces(project: Path) -> Path:
    """Overwrite the project's massgen config with one whose agents can write files."""
    path = project / ".massgen" / "config.yaml"
    path.write_text(WORKSPACE_CONFIG, encoding="utf-8")
    return path


def criteria_file(folder: Path) -> Path:
    path = folder / "criteria.json"
    path.write_text(json.dumps(CRITERIA), encoding="utf-8")
    return path

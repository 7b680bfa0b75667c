"""massgen-skill: hand a task to a MassGen team of AI agents in one step, and get the result back safely."""

from pathlib import Path

__version__ = "0.1.0"

PACKAGE_DIR = Path(__file__).resolve().parent
"""The package folder; its parent holds SKILL.md and scripts/ in a checkout or an installed skill."""

"""SKILL.md as the Agent Skills reference validator sees it, plus the limits and links the spec asks for."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from runtools import ROOT, copy_bundle

from massgen_skill.prepare.intent import CWD_CONTEXTS, MODES, REVIEWLESS_MODES

SKILL_MD = ROOT / "SKILL.md"
# PyPI `skills-ref` 0.1.x installs the reference validator as `agentskills`; `skills-ref` is a fallback name.
VALIDATOR = shutil.which("agentskills") or shutil.which("skills-ref")


def split_frontmatter(text: str) -> tuple[str, str]:
    match = re.match(r"^---\n(.*?)\n---\n(.*)$", text, re.S)
    assert match, "SKILL.md must start with a --- frontmatter block"
    return match.group(1), match.group(2)


@pytest.mark.skipif(VALIDATOR is None, reason="Agent Skills validator not installed (pip install skills-ref)")
def test_reference_validator_accepts_the_bundle(tmp_path: Path) -> None:
    skill = copy_bundle(tmp_path)
    result = subprocess.run(
        [str(VALIDATOR), "validate", str(skill)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Valid skill" in result.stdout


@pytest.mark.skipif(VALIDATOR is None, reason="Agent Skills validator not installed (pip install skills-ref)")
def test_reference_validator_rejects_a_wrongly_named_folder(tmp_path: Path) -> None:
    """The validator is really checking: the same SKILL.md in a folder with another name fails."""
    other = tmp_path / "not-massgen"
    other.mkdir()
    shutil.copy2(SKILL_MD, other / "SKILL.md")
    result = subprocess.run(
        [str(VALIDATOR), "validate", str(other)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0


def test_frontmatter_fields() -> None:
    front, _ = split_frontmatter(SKILL_MD.read_text(encoding="utf-8"))
    fields = dict(re.findall(r"^([a-z_]+):\s*(.*)$", front, re.M))
    assert fields["name"] == "massgen"
    description = fields["description"].strip('"')
    assert 0 < len(description) <= 1024
    assert "Use when" in description  # says when to pick the skill, not only what it does


def test_body_is_at_most_500_lines() -> None:
    _, body = split_frontmatter(SKILL_MD.read_text(encoding="utf-8"))
    assert len(body.splitlines()) <= 500


def referenced_paths() -> list[str]:
    text = SKILL_MD.read_text(encoding="utf-8")
    return sorted(set(re.findall(r"(?<![\w.-])((?:scripts|references)/[\w.-]+(?:/[\w.-]+)*)", text)))


def test_skill_md_names_some_paths() -> None:
    paths = referenced_paths()
    assert "scripts/massgen_run.sh" in paths and "scripts/massgen_skill.sh" in paths


@pytest.mark.parametrize("relative", referenced_paths())
def test_every_named_path_exists(relative: str) -> None:
    assert (ROOT / relative).exists(), f"SKILL.md names {relative}, which is not in the bundle"


def test_tells_the_host_agent_to_choose_mode_and_access() -> None:
    """Issue 12: the host agent passes --mode and --cwd-context when its user's wish is clear; auto is a
    fallback; review-less write access needs the user's confirmation."""
    _, body = split_frontmatter(SKILL_MD.read_text(encoding="utf-8"))
    lines = body.splitlines()
    for mode in MODES:
        assert any(f"`--mode {mode}" in line for line in lines), mode
    for context in CWD_CONTEXTS:
        assert f"--cwd-context {context}" in body or f"`{context}`" in body, context
    for mode in REVIEWLESS_MODES:  # the row that names it also asks for rw explicitly
        assert any(f"--mode {mode}" in line and "--cwd-context rw" in line for line in lines), mode
    assert "fallback" in body and "--dry-run --json" in body
    assert "exits 2" in body and "confirms" in body

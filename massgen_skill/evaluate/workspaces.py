"""A structured evaluation needs the winner to write files: every agent needs a workspace (`cwd:` in its
backend). Checked before launch, so a run that could only fail to deliver is refused with the fix."""

from __future__ import annotations

from massgen_skill.evaluate.artefacts import VERDICT_FILE
from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen.config import ConfigChoice
from massgen_skill.prepare.checks import config_backends

GUIDE = "references/evaluate.md"
EXAMPLE_HOW = "example"  # massgen's own `@examples/…` configs: not readable here, massgen resolves them


def require_workspaces(config: ConfigChoice | None) -> None:
    """Raise (ENV_NOT_READY) when an agent of the config has no workspace; an unreadable config is left to
    massgen's own validation."""
    if config is None or config.how == EXAMPLE_HOW:
        return
    backends = config_backends(config.path)
    if not backends:
        return
    without = sum(1 for backend in backends if not backend.get("cwd"))
    if without:
        raise SkillError(
            f"--structured: {without} of {len(backends)} agents in {config.path} have no workspace, so they "
            f"cannot write {VERDICT_FILE}; add `cwd: workspace_<n>` to each agent's backend (see {GUIDE})",
            ExitCode.ENV_NOT_READY,
        )

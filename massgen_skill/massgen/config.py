"""Which massgen config a run will use (contract §8), and which API-key variables are set (names only)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen.media import MEDIA_KEY_NAMES

PROJECT_CONFIG = Path(".massgen") / "config.yaml"
USER_CONFIG = Path(".config") / "massgen" / "config.yaml"
USER_AGENTS_DIR = Path(".config") / "massgen" / "agents"
SETUP_GUIDE = "references/config_setup.md"

# Which key each massgen 0.1.97 backend reads (the `Auth` column of `massgen --list-backends`).
# Backends missing here need no key (local servers, copilot). Any one name of a tuple is enough.
BACKEND_KEYS: dict[str, tuple[str, ...]] = {
    "antigravity_cli": ("GEMINI_API_KEY",),
    "azure_openai": ("AZURE_OPENAI_API_KEY",),
    "cerebras": ("CEREBRAS_API_KEY",),
    "claude": ("ANTHROPIC_API_KEY",),
    "claude_code": ("ANTHROPIC_API_KEY",),
    "codex": ("OPENAI_API_KEY",),
    "fireworks": ("FIREWORKS_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "gemini_cli": ("GOOGLE_API_KEY", "GEMINI_API_KEY"),
    "grok": ("XAI_API_KEY",),
    "groq": ("GROQ_API_KEY",),
    "moonshot": ("MOONSHOT_API_KEY",),
    "nebius": ("NEBIUS_API_KEY",),
    "nvidia_nim": ("NGC_API_KEY",),
    "openai": ("OPENAI_API_KEY",),
    "openrouter": ("OPENROUTER_API_KEY",),
    "poe": ("POE_API_KEY",),
    "qwen": ("QWEN_API_KEY",),
    "uitars": ("UI_TARS_API_KEY",),
    "zai": ("ZAI_API_KEY",),
}
# Key variables some backends read through their provider's SDK, beyond the `Auth` column above.
_SDK_KEY_NAMES = ("TOGETHER_API_KEY", "NVIDIA_API_KEY")
# Every key variable massgen-skill looks for (the media tools' too: ElevenLabs). Only names are ever shown.
API_KEY_NAMES = tuple(
    dict.fromkeys(n for names in (*BACKEND_KEYS.values(), _SDK_KEY_NAMES, MEDIA_KEY_NAMES) for n in names)
)


@dataclass(frozen=True)
class ConfigChoice:
    path: str  # what is passed to massgen (a path, or an `@examples/…` name)
    how: str  # flag | project | user | example


def _home(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME") or Path.home())


def find_config(explicit: str | None, cwd: Path, env: Mapping[str, str] | None = None) -> ConfigChoice:
    """The config massgen would load, checked before launch (massgen would fail after ~15 s)."""
    env = os.environ if env is None else env
    home = _home(env)
    if explicit:
        if explicit.startswith("@examples/"):
            return ConfigChoice(explicit, "example")
        candidates = [
            Path(explicit).expanduser(),
            home / USER_AGENTS_DIR / explicit,
            home / USER_AGENTS_DIR / f"{explicit}.yaml",
        ]
        for candidate in candidates:
            full = candidate if candidate.is_absolute() else cwd / candidate
            if full.is_file():
                return ConfigChoice(str(full), "flag")
        raise SkillError(
            f"--config {explicit!r}: no such file (also looked in ~/{USER_AGENTS_DIR}/); see {SETUP_GUIDE}",
            ExitCode.ENV_NOT_READY,
        )
    for path, how in ((cwd / PROJECT_CONFIG, "project"), (home / USER_CONFIG, "user")):
        if path.is_file():
            return ConfigChoice(str(path), how)
    raise SkillError(
        f"no massgen config: none given with --config, no ./{PROJECT_CONFIG}, no ~/{USER_CONFIG}; "
        f"run `massgen-skill setup` or see {SETUP_GUIDE}",
        ExitCode.ENV_NOT_READY,
    )


_MIN_SECRET = 8  # shorter values are placeholders ("none", "x"): scrubbing them would garble ordinary text


def secret_values(env: Mapping[str, str] | None = None) -> list[str]:
    """Values to scrub from anything we log: those of the API-key variables massgen's backends read
    (API_KEY_NAMES), longest first. Never a variable picked by its name alone: `SSH_KEY_DIR=/home/me`
    would turn every path below /home/me into `***`."""
    env = os.environ if env is None else env
    values = {env[name] for name in API_KEY_NAMES if len(env.get(name) or "") >= _MIN_SECRET}
    return sorted(values, key=len, reverse=True)

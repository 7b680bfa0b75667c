"""Test-side handle on the fake `massgen`, used by tests/conftest.py (import it from here, not conftest)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parents[1]
FAKE_BIN_DIR = TESTS_DIR / "fake_massgen" / "bin"

# Inherited variables that would make the fake (or what drives it) depend on the developer's machine.
_SCRUBBED_PREFIXES = ("FAKE_MASSGEN_",)
_SCRUBBED_NAMES = (
    "MASSGEN_LOG_BASE_DIR",
    "MASSGEN_RUNTIME_INBOX_DIR",
    "CLAUDECODE",
    "PYTHONUNBUFFERED",
    "HF_TOKEN",
)

MINIMAL_CONFIG = """\
# written by the fake_massgen fixture
agents:
{agents}
timeout_settings:
  orchestrator_timeout_seconds: 240
ui:
  display_type: textual_terminal
  logging_enabled: true
"""


@dataclass
class FakeMassgen:
    """Handle on the fake `massgen`: put `bin_dir` first on PATH via `env()`, read what it was called with."""

    bin_dir: Path
    home: Path
    argv_log: Path

    @property
    def executable(self) -> Path:
        return self.bin_dir / "massgen"

    def env(self, **knobs: object) -> dict[str, str]:
        """os.environ copy: bin_dir first on PATH, HOME = a temp dir, FAKE_MASSGEN_ARGV_LOG set; *_API_KEY,
        CLAUDECODE, PYTHONUNBUFFERED and FAKE_MASSGEN_*/MASSGEN_* leftovers removed (so what the code under
        test sets is what the fake sees), then each knob as FAKE_MASSGEN_<NAME>
        (`scenario="hang"` -> FAKE_MASSGEN_SCENARIO=hang; None drops the variable)."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(_SCRUBBED_PREFIXES)
            and k not in _SCRUBBED_NAMES
            and not k.endswith("_API_KEY")
        }
        env["PATH"] = os.pathsep.join([str(self.bin_dir), env.get("PATH", "")])
        env["HOME"] = str(self.home)
        env["FAKE_MASSGEN_ARGV_LOG"] = str(self.argv_log)
        for name, value in knobs.items():
            key = name.upper()
            key = key if key.startswith("FAKE_MASSGEN_") else f"FAKE_MASSGEN_{key}"
            if value is None:
                env.pop(key, None)
            else:
                env[key] = str(value)
        return env

    def read_argv_log(self) -> list[dict]:
        """One dict per call: argv, cwd, pid, pgid, sigint_ignored, env (CLAUDECODE, PYTHONUNBUFFERED)."""
        if not self.argv_log.exists():
            return []
        return [json.loads(line) for line in self.argv_log.read_text(encoding="utf-8").splitlines() if line]

    def write_config(
        self, project_dir: Path, agents: Iterable[str] = ("agent_a", "agent_b", "agent_c")
    ) -> Path:
        """A minimal `<project_dir>/.massgen/config.yaml` (chatcompletion agents; the fake ignores models)."""
        lines = []
        for aid in agents:
            model = "fake-" + aid.split("_", 1)[-1]
            lines += [
                f"  - id: {aid}",
                "    backend:",
                "      type: chatcompletion",
                f"      model: {model}",
                "      base_url: ${FAKE_LLM_BASE_URL}",
            ]
        path = project_dir / ".massgen" / "config.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(MINIMAL_CONFIG.format(agents="\n".join(lines)), encoding="utf-8")
        return path

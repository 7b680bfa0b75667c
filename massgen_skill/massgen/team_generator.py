"""Run by massgen's own interpreter (`python -I`), never imported by massgen-skill: one massgen config for a
team given agent by agent, built by massgen's own generator — the one behind `massgen --quickstart --headless
--quickstart-agent …` (`ConfigBuilder._generate_quickstart_config`), without the quickstart's side effects
(Docker probing, skills install, .env templates). Local mode (no Docker); no context paths (`--cwd-context`).

argv[1]: JSON list of {"backend", "model", "id", "reasoning_effort"} (model/id/effort may be null).
stdout: the config as YAML. Exit 2 with one line on stderr when a spec cannot be resolved.
"""

import json
import sys

import yaml
from massgen.config_builder import ConfigBuilder


def agents_config(builder: ConfigBuilder, specs: list[dict]) -> list[dict]:
    """The quickstart's own resolution of a spec: provider type, default model, `agent_<letter>` ids."""
    agents = []
    for index, spec in enumerate(specs):
        backend = spec["backend"]
        if backend not in builder.PROVIDERS:
            raise ValueError(
                f"backend={backend}: massgen has none by that name; one of: {', '.join(builder.PROVIDERS)}"
            )
        provider = builder.PROVIDERS[backend]
        model = spec.get("model") or builder._resolve_default_model(backend)
        if not model:
            raise ValueError(f"backend={backend}: massgen has no default model for it; give model=…")
        agents.append(
            {
                "id": spec.get("id") or f"agent_{chr(ord('a') + index)}",
                "type": str(provider.get("type", backend)),
                "model": model,
                "reasoning_effort": spec.get("reasoning_effort"),
            }
        )
    return agents


def main() -> int:
    builder = ConfigBuilder()
    try:
        agents = agents_config(builder, json.loads(sys.argv[1]))
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    config = builder._generate_quickstart_config(agents, use_docker=False)
    yaml.dump(config, sys.stdout, default_flow_style=False, sort_keys=False, allow_unicode=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""One agent of a team as `backend=X,model=Y[,id=…]` — the syntax of massgen's `--quickstart-agent`, used by
`setup --agent` and `run --team`."""

from __future__ import annotations

from dataclasses import dataclass

# Fields massgen 0.1.97 accepts in one `--quickstart-agent` value (`_parse_quickstart_agent_specs`).
AGENT_SPEC_FIELDS = ("id", "backend", "type", "model", "reasoning_effort")


def parse_agent_spec(value: str) -> dict[str, str]:
    """`backend=X,model=Y[,id=…]` -> fields; ValueError with the reason (massgen would reject it too)."""
    spec: dict[str, str] = {}
    for item in value.split(","):
        key, sep, val = item.partition("=")
        key, val = key.strip(), val.strip()
        if not sep or not key or not val:
            raise ValueError(f"{value!r}: expected key=value pairs, e.g. backend=openai,model=gpt-5.4")
        if key not in AGENT_SPEC_FIELDS:
            raise ValueError(f"{value!r}: unknown field {key!r} (allowed: {', '.join(AGENT_SPEC_FIELDS)})")
        spec[key] = val
    if not (spec.get("backend") or spec.get("type")):
        raise ValueError(f"{value!r}: backend=<type> is required (see `massgen --list-backends`)")
    return spec


@dataclass(frozen=True)
class AgentSpec:
    backend: str
    model: str | None = None  # None: massgen's default model for the backend
    id: str | None = None  # None: massgen's `agent_<letter>`
    reasoning_effort: str | None = None

    @classmethod
    def parse(cls, value: str) -> AgentSpec:
        spec = parse_agent_spec(value)
        backend = spec.get("backend") or spec["type"]
        return cls(backend, spec.get("model"), spec.get("id"), spec.get("reasoning_effort"))

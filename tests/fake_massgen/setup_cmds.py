"""Setup and inspection commands: --list-backends, --quickstart --headless, --validate (no log dirs)."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fake_massgen.cli import EXIT_CONFIG, EXIT_OK, out


@dataclass(frozen=True)
class Backend:
    type: str
    provider: str
    default_model: str
    auth: str  # env var name, or a description when no key is needed
    capabilities: str
    models: tuple[str, ...]

    @property
    def env_key(self) -> str | None:
        return self.auth if self.auth.endswith("_API_KEY") else None


# 28 types, as listed by the real CLI. Provider/model/capability cells are the fake's own stand-ins.
# type | provider | default model | auth | key capabilities | models
_BACKEND_TABLE = """
ag2 | AG2 | gpt-4o | OPENAI_API_KEY | code execution, group chat | gpt-4o, gpt-4o-mini
antigravity_cli | Antigravity CLI | gemini-3-pro | CLI login | filesystem, MCP | gemini-3-pro
azure_openai | Azure OpenAI | gpt-4.1 | AZURE_OPENAI_API_KEY | web search, code | gpt-4.1, gpt-4o
cerebras | Cerebras | llama-3.3-70b | CEREBRAS_API_KEY | fast inference | llama-3.3-70b, qwen-3-32b
chatcompletion | OpenAI-compatible | (any) | OPENAI_API_KEY | base_url, MCP | any
claude | Anthropic | claude-sonnet-4-5 | ANTHROPIC_API_KEY | web search, code, MCP | claude-sonnet-4-5, \
claude-opus-4-1, claude-haiku-4-5
claude_code | Claude Code | claude-sonnet-4-5 | ANTHROPIC_API_KEY | filesystem, MCP, tools | \
claude-sonnet-4-5, claude-opus-4-1
codex | OpenAI Codex CLI | gpt-5-codex | CLI login | filesystem, shell | gpt-5-codex, gpt-5
copilot | GitHub Copilot | gpt-4.1 | GitHub login | filesystem, MCP | gpt-4.1, claude-sonnet-4
fireworks | Fireworks AI | kimi-k2-instruct | FIREWORKS_API_KEY | open models | kimi-k2-instruct, \
deepseek-v3, qwen3-235b
gemini | Google | gemini-2.5-flash | GEMINI_API_KEY | web search, code execution, MCP | gemini-2.5-flash, \
gemini-2.5-pro, gemini-2.5-flash-lite, gemini-3-pro
gemini_cli | Gemini CLI | gemini-2.5-pro | CLI login | filesystem, shell | gemini-2.5-pro
grok | xAI | grok-4 | XAI_API_KEY | live search, MCP | grok-4, grok-4-fast, grok-3-mini
groq | Groq | llama-3.3-70b-versatile | GROQ_API_KEY | fast inference | llama-3.3-70b-versatile, \
openai/gpt-oss-120b
inference | HF Inference | meta-llama/Llama-3.3-70B | HF_TOKEN | open models | meta-llama/Llama-3.3-70B
lmstudio | LM Studio | (local model) | none (local) | local models | any local model
moonshot | Moonshot AI | kimi-k2 | MOONSHOT_API_KEY | long context | kimi-k2, moonshot-v1-128k
nebius | Nebius AI Studio | Qwen3-235B | NEBIUS_API_KEY | open models | Qwen3-235B, DeepSeek-V3
nvidia_nim | NVIDIA NIM | llama-3.1-nemotron-70b | NGC_API_KEY | open models | llama-3.1-nemotron-70b
openai | OpenAI | gpt-5-mini | OPENAI_API_KEY | web search, code interpreter, MCP | gpt-5-mini, gpt-5, \
gpt-5-nano, gpt-4.1, gpt-4o, o4-mini
openrouter | OpenRouter | openai/gpt-5-mini | OPENROUTER_API_KEY | many providers | openai/gpt-5-mini, \
anthropic/claude-sonnet-4.5, google/gemini-2.5-pro
poe | Poe | GPT-4o | POE_API_KEY | many providers | GPT-4o, Claude-Sonnet-4
qwen | Alibaba Qwen | qwen-max | QWEN_API_KEY | web search | qwen-max, qwen-plus, qwen3-coder
sglang | SGLang | (local model) | none (local) | local models | any local model
together | Together AI | Llama-3.3-70B-Instruct-Turbo | TOGETHER_API_KEY | open models | \
Llama-3.3-70B-Instruct-Turbo, DeepSeek-V3
uitars | UI-TARS | ui-tars-1.5-7b | UITARS_API_KEY | computer use | ui-tars-1.5-7b
vllm | vLLM | (local model) | none (local) | local models | any local model
zai | Z.ai | glm-4.5 | ZAI_API_KEY | reasoning | glm-4.5, glm-4.5-air
"""


def _parse_backends(table: str) -> tuple[Backend, ...]:
    rows = []
    for line in table.strip().splitlines():  # a trailing backslash continues a row
        kind, provider, model, auth, caps, models = (cell.strip() for cell in line.split("|"))
        rows.append(Backend(kind, provider, model, auth, caps, tuple(m.strip() for m in models.split(","))))
    return tuple(rows)


BACKENDS = _parse_backends(_BACKEND_TABLE)

QUICKSTART_KEYS = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "XAI_API_KEY",
    "OPENROUTER_API_KEY",
    "GROQ_API_KEY",
    "CEREBRAS_API_KEY",
    "TOGETHER_API_KEY",
    "ZAI_API_KEY",
)
PREFERRED = ("openai", "claude", "gemini", "grok", "openrouter", "groq", "cerebras", "together", "zai")
RULE = "-" * 110


def list_backends() -> int:
    out(RULE)
    out("MASSGEN SUPPORTED BACKENDS")
    out(RULE)
    widths = (18, 18, 28, 22)
    out(f"{'Backend Type':<18}{'Provider':<18}{'Default Model':<28}{'Auth':<22}Key Capabilities")
    out(RULE)
    for b in BACKENDS:
        cells = (b.type, b.provider, b.default_model, b.auth)
        # Fixed widths, no separator: a long cell runs straight into the next column.
        out("".join(f"{c:<{w}}" for c, w in zip(cells, widths, strict=True)) + b.capabilities)
    out("")
    out("MODELS PER BACKEND")
    out(RULE)
    for b in BACKENDS:
        shown, rest = b.models[:3], len(b.models) - 3
        more = f" (+{rest} more)" if rest > 0 else ""
        out(f"  {b.type}: {', '.join(shown)}{more}")
    out("")
    out('Usage: massgen --backend <type> --model <model> "your question"')
    out('       massgen --config <file.yaml> "your question"')
    return EXIT_OK


def _backend(name: str) -> Backend | None:
    return next((b for b in BACKENDS if b.type == name), None)


def _parse_agent_spec(spec: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for part in spec.split(","):
        key, sep, value = part.partition("=")
        if sep:
            result[key.strip()] = value.strip()
    return result


def quickstart(args: Any) -> int:
    """Headless quickstart (also what a non-TTY --quickstart does). No network side effects in the fake."""
    available = {k: bool(os.environ.get(k)) for k in QUICKSTART_KEYS}
    selected: list[tuple[str, str]] = []
    steps: list[str] = []
    for spec in args.quickstart_agents or []:
        fields = _parse_agent_spec(spec)
        backend = fields.get("backend", "")
        b = _backend(backend)
        if b is None:
            steps.append(
                f"Unknown backend '{backend}' in --quickstart-agent {spec!r} (see massgen --list-backends)"
            )
            continue
        selected.append((backend, fields.get("model") or b.default_model))
    if not args.quickstart_agents:
        for name in PREFERRED:
            b = _backend(name)
            if b is not None and b.env_key and available.get(b.env_key):
                selected.append((b.type, b.default_model))
                break
    for backend, _ in selected:
        b = _backend(backend)
        if b is not None and b.env_key and not os.environ.get(b.env_key):
            steps.append(f"Set {b.env_key} in your environment or .env")
    if not selected and not steps:
        steps.append("Set an API key (e.g. OPENAI_API_KEY) in your environment or .env")
        steps.append("Then run: massgen --quickstart --headless")

    out("=" * 60)
    out("MASSGEN HEADLESS QUICKSTART")
    out("=" * 60)
    out("API Keys:")
    for key, ok in available.items():
        out(f"  {key}: {'available' if ok else 'not set'}")
    if not selected:
        out("Selected: none")
    elif len(selected) == 1:
        out(f"Selected: {selected[0][0]} / {selected[0][1]}")
    else:
        out("Selected:")
        for backend, model in selected:
            out(f"  - {backend} / {model}")
    config_path: Path | None = None
    if selected:
        config_path = Path(args.config).expanduser() if args.config else Path(".massgen") / "config.yaml"
        config_path.parent.mkdir(parents=True, exist_ok=True)
        config_path.write_text(_config_yaml(selected), encoding="utf-8")
        out(f"Config: {os.path.abspath(config_path)}")
    else:
        template = Path(".env.example")
        template.write_text("".join(f"# {k}=\n" for k in QUICKSTART_KEYS), encoding="utf-8")
        out(f"Env template: {os.path.abspath(template)}")
    out("Docker: skipped (fake massgen)")
    out("Skills: skipped (fake massgen)")
    if selected and not steps:
        out("STATUS: SUCCESS")
        out(f'  Run: massgen --config {os.path.abspath(config_path or "")} "your question"')
    else:
        out("STATUS: NEEDS_CONFIG")
        for step in steps:
            out(f"  -> {step}")
    return EXIT_OK


def _config_yaml(selected: list[tuple[str, str]]) -> str:
    lines = ["agents:"]
    for i, (backend, model) in enumerate(selected):
        lines += [
            f"  - id: agent_{chr(ord('a') + i)}",
            "    backend:",
            f"      type: {backend}",
            f"      model: {model}",
        ]
    lines += ["ui:", "  display_type: rich_terminal", "  logging_enabled: true"]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------- --validate


def _issue(message: str, location: str, suggestion: str) -> dict[str, str]:
    return {"message": message, "location": location, "suggestion": suggestion}


CATEGORIES = {"primary", "standard", "stretch", "must", "should", "could"}


def _check_inline_criteria(node: Any, where: str, errors: list[dict[str, str]]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            loc = f"{where}.{key}" if where else str(key)
            if key == "checklist_criteria_inline" and isinstance(value, list):
                for i, item in enumerate(value):
                    iloc = f"{loc}[{i}]"
                    if not isinstance(item, dict) or not item.get("text"):
                        errors.append(_issue("Criterion is missing 'text'", iloc, "Add a 'text' string"))
                        continue
                    if item.get("category") not in CATEGORIES:
                        errors.append(
                            _issue(
                                f"Invalid or missing category: {item.get('category')!r}",
                                f"{iloc}.category",
                                f"Use one of: {', '.join(sorted(CATEGORIES))}",
                            )
                        )
            else:
                _check_inline_criteria(value, loc, errors)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            _check_inline_criteria(item, f"{where}[{i}]", errors)


def _load_yaml(text: str) -> tuple[Any, str | None]:
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:
        keys = {m.group(1): True for m in re.finditer(r"^([A-Za-z_][\w-]*)\s*:", text, re.MULTILINE)}
        return (keys or None), None
    try:
        return yaml.safe_load(text), None
    except yaml.YAMLError as exc:
        return None, str(exc).replace("\n", " ")


def validate(file_arg: str, *, strict: bool, as_json: bool) -> int:
    errors: list[dict[str, str]] = []
    warnings: list[dict[str, str]] = []
    path = Path(file_arg).expanduser()
    if not path.is_file():
        errors.append(_issue(f"Configuration file not found: {file_arg}", "file", "Check the path"))
    else:
        data, problem = _load_yaml(path.read_text(encoding="utf-8", errors="replace"))
        if problem:
            errors.append(_issue(f"Invalid YAML: {problem}", "file", "Fix the YAML syntax"))
        elif not isinstance(data, dict):
            errors.append(
                _issue("Configuration must be a mapping", "root", "Start with 'agents:' or 'agent:'")
            )
        elif "agents" not in data and "agent" not in data:
            errors.append(
                _issue(
                    "Configuration must define 'agents' or 'agent'", "root", "Add an 'agents:' list of agents"
                )
            )
        else:
            _check_inline_criteria(data, "", errors)
    valid = not errors and not (strict and warnings)
    if as_json:
        out(
            json.dumps(
                {
                    "valid": valid,
                    "error_count": len(errors),
                    "warning_count": len(warnings),
                    "errors": errors,
                    "warnings": warnings,
                },
                indent=2,
            )
        )
    else:
        if valid:
            out(f"✅ Configuration is valid: {file_arg}")
        else:
            out(f"❌ Configuration is invalid: {file_arg}")
            for e in errors:
                out(f"  [{e['location']}] {e['message']} - {e['suggestion']}")
    return EXIT_OK if valid else EXIT_CONFIG

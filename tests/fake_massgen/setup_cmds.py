"""Setup and inspection commands: --list-backends, --quickstart --headless, --validate (no log dirs).

Each follows massgen 0.1.97 as captured offline in tests/fixtures/massgen_0.1.97/ (see its README):
`--list-backends` prints that capture verbatim; the quickstart and `--validate` reproduce massgen's own
printers and messages.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fake_massgen import PACKAGE_DIR
from fake_massgen.cli import EXIT_CONFIG, EXIT_OK, err, out

REAL_CAPTURES = PACKAGE_DIR.parent / "fixtures" / "massgen_0.1.97"
LIST_BACKENDS_CAPTURE = REAL_CAPTURES / "list_backends.txt"


def list_backends() -> int:
    """The real table, byte for byte (read at run time, so the fake cannot drift from the capture)."""
    sys.stdout.write(LIST_BACKENDS_CAPTURE.read_text(encoding="utf-8"))
    sys.stdout.flush()
    return EXIT_OK


# ------------------------------------------------------------------------------------ --quickstart --headless


@dataclass(frozen=True)
class Provider:
    id: str
    env_var: str | None  # None: no key needed (local servers, copilot)
    default_model: str


# massgen.config_builder.ConfigBuilder().PROVIDERS in 0.1.97, in its order (id | env var | default model).
_PROVIDER_TABLE = """
openai | OPENAI_API_KEY | gpt-5.4
claude | ANTHROPIC_API_KEY | claude-opus-4-6
claude_code | ANTHROPIC_API_KEY | claude-opus-4-6
codex | OPENAI_API_KEY | gpt-5.4
gemini | GEMINI_API_KEY | gemini-3-flash-preview
antigravity_cli | GEMINI_API_KEY | gemini-3.5-flash
gemini_cli | GOOGLE_API_KEY | gemini-3.1-pro-preview
grok | XAI_API_KEY | grok-4.20-0309-reasoning
azure_openai | AZURE_OPENAI_API_KEY | gpt-4o
chatcompletion | - | custom
lmstudio | - | custom
zai | ZAI_API_KEY | glm-4.5
vllm | - | custom
sglang | - | custom
inference | - | custom
ag2 | - | custom
cerebras | CEREBRAS_API_KEY | llama-3.3-70b
together | TOGETHER_API_KEY | Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8
fireworks | FIREWORKS_API_KEY | accounts/fireworks/models/llama-v3p3-70b-instruct
groq | GROQ_API_KEY | llama-3.3-70b-versatile
openrouter | OPENROUTER_API_KEY | custom
moonshot | MOONSHOT_API_KEY | moonshot-v1-128k
nvidia_nim | NGC_API_KEY | moonshotai/kimi-k2.5
nebius | NEBIUS_API_KEY | Qwen/Qwen3-4B-fast
poe | POE_API_KEY | custom
qwen | QWEN_API_KEY | qwen-max
uitars | UI_TARS_API_KEY | ui-tars-1.5
copilot | - | gpt-5-mini
"""


def _parse_providers(table: str) -> tuple[Provider, ...]:
    rows = []
    for line in table.strip().splitlines():
        ident, env_var, model = (cell.strip() for cell in line.split("|"))
        rows.append(Provider(ident, None if env_var == "-" else env_var, model))
    return tuple(rows)


PROVIDERS = _parse_providers(_PROVIDER_TABLE)
BACKEND_TYPES = tuple(sorted(p.id for p in PROVIDERS))  # the 28 types --validate accepts
# massgen.config_builder.HEADLESS_BACKEND_PRIORITY: auto-selection order, and these backends' default models.
HEADLESS_PRIORITY = (
    ("claude", "claude-sonnet-4-5-20250514"),
    ("openai", "gpt-5.4"),
    ("gemini", "gemini-3-flash-preview"),
    ("grok", "grok-4.20-0309-reasoning"),
)
ALWAYS_AVAILABLE = ("claude_code", "codex")  # massgen counts them as available (CLI login), key or not
# Keys the generated .env template lists (ConfigBuilder._create_env_template).
ENV_TEMPLATE_KEYS = (
    ("ANTHROPIC_API_KEY", "Anthropic (Claude)", "https://console.anthropic.com/"),
    ("OPENAI_API_KEY", "OpenAI", "https://platform.openai.com/api-keys"),
    ("GEMINI_API_KEY", "Google (Gemini)", "https://ai.google.dev/"),
    ("XAI_API_KEY", "xAI (Grok)", "https://console.x.ai/"),
)
AGENT_SPEC_FIELDS = ("id", "backend", "type", "model", "reasoning_effort")

CYAN, GREEN, YELLOW, RED, RESET = "\x1b[96m", "\x1b[92m", "\x1b[93m", "\x1b[91m", "\x1b[0m"
# What install_quickstart_skills() prints offline (no npm registry, no GitHub): every package fails.
_SKILLS_OFFLINE = (
    "",
    f"{CYAN}{'═' * 60}{RESET}",
    f"{CYAN}{'Quickstart Skills Setup':^60}{RESET}",
    f"{CYAN}{'═' * 60}{RESET}",
    "",
    f"{CYAN}[1/7] Installing openskills CLI...{RESET}",
    f"{CYAN}  Installing openskills globally...{RESET}",
    f"{RED}✗ Failed to install openskills{RESET}",
    f"{YELLOW}⚠ Skipping Anthropic skills because openskills failed to install{RESET}",
    f"{YELLOW}⚠ Skipping OpenAI skills because openskills failed to install{RESET}",
    f"{YELLOW}⚠ Skipping Vercel agent skills because openskills failed to install{RESET}",
    f"{YELLOW}⚠ Skipping Vercel Agent Browser skill because openskills failed to install{RESET}",
    f"{YELLOW}⚠ Skipping Remotion skill because openskills failed to install{RESET}",
    f"{CYAN}[7/7] Installing Crawl4AI skill...{RESET}",
    f"{CYAN}  Downloading Crawl4AI skill...{RESET}",
    f"{RED}✗ Failed to download Crawl4AI skill: <urlopen error [Errno -3] Temporary failure in name "
    f"resolution>{RESET}",
    f"{CYAN}  URL: https://docs.crawl4ai.com/assets/crawl4ai-skill.zip{RESET}",
    f"{CYAN}  You can download and extract manually to: {{home}}/.agent/skills/crawl4ai{RESET}",
    f"{YELLOW}⚠ Quickstart will continue, but some skill packages failed to install{RESET}",
    f"{CYAN}  Run 'massgen --setup-skills' to retry skill installation{RESET}",
)


def _provider(name: str) -> Provider | None:
    return next((p for p in PROVIDERS if p.id == name), None)


def _detect_api_keys() -> dict[str, bool]:
    """ConfigBuilder.detect_api_keys: provider id -> usable."""
    found: dict[str, bool] = {}
    for p in PROVIDERS:
        if p.id in ALWAYS_AVAILABLE:
            found[p.id] = True
        elif p.id == "gemini_cli":
            gemini_home = Path.home() / ".gemini"
            found[p.id] = bool(
                os.environ.get("GEMINI_API_KEY")
                or os.environ.get("GOOGLE_API_KEY")
                or (gemini_home / "google_accounts.json").exists()
                or (gemini_home / "oauth_creds.json").exists()
            )
        else:
            found[p.id] = bool(os.environ.get(p.env_var)) if p.env_var else True
    return found


def _keys_summary(api_keys: dict[str, bool]) -> dict[str, bool]:
    """Env var -> available, as printed. Like massgen, a later provider with the same variable overwrites an
    earlier one, so OPENAI_API_KEY (codex) and ANTHROPIC_API_KEY (claude_code) always read `available`."""
    summary: dict[str, bool] = {}
    for p in PROVIDERS:
        if p.env_var:
            summary[p.env_var] = api_keys.get(p.id, False)
    return summary


def _default_model(backend: str) -> str:
    for name, model in HEADLESS_PRIORITY:
        if name == backend:
            return model
    p = _provider(backend)
    return p.default_model if p else ""


def _parse_agent_specs(values: list[str]) -> list[dict[str, str]]:
    """massgen.cli.quickstart._parse_quickstart_agent_specs (ValueError with massgen's own wording)."""
    specs = []
    for raw in values:
        spec: dict[str, str] = {}
        for item in raw.split(","):
            key, sep, value = item.partition("=")
            key, value = key.strip(), value.strip()
            if not sep or not key or not value:
                raise ValueError(
                    "Each --quickstart-agent value must use key=value pairs, "
                    "for example backend=claude,model=claude-opus-4-6"
                )
            if key not in AGENT_SPEC_FIELDS:
                allowed = ", ".join(sorted(AGENT_SPEC_FIELDS))
                raise ValueError(f"Unsupported --quickstart-agent field '{key}'. Allowed fields: {allowed}")
            spec[key] = value
        if not (spec.get("backend") or spec.get("type")):
            raise ValueError("Each --quickstart-agent requires backend=<type>.")
        specs.append(spec)
    return specs


def _project_dir(output_path: str | None) -> Path:
    """resolve_headless_quickstart_project_dir(".massgen", output_path=…): where the .env template goes."""
    if output_path is None:
        return Path.cwd()
    parent = Path(output_path).expanduser().parent
    if str(parent) in ("", "."):
        return Path.cwd()
    if parent.name == ".massgen":
        return Path.cwd() if str(parent.parent) in ("", ".") else parent.parent
    return parent


def _create_env_template(env_file: Path, api_keys: dict[str, bool]) -> str | None:
    """ConfigBuilder._create_env_template: None (and nothing written) when the file is already there."""
    if env_file.exists():
        return None
    available: dict[str, bool] = {}
    for p in PROVIDERS:
        if p.env_var and p.env_var not in available:
            available[p.env_var] = api_keys.get(p.id, False)
    lines = [
        "# MassGen API Key Configuration",
        "# Generated by: massgen --quickstart --headless",
        "#",
        "# Fill in your API keys below. You need at least ONE provider key.",
        "#",
        "# After editing, reload with: source .env",
        "",
    ]
    for env_var, name, url in ENV_TEMPLATE_KEYS:
        lines += [
            f"# {name} - {url}",
            f"# Status: {'available' if available.get(env_var) else 'not set'}",
            f"{env_var}=",
            "",
        ]
    env_file.parent.mkdir(parents=True, exist_ok=True)
    env_file.write_text("\n".join(lines), encoding="utf-8")
    return str(env_file)


def _print_skills_setup() -> None:
    home = str(Path.home())
    for line in _SKILLS_OFFLINE:
        out(line.replace("{home}", home))


def quickstart(args: Any) -> int:
    """Headless quickstart (also what a non-TTY --quickstart does): ConfigBuilder.run_quickstart_headless
    followed by _print_headless_quickstart_summary, offline (no Docker; skill installs fail)."""
    try:
        specs = _parse_agent_specs(args.quickstart_agents or [])
    except ValueError as exc:  # massgen lets it escape as a traceback
        err("Traceback (most recent call last):")
        err('  File "massgen/cli/quickstart.py", in _parse_quickstart_agent_specs')
        err(f"ValueError: {exc}")
        return EXIT_CONFIG
    raw_config = (args.config or "").strip()
    output_path = str(Path(raw_config).expanduser()) if raw_config else None
    env_display = str(_project_dir(output_path) / ".env")
    api_keys = _detect_api_keys()
    result: dict[str, Any] = {
        "success": False,
        "config_path": None,
        "env_template_path": None,
        "backend": None,
        "model": None,
        "backends": None,
        "models": None,
        "api_keys_summary": _keys_summary(api_keys),
        "docker_available": False,
        "docker_pulled": False,
        "skills_installed": False,
        "manual_steps": [],
    }
    selected: list[tuple[str, str, str]] = []  # (agent id, backend, model)
    if specs:
        missing = []
        for index, spec in enumerate(specs):
            backend = spec.get("backend") or spec.get("type") or ""
            if not api_keys.get(backend, False):  # an unknown backend counts as one without its key
                missing.append(backend)
                continue
            model = spec.get("model") or _default_model(backend)
            selected.append((spec.get("id") or f"agent_{chr(ord('a') + index)}", backend, model))
        if missing:
            result["env_template_path"] = _create_env_template(Path(env_display), api_keys)
            result["manual_steps"].append(
                f"Backend(s) {', '.join(missing)} require API keys. Fill in {env_display}, then re-run."
            )
            return _finish_quickstart(result)
        result["backends"] = [backend for _, backend, _ in selected]
        result["models"] = [model for _, _, model in selected]
    else:
        for backend, model in HEADLESS_PRIORITY:
            if api_keys.get(backend, False):
                selected.append(("agent_a", backend, model))
                result["backend"], result["model"] = backend, model
                break
        if not selected:
            result["env_template_path"] = _create_env_template(Path(env_display), api_keys)
            result["manual_steps"].append(
                f"No API keys found. Fill in {env_display}, then re-run massgen --quickstart --headless"
            )
            return _finish_quickstart(result)
    config_path = output_path or str(Path(".massgen") / "config.yaml")
    target = Path(config_path).expanduser().resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(_config_yaml(selected), encoding="utf-8")
    result["config_path"] = config_path
    _print_skills_setup()  # step 5 of the headless run: installs fail offline
    result["success"] = True
    return _finish_quickstart(result)


def _finish_quickstart(result: dict[str, Any]) -> int:
    _print_summary(result)
    if result["config_path"]:
        _print_skills_setup()  # _ensure_quickstart_skills_ready: the generated config uses skills
    return EXIT_OK


def _print_summary(result: dict[str, Any]) -> None:
    """massgen.cli.quickstart._print_headless_quickstart_summary, line for line."""
    out(f"\n{'=' * 50}")
    out("MASSGEN HEADLESS QUICKSTART")
    out("=" * 50)
    out("\nAPI Keys:")
    for key, available in result["api_keys_summary"].items():
        out(f"  {key}: {'available' if available else 'not set'}")
    if result["backends"] and result["models"]:
        pairs = list(zip(result["backends"], result["models"], strict=True))
        out(f"\nSelected ({len(pairs)} backends):")
        for backend, model in pairs:
            out(f"  {backend} / {model}")
    elif result["backend"] and result["model"]:
        out(f"\nSelected: {result['backend']} / {result['model']}")
    else:
        out("\nSelected: none (no API keys found)")
    if result["config_path"]:
        out(f"Config: {result['config_path']}")
    elif result["env_template_path"]:
        out(f"Env template: {result['env_template_path']}")
    docker = "available" if result["docker_available"] else "not available"
    if result["docker_pulled"]:
        docker += ", image pulled"
    out(f"Docker: {docker}")
    out(f"Skills: {'installed' if result['skills_installed'] else 'not installed'}")
    if result["success"]:
        out("\nSTATUS: SUCCESS")
        out("\nRun with:")
        out(f'  massgen --automation --config {result["config_path"]} "Your question"')
    else:
        out("\nSTATUS: NEEDS_CONFIG")
        for step in result["manual_steps"]:
            out(f"  -> {step}")
    out()


def _config_yaml(selected: list[tuple[str, str, str]]) -> str:
    lines = ["agents:"]
    for agent_id, backend, model in selected:
        lines += [
            f"  - id: {agent_id}",
            "    backend:",
            f"      type: {backend}",
            f"      model: {model}",
        ]
    lines += ["ui:", "  display_type: rich_terminal", "  logging_enabled: true"]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------- --validate
# massgen.config_validator.ConfigValidator, for the checks the fake's tests need (messages verbatim).


@dataclass(frozen=True)
class Issue:
    message: str
    location: str
    suggestion: str

    def as_dict(self) -> dict[str, str]:
        return {"message": self.message, "location": self.location, "suggestion": self.suggestion}


CATEGORIES = {"primary", "standard", "stretch", "must", "should", "could"}
V1_KEYWORDS = (
    "models",
    "model_configs",
    "num_agents",
    "max_rounds",
    "consensus_threshold",
    "voting_enabled",
    "enable_voting",
)


def _check_inline_criteria(node: Any, where: str, errors: list[Issue]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            loc = f"{where}.{key}" if where else str(key)
            if key == "checklist_criteria_inline" and isinstance(value, list):
                for i, item in enumerate(value):
                    iloc = f"{loc}[{i}]"
                    if not isinstance(item, dict) or not item.get("text"):
                        errors.append(Issue("Criterion is missing 'text'", iloc, "Add a 'text' string"))
                        continue
                    if item.get("category") not in CATEGORIES:
                        errors.append(
                            Issue(
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


def _check_backend(backend: Any, where: str, errors: list[Issue]) -> None:
    if not isinstance(backend, dict):
        errors.append(
            Issue(
                f"Backend must be a dictionary, got {type(backend).__name__}",
                where,
                "Use 'type', 'model', and other backend-specific fields",
            )
        )
        return
    if "type" not in backend:
        errors.append(
            Issue("Backend missing required field 'type'", where, "Add 'type: \"openai\"' or similar")
        )
        return
    kind = backend["type"]
    if not isinstance(kind, str):
        errors.append(
            Issue(
                f"Backend 'type' must be a string, got {type(kind).__name__}",
                f"{where}.type",
                "Use a string like 'openai', 'claude', 'gemini', etc.",
            )
        )
        return
    if kind not in BACKEND_TYPES:
        errors.append(
            Issue(
                f"Unknown backend type: '{kind}'", f"{where}.type", f"Use one of: {', '.join(BACKEND_TYPES)}"
            )
        )
        return
    provider = _provider(kind)
    needs_model = kind != "ag2" and provider is not None and provider.default_model == "custom"
    if needs_model and "model" not in backend:
        errors.append(Issue("Backend missing required field 'model'", where, "Add 'model: \"model-name\"'"))


def _check_agents(config: dict[str, Any], errors: list[Issue]) -> None:
    if "agents" in config:
        agents = config["agents"]
        if not isinstance(agents, list):
            return
    else:
        agents = [config["agent"]]
    seen: list[str] = []
    for i, agent in enumerate(agents):
        where = f"agents[{i}]" if "agents" in config else "agent"
        if not isinstance(agent, dict):
            errors.append(
                Issue(
                    f"Agent must be a dictionary, got {type(agent).__name__}",
                    where,
                    "Use 'id', 'backend', and optional 'system_message' fields",
                )
            )
            continue
        if "id" not in agent:
            errors.append(Issue("Agent missing required field 'id'", where, "Add 'id: \"agent-name\"'"))
        elif isinstance(agent["id"], str) and agent["id"] in seen:
            errors.append(
                Issue(
                    f"Duplicate agent ID: '{agent['id']}'", f"{where}.id", "Each agent must have a unique ID"
                )
            )
        elif isinstance(agent["id"], str):
            seen.append(agent["id"])
        if "backend" not in agent:
            errors.append(
                Issue(
                    "Agent missing required field 'backend'", where, "Add 'backend: {type: ..., model: ...}'"
                )
            )
        else:
            _check_backend(agent["backend"], f"{where}.backend", errors)


def _check_config(config: Any) -> list[Issue]:
    errors: list[Issue] = []
    if not isinstance(config, dict):
        return [Issue("Config must be a dictionary/object", "root", "Check YAML/JSON syntax")]
    found = [k for k in V1_KEYWORDS if k in config]
    if found:
        return [
            Issue(
                f"V1 config format detected (found: {', '.join(found)}). V1 configs are no longer supported.",
                "root",
                "Migrate to V2 config format. "
                "See docs/source/reference/yaml_schema.rst for the current schema.",
            )
        ]
    if "agents" not in config and "agent" not in config:
        errors.append(
            Issue(
                "Config must have either 'agents' (list) or 'agent' (single agent)",
                "root",
                "Add 'agents: [...]' for multiple agents or 'agent: {...}' for a single agent",
            )
        )
    elif "agents" in config and "agent" in config:
        errors.append(
            Issue(
                "Config cannot have both 'agents' and 'agent' fields",
                "root",
                "Use either 'agents' for multiple agents or 'agent' for a single agent",
            )
        )
    else:
        if "agents" in config and not isinstance(config["agents"], list):
            errors.append(
                Issue(
                    f"'agents' must be a list, got {type(config['agents']).__name__}",
                    "root.agents",
                    "Use 'agents: [...]' for multiple agents",
                )
            )
        if "agent" in config and not isinstance(config["agent"], dict):
            errors.append(
                Issue(
                    f"'agent' must be a dictionary, got {type(config['agent']).__name__}",
                    "root.agent",
                    "Use 'agent: {...}' for a single agent",
                )
            )
    if "agents" in config or "agent" in config:
        _check_agents(config, errors)
    _check_inline_criteria(config, "", errors)
    return errors


def _load(path: Path) -> tuple[Any, Issue | None]:
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".json":
        try:
            return json.loads(text), None
        except ValueError as exc:
            return None, Issue(f"Failed to parse config file: {exc}", "file", "Check file syntax")
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:
        keys = {m.group(1): True for m in re.finditer(r"^([A-Za-z_][\w-]*)\s*:", text, re.MULTILINE)}
        return (keys or None), None
    try:
        return yaml.safe_load(text), None
    except yaml.YAMLError as exc:
        return None, Issue(f"Failed to parse config file: {exc}", "file", "Check file syntax")


def validate(file_arg: str, *, strict: bool, as_json: bool) -> int:
    errors: list[Issue] = []
    warnings: list[Issue] = []
    path = Path(file_arg)  # no `~` expansion, like massgen
    if not path.exists():
        errors.append(Issue(f"Config file not found: {file_arg}", "file", "Check the file path"))
    elif path.suffix not in (".yaml", ".yml", ".json"):
        errors.append(
            Issue(f"Unsupported file format: {path.suffix}", "file", "Use .yaml, .yml, or .json extension")
        )
    elif path.is_dir():
        errors.append(
            Issue(
                f"Failed to parse config file: [Errno 21] Is a directory: '{file_arg}'",
                "file",
                "Check file syntax",
            )
        )
    else:
        data, problem = _load(path)
        errors.extend([problem] if problem else _check_config(data))
    valid = not errors
    if as_json:
        report = {
            "valid": valid,
            "error_count": len(errors),
            "warning_count": len(warnings),
            "errors": [e.as_dict() for e in errors],
            "warnings": [w.as_dict() for w in warnings],
        }
        out(json.dumps(report, indent=2))
    else:
        out(_format_all(errors, warnings))  # ValidationResult.format_all
    return EXIT_CONFIG if errors or (strict and warnings) else EXIT_OK


def _format_issue(symbol: str, issue: Issue) -> str:
    return f"{symbol} [{issue.location}] {issue.message}\n   💡 Suggestion: {issue.suggestion}"


def _format_all(errors: list[Issue], warnings: list[Issue]) -> str:
    parts = []
    if errors:
        parts.append(
            "\n".join(["\n🔴 Configuration Errors Found:\n", *(_format_issue("❌", e) for e in errors)])
        )
    if warnings:
        parts.append(
            "\n".join(["\n🟡 Configuration Warnings:\n", *(_format_issue("⚠️", w) for w in warnings)])
        )
    return "\n".join(parts) if parts else "✅ Configuration is valid!"

"""The fake `massgen`'s invocation: argv like the real 0.1.97 argparse, config discovery, the --eval-criteria
loader, output helpers and exit codes (the entry point, `main`, dispatches from `fake_massgen.main`)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from fake_massgen.knobs import Knobs
from fake_massgen.textio import RawYaml, now_stamp, to_yaml

PROG = "massgen"
EXIT_OK = 0
EXIT_CONFIG = 1
EXIT_EXECUTION = 2
EXIT_SERVER_STARTUP = 3  # uvicorn's STARTUP_FAILURE: the web server could not bind its port

PRESETS = (
    "analysis",
    "decomposition",
    "evaluation",
    "persona",
    "planning",
    "prompt",
    "round_evaluator",
    "spec",
)
PRE_ARGPARSE_SUBCOMMANDS = ("viewer", "logs", "serve", "export", "shares")
RED = "\x1b[31m"
RESET = "\x1b[0m"

# Keys of `cli_args` in execution_metadata.yaml, in the real order, with the real defaults (multi sample).
CLI_ARG_DEFAULTS: dict[str, object] = {
    "question": None,
    "config": None,
    "select": False,
    "backend": None,
    "model": None,
    "system_message": None,
    "base_url": None,
    "no_display": False,
    "display": None,
    "textual_serve": False,
    "textual_serve_port": 8000,
    "no_logs": False,
    "debug": False,
    "save_streaming_buffers": False,
    "logfire": False,
    "web": False,
    "web_quickstart": False,
    "web_port": 8000,
    "web_host": "127.0.0.1",
    "no_browser": False,
    "web_review": False,
    "automation": False,
    "step": False,
    "session_dir": None,
    "stream_events": False,
    "inbox_dir": None,
    "plan": False,
    "cwd_context": None,
    "plan_depth": "dynamic",
    "plan_thoroughness": "standard",
    "plan_steps": None,
    "plan_chunks": None,
    "broadcast": None,
    "plan_and_execute": False,
    "execute_plan": None,
    "spec": False,
    "execute_spec": None,
    "no_session_registry": False,
    "parse_at_references": True,
    "eval_criteria": None,
    "checklist_criteria_preset": None,
    "output_file": None,
    "skip_agent_selector": False,
    "init": False,
    "quickstart": False,
    "headless": False,
    "generate_config": None,
    "config_agents": None,
    "config_backend": None,
    "config_model": None,
    "config_agent_id": None,
    "config_docker": False,
    "config_context_path": None,
    "quickstart_agents": None,
    "setup": False,
    "setup_skills": False,
    "setup_docker": False,
    "list_backends": False,
    "list_examples": False,
    "example": None,
    "show_schema": False,
    "schema_backend": None,
    "with_examples": False,
    "validate": None,
    "strict": False,
    "json_output": False,
    "skip_validation": False,
    "strict_validation": False,
    "session_id": None,
    "continue_session": False,
    "list_sessions": False,
    "list_all_sessions": False,
    "orchestrator_timeout": None,
    "rate_limit": False,
    "single_agent": None,
    "coordination_mode": None,
    "quick": False,
    "personas": None,
    "fast": False,
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="MassGen - multi-agent coordination (fake for tests)")
    p.add_argument("question", nargs="?", help="question for the agents")
    p.add_argument(
        "--config", help="YAML config file, @examples/NAME, or a name under ~/.config/massgen/agents"
    )
    p.add_argument("--backend", help="backend type for a quick single-agent setup")
    p.add_argument("--model", help="model name for a quick single-agent setup")
    p.add_argument("--base-url", dest="base_url", help="base URL for OpenAI-compatible backends")
    p.add_argument("--system-message", dest="system_message", help="system message for the quick agent")
    p.add_argument("--automation", action="store_true", help="silent output with parseable marker lines")
    p.add_argument("--stream-events", dest="stream_events", action="store_true", help="JSON events on stdout")
    p.add_argument("--display", help="display type")
    p.add_argument("--no-display", dest="no_display", action="store_true")
    p.add_argument("--debug", action="store_true")
    p.add_argument("--web", action="store_true", help="run the WebUI server")
    p.add_argument("--no-browser", dest="no_browser", action="store_true")
    p.add_argument("--web-port", dest="web_port", type=int, default=8000)
    p.add_argument("--web-host", dest="web_host", default="127.0.0.1")
    p.add_argument("--web-review", dest="web_review", action="store_true")
    p.add_argument("--web-quickstart", dest="web_quickstart", action="store_true")
    p.add_argument("--cwd-context", dest="cwd_context", choices=["ro", "read", "rw", "write"])
    p.add_argument("--eval-criteria", dest="eval_criteria", metavar="FILE")
    p.add_argument("--checklist-criteria-preset", dest="checklist_criteria_preset", metavar="NAME")
    p.add_argument("--plan", action="store_true")
    p.add_argument("--spec", action="store_true")
    p.add_argument("--plan-and-execute", dest="plan_and_execute", action="store_true")
    p.add_argument("--execute-plan", dest="execute_plan", metavar="PLAN")
    p.add_argument("--execute-spec", dest="execute_spec", metavar="SPEC")
    p.add_argument(
        "--plan-depth", dest="plan_depth", choices=["dynamic", "shallow", "medium", "deep"], default="dynamic"
    )
    p.add_argument(
        "--plan-thoroughness", dest="plan_thoroughness", choices=["standard", "thorough"], default="standard"
    )
    p.add_argument("--plan-steps", dest="plan_steps", type=int)
    p.add_argument("--plan-chunks", dest="plan_chunks", type=int)
    p.add_argument("--broadcast", choices=["human", "agents", "false"])
    p.add_argument("--coordination-mode", dest="coordination_mode", choices=["parallel", "decomposition"])
    p.add_argument("--personas", choices=["off", "perspective", "implementation", "methodology"])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--fast", action="store_true")
    p.add_argument("--single-agent", dest="single_agent", nargs="?", const=True, metavar="ID")
    p.add_argument("--orchestrator-timeout", dest="orchestrator_timeout", type=int, metavar="SECONDS")
    p.add_argument("--no-parse-at-references", dest="parse_at_references", action="store_false")
    p.add_argument("--output-file", dest="output_file")
    p.add_argument("--inbox-dir", dest="inbox_dir")
    p.add_argument("--session-id", dest="session_id")
    p.add_argument("--continue", dest="continue_session", action="store_true")
    p.add_argument("--no-session-registry", dest="no_session_registry", action="store_true")
    p.add_argument("--skip-validation", dest="skip_validation", action="store_true")
    p.add_argument("--strict-validation", dest="strict_validation", action="store_true")
    p.add_argument("--list-backends", dest="list_backends", action="store_true")
    p.add_argument("--quickstart", action="store_true")
    p.add_argument("--headless", action="store_true")
    p.add_argument(
        "--quickstart-agent", dest="quickstart_agents", action="append", metavar="backend=X,model=Y"
    )
    p.add_argument("--validate", metavar="FILE")
    p.add_argument("--strict", action="store_true")
    p.add_argument("--json", dest="json_output", action="store_true")
    return p


@dataclass
class ConfigSource:
    """Where the run's configuration came from."""

    path: Path | None  # None for --backend/--model or @examples/...
    label: str  # what massgen would print / record as config_path
    text: str  # raw YAML text ("" when synthesized)
    quick_agent: bool = False  # --backend + --model (one agent, id agent1)


@dataclass
class Criterion:
    id: str
    text: str
    category: str


@dataclass
class Invocation:
    """Everything the run engine needs besides the knobs."""

    args: argparse.Namespace
    knobs: Knobs
    config: ConfigSource | None
    criteria: list[Criterion] | None = None
    bad_criteria_values: list[tuple[int, str, str]] = field(default_factory=list)  # (item, key, type)
    started: float = field(default_factory=time.time)


def err(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def out(line: str = "") -> None:
    print(line, flush=True)


def log_root() -> Path:
    """`.massgen/massgen_logs` relative to cwd, or $MASSGEN_LOG_BASE_DIR (which replaces that whole path)."""
    base = os.environ.get("MASSGEN_LOG_BASE_DIR")
    return Path(base) if base else Path(".massgen") / "massgen_logs"


def cli_args_record(args: argparse.Namespace) -> dict[str, object]:
    record = dict(CLI_ARG_DEFAULTS)
    for key in record:
        if hasattr(args, key):
            record[key] = getattr(args, key)
    return record


def write_execution_metadata(
    target_dir: Path,
    args: argparse.Namespace,
    config: ConfigSource | None,
    failure: tuple[str, str] | None = None,
) -> None:
    """execution_metadata.yaml: query, timestamp, config_path, config (raw), cli_args, git, versions, cwd."""

    def git(*cmd: str) -> str | None:
        try:
            proc = subprocess.run(["git", *cmd], capture_output=True, text=True, timeout=5, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        return proc.stdout.strip() or None if proc.returncode == 0 else None

    cli_args = cli_args_record(args)
    if failure:
        cli_args["failure_stage"], cli_args["failure_error"] = failure
    data: dict[str, object] = {"query": args.question, "timestamp": datetime.now().isoformat()}
    if config is not None and config.path is not None:
        data["config_path"] = str(config.path)
    if config is not None and config.text:
        data["config"] = RawYaml(config.text)
    elif config is not None and config.quick_agent:
        data["config"] = {
            "agent": {
                "id": "agent1",
                "backend": {"type": args.backend, "model": args.model, "base_url": args.base_url},
                "system_message": args.system_message or "You are a helpful AI assistant.",
            },
            "ui": {"display_type": "rich_terminal", "logging_enabled": True},
        }
    data["cli_args"] = cli_args
    data["git"] = {"commit": git("rev-parse", "HEAD"), "branch": git("rev-parse", "--abbrev-ref", "HEAD")}
    data["python_version"] = sys.version.replace("\n", " ")
    data["massgen_version"] = "0.1.97"
    data["working_directory"] = os.getcwd()
    target_dir.mkdir(parents=True, exist_ok=True)
    (target_dir / "execution_metadata.yaml").write_text(to_yaml(data) + "\n", encoding="utf-8")


def early_failure_log(args: argparse.Namespace, config: ConfigSource | None, stage: str, error: str) -> None:
    """Errors before LOG_DIR print no marker, yet massgen creates log_*/turn_1/attempt_1 with metadata."""
    attempt = log_root() / f"log_{now_stamp()}" / "turn_1" / "attempt_1"
    with contextlib.suppress(OSError):
        write_execution_metadata(attempt, args, config, failure=(stage, error))


# ------------------------------------------------------------------------------------------ config discovery


def resolve_config(args: argparse.Namespace) -> tuple[ConfigSource | None, str | None]:
    """(source, error). error is the text after `❌ Configuration error: `."""
    home = Path.home()
    if args.config:
        arg = args.config
        if arg.startswith("@examples/"):
            return ConfigSource(path=None, label=arg, text=""), None
        candidates = [Path(arg).expanduser(), home / ".config/massgen/agents" / arg]
        candidates.append(home / ".config/massgen/agents" / f"{arg}.yaml")
        for cand in candidates:
            if cand.is_file():
                path = Path(os.path.abspath(cand))
                return ConfigSource(path=path, label=str(path), text=_read(path)), None
        return None, f"Configuration file not found: {arg}"
    if args.model:  # --model [--backend]: a one-agent config; default discovery is skipped
        return ConfigSource(path=None, label="", text="", quick_agent=True), None
    if args.backend:
        return None, "--backend needs --model (or pass --config)"
    for cand in (Path(".massgen") / "config.yaml", home / ".config/massgen/config.yaml"):
        if cand.is_file():
            path = Path(os.path.abspath(cand))
            return ConfigSource(path=path, label=str(path), text=_read(path)), None
    return None, None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


# ------------------------------------------------------------------------------------ --eval-criteria loader


class CriteriaError(Exception):
    pass


CATEGORY_MAP = {
    "primary": "primary",
    "must": "standard",
    "core": "standard",
    "could": "stretch",
    "stretch": "stretch",
}


def load_eval_criteria(path_arg: str) -> tuple[list[Criterion], list[tuple[int, str, str]]]:
    """The §6 loader. Returns (criteria, non-string values as (item, key, type)); raises CriteriaError."""
    path = Path(path_arg).expanduser()
    if not path.is_file():
        raise CriteriaError(f"Error: --eval-criteria file not found: {path_arg}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CriteriaError(f"Error: --eval-criteria file is not valid JSON: {exc}") from exc
    if isinstance(data, dict) and isinstance(data.get("criteria"), list):
        items = data["criteria"]
    elif isinstance(data, list):
        items = data
    else:
        raise CriteriaError('Error: --eval-criteria must be a JSON array or {"criteria": [...]}')
    criteria: list[Criterion] = []
    bad: list[tuple[int, str, str]] = []
    for i, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise CriteriaError(
                f"Error: --eval-criteria item {i} must be a JSON object, got {type(item).__name__}"
            )
        text = item.get("text") or item.get("description") or item.get("name")
        if not text:
            raise CriteriaError(
                f"Error: --eval-criteria item {i} missing 'text' field.\n"
                '  Expected: {"text": "...", "category": "primary|standard|stretch"}\n'
                f"  Got keys: {sorted(item)}"
            )
        for key, value in item.items():
            if not isinstance(value, str):
                bad.append((i - 1, key, type(value).__name__))
        category = CATEGORY_MAP.get(str(item.get("category", "")).lower(), "standard")
        criteria.append(Criterion(id=f"E{i}", text=str(text), category=category))
    return criteria, bad

"""Every option massgen 0.1.97's own parser accepts (`massgen.cli.entrypoint.main_parser`), with its arity
and choices, then what each does to a run. The first part is generated from the real parser by
`tests/integration/dump_massgen_flags.py`; `tests/integration/test_control.py` checks it still equals it."""

from __future__ import annotations

FLAG = "flag"  # takes no value
VALUE = "value"  # takes exactly one
OPTIONAL = "optional"  # takes one if the next token is not an option

# flag -> (arity, choices); generated, do not edit by hand.
PARSER_FLAGS: dict[str, tuple[str, tuple[str, ...]]] = {
    "-h": (FLAG, ()),
    "--help": (FLAG, ()),
    "--config": (VALUE, ()),
    "--select": (FLAG, ()),
    "--backend": (
        VALUE,
        (
            "ag2",
            "antigravity_cli",
            "azure_openai",
            "cerebras",
            "chatcompletion",
            "claude",
            "claude_code",
            "codex",
            "copilot",
            "fireworks",
            "gemini",
            "gemini_cli",
            "grok",
            "groq",
            "inference",
            "lmstudio",
            "moonshot",
            "nebius",
            "nvidia_nim",
            "openai",
            "openrouter",
            "poe",
            "qwen",
            "sglang",
            "together",
            "uitars",
            "vllm",
            "zai",
        ),
    ),
    "--model": (VALUE, ()),
    "--system-message": (VALUE, ()),
    "--base-url": (VALUE, ()),
    "--no-display": (FLAG, ()),
    "--display": (
        VALUE,
        (
            "rich",
            "textual",
        ),
    ),
    "--textual-serve": (FLAG, ()),
    "--textual-serve-port": (VALUE, ()),
    "--no-logs": (FLAG, ()),
    "--debug": (FLAG, ()),
    "--save-streaming-buffers": (FLAG, ()),
    "--logfire": (FLAG, ()),
    "--web": (FLAG, ()),
    "--web-quickstart": (FLAG, ()),
    "--web-port": (VALUE, ()),
    "--web-host": (VALUE, ()),
    "--no-browser": (FLAG, ()),
    "--web-review": (FLAG, ()),
    "--automation": (FLAG, ()),
    "--step": (FLAG, ()),
    "--session-dir": (VALUE, ()),
    "--stream-events": (FLAG, ()),
    "--inbox-dir": (VALUE, ()),
    "--plan": (FLAG, ()),
    "--cwd-context": (
        VALUE,
        (
            "ro",
            "rw",
            "read",
            "write",
        ),
    ),
    "--plan-depth": (
        VALUE,
        (
            "dynamic",
            "shallow",
            "medium",
            "deep",
        ),
    ),
    "--plan-thoroughness": (
        VALUE,
        (
            "standard",
            "thorough",
        ),
    ),
    "--plan-steps": (VALUE, ()),
    "--plan-chunks": (VALUE, ()),
    "--broadcast": (
        VALUE,
        (
            "human",
            "agents",
            "false",
        ),
    ),
    "--plan-and-execute": (FLAG, ()),
    "--execute-plan": (VALUE, ()),
    "--spec": (FLAG, ()),
    "--execute-spec": (VALUE, ()),
    "--no-session-registry": (FLAG, ()),
    "--no-parse-at-references": (FLAG, ()),
    "--eval-criteria": (VALUE, ()),
    "--checklist-criteria-preset": (VALUE, ()),
    "--output-file": (VALUE, ()),
    "--skip-agent-selector": (FLAG, ()),
    "--init": (FLAG, ()),
    "--quickstart": (FLAG, ()),
    "--headless": (FLAG, ()),
    "--generate-config": (VALUE, ()),
    "--config-agents": (VALUE, ()),
    "--config-backend": (VALUE, ()),
    "--config-model": (VALUE, ()),
    "--config-agent-id": (VALUE, ()),
    "--config-docker": (FLAG, ()),
    "--config-context-path": (VALUE, ()),
    "--quickstart-agent": (VALUE, ()),
    "--setup": (FLAG, ()),
    "--setup-skills": (FLAG, ()),
    "--setup-docker": (FLAG, ()),
    "--list-backends": (FLAG, ()),
    "--list-examples": (FLAG, ()),
    "--example": (VALUE, ()),
    "--show-schema": (FLAG, ()),
    "--schema-backend": (VALUE, ()),
    "--with-examples": (FLAG, ()),
    "--validate": (VALUE, ()),
    "--strict": (FLAG, ()),
    "--json": (FLAG, ()),
    "--skip-validation": (FLAG, ()),
    "--strict-validation": (FLAG, ()),
    "--session-id": (VALUE, ()),
    "--continue": (FLAG, ()),
    "--list-sessions": (FLAG, ()),
    "--all": (FLAG, ()),
    "--orchestrator-timeout": (VALUE, ()),
    "--rate-limit": (FLAG, ()),
    "--single-agent": (OPTIONAL, ()),
    "--coordination-mode": (
        VALUE,
        (
            "parallel",
            "decomposition",
        ),
    ),
    "--quick": (FLAG, ()),
    "--personas": (
        VALUE,
        (
            "off",
            "perspective",
            "implementation",
            "methodology",
        ),
    ),
    "--fast": (FLAG, ()),
}

# --- what each flag does to a run (read from massgen's source, not generated) -------------------------------

# These make massgen do something other than run a task (help, setup, config generation, listings, checks).
NOT_A_RUN = frozenset(
    {
        "-h",
        "--help",
        "--select",
        "--init",
        "--quickstart",
        "--headless",
        "--web-quickstart",
        "--generate-config",
        "--config-agents",
        "--config-backend",
        "--config-model",
        "--config-agent-id",
        "--config-docker",
        "--config-context-path",
        "--quickstart-agent",
        "--setup",
        "--setup-skills",
        "--setup-docker",
        "--list-backends",
        "--list-examples",
        "--example",
        "--show-schema",
        "--schema-backend",
        "--with-examples",
        "--validate",
        "--strict",
        "--json",
        "--list-sessions",
        "--all",
        "--textual-serve",
        "--textual-serve-port",
    }
)

# These take away what the wrapper reads: markers on stdout (`--stream-events` moves them to stderr), the log
# folder (`--no-logs`), a new session's LOG_DIR line (`--session-id` / `--continue` resume an old one).
HIDES_MARKERS = frozenset({"--stream-events", "--no-logs", "--session-id", "--continue"})

# With --web the server runs the job: besides flags.WEB_PASSTHROUGH only these, read before the web dispatch
# (`setup_logging`, logfire), still act (`_cli_main_continued`).
WEB_GLOBAL = frozenset({"--debug", "--logfire"})

# A team of one built from flags (no config file): it contradicts a config the wrapper chose.
ONE_AGENT_TEAM = frozenset({"--backend", "--model", "--base-url", "--system-message"})

"""Every option massgen 0.1.97's own parser accepts (`massgen.cli.entrypoint.main_parser`), with its arity
and choices, then what each does to a run. The first part is data, `parser_flags.json`, printed by
`tests/integration/dump_massgen_flags.py` from the real parser (redirect its output there to regenerate);
`tests/integration/test_control.py` checks it still equals the parser."""

from __future__ import annotations

import json
from pathlib import Path

FLAG = "flag"  # takes no value
VALUE = "value"  # takes exactly one
OPTIONAL = "optional"  # takes one if the next token is not an option

_DATA = Path(__file__).with_name("parser_flags.json")
# flag -> (arity, choices), in the parser's order.
PARSER_FLAGS: dict[str, tuple[str, tuple[str, ...]]] = {
    flag: (arity, tuple(choices)) for flag, (arity, choices) in json.loads(_DATA.read_text("utf-8")).items()
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

"""Every massgen 0.1.97 command-line flag massgen-skill uses, spelled once (contract §9)."""

AUTOMATION = "--automation"
NO_PARSE_AT_REFERENCES = "--no-parse-at-references"
CONFIG = "--config"
WEB = "--web"
NO_BROWSER = "--no-browser"
WEB_PORT = "--web-port"
WEB_HOST = "--web-host"
WEB_REVIEW = "--web-review"
CWD_CONTEXT = "--cwd-context"
EVAL_CRITERIA = "--eval-criteria"
CRITERIA_PRESET = "--checklist-criteria-preset"
ORCHESTRATOR_TIMEOUT = "--orchestrator-timeout"
PLAN = "--plan"
SPEC = "--spec"
PLAN_AND_EXECUTE = "--plan-and-execute"
EXECUTE_PLAN = "--execute-plan"
EXECUTE_SPEC = "--execute-spec"
PLAN_DEPTH = "--plan-depth"
PLAN_THOROUGHNESS = "--plan-thoroughness"
PLAN_STEPS = "--plan-steps"
PLAN_CHUNKS = "--plan-chunks"
PERSONAS = "--personas"
COORDINATION_MODE = "--coordination-mode"
QUICK = "--quick"
SINGLE_AGENT = "--single-agent"
OUTPUT_FILE = "--output-file"
INBOX_DIR = "--inbox-dir"
SESSION_ID = "--session-id"  # continue a registered session (CLI path only; see massgen/sessions.py)
LIST_BACKENDS = "--list-backends"
QUICKSTART = "--quickstart"
HEADLESS = "--headless"
QUICKSTART_AGENT = "--quickstart-agent"
WEB_QUICKSTART = "--web-quickstart"
VALIDATE = "--validate"
JSON = "--json"

# Choices massgen's parser accepts (contract §9).
PERSONAS_CHOICES = ("off", "perspective", "implementation", "methodology")
PLAN_DEPTH_CHOICES = ("dynamic", "shallow", "medium", "deep")
PLAN_THOROUGHNESS_CHOICES = ("standard", "thorough")
COORDINATION_MODE_CHOICES = ("parallel", "decomposition")

# With --web, massgen 0.1.97 passes only these run flags on to the job (contract §5); the rest are
# silently ignored, so a run that needs any other one must go without the web UI.
WEB_PASSTHROUGH = frozenset({EVAL_CRITERIA, CRITERIA_PRESET, ORCHESTRATOR_TIMEOUT, CWD_CONTEXT, WEB_REVIEW})

DEFAULT_WEB_PORT = 8000
WEB_HOST_DEFAULT = "127.0.0.1"

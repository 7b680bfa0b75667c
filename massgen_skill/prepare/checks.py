"""Can a run start here? One set of environment checks, shared by `run` and `doctor`.

`launch_checks` holds the fast ones (file system only, no process started): `run` calls it before every launch
and `doctor` starts from it. `doctor` adds the slower or advisory ones from this module: massgen's version,
`massgen --validate`, API-key names, the web port, `git` and `uv`. Each check says how to fix what it finds.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from massgen_skill import PACKAGE_DIR
from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen.config import API_KEY_NAMES, BACKEND_KEYS, SETUP_GUIDE, ConfigChoice, find_config
from massgen_skill.massgen.program import (
    INSTALL_HINT,
    MASSGEN_VERSION,
    MassgenProgram,
    broken_mcp,
    find_massgen,
    installed_version,
)
from massgen_skill.prepare import ports

OK = "ok"
WARN = "warn"  # a run can start, but something may bite later
FAIL = "fail"  # a run cannot start (or cannot do anything useful) until fixed
SKIP = "skip"  # not checked (an earlier check failed, or it does not apply)

# These also work with their CLI's own login, so a missing key is only a warning.
LOGIN_BACKENDS = frozenset({"claude_code", "codex", "gemini_cli"})
# `.env` files massgen reads at start (contract §0), besides the one in its package folder.
HOME_ENV_FILES = (Path(".massgen") / ".env", Path(".config") / "massgen" / ".env")
PROJECT_ENV_FILES = (Path("configs") / ".env", Path(".env"))
UV_MODE = "plan-and-execute"  # the mode whose massgen spawns `uv run massgen`


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # OK | WARN | FAIL | SKIP
    detail: str  # one line: what was found (for FAIL: the full reason, as `run` reports it)
    fix: str | None = None  # the one command (or step) that fixes it

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Readiness:
    checks: list[Check] = field(default_factory=list)
    program: MassgenProgram | None = None
    config: ConfigChoice | None = None

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.status == FAIL]

    @property
    def ready(self) -> bool:
        return not self.failures

    def error(self) -> SkillError:
        """The first failure as the error `run` raises (ENV_NOT_READY)."""
        first = self.failures[0]
        return SkillError(first.detail, ExitCode.ENV_NOT_READY)


# --- the fast checks: `run` and `doctor` ----------------------------------------------------------------


def describe_program(program: MassgenProgram) -> str:
    where = {
        "MASSGEN_BIN": "from $MASSGEN_BIN",
        "PATH": "found on PATH",
        "private": "the private install `first-run` made",
        "uv": "`uv run massgen` in this uv project",
        "uvx": f"through uvx (massgen {MASSGEN_VERSION} with mcp<2, fetched on first use)",
    }[program.how]
    return f"{' '.join(program.argv)} ({where})"


def check_massgen(env: Mapping[str, str], cwd: Path) -> tuple[Check, MassgenProgram | None]:
    try:
        program = find_massgen(env, cwd)
    except SkillError as error:
        fix = "unset MASSGEN_BIN" if env.get("MASSGEN_BIN") else INSTALL_HINT
        return Check("massgen", FAIL, error.message, fix), None
    return Check("massgen", OK, describe_program(program)), program


def mcp_fix(program: MassgenProgram | None) -> str:
    python = program.interpreter if program else None
    return f"{python} -m pip install 'mcp<2'" if python else "pip install 'mcp<2'"


def check_mcp(program: MassgenProgram | None, mcp_version: str | None = None) -> Check:
    """The known broken install (massgen 0.1.97 cannot import with mcp 2.x). `mcp_version`: from a probe."""
    if program is None:
        return Check("mcp", SKIP, "massgen not found")
    if program.how == "uvx":
        return Check("mcp", OK, "mcp<2 (pinned by uvx)")
    problem = broken_mcp(program)
    version = installed_version(program, "mcp") or mcp_version
    if problem is None and version and _major(version) >= 2:
        problem = (
            f"mcp {version} is installed beside massgen, and massgen {MASSGEN_VERSION} cannot import with it"
        )
    if problem:
        return Check("mcp", FAIL, problem, mcp_fix(program))
    if version:
        return Check("mcp", OK, f"mcp {version} (< 2)")
    return Check("mcp", OK, "mcp version not read (no dist-info beside the massgen script)")


def _major(version: str) -> int:
    head = version.split(".")[0]
    return int(head) if head.isdigit() else 0


def check_config(
    explicit: str | None, cwd: Path, env: Mapping[str, str]
) -> tuple[Check, ConfigChoice | None]:
    try:
        choice = find_config(explicit, cwd, env)
    except SkillError as error:
        return Check("config", FAIL, error.message, f"{self_command()} setup   (or see {SETUP_GUIDE})"), None
    return Check("config", OK, f"{choice.path} ({choice.how})"), choice


def check_uv_for(mode: str, env: Mapping[str, str]) -> Check:
    """plan-and-execute: massgen runs its planning phase as `uv run massgen`, so uv must be on PATH."""
    if mode != UV_MODE:
        return Check("uv", SKIP, f"only --mode {UV_MODE} needs it")
    found = shutil.which("uv", path=env.get("PATH", os.defpath))
    if found:
        return Check("uv", OK, found)
    return Check(
        "uv",
        FAIL,
        f"--mode {UV_MODE} needs uv on PATH: massgen starts its planning phase as `uv run massgen`",
        _install_fix("uv"),
    )


def launch_checks(
    explicit_config: str | None,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    mode: str | None = None,
    generated_config: bool = False,
) -> Readiness:
    """What `run` (and its dry run) checks before every launch: massgen found, importable (mcp), a config
    found (unless the run generates its own: `--team`), and uv when the mode needs it. Starts no process."""
    env = os.environ if env is None else env
    readiness = Readiness()
    massgen, readiness.program = check_massgen(env, cwd)
    if generated_config:
        config = Check("config", SKIP, "generated for the run (--team)")
    else:
        config, readiness.config = check_config(explicit_config, cwd, env)
    readiness.checks = [massgen, check_mcp(readiness.program), config]
    if mode is not None:
        readiness.checks.append(check_uv_for(mode, env))
    return readiness


# --- the slower or advisory checks: `doctor` only -------------------------------------------------------


def self_command() -> str:
    """How the user calls massgen-skill here: the console script, else the skill folder's script."""
    if shutil.which("massgen-skill"):
        return "massgen-skill"
    script = PACKAGE_DIR.parent / "scripts" / "massgen_skill.sh"
    return str(script) if script.is_file() else f"{Path(sys.executable).name} -m massgen_skill"


def check_version(program: MassgenProgram | None, probed: str | None = None) -> Check:
    if program is None:
        return Check("version", SKIP, "massgen not found")
    if program.how == "uvx":
        return Check("version", OK, f"massgen {MASSGEN_VERSION} (pinned by uvx)")
    version = installed_version(program, "massgen") or probed
    python = program.interpreter
    fix = f"{python} -m pip install massgen=={MASSGEN_VERSION} 'mcp<2'" if python else INSTALL_HINT
    if version is None:
        return Check(
            "version",
            WARN,
            f"massgen's version could not be read; massgen-skill expects {MASSGEN_VERSION}",
            fix,
        )
    if version != MASSGEN_VERSION:
        return Check("version", WARN, f"massgen {version}; massgen-skill is built for {MASSGEN_VERSION}", fix)
    return Check("version", OK, f"massgen {version}")


def env_file_keys(cwd: Path, env: Mapping[str, str]) -> dict[str, str]:
    """API-key names set in the `.env` files massgen reads -> the file (names only; values are never kept)."""
    home = Path(env.get("HOME") or Path.home())
    found: dict[str, str] = {}
    files = [home / p for p in HOME_ENV_FILES] + [cwd / p for p in PROJECT_ENV_FILES]
    for path in files:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for raw in text.splitlines():
            line = raw.strip()
            if line.startswith("export "):
                line = line[len("export ") :].lstrip()
            name, sep, value = line.partition("=")
            name = name.strip()
            if not sep or line.startswith("#") or not name.isidentifier():
                continue
            if value.strip().strip("'\"") and name not in found:
                found[name] = _display_path(path, home)
    return found


def _display_path(path: Path, home: Path) -> str:
    try:
        return "~/" + str(path.relative_to(home))
    except ValueError:
        return str(path)


def key_sources(cwd: Path, env: Mapping[str, str]) -> dict[str, str]:
    """Every key-looking variable that is set -> where ("environment" or a .env file). Names only."""
    names = set(API_KEY_NAMES)
    sources = {name: "environment" for name in sorted(names) if env.get(name)}
    for name, where in env_file_keys(cwd, env).items():
        if name in names and name not in sources:
            sources[name] = where
    return sources


def load_config(path: str) -> Any:
    """A massgen config's YAML as loaded (None: unreadable, left to --validate)."""
    import yaml

    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def config_backends(path: str) -> list[dict[str, Any]] | None:
    """The `backend` mapping of each agent in a massgen config (None: unreadable, left to --validate)."""
    return agent_backends(load_config(path))


def agent_backends(data: Any) -> list[dict[str, Any]] | None:
    """The `backend` mapping of each agent in a loaded config (None: not a config's shape)."""
    if not isinstance(data, dict):
        return None
    entries = [data["agent"]] if "agent" in data else data.get("agents") or []
    if not isinstance(entries, list):
        return None
    return [e["backend"] for e in entries if isinstance(e, dict) and isinstance(e.get("backend"), dict)]


def check_api_keys(config: ConfigChoice | None, cwd: Path, env: Mapping[str, str]) -> Check:
    backends = config_backends(config.path) if config and config.how != "example" else None
    return check_backend_keys(backends, cwd, env, "the config's agents")


def check_backend_keys(
    backends: list[dict[str, Any]] | None, cwd: Path, env: Mapping[str, str], whose: str
) -> Check:
    """Each backend's API-key variable set, by NAME (environment or massgen's .env files); the one check
    `doctor` (a config's agents) and `run --team` (the team's agents) share. None: backends unknown."""
    sources = key_sources(cwd, env)
    present = ", ".join(f"{n} ({w})" for n, w in sources.items()) or "none"
    missing: list[str] = []
    login_only: list[str] = []
    for backend in backends or []:
        kind = str(backend.get("type", ""))
        names = BACKEND_KEYS.get(kind)
        if not names or backend.get("api_key") or any(n in sources for n in names):
            continue
        (login_only if kind in LOGIN_BACKENDS else missing).append(f"{kind} needs {' or '.join(names)}")
    where = "~/.config/massgen/.env"
    if missing:
        name = missing[0].split(" needs ")[1].split(" or ")[0]
        return Check(
            "api keys",
            FAIL,
            f"{whose} cannot authenticate: {'; '.join(sorted(set(missing)))} (set: {present})",
            f"export {name}=…   (or add {name}=… to {where})",
        )
    if login_only:
        return Check(
            "api keys",
            WARN,
            f"{'; '.join(sorted(set(login_only)))}, unless its CLI is logged in (set: {present})",
            f"log in with that backend's own CLI, or export its key (or add it to {where})",
        )
    if not sources and backends is None:
        return Check(
            "api keys",
            WARN,
            "no API-key variable is set (fine only for local backends)",
            f"export OPENAI_API_KEY=…   (or another provider's key; or add it to {where})",
        )
    return Check("api keys", OK, present)


def check_web_port() -> Check:
    try:
        choice = ports.choose(None, reserve=False)
    except SkillError as error:
        return Check("web port", WARN, error.message, "stop finished web runs, or run with --no-web")
    if choice.note:
        return Check("web port", OK, f"{ports.DEFAULT_WEB_PORT} is taken; a web run would use {choice.port}")
    return Check("web port", OK, f"{choice.port} free")


def _install_fix(tool: str) -> str:
    if tool == "uv":
        return "pip install uv"
    if sys.platform == "darwin":
        return "xcode-select --install"
    return "sudo apt-get install -y git   (or your system's package manager)"


def check_tool(tool: str, purpose: str, env: Mapping[str, str]) -> Check:
    found = shutil.which(tool, path=env.get("PATH", os.defpath))
    if found:
        return Check(tool, OK, found)
    return Check(tool, WARN, f"not found: {purpose}", _install_fix(tool))

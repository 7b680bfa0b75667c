"""A private per-user environment holding the real `massgen==0.1.97` (with `mcp<2`: 0.1.97 fails to import
with mcp 2.x), for users without massgen and for the test suite — one folder serves both.

Location: `${MASSGEN_SKILL_CACHE:-~/.cache/massgen-skill}/mg-0.1.97`. A marker file is written only after
`pip install` succeeded and the installed versions were checked (metadata only: importing massgen would touch
the network), so an interrupted install is completed on the next call. An `flock` on a sibling lock file
serialises parallel installers. Nothing from massgen is imported or run here.

`MASSGEN_SKILL_NO_INSTALL=1` forbids installing (callers then get `MassgenEnvUnavailable`).
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen.version import MASSGEN_VERSION

REQUIREMENTS = (f"massgen=={MASSGEN_VERSION}", "mcp<2")
VENV_NAME = f"mg-{MASSGEN_VERSION}"
MARKER_NAME = ".mgskill-installed.json"
CACHE_VARIABLE = "MASSGEN_SKILL_CACHE"
NO_INSTALL_VARIABLE = "MASSGEN_SKILL_NO_INSTALL"
DEFAULT_CACHE = ".cache/massgen-skill"  # below HOME
INSTALL_TIMEOUT = 1800.0
LOCK_TIMEOUT = 2400.0

_CHECK_VERSIONS = f"""
import importlib.metadata as md, json, sys
mg = md.version("massgen"); mcp = md.version("mcp")
ok = mg == {MASSGEN_VERSION!r} and int(mcp.split(".")[0]) < 2
print(json.dumps({{"massgen": mg, "mcp": mcp, "python": sys.version.split()[0]}}))
sys.exit(0 if ok else 1)
"""


class MassgenEnvUnavailable(SkillError):
    """The private environment is missing and could not (or must not) be installed."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.ENV_NOT_READY)


@dataclass(frozen=True)
class MassgenVenv:
    root: Path
    bin: Path
    python: Path
    massgen: Path
    installed_now: bool
    install_seconds: float | None
    versions: dict[str, str]


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    home = Path(env.get("HOME") or Path.home())
    return Path(env.get(CACHE_VARIABLE) or home / DEFAULT_CACHE).expanduser().resolve()


def venv_dir(env: Mapping[str, str] | None = None) -> Path:
    return cache_dir(env) / VENV_NAME


def _lock(path: Path, timeout: float) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                raise MassgenEnvUnavailable(f"timed out waiting for the install lock {path}") from None
            time.sleep(1)


def _describe(
    root: Path, installed_now: bool, seconds: float | None, versions: dict[str, str]
) -> MassgenVenv:
    return MassgenVenv(
        root=root,
        bin=root / "bin",
        python=root / "bin" / "python",
        massgen=root / "bin" / "massgen",
        installed_now=installed_now,
        install_seconds=seconds,
        versions=versions,
    )


def _read_marker(root: Path) -> dict[str, str] | None:
    marker = root / MARKER_NAME
    try:
        if not marker.is_file():
            return None
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("massgen") != MASSGEN_VERSION:
        return None
    return data if (root / "bin" / "massgen").is_file() else None


def ready(env: Mapping[str, str] | None = None) -> MassgenVenv | None:
    """The finished environment, or None; reads two files and starts nothing."""
    root = venv_dir(env)
    data = _read_marker(root)
    return _describe(root, False, None, data) if data is not None else None


def _run_logged(argv: list[str], log: Path, timeout: float) -> None:
    with log.open("a", encoding="utf-8") as fh:
        fh.write(f"\n$ {' '.join(argv)}\n")
        fh.flush()
        try:
            res = subprocess.run(argv, stdout=fh, stderr=subprocess.STDOUT, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise MassgenEnvUnavailable(
                f"`{' '.join(argv)}` timed out after {timeout:.0f}s; see {log}"
            ) from None
    if res.returncode != 0:
        raise MassgenEnvUnavailable(f"`{' '.join(argv)}` failed (exit {res.returncode}); see {log}")


def _install(root: Path, say: Callable[[str], None]) -> MassgenVenv:
    (root / MARKER_NAME).unlink(missing_ok=True)
    log = root.parent / f"{VENV_NAME}.install.log"
    say(f"installing {' '.join(REQUIREMENTS)} into {root} (a few minutes; log: {log})")
    start = time.monotonic()
    if not (root / "bin" / "python").exists():
        _run_logged([sys.executable, "-m", "venv", str(root)], log, 300)
    python = str(root / "bin" / "python")
    # Also completes a half-done install: satisfied requirements are skipped.
    _run_logged(
        [python, "-m", "pip", "install", "--disable-pip-version-check", *REQUIREMENTS], log, INSTALL_TIMEOUT
    )
    check = subprocess.run(
        [python, "-c", _CHECK_VERSIONS], capture_output=True, text=True, timeout=120, check=False
    )
    if check.returncode != 0:
        raise MassgenEnvUnavailable(f"installed versions are wrong: {check.stdout.strip()}; see {log}")
    versions = json.loads(check.stdout)
    seconds = round(time.monotonic() - start, 1)
    payload = {**versions, "install_seconds": seconds, "requirements": list(REQUIREMENTS), "at": time.time()}
    tmp = root / (MARKER_NAME + ".tmp")
    tmp.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    os.replace(tmp, root / MARKER_NAME)
    say(f"installed massgen {versions['massgen']} (mcp {versions['mcp']}) in {seconds:.0f} s")
    return _describe(root, True, seconds, versions)


def ensure(install: bool | None = None, say: Callable[[str], None] = lambda _: None) -> MassgenVenv:
    """The ready environment, created or finished first when needed (under the lock)."""
    found = ready()
    if found is not None:
        return found
    if install is None:
        install = os.environ.get(NO_INSTALL_VARIABLE, "") not in ("1", "true", "yes")
    root = venv_dir()
    root.parent.mkdir(parents=True, exist_ok=True)
    fd = _lock(root.parent / f"{VENV_NAME}.lock", LOCK_TIMEOUT)
    try:
        found = ready()  # another installer may have finished meanwhile
        if found is not None:
            return found
        if not install:
            raise MassgenEnvUnavailable(
                f"{root} is not a finished massgen environment and {NO_INSTALL_VARIABLE} is set"
            )
        return _install(root, say)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

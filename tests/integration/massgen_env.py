"""A cached venv holding the real ``massgen==0.1.97`` (with ``mcp<2``, see the contract's known pitfalls).

Location: ``${MASSGEN_SKILL_CACHE:-~/.cache/massgen-skill}/mg-0.1.97``. A marker file is written only after
``pip install`` succeeded and the installed versions were checked (metadata only: importing massgen would
touch the network), so an interrupted install is completed on the next call. An ``flock`` on a sibling lock
file serialises parallel pytest workers. Installing talks to the package index through plain pip; nothing
from massgen is imported or run here.

Set ``MASSGEN_SKILL_NO_INSTALL=1`` to never install (callers then get :class:`MassgenEnvUnavailable`).
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

MASSGEN_VERSION = "0.1.97"
REQUIREMENTS = (f"massgen=={MASSGEN_VERSION}", "mcp<2")
VENV_NAME = f"mg-{MASSGEN_VERSION}"
MARKER_NAME = ".mgskill-installed.json"
INSTALL_TIMEOUT = 1800.0
LOCK_TIMEOUT = 2400.0

_CHECK_VERSIONS = f"""
import importlib.metadata as md, json, sys
mg = md.version("massgen"); mcp = md.version("mcp")
ok = mg == {MASSGEN_VERSION!r} and int(mcp.split(".")[0]) < 2
print(json.dumps({{"massgen": mg, "mcp": mcp, "python": sys.version.split()[0]}}))
sys.exit(0 if ok else 1)
"""


class MassgenEnvUnavailable(RuntimeError):
    """The massgen venv is missing and could not (or must not) be installed."""


@dataclass(frozen=True)
class MassgenVenv:
    root: Path
    bin: Path
    python: Path
    massgen: Path
    installed_now: bool
    install_seconds: float | None
    versions: dict[str, str]


def cache_dir() -> Path:
    return Path(os.environ.get("MASSGEN_SKILL_CACHE") or "~/.cache/massgen-skill").expanduser().resolve()


def venv_dir() -> Path:
    return cache_dir() / VENV_NAME


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
                raise MassgenEnvUnavailable(f"timed out waiting for install lock {path}") from None
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
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    if data.get("massgen") != MASSGEN_VERSION or not (root / "bin" / "massgen").exists():
        return None
    return data


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
        tail = log.read_text(encoding="utf-8", errors="replace")[-1500:]
        raise MassgenEnvUnavailable(f"`{' '.join(argv)}` failed (exit {res.returncode}); see {log}\n{tail}")


def ensure_massgen_venv(install: bool | None = None) -> MassgenVenv:
    """Return the ready venv, creating/finishing it first when needed (under the lock)."""
    root = venv_dir()
    data = _read_marker(root)
    if data is not None:
        return _describe(root, False, None, data)
    if install is None:
        install = os.environ.get("MASSGEN_SKILL_NO_INSTALL", "") not in ("1", "true", "yes")
    root.parent.mkdir(parents=True, exist_ok=True)
    fd = _lock(root.parent / f"{VENV_NAME}.lock", LOCK_TIMEOUT)
    try:
        data = _read_marker(root)  # another worker may have finished meanwhile
        if data is not None:
            return _describe(root, False, None, data)
        if not install:
            raise MassgenEnvUnavailable(
                f"{root} is not a finished massgen venv and MASSGEN_SKILL_NO_INSTALL is set"
            )
        (root / MARKER_NAME).unlink(missing_ok=True)
        log = root.parent / f"{VENV_NAME}.install.log"
        start = time.monotonic()
        if not (root / "bin" / "python").exists():
            _run_logged([sys.executable, "-m", "venv", str(root)], log, 300)
        # also completes a half-done install: satisfied requirements are skipped
        _run_logged(
            [
                str(root / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                *REQUIREMENTS,
            ],
            log,
            INSTALL_TIMEOUT,
        )
        check = subprocess.run(
            [str(root / "bin" / "python"), "-c", _CHECK_VERSIONS],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if check.returncode != 0:
            raise MassgenEnvUnavailable(
                f"installed versions are wrong: {check.stdout.strip()} {check.stderr[-500:]}"
            )
        versions = json.loads(check.stdout)
        seconds = round(time.monotonic() - start, 1)
        payload = {
            **versions,
            "install_seconds": seconds,
            "requirements": list(REQUIREMENTS),
            "at": time.time(),
        }
        tmp = root / (MARKER_NAME + ".tmp")
        tmp.write_text(json.dumps(payload, indent=1), encoding="utf-8")
        os.replace(tmp, root / MARKER_NAME)
        return _describe(root, True, seconds, versions)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def venv_bin() -> Path:
    """The bin directory of the ready venv (installs on first use)."""
    return ensure_massgen_venv().bin


if __name__ == "__main__":
    venv = ensure_massgen_venv()
    print(json.dumps({"bin": str(venv.bin), "installed_now": venv.installed_now, **venv.versions}))

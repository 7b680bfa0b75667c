"""The setup wizard: get a working massgen config through massgen's own quickstart, then validate it.

Headless: `massgen --list-backends` (to show the choices), `massgen --quickstart --headless`, then
`massgen --validate` on the config it wrote — each a bounded child of the process layer. Browser:
`massgen --web-quickstart`, supervised while the person works in the page (its address relayed once the
port accepts connections), stopped in stages if it outlives its time limit.
"""

from __future__ import annotations

import contextlib
import queue
import re
import shlex
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen import flags
from massgen_skill.massgen.config import PROJECT_CONFIG, find_config
from massgen_skill.massgen.inspection import run_bounded, validate_config
from massgen_skill.massgen.markers import strip_ansi
from massgen_skill.massgen.program import MassgenProgram
from massgen_skill.output import info, print_json, warn
from massgen_skill.prepare import checks
from massgen_skill.prepare.checks import key_sources, self_command
from massgen_skill.prepare.ports import choose
from massgen_skill.run import procs
from massgen_skill.run.launcher import child_env
from massgen_skill.setup.live import live_check
from massgen_skill.setup.quickstart import (
    QUICKSTART_SUCCESS,
    BackendInfo,
    order_choices,
    parse_list_backends,
    parse_quickstart,
)

SETUP_SUCCESS = "SUCCESS"
SETUP_NEEDS_CONFIG = "NEEDS_CONFIG"
HEADLESS_TIMEOUT = 900.0  # seconds for the headless quickstart
BROWSER_TIMEOUT = 1800.0  # seconds for a person to finish the web wizard
LIST_TIMEOUT = 120.0  # seconds for `massgen --list-backends`
WIZARD_GRACES = (3.0, 3.0)  # SIGINT, SIGTERM, then SIGKILL, when the wizard outlives its time limit
WIZARD_EXIT_WAIT = 10.0  # seconds for the wizard to exit once its output ended
CHOICES_SHOWN = 8
# lines that may repeat -> their JSON list
LISTED = {"STEP": "steps", "SELECTED": "selected", "LIVE_STEP": "live_steps"}
SIDE_EFFECTS = (
    "may pull the Docker image massgen's tools run in (when Docker is available)",
    "may install the `openskills` npm package globally and clone skill repositories from GitHub",
)


@dataclass(frozen=True)
class SetupRequest:
    browser: bool  # the web wizard; else the headless quickstart
    agents: tuple[str, ...] = ()  # --agent values, passed to massgen as given
    specs: tuple[dict[str, str], ...] = ()  # the same, parsed
    config: str | None = None
    yes: bool = False
    dry_run: bool = False
    timeout: float | None = None
    json: bool = False
    live: bool = True  # end with `doctor --live`: proof that a team really runs here


def browser_available(env: Mapping[str, str], platform: str) -> bool:
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")) or platform == "darwin"


def run_setup(request: SetupRequest, cwd: Path, env: dict[str, str]) -> int:
    """Check that massgen can be started, then run the chosen quickstart; the exit code."""
    readiness = checks.launch_checks(None, cwd, env)  # the config check may fail: that is why we are here
    for check in readiness.checks[:2]:  # massgen found, mcp importable
        if check.status == checks.FAIL:
            raise SkillError(f"{check.detail} (fix: {check.fix})", ExitCode.ENV_NOT_READY)
    if readiness.program is None:
        raise SkillError("massgen was not found", ExitCode.ENV_NOT_READY)
    setup = Setup(request, readiness.program, cwd, env)
    return setup.browser() if request.browser else setup.headless()


def _pump(stream: Iterable[bytes], sink: Callable[[str], None], last: Callable[[], None]) -> None:
    for raw in stream:
        sink(strip_ansi(raw.decode("utf-8", "replace")).rstrip())
    last()


def _listening(url: str, proc: subprocess.Popen[bytes], deadline: float) -> bool:
    """Wait until the wizard's port accepts connections; False if massgen exits first or time runs out."""

    parts = urlsplit(url)
    if not parts.hostname or not parts.port:
        return True  # nothing to probe: relay it as printed
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((parts.hostname, parts.port), timeout=0.5):
                return True
        except OSError:
            if proc.poll() is not None:
                return False
            time.sleep(0.05)
    return False


class Setup:
    """One setup session: prints as it goes (text) or collects everything for one JSON object."""

    def __init__(
        self, request: SetupRequest, program: MassgenProgram, cwd: Path, env: dict[str, str]
    ) -> None:
        self.request, self.program, self.cwd, self.env = request, program, cwd, env
        self.data: dict[str, object] = {"mode": None}

    def line(self, name: str, value: object) -> None:
        """One `NAME: value` line (text mode); in JSON mode the same goes into the final object."""
        key = name.lower()
        if name in LISTED:
            listed = self.data.setdefault(LISTED[name], [])
            assert isinstance(listed, list)
            listed.append(value)
        else:
            self.data[key] = value
        if not self.request.json:
            print(f"{name}: {value}", flush=True)

    # --- headless ----------------------------------------------------------------------------------------

    def headless(self) -> int:
        self.data["mode"] = "headless"
        backends = self._choices(self.request.specs)
        target = self._target()
        argv = [*self.program.argv, flags.QUICKSTART, flags.HEADLESS]
        for value in self.request.agents:
            argv += [flags.QUICKSTART_AGENT, value]
        if self.request.config:
            argv += [flags.CONFIG, str(target)]
        self._confirm([f"writes {target}" + (" (replacing the file there)" if target.exists() else "")])
        if self.request.dry_run:
            return self._dry_run(argv, backends)
        timeout = self.request.timeout or HEADLESS_TIMEOUT
        done = run_bounded(argv, self.cwd, timeout, self.env, self.program)
        summary = parse_quickstart(done.stdout)
        if summary is None or summary.status is None:
            why = (
                f"timed out after {timeout:g} s"
                if done.timed_out
                else done.start_error or f"exit {done.returncode}: {done.tail()}"
            )
            return self._finish(None, f"massgen --quickstart --headless printed no summary ({why})")
        self.line("QUICKSTART_STATUS", summary.status)
        for backend, model in summary.selected:
            self.line("SELECTED", f"{backend} / {model}")
        for step in summary.steps:
            self.line("STEP", step)
        if summary.env_template:
            self.line("ENV_TEMPLATE", self._abs(summary.env_template))
        self.data["quickstart"] = {
            "status": summary.status,
            "keys": summary.keys,
            "docker": summary.docker,
            "skills": summary.skills,
        }
        config = self._abs(summary.config_path) if summary.config_path else None
        if summary.status != QUICKSTART_SUCCESS:
            return self._finish(config, "massgen's quickstart needs more configuration (see STEP lines)")
        return self._finish(config, None)

    def _choices(self, specs: Sequence[dict[str, str]]) -> list[BackendInfo]:
        listing = run_bounded(
            [*self.program.argv, flags.LIST_BACKENDS], self.cwd, LIST_TIMEOUT, self.env, self.program
        )
        backends = parse_list_backends(listing.stdout) if listing.returncode == 0 else []
        if not backends:
            warn(f"could not read `massgen --list-backends` ({listing.start_error or listing.tail()})")
            return []
        sources = key_sources(self.cwd, self.env)
        ordered = order_choices(backends, sources)
        known = {b.type: b for b in backends}
        for spec in specs:
            kind = spec.get("backend") or spec.get("type") or ""
            if kind not in known:
                raise SkillError(
                    f"--agent: massgen has no backend {kind!r}; choose one of: {', '.join(sorted(known))}"
                )
            key = known[kind].key
            if key and key not in sources and not known[kind].login_ok:
                warn(f"--agent backend={kind}: {key} is not set; the quickstart will ask for it")
        self.data["backends"] = [
            {
                "type": b.type,
                "default_model": b.default_model,
                "key": b.key,
                "key_set": bool(b.key and b.key in sources),
                "login_ok": b.login_ok,
            }
            for b in ordered
        ]
        if not self.request.json:
            print("Backends (API key set first; pick with --agent backend=TYPE,model=MODEL):")
            for b in ordered[:CHOICES_SHOWN]:
                auth = f"{b.key}: {'set' if b.key in sources else 'not set'}" if b.key else "no key needed"
                if b.login_ok and b.key:
                    auth += " (or CLI login)"
                print(f"  {b.type:<16} {b.default_model or '?':<28} {auth}")
            if len(ordered) > CHOICES_SHOWN:
                print(f"  … {len(ordered) - CHOICES_SHOWN} more: massgen --list-backends")
        return ordered

    # --- browser ------------------------------------------------------------------------------------------

    def browser(self) -> int:
        self.data["mode"] = "browser"
        port = choose(None, reserve=False).port
        argv = [*self.program.argv, flags.WEB_QUICKSTART, flags.WEB_PORT, str(port)]
        self._confirm(["writes the config you choose in the wizard"])
        if self.request.dry_run:
            return self._dry_run(argv, [])
        outcome = self._wizard(argv, self.request.timeout or BROWSER_TIMEOUT)
        if outcome is not None:
            return outcome
        saved = self.data.get("config_saved")
        return self._finish(saved if isinstance(saved, str) else None, None)

    def _wizard(self, argv: list[str], timeout: float) -> int | None:
        """Run the wizard, relaying its address; None when it completed (config path in data)."""
        try:
            proc = procs.spawn_group(argv, self.cwd, child_env(self.env))
        except OSError as exc:
            return self._finish(None, f"could not start massgen: {exc.strerror or exc}")
        start = procs.process_start_time(proc.pid)
        lines: queue.Queue[str | None] = queue.Queue()
        errors: deque[str] = deque(maxlen=5)

        threading.Thread(
            target=_pump, args=(proc.stdout, lines.put, lambda: lines.put(None)), daemon=True
        ).start()
        threading.Thread(target=_pump, args=(proc.stderr, errors.append, lambda: None), daemon=True).start()
        deadline = time.monotonic() + timeout
        url_seen = False
        ended = False
        while not ended and time.monotonic() < deadline:
            try:
                text = lines.get(timeout=min(0.5, max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                continue
            if text is None:
                ended = True
                break
            info(f"massgen: {text}")
            url = re.search(r"https?://\S+", text)
            if url and not url_seen:
                url_seen = True
                if _listening(url.group(), proc, deadline):  # massgen prints it before binding the port
                    self.line("WIZARD_URL", url.group())
            saved = re.search(r"Configuration saved(?: to)?:\s*(\S.*)$", text)
            if saved:
                self.data["config_saved"] = self._abs(saved.group(1).strip())
        if not ended:
            procs.stop_child(proc, start, WIZARD_GRACES)
            return self._finish(None, f"the wizard was not finished within {timeout:g} s (stopped it)")
        try:
            code = proc.wait(timeout=WIZARD_EXIT_WAIT)
        except subprocess.TimeoutExpired:
            procs.stop_child(proc, start, (0.0, 0.0))
            code = proc.wait(timeout=WIZARD_EXIT_WAIT)
        if code != 0:
            said = " / ".join(e for e in errors if e.strip())
            return self._finish(
                None, f"the wizard was cancelled or failed (massgen exit {code}){': ' + said if said else ''}"
            )
        if "config_saved" not in self.data:
            with contextlib.suppress(SkillError):
                self.data["config_saved"] = find_config(None, self.cwd, self.env).path
        return None

    # --- shared ---------------------------------------------------------------------------------------------

    def _target(self) -> Path:
        return (
            Path(self.request.config).expanduser().resolve()
            if self.request.config
            else self.cwd / PROJECT_CONFIG
        )

    def _abs(self, path: str) -> str:
        full = Path(path).expanduser()
        return str(full if full.is_absolute() else (self.cwd / full))

    def _confirm(self, extra: list[str]) -> None:
        effects = [*extra, *SIDE_EFFECTS]
        if self.request.dry_run:
            return
        warn("the massgen quickstart " + "; ".join(effects))
        if self.request.yes:
            return
        if sys.stdin.isatty() and sys.stderr.isatty():
            sys.stderr.write("Go ahead? [y/N] ")
            sys.stderr.flush()
            if sys.stdin.readline().strip().lower() in ("y", "yes"):
                return
            raise SkillError("setup cancelled; nothing was changed", ExitCode.REFUSED)
        raise SkillError(
            "setup has side effects (see the warning) and no terminal to confirm on: rerun with --yes",
            ExitCode.REFUSED,
        )

    def _dry_run(self, argv: list[str], backends: list[BackendInfo]) -> int:
        command = shlex.join(argv)
        self.data.update(
            {"ok": True, "dry_run": True, "command": command, "side_effects": list(SIDE_EFFECTS)}
        )
        if self.request.json:
            print_json(self.data)
        else:
            print(f"WOULD_RUN: {command}", flush=True)
        return int(ExitCode.OK)

    def _live(self) -> ExitCode:
        """The live check (`doctor --live`): the real massgen on the shipped scripted model, no keys."""
        report = live_check(self.env)
        self.data["live"] = report.as_dict()
        for step in report.steps:
            self.line("LIVE_STEP", f"{step.name}: {step.status} ({step.seconds:.1f} s) {step.detail}")
        self.line("LIVE", "yes" if report.exit_code == 0 else f"no (exit {report.exit_code})")
        return ExitCode(report.exit_code)

    def _finish(self, config: str | None, problem: str | None) -> int:
        code = ExitCode.ENV_NOT_READY
        if config:
            self.line("CONFIG", config)
        if config and problem is None:
            outcome = validate_config(self.program, config, self.cwd, env=self.env)
            self.data["validation"] = {
                "valid": outcome.valid,
                "errors": outcome.errors,
                "warnings": outcome.warnings,
                "problem": outcome.problem,
            }
            if outcome.valid:
                self.line("VALID", f"yes ({len(outcome.warnings)} warnings)")
                code = ExitCode.OK
            elif outcome.valid is False:
                self.line("VALID", f"no ({outcome.summary().removeprefix('invalid: ')})")
                problem, code = f"massgen rejects the config: {outcome.summary()}", ExitCode.MASSGEN_CONFIG
            else:
                self.line("VALID", f"unknown ({outcome.summary()})")
                problem = f"the config could not be validated: {outcome.summary()}"
        elif problem is None:
            problem = "massgen reported no config path"
        status = SETUP_SUCCESS if code == ExitCode.OK else SETUP_NEEDS_CONFIG
        if problem:
            self.data["reason"] = problem
            if not self.request.json:
                print(f"REASON: {problem}", flush=True)
        self.line("SETUP_STATUS", status)
        self.data["ok"] = code == ExitCode.OK
        if code == ExitCode.OK and self.request.live:
            code = self._live()
        if code == ExitCode.OK:
            self.line("NEXT", f"{self_command()} doctor")
        if self.request.json:
            print_json(self.data)
        return int(code)

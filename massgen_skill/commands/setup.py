"""`massgen-skill setup`: get a working massgen config through massgen's own quickstart, then validate it."""

from __future__ import annotations

import argparse

EPILOG = """\
With a browser (DISPLAY/WAYLAND_DISPLAY set, or macOS) and without --headless: `massgen --web-quickstart`, a
wizard page (its address is printed as WIZARD_URL:); setup waits until you finish it there.
Otherwise: lists massgen's backends (those whose API key is set first), runs
`massgen --quickstart --headless [--quickstart-agent backend=…,model=…]… [--config PATH]`, then
`massgen --validate` on the config it wrote.

The quickstart has side effects: it writes the config (default ./.massgen/config.yaml), and may pull a
Docker image, install an npm package globally and clone skills from GitHub. Without a terminal to confirm
on, pass --yes. Key values are never printed, only variable names.

printed (stdout): the backend choice list, then
  QUICKSTART_STATUS: SUCCESS|NEEDS_CONFIG   massgen's own verdict (its `STATUS:` line, renamed)
  STEP: <text>                              what massgen says is still to do
  CONFIG: <path>   VALID: yes|no …
  SETUP_STATUS: SUCCESS|NEEDS_CONFIG        the verdict of this command (not a run's STATUS marker)

exit codes: 0 SUCCESS · 5 NEEDS_CONFIG · 6 the written config is invalid · 16 side effects not confirmed

examples:
  massgen-skill setup
  massgen-skill setup --headless --yes --agent backend=openai,model=gpt-5.4 --agent backend=claude
  massgen-skill setup --headless --yes --config ~/.config/massgen/config.yaml --json
  massgen-skill setup --headless --dry-run
"""

SETUP_SUCCESS = "SUCCESS"
SETUP_NEEDS_CONFIG = "NEEDS_CONFIG"
CHOICES_SHOWN = 8
LISTED = {"STEP": "steps", "SELECTED": "selected"}  # lines that may repeat -> their JSON list
SIDE_EFFECTS = (
    "may pull the Docker image massgen's tools run in (when Docker is available)",
    "may install the `openskills` npm package globally and clone skill repositories from GitHub",
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--headless", action="store_true", help="no browser: massgen --quickstart --headless")
    how.add_argument("--browser", action="store_true", help="the web wizard (massgen --web-quickstart)")
    parser.add_argument(
        "--agent",
        dest="agents",
        action="append",
        default=[],
        metavar="backend=X,model=Y",
        help="one agent of the team (repeat; fields: id, backend, model, reasoning_effort); headless only",
    )
    parser.add_argument(
        "--config", metavar="PATH", help="write the config here (default ./.massgen/config.yaml)"
    )
    parser.add_argument("--yes", action="store_true", help="accept the quickstart's side effects")
    parser.add_argument(
        "--dry-run", action="store_true", help="show the choices and commands, run no quickstart"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        metavar="S",
        help="seconds for the quickstart (default: headless 900, browser 1800)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")


def browser_available(env, platform: str) -> bool:  # type: ignore[no-untyped-def]
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")) or platform == "darwin"


def _listening(url: str, proc, deadline: float) -> bool:  # type: ignore[no-untyped-def]
    """Wait until the wizard's port accepts connections; False if massgen exits first or time runs out."""
    import socket
    import time
    from urllib.parse import urlsplit

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


def run(args: argparse.Namespace) -> int:
    import os
    import sys
    from pathlib import Path

    from massgen_skill.exitcodes import ExitCode, SkillError
    from massgen_skill.prepare import checks
    from massgen_skill.setup.quickstart import parse_agent_spec

    try:
        specs = [parse_agent_spec(value) for value in args.agents]
    except ValueError as exc:
        raise SkillError(f"--agent {exc}") from None
    if args.browser and specs:
        raise SkillError("--agent goes with the headless quickstart; drop --browser (or the --agent values)")
    if args.timeout is not None and args.timeout <= 0:
        raise SkillError(f"--timeout: expected seconds > 0, got {args.timeout:g}")
    env = dict(os.environ)
    cwd = Path(os.getcwd())
    if args.browser:
        browser = True
    elif args.headless or specs:
        browser = False
    else:
        browser = browser_available(env, sys.platform)
    readiness = checks.launch_checks(None, cwd, env)  # the config check may fail: that is why we are here
    for check in readiness.checks[:2]:  # massgen found, mcp importable
        if check.status == checks.FAIL:
            raise SkillError(f"{check.detail} (fix: {check.fix})", ExitCode.ENV_NOT_READY)
    assert readiness.program is not None
    setup = Setup(args, readiness.program, cwd, env)
    return setup.browser() if browser else setup.headless(specs)


class Setup:
    """One setup session: prints as it goes (text) or collects everything for one JSON object."""

    def __init__(self, args, program, cwd, env) -> None:  # type: ignore[no-untyped-def]
        self.args, self.program, self.cwd, self.env = args, program, cwd, env
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
        if not self.args.json:
            print(f"{name}: {value}", flush=True)

    # --- headless ----------------------------------------------------------------------------------------

    def headless(self, specs: list[dict[str, str]]) -> int:
        from massgen_skill.massgen import flags

        self.data["mode"] = "headless"
        backends = self._choices(specs)
        target = self._target()
        argv = [*self.program.argv, flags.QUICKSTART, flags.HEADLESS]
        for value in self.args.agents:
            argv += [flags.QUICKSTART_AGENT, value]
        if self.args.config:
            argv += [flags.CONFIG, str(target)]
        self._confirm([f"writes {target}" + (" (replacing the file there)" if target.exists() else "")])
        if self.args.dry_run:
            return self._dry_run(argv, backends)
        from massgen_skill.massgen.inspection import run_bounded
        from massgen_skill.setup.quickstart import parse_quickstart

        timeout = self.args.timeout or 900.0
        done = run_bounded(argv, self.cwd, timeout, self.env)
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
        from massgen_skill.setup.quickstart import QUICKSTART_SUCCESS

        config = self._abs(summary.config_path) if summary.config_path else None
        if summary.status != QUICKSTART_SUCCESS:
            return self._finish(config, "massgen's quickstart needs more configuration (see STEP lines)")
        return self._finish(config, None)

    def _choices(self, specs: list[dict[str, str]]) -> list:  # type: ignore[type-arg]
        from massgen_skill.exitcodes import SkillError
        from massgen_skill.massgen import flags
        from massgen_skill.massgen.inspection import run_bounded
        from massgen_skill.output import warn
        from massgen_skill.prepare.checks import key_sources
        from massgen_skill.setup.quickstart import order_choices, parse_list_backends

        listing = run_bounded([*self.program.argv, flags.LIST_BACKENDS], self.cwd, 120.0, self.env)
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
        if not self.args.json:
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
        from massgen_skill.massgen import flags
        from massgen_skill.prepare.ports import choose

        self.data["mode"] = "browser"
        port = choose(None, reserve=False).port
        argv = [*self.program.argv, flags.WEB_QUICKSTART, flags.WEB_PORT, str(port)]
        self._confirm(["writes the config you choose in the wizard"])
        if self.args.dry_run:
            return self._dry_run(argv, [])
        outcome = self._wizard(argv, self.args.timeout or 1800.0)
        if outcome is not None:
            return outcome
        return self._finish(self.data.get("config_saved"), None)  # type: ignore[arg-type]

    def _wizard(self, argv: list[str], timeout: float) -> int | None:
        """Run the wizard, relaying its address; None when it completed (config path in data)."""
        import contextlib
        import os
        import queue
        import re
        import signal
        import subprocess
        import threading
        import time
        from collections import deque

        from massgen_skill.massgen.markers import strip_ansi
        from massgen_skill.output import info
        from massgen_skill.run.launcher import child_env

        try:
            proc = subprocess.Popen(
                argv,
                cwd=self.cwd,
                env=child_env(self.env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            return self._finish(None, f"could not start massgen: {exc.strerror or exc}")
        lines: queue.Queue[str | None] = queue.Queue()
        errors: deque[str] = deque(maxlen=5)

        def pump(stream, sink, last) -> None:  # type: ignore[no-untyped-def]
            for raw in stream:
                sink(strip_ansi(raw.decode("utf-8", "replace")).rstrip())
            last()

        threading.Thread(
            target=pump, args=(proc.stdout, lines.put, lambda: lines.put(None)), daemon=True
        ).start()
        threading.Thread(target=pump, args=(proc.stderr, errors.append, lambda: None), daemon=True).start()
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
            for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signum)
                try:
                    proc.wait(timeout=3)
                    break
                except subprocess.TimeoutExpired:
                    continue
            return self._finish(None, f"the wizard was not finished within {timeout:g} s (stopped it)")
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            code = proc.wait(timeout=5)
        if code != 0:
            said = " / ".join(e for e in errors if e.strip())
            return self._finish(
                None, f"the wizard was cancelled or failed (massgen exit {code}){': ' + said if said else ''}"
            )
        if "config_saved" not in self.data:
            from massgen_skill.exitcodes import SkillError
            from massgen_skill.massgen.config import find_config

            with contextlib.suppress(SkillError):
                self.data["config_saved"] = find_config(None, self.cwd, self.env).path
        return None

    # --- shared ---------------------------------------------------------------------------------------------

    def _target(self):  # type: ignore[no-untyped-def]
        from pathlib import Path

        from massgen_skill.massgen.config import PROJECT_CONFIG

        return (
            Path(self.args.config).expanduser().resolve() if self.args.config else self.cwd / PROJECT_CONFIG
        )

    def _abs(self, path: str) -> str:
        from pathlib import Path

        full = Path(path).expanduser()
        return str(full if full.is_absolute() else (self.cwd / full))

    def _confirm(self, extra: list[str]) -> None:
        import sys

        from massgen_skill.exitcodes import ExitCode, SkillError
        from massgen_skill.output import warn

        effects = [*extra, *SIDE_EFFECTS]
        if self.args.dry_run:
            return
        warn("the massgen quickstart " + "; ".join(effects))
        if self.args.yes:
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

    def _dry_run(self, argv: list[str], backends: list) -> int:  # type: ignore[type-arg]
        import shlex

        from massgen_skill.exitcodes import ExitCode
        from massgen_skill.output import print_json

        command = shlex.join(argv)
        self.data.update(
            {"ok": True, "dry_run": True, "command": command, "side_effects": list(SIDE_EFFECTS)}
        )
        if self.args.json:
            print_json(self.data)
        else:
            print(f"WOULD_RUN: {command}", flush=True)
        return int(ExitCode.OK)

    def _finish(self, config: str | None, problem: str | None) -> int:
        from massgen_skill.exitcodes import ExitCode
        from massgen_skill.output import print_json
        from massgen_skill.prepare.checks import self_command

        code = ExitCode.ENV_NOT_READY
        if config:
            self.line("CONFIG", config)
        if config and problem is None:
            from massgen_skill.massgen.inspection import validate_config

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
            if not self.args.json:
                print(f"REASON: {problem}", flush=True)
        self.line("SETUP_STATUS", status)
        self.data["ok"] = code == ExitCode.OK
        if code == ExitCode.OK:
            self.line("NEXT", f"{self_command()} doctor")
        if self.args.json:
            print_json(self.data)
        return int(code)

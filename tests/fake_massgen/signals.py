"""Signals and steering: SIGINT/SIGTERM cancel a run; the runtime inbox (`--inbox-dir`) is polled while it
pauses."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fake_massgen.runstate import Run


def poll_inbox(run: Run) -> None:
    """massgen's RuntimeInboxPoller: each `msg_*.json`, in name order, is read and then deleted. Malformed
    JSON is deleted unread; any other failure leaves the file for the next poll."""
    inbox = run.args.inbox_dir
    if not inbox or run.web:
        return
    try:
        names = sorted(n for n in os.listdir(inbox) if n.startswith("msg_") and n.endswith(".json"))
    except OSError:
        return
    for name in names:
        path = Path(inbox, name)
        try:
            msg = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            run.log(f"[RuntimeInboxPoller] Skipping malformed message: {path}")
            with contextlib.suppress(OSError):
                path.unlink()
            continue
        except (OSError, ValueError) as exc:
            run.log(f"[RuntimeInboxPoller] Error reading {path}: {exc}")
            continue
        if not isinstance(msg, dict):
            run.log(f"[RuntimeInboxPoller] Error reading {path}: not a JSON object")
            continue
        targets, content = msg.get("target_agents"), msg.get("content", "")
        run.log(f"[RuntimeInbox] Injected {name} targets={targets or 'all'}: {content}")
        try:
            path.unlink()
        except OSError as exc:
            run.log(f"[RuntimeInboxPoller] Error reading {path}: {exc}")


def install_sigint(run: Run, also_sigterm: bool = False) -> None:
    """Cancel on SIGINT. An inherited SIG_IGN is kept (a backgrounded real massgen ignores Ctrl-C)."""

    def handler(signum: int, frame: object) -> None:
        if run.cancel_reason:
            if also_sigterm:  # resumed sessions: a second signal forces exit
                os._exit(1)
            return
        run.request_cancel("signal")

    signals = [signal.SIGINT] + ([signal.SIGTERM] if also_sigterm else [])
    for sig in signals:
        if signal.getsignal(sig) is signal.SIG_IGN:
            continue
        signal.signal(sig, handler)

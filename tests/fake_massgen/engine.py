"""The fake coordination run: marker lines, the log tree, status.json, signals, file changes, web reviews.

Shapes follow the massgen 0.1.97 contract and the recorded samples; only the agents are canned. The run is
split by concern: `runstate` (the Run and its small writers), `timeline` (scenarios), `answers`,
`workspaces`, `logtree`, `signals`, `review`, and the two modes, `cli_mode` and `web_mode`; this module is
their entry point.
"""

from __future__ import annotations

from fake_massgen.cli_mode import run_cli, run_resumed
from fake_massgen.runstate import Run
from fake_massgen.web_mode import run_web

__all__ = ["Run", "run_cli", "run_resumed", "run_web"]

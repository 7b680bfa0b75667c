"""A faithful fake of the `massgen` 0.1.97 CLI for tests (standard library only).

Built from the massgen CLI contract and the recorded real runs in tests/fixtures/massgen_0.1.97/.
Put `BIN_DIR` first on PATH to use it; behaviour is steered with FAKE_MASSGEN_* variables (see `knobs`).

Modules: `main` (entry point: knobs, argv, dispatch), `cli` (argparse, config discovery, --eval-criteria
loader, output, exit codes), `engine` (the run's entry points), split by concern into `runstate` (the Run and
its small writers), `timeline` (scenarios: answers, votes, winner, failures), `answers` (answer/vote/final
files), `workspaces` (status.json's paths, file changes), `logtree` (end-of-run files, sessions), `signals`
(SIGINT, the runtime inbox), `review` (the web review gate), `cli_mode` and `web_mode`; `status`
(status.json), `webserver` (HTTP API), `setup_cmds` (--list-backends, --quickstart, --validate), `textio`
(writers), `harness` (the pytest fixture's type).
"""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
BIN_DIR = PACKAGE_DIR / "bin"
EXECUTABLE = BIN_DIR / "massgen"

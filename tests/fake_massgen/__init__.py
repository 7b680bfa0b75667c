"""A faithful fake of the `massgen` 0.1.97 CLI for tests (standard library only).

Built from ../shared/massgen-cli-contract.md and the recorded runs in ../shared/massgen-samples/0.1.97/.
Put `BIN_DIR` first on PATH to use it; behaviour is steered with FAKE_MASSGEN_* variables (see `knobs`).

Modules: `cli` (argparse, config discovery, --eval-criteria loader, dispatch), `engine` (the run: markers,
log tree, signals, file changes, web review), `status` (status.json), `webserver` (HTTP API), `setup_cmds`
(--list-backends, --quickstart, --validate), `textio` (writers), `harness` (the pytest fixture's type).
"""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
BIN_DIR = PACKAGE_DIR / "bin"
EXECUTABLE = BIN_DIR / "massgen"

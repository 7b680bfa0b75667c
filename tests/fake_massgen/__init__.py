"""A faithful fake of the `massgen` 0.1.97 CLI for tests (standard library only).

Built from ../shared/massgen-cli-contract.md and the recorded runs in ../shared/massgen-samples/0.1.97/.
Put `BIN_DIR` first on PATH to use it; behaviour is steered with FAKE_MASSGEN_* variables (see `knobs`).
"""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
BIN_DIR = PACKAGE_DIR / "bin"
EXECUTABLE = BIN_DIR / "massgen"

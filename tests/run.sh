#!/usr/bin/env bash
# The project's whole check, from a fresh clone: install what the tests need into .venv, lint, run pytest.
# Extra arguments go to pytest (e.g. `bash tests/run.sh -m "not real_massgen"`).
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
venv=${MASSGEN_SKILL_TEST_VENV:-.venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]'
"$venv/bin/ruff" check .
"$venv/bin/ruff" format --check .
"$venv/bin/shellcheck" -x scripts/*.sh tests/run.sh .ci/run
"$venv/bin/python" -m pytest "$@"

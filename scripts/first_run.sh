#!/usr/bin/env bash
# From a machine with only Python to a working MassGen team: installs massgen 0.1.97 privately when missing,
# proves the chain live (no keys needed), then runs TASK if given. Every argument goes to `massgen-skill first-run`.
# Usage: first_run.sh ["task"]      (first_run.sh --help for details)
set -u
here=${BASH_SOURCE[0]%/*}; [ "$here" = "${BASH_SOURCE[0]}" ] && here=.
# shellcheck source=scripts/_skill_python.sh
. "$here/_skill_python.sh"
run_skill first-run "$@"

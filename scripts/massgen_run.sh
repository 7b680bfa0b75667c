#!/usr/bin/env bash
# Delegate a task to a MassGen team: every argument goes, unchanged, to `massgen-skill run`.
# Usage: massgen_run.sh [options] "task"      (massgen_run.sh --help for all options and exit codes)
set -u
here=${BASH_SOURCE[0]%/*}; [ "$here" = "${BASH_SOURCE[0]}" ] && here=.
# shellcheck source=scripts/_skill_python.sh
. "$here/_skill_python.sh"
run_skill run "$@"

#!/usr/bin/env bash
# Any massgen-skill command (status, wait, result, review, stop, …) from the skill folder, no install needed.
# Usage: massgen_skill.sh COMMAND [options]   (massgen_skill.sh --help lists the commands)
set -u
here=${BASH_SOURCE[0]%/*}; [ "$here" = "${BASH_SOURCE[0]}" ] && here=.
# shellcheck source=scripts/_skill_python.sh
. "$here/_skill_python.sh"
run_skill "$@"

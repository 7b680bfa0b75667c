#!/usr/bin/env bash
# Announce pending reviews of a run's file changes: every argument goes to `massgen-skill watch-review`.
# Usage: review_watcher.sh LOG_DIR|RUN [--poll-interval S] [--json]
set -u
here=${BASH_SOURCE[0]%/*}; [ "$here" = "${BASH_SOURCE[0]}" ] && here=.
# shellcheck source=scripts/_skill_python.sh
. "$here/_skill_python.sh"
run_skill watch-review "$@"

# shellcheck shell=bash
# Sourced by the entry points: run `python -m massgen_skill "$@"` with a Python that has its dependencies.
# massgen itself depends on pyyaml, jsonschema and requests, so its interpreter is tried first, then python3.
# Parameter expansion and `hash` only (no subshells, no external tools): this runs before every command.

skill_root=${BASH_SOURCE[0]%/*}
[ "$skill_root" = "${BASH_SOURCE[0]}" ] && skill_root=.
skill_root=$skill_root/..

skill_python() {  # sets $python
  local candidate="" first interp
  python=${MASSGEN_SKILL_PYTHON:-}
  [ -n "$python" ] && return
  if [ -n "${MASSGEN_BIN:-}" ]; then
    candidate=$MASSGEN_BIN
  elif hash massgen 2>/dev/null; then
    candidate=${BASH_CMDS[massgen]}
  fi
  # -f first: reading the shebang of a FIFO or a device (MASSGEN_BIN=/dev/zero) would hang or never end.
  if [ -n "$candidate" ] && [ -f "$candidate" ] && [ -r "$candidate" ]; then
    IFS= read -r first < "$candidate" || true
    interp=${first#\#!}
    interp=${interp%% *}
    if [ "$first" != "$interp" ] && [ -x "$interp" ] && [[ ${interp##*/} == python* ]]; then
      python=$interp
      return
    fi
  fi
  python=python3
  hash python3 2>/dev/null && python=${BASH_CMDS[python3]}
}

run_skill() {
  local python
  skill_python
  unset CLAUDECODE
  PYTHONPATH="$skill_root${PYTHONPATH:+:$PYTHONPATH}" exec "$python" -m massgen_skill "$@"
}

# shellcheck shell=bash
# Sourced by the entry points: run `python -m massgen_skill "$@"` with a Python that has its dependencies.
# First the one `massgen-skill install` recorded (the environment the package was installed into), then
# massgen's (massgen depends on pyyaml, jsonschema and requests), then python3.
# Parameter expansion and `hash` only (no subshells, no external tools): this runs before every command.

skill_root=${BASH_SOURCE[0]%/*}
[ "$skill_root" = "${BASH_SOURCE[0]}" ] && skill_root=.
skill_root=$skill_root/..

skill_python() {  # sets $python
  local candidate="" first interp note=""
  python=${MASSGEN_SKILL_PYTHON:-}
  [ -n "$python" ] && return
  skill_recorded_python && return
  [ -n "$recorded" ] && note="the Python recorded at install ($recorded) is gone"
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
      [ -n "$note" ] && echo "massgen-skill: $note; using massgen's Python: $python" >&2
      return 0
    fi
  fi
  # the private environment `first-run` installs massgen into (massgen_skill/massgen/private_env.py)
  candidate=${MASSGEN_SKILL_CACHE:-${HOME:-/nonexistent}/.cache/massgen-skill}/mg-0.1.97/bin/python
  if [ -x "$candidate" ]; then
    python=$candidate
    return
  fi
  python=python3
  hash python3 2>/dev/null && python=${BASH_CMDS[python3]}
  [ -n "$note" ] && echo "massgen-skill: $note; using $python" >&2
  return 0
}

recorded=""
skill_recorded_python() {  # the interpreter named in .massgen-skill-python (setup/installer.py PYTHON_RECORD)
  local record=$skill_root/.massgen-skill-python
  [ -f "$record" ] || return 1  # a regular file only: never block on a FIFO
  IFS= read -r recorded < "$record" || true
  [ -n "$recorded" ] && [ -x "$recorded" ] && [ ! -d "$recorded" ] || return 1
  python=$recorded
}

run_skill() {
  local python
  skill_python
  unset CLAUDECODE
  PYTHONPATH="$skill_root${PYTHONPATH:+:$PYTHONPATH}" exec "$python" -m massgen_skill "$@"
}

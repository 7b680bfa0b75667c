# shellcheck shell=bash
# Sourced by the entry points: run `python -m massgen_skill "$@"` with a Python that has its dependencies.
# massgen itself depends on pyyaml, jsonschema and requests, so its interpreter is tried first, then python3.

skill_root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)

skill_python() {
  local candidate first interp
  if [ -n "${MASSGEN_SKILL_PYTHON:-}" ]; then
    printf '%s\n' "$MASSGEN_SKILL_PYTHON"
    return
  fi
  candidate=${MASSGEN_BIN:-$(command -v massgen 2>/dev/null || true)}
  if [ -n "$candidate" ] && [ -r "$candidate" ]; then
    IFS= read -r first < "$candidate" || true
    interp=${first#\#!}
    interp=${interp%% *}
    if [ "$first" != "$interp" ] && [ -x "$interp" ] && [[ $(basename -- "$interp") == python* ]]; then
      printf '%s\n' "$interp"
      return
    fi
  fi
  command -v python3 || printf '%s\n' python3
}

run_skill() {
  local python
  python=$(skill_python)
  unset CLAUDECODE
  PYTHONPATH="$skill_root${PYTHONPATH:+:$PYTHONPATH}" exec "$python" -m massgen_skill "$@"
}

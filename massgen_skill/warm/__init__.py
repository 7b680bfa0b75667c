"""Warm start: a per-user server that has imported massgen once and forks one child per run (opt-in)."""

"""Structured evaluation: the prompt asking a team for verdict.json, next_tasks.json and critique_packet.md,
the check that its agents have workspaces to write them in, and reading and validating those files."""

"""The review gate of file changes: which run, the printed block, the loopback HTTP client, the decision."""

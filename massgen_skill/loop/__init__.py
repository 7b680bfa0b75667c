"""Checkpoint loops: build, evaluate, build again on the next tasks, until converged or N rounds."""

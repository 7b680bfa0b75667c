"""massgen-skill: hand a task to a MassGen team of AI agents in one step, and get the result back safely."""

__version__ = "0.1.0"

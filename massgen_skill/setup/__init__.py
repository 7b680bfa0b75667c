"""Getting ready: the installer into coding agents, the quickstart and the setup wizard."""

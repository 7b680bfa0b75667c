"""One module per subcommand: `configure(parser)` adds its arguments, `run(args) -> int` does the work.

Imports sit at the top of each module; only jsonschema, requests and yaml are imported where used. `cli.py`
imports just the chosen subcommand's module, so starting one command never pays for another.
"""

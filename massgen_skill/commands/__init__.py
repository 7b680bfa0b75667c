"""One module per subcommand: `configure(parser)` adds its arguments, `run(args) -> int` does the work.

Modules here import only cheap things at the top; heavy imports (jsonschema, requests, yaml) happen inside
`run`, so that starting one command never pays for another.
"""

"""Run in massgen's own interpreter (offline): print every option of massgen's main parser as JSON,
{flag: [arity, [choices…]]} in the parser's order — the source of massgen_skill/massgen/parser_flags.py."""

import json

from massgen.cli.entrypoint import main_parser

ARITY = {0: "flag", None: "value", "?": "optional"}


def main() -> None:
    found = {}
    for action in main_parser()._actions:
        for option in action.option_strings:
            found[option] = [ARITY[action.nargs], [str(c) for c in action.choices or ()]]
    print(json.dumps(found))


if __name__ == "__main__":
    main()

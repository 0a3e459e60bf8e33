"""The `search` command: a table of commands, each a module of this package that declares its
arguments (`add_arguments`) and its run function (`run`), as Optuna's CLI does.

A command parses its flags into the settings objects of the Python API and calls the same
functions a Python user calls; this package only parses and prints. Command modules import
nothing heavy at module level, so `search --help` imports neither TensorFlow nor Ray.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import NoReturn

from search.cli.arguments import in_flag_names
from search.cli.quiet import import_tensorflow_quietly
from space import AugSearchError

#: The commands, in the order `search --help` lists them (the user story's order).
COMMANDS = ("run", "trials", "compare", "preview", "dashboard", "export", "evaluate")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse's own usage errors: one line, exit 2, like ours
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="search",
        description="AugSearch: search data-augmentation policies for Keras image classifiers.",
        epilog="Start with: search run --trials 200",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        command = importlib.import_module(f"search.cli.{name}")
        sub = subparsers.add_parser(
            name, help=command.HELP, description=command.DESCRIPTION, epilog=getattr(command, "EPILOG", None)
        )
        command.add_arguments(sub)
        sub.set_defaults(command_module=command, command_parser=sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    # --debug is accepted before or after the command.
    debug = "--debug" in argv
    args = parser.parse_args([a for a in argv if a != "--debug"])
    args.argv = [a for a in argv if a != "--debug"]  # for the reports' "reproduce" line
    if args.command is None:
        parser.print_help()
        return 2
    try:
        if args.command_module.NEEDS_TENSORFLOW:
            import_tensorflow_quietly()
        return args.command_module.run(args)
    except AugSearchError as error:
        shown = in_flag_names(error, args.command_parser)
        if debug:  # the traceback, ending in the same message, worded in the flags the user typed
            if shown is error:
                raise
            raise shown from error
        print(f"search {args.command}: error: {shown}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `search trials | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())

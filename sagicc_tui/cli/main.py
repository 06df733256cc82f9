"""The ``sagicc`` command: dispatches to one module per subcommand."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Each module defines ``register(subparsers)``, which adds its parser and sets
# ``func`` (taking the parsed namespace, returning an exit code) as a default.
SUBCOMMAND_MODULES = (
    "demo",
    "inspect",
    "group",
    "channels",
    "sync",
    "replay",
    "export",
    "console",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the parser with every subcommand module that is installed."""
    parser = argparse.ArgumentParser(
        prog="sagicc",
        description="Terminal console for customer-service email channels.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(f"sagicc_tui.cli.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"sagicc_tui.cli.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``sagicc``; with no subcommand, open the console."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        try:
            args = parser.parse_args(["console"])
        except SystemExit:
            parser.print_help()
            return 2
        func = args.func
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

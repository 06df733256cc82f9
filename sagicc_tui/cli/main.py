"""The ``sagicc`` command: dispatches to one module per subcommand."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from sagicc_tui import __version__
from sagicc_tui.paths import HOME_VARIABLE

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

# Exit status after the reader of standard output went away (as with `| head`):
# 128 + SIGPIPE, what a shell reports for a program killed by that signal.
BROKEN_PIPE_STATUS = 141

EPILOG = f"""\
Files: with ${HOME_VARIABLE} set, settings go to ${HOME_VARIABLE}/config, the
ticket store to ${HOME_VARIABLE}/data, logs to ${HOME_VARIABLE}/log, and
secrets kept in a file instead of the OS keyring to ${HOME_VARIABLE}/secrets.
Without it, the per-user folders of this platform are used. With no COMMAND, the console
opens."""


def build_parser() -> argparse.ArgumentParser:
    """Build the parser with every subcommand module that is installed."""
    parser = argparse.ArgumentParser(
        prog="sagicc",
        description="Terminal console for customer-service email channels.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
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
    """Run ``sagicc``; with no subcommand, open the console.

    Returns 141 without a traceback when the reader of standard output
    closes it early, for every subcommand.
    """
    try:
        try:
            return _run(argv)
        finally:
            # Flush here, also after --help exits, so a closed pipe surfaces
            # now and not at interpreter exit.
            sys.stdout.flush()
    except BrokenPipeError:
        # Point stdout at devnull so the interpreter's final flush is quiet.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return BROKEN_PIPE_STATUS


def _run(argv: Sequence[str] | None) -> int:
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

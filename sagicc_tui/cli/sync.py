"""``sagicc sync``: run the channel engine as a service, or one pass with --once."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from sagicc_tui.engine.config_watch import watch_config
from sagicc_tui.engine.errors import ChannelError
from sagicc_tui.engine.replies import message_id_key
from sagicc_tui.engine.runner import Engine, EngineLocked
from sagicc_tui.logs import setup_logging
from sagicc_tui.paths import Paths, resolve_paths
from sagicc_tui.settings import (
    ConfigError,
    IncomingChannel,
    load_config,
    open_secret_store,
)
from sagicc_tui.settings.descriptions import describe_import_existing
from sagicc_tui.store import TicketStore

log = logging.getLogger(__name__)

# Exit codes beyond 0 (success) and 1 (a channel failed in --once).
EXIT_CONFIG = 2
EXIT_LOCKED = 3


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sync`` subcommand."""
    parser = subparsers.add_parser(
        "sync",
        help="run the channel engine: sync incoming channels and send the outbox",
        description=(
            "Run the channel engine on the store under SAGICC_HOME until stopped "
            "(SIGINT or SIGTERM). Only one engine runs per store; consoles "
            "started meanwhile attach to it. Logs go to the log folder."
        ),
    )
    parser.add_argument(
        "--once",
        action="store_true",
        help="sync every incoming channel once, send due outbox mail, then exit",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the engine; return the process exit code."""
    paths = resolve_paths().ensure()
    log_file = setup_logging(paths)
    try:
        config = load_config(paths.config_file)
    except ConfigError as error:
        print(f"sagicc sync: {error}", file=sys.stderr)
        return EXIT_CONFIG
    if not config.incoming and not config.outgoing:
        print(
            f"sagicc sync: no channels in {paths.config_file}; add one with "
            "'sagicc channels add'",
            file=sys.stderr,
        )
        return EXIT_CONFIG

    secrets = open_secret_store(config, paths)
    with TicketStore.open(paths=paths) as store:
        engine = Engine(config, store, secrets, message_id_key=message_id_key(secrets))
        try:
            if args.once:
                first_syncs = {
                    channel.name: channel
                    for channel in config.incoming
                    if store.get_cursor(channel.name, channel.folder) is None
                }
                return asyncio.run(_once(engine, first_syncs))
            print(
                f"sagicc sync: engine running for {len(config.incoming)} incoming "
                f"channel(s); log: {log_file}",
                file=sys.stderr,
            )
            asyncio.run(_serve(engine, paths))
        except EngineLocked as error:
            print(f"sagicc sync: {error}", file=sys.stderr)
            return EXIT_LOCKED
    return 0


async def _once(engine: Engine, first_syncs: dict[str, IncomingChannel]) -> int:
    """Sync once and print one line per channel.

    ``first_syncs`` are the channels with no stored cursor yet. Their line
    names the import window, because mail older than it is skipped without
    being counted.
    """
    results = await engine.sync_once()
    status = 0
    for name, result in results.items():
        if isinstance(result, ChannelError):
            print(f"{name}: failed: {result}")
            status = 1
            continue

        line = (
            f"{name}: {result.stored} new message(s) stored, "
            f"{result.duplicates} already known"
        )
        channel = first_syncs.get(name)
        if channel is not None:
            # NOTE: the engine does not count the messages older than the
            # window, so the line names the window instead of a skipped count.
            window = describe_import_existing(channel.import_existing)
            line += f" (first sync: imported {window}; see --import-existing)"
        print(line)
    return status


async def _serve(engine: Engine, paths: Paths) -> None:
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, _stop, engine, number.name)
    watcher = asyncio.create_task(watch_config(engine, paths))
    try:
        await engine.run()
    finally:
        watcher.cancel()


def _stop(engine: Engine, signal_name: str) -> None:
    log.info("%s received; stopping the engine", signal_name)
    asyncio.ensure_future(engine.stop())

"""``sagicc console`` (also plain ``sagicc``): open the operator console."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from typing import Any

from sagicc_tui.logs import setup_logging
from sagicc_tui.paths import Paths, resolve_paths
from sagicc_tui.settings import ConfigError

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "console",
        help="open the operator console on the store (the default command)",
        description=(
            "Open the console on the store under SAGICC_HOME. When no engine "
            "runs on that store, the console runs one in-process."
        ),
    )
    parser.add_argument(
        "--operator",
        default=None,
        help="name recorded with your actions (default: your user name)",
    )
    parser.add_argument(
        "--no-engine",
        action="store_true",
        help="only attach to the store; never sync or send from this process",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    paths = resolve_paths().ensure()
    log_file = setup_logging(paths)
    operator = args.operator or getpass.getuser()
    result = open_console(paths, operator=operator, run_engine=not args.no_engine)
    if result == "demo":
        from sagicc_tui.cli.demo import run_demo

        return run_demo("demo", speed=1.0, operator=operator)
    if isinstance(result, int):
        return result
    log.info("console closed (log: %s)", log_file)
    return 0


def open_console(
    paths: Paths,
    *,
    operator: str,
    run_engine: bool = True,
    ca_file: str | None = None,
    background: Any = None,
) -> str | int | None:
    """Run the console until the operator quits; return the app's result.

    Returns ``"demo"`` when the operator chose the demo on the welcome
    screen, or an exit code when the settings cannot be read. The engine
    runs on ``background`` (a ``BackgroundLoop``) when given, else on a loop
    of its own that is closed on return.
    """
    from sagicc_tui.store import TicketStore
    from sagicc_tui.ui.app import SagiccApp
    from sagicc_tui.ui.channel_settings import ChannelSettings
    from sagicc_tui.ui.engine_host import BackgroundLoop, EngineHost
    from sagicc_tui.ui.store_backend import StoreBackend

    settings = ChannelSettings(paths)
    try:
        config = settings.load()
        secrets = settings.secrets()
    except ConfigError as error:
        print(f"sagicc: {error}", file=sys.stderr)
        return 2

    own_loop = background is None
    if own_loop:
        background = BackgroundLoop().start()
    # Open (and create) the store before the engine's thread opens it too.
    store = TicketStore.open(paths.store_file)
    host = EngineHost(background, paths, config, secrets, ca_file=ca_file)
    # The engine starts even with no channels yet: it picks up channels the
    # operator adds in this console when the config file changes.
    if run_engine:
        host.start()
    try:
        backend = StoreBackend(store, settings, operator=operator)
        app = SagiccApp(
            backend,
            keymap=config.key_bindings,
            log_file=str(paths.log_file),
            engine_problem=host.problem,
        )
        return app.run()
    finally:
        host.stop()
        if own_loop:
            background.close()
        store.close()

"""``sagicc demo``: the console on a bundled fakemail scenario, nothing to set up."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from sagicc_tui.paths import HOME_VARIABLE

log = logging.getLogger(__name__)

DEFAULT_SCENARIO = "demo"
START_SECONDS = 30.0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="try the console on a local fake mail server (no account needed)",
        description=(
            "Start fakemail on 127.0.0.1 with a bundled scenario, create its "
            "channels in a temporary SAGICC_HOME and open the console. "
            "Everything is deleted when you quit, unless --keep is given."
        ),
    )
    parser.add_argument(
        "scenario",
        nargs="?",
        default=DEFAULT_SCENARIO,
        help="scenario name under scenarios/ or a path to a scenario folder "
        f"(default: {DEFAULT_SCENARIO})",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="how fast the scenario's timeline runs (2 = twice as fast)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary folder and print its path on exit",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return run_demo(args.scenario, speed=args.speed, keep=args.keep)


def scenario_roots() -> list[Path]:
    """Return where bundled scenarios may be: the source tree, then the CWD."""
    package_parent = Path(__file__).resolve().parents[2]
    return [package_parent / "scenarios", Path.cwd() / "scenarios"]


def find_scenario(name: str) -> Path:
    """Return the folder of scenario ``name`` (a name or a path).

    Raises FileNotFoundError naming the places searched.
    """
    given = Path(name).expanduser()
    candidates = [given] if given.is_dir() else []
    candidates += [root / name for root in scenario_roots()]
    for folder in candidates:
        if (folder / "scenario.toml").is_file():
            return folder.resolve()
    searched = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"scenario {name!r} not found (looked for scenario.toml in {searched}); "
        "give a scenario folder or run from a source checkout"
    )


def run_demo(
    scenario: str, *, speed: float = 1.0, keep: bool = False, operator: str = ""
) -> int:
    """Run the demo in a new temporary SAGICC_HOME; return the exit code."""
    try:
        folder = find_scenario(scenario)
    except FileNotFoundError as error:
        print(f"sagicc demo: {error}", file=sys.stderr)
        return 2

    home = Path(tempfile.mkdtemp(prefix="sagicc-demo-"))
    # A closed terminal or SSH session sends SIGHUP, whose default action
    # ends the process at once; as an exception it runs the cleanup below.
    signal.signal(signal.SIGHUP, _exit_on_signal)
    signal.signal(signal.SIGTERM, _exit_on_signal)
    previous = os.environ.get(HOME_VARIABLE)
    # Set before anything resolves paths, so nothing lands in the user's folders.
    os.environ[HOME_VARIABLE] = str(home)
    try:
        return _run_in_home(folder, home, speed, operator or getpass.getuser())
    finally:
        _restore_home(previous)
        if keep:
            print(f"sagicc demo: files kept in {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)


def _exit_on_signal(number: int, frame: object) -> None:
    raise SystemExit(128 + number)


def _restore_home(previous: str | None) -> None:
    if previous is None:
        os.environ.pop(HOME_VARIABLE, None)
    else:
        os.environ[HOME_VARIABLE] = previous


def _run_in_home(folder: Path, home: Path, speed: float, operator: str) -> int:
    from sagicc_tui.cli.console import open_console
    from sagicc_tui.logs import setup_logging
    from sagicc_tui.paths import resolve_paths

    paths = resolve_paths().ensure()
    log_file = setup_logging(paths)
    stack = DemoStack(folder, paths, speed=speed)
    try:
        stack.start(timeout=START_SECONDS)
    except Exception as error:
        log.exception("the demo could not start")
        print(
            f"sagicc demo: starting fakemail failed: {error} (log: {log_file})",
            file=sys.stderr,
        )
        stack.stop()
        return 1
    try:
        result: Any = open_console(
            paths, operator=operator, background=stack.background, ca_file=stack.ca_file
        )
    finally:
        stack.stop()
    return result if isinstance(result, int) else 0


class DemoStack:
    """fakemail on a background loop, and the config and secrets pointing at it.

    The engine later runs on the same loop (``background``), so one thread
    serves both ends of the demo while the console draws.
    """

    def __init__(self, folder: Path, paths: Any, *, speed: float = 1.0) -> None:
        from sagicc_tui.ui.engine_host import BackgroundLoop

        self.folder = folder
        self.paths = paths
        self.speed = speed
        self.background = BackgroundLoop("sagicc-demo")
        self.fakemail: Any = None

    @property
    def ca_file(self) -> str:
        return str(self.fakemail.ca_path)

    def start(self, timeout: float = START_SECONDS) -> None:
        """Start fakemail, then write the scenario's channels and secrets."""
        from sagicc_tui.settings import save_config
        from sagicc_tui.settings.secret_store import FileSecretStore

        self.background.start()
        self.fakemail = self.background.submit(self._start_fakemail()).result(timeout)
        config, secrets = scenario_config(self.fakemail)
        save_config(config, self.paths.config_file)
        store = FileSecretStore(self.paths.secrets_dir)
        for key, value in secrets.items():
            store.set(key, value)
        log.info("demo: fakemail serves %s on %s", self.folder, self.fakemail.ports)

    async def _start_fakemail(self) -> Any:
        from fakemail.server import FakeMail

        fakemail = FakeMail(
            self.folder, speed=self.speed, state_dir=self.paths.data_dir / "fakemail"
        )
        await fakemail.start()
        return fakemail

    def stop(self) -> None:
        """Stop fakemail and the background loop; safe to call twice."""
        if self.fakemail is not None:
            try:
                self.background.submit(self.fakemail.stop()).result(START_SECONDS)
            except Exception as error:  # keep closing the rest
                log.error("demo: stopping fakemail failed: %s", error)
            self.fakemail.close()
            self.fakemail = None
        self.background.close()


def scenario_config(fakemail: Any) -> tuple[Any, dict[str, str]]:
    """Return the Config for a running fakemail's channels and their secrets.

    Each channel takes the scenario's settings and fakemail's host, port,
    encryption, account and CA file. Raises ValueError naming bad settings.
    """
    from sagicc_tui.settings import (
        Config,
        IncomingChannel,
        OutgoingChannel,
        SecretBackend,
        build_channel,
    )
    from sagicc_tui.settings.secret_store import (
        OAUTH_ACCESS_TOKEN,
        PASSWORD,
        secret_key,
    )

    incoming, outgoing, secrets = [], [], {}
    for spec in fakemail.scenario.channels:
        endpoint = fakemail.endpoint(spec.name)
        values = {
            **spec.settings,
            "name": spec.name,
            "host": endpoint.host,
            "port": endpoint.port,
            "encryption": endpoint.encryption,
            "username": endpoint.username,
            "auth": endpoint.auth,
            "ca_file": str(endpoint.ca_path),
        }
        model = IncomingChannel if spec.kind == "incoming" else OutgoingChannel
        channel, errors = build_channel(model, values)
        if errors or channel is None:
            problems = "; ".join(e.message for e in errors)
            raise ValueError(f"scenario channel {spec.name!r} is invalid: {problems}")
        (incoming if spec.kind == "incoming" else outgoing).append(channel)
        kind = OAUTH_ACCESS_TOKEN if endpoint.auth == "oauth" else PASSWORD
        if endpoint.secret:
            secrets[secret_key(spec.name, kind)] = endpoint.secret
    config = Config(
        incoming=tuple(incoming),
        outgoing=tuple(outgoing),
        secret_backend=SecretBackend.FILE,
    )
    return config, secrets

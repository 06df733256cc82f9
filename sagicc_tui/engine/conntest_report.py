"""Results of the connection test and the steps both protocols share."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sagicc_tui.engine.errors import ChannelError, ConnectFailed, ResolveFailed
from sagicc_tui.settings import PASSWORD, SecretStore, SecretStoreError, secret_key
from sagicc_tui.settings.models import IncomingChannel, OutgoingChannel

T = TypeVar("T")

CLEAR_TEXT_WARNING = "not encrypted: the password or token travels in clear"


@dataclass(slots=True)
class StepResult:
    """One step of the test: its name, whether it passed, and what to do.

    ``detail`` describes what was found (addresses, TLS version, message count)
    or what failed, with the server's own words in ``server_text``.
    """

    name: str
    passed: bool
    detail: str = ""
    fix: str = ""
    server_text: str = ""


@dataclass(slots=True)
class ConnectionReport:
    """Every step run, in order; the test stops at the first failure."""

    channel: str
    kind: str
    host: str
    port: int
    steps: list[StepResult] = field(default_factory=list)
    passed: bool = False


StepCallback = Callable[[StepResult], None]


class Steps:
    """Collects results and calls ``on_step`` as each one finishes."""

    def __init__(self, report: ConnectionReport, on_step: StepCallback | None) -> None:
        self.report = report
        self.on_step = on_step

    def add(self, name: str, passed: bool, detail: str = "", **extra: str) -> None:
        step = StepResult(name, passed, detail, **extra)
        self.report.steps.append(step)
        if self.on_step is not None:
            self.on_step(step)

    def fail(self, name: str, error: ChannelError) -> None:
        self.add(
            name,
            False,
            error.message,
            fix=error.fix,
            server_text=error.server_text,
        )


class StopTest(Exception):
    """A step failed; later steps cannot run."""


async def reach(
    channel: IncomingChannel | OutgoingChannel, steps: Steps, timeout: float
) -> None:
    """Run the first two steps: resolve the host, open a TCP connection."""
    host, port = channel.host, channel.port
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout
        )
    except (OSError, TimeoutError) as error:
        steps.fail(
            "Resolve host",
            ResolveFailed(
                f"the host name {host} does not resolve ({error})",
                host=host,
                port=port,
                fix="Check the spelling of the host and this machine's DNS",
            ),
        )
        raise StopTest from error
    addresses = sorted({info[4][0] for info in infos})
    steps.add("Resolve host", True, f"{host} is {', '.join(addresses)}")

    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError) as error:
        reason = "no response" if isinstance(error, TimeoutError) else str(error)
        steps.fail(
            "Connect",
            ConnectFailed(
                f"cannot connect: {reason}",
                host=host,
                port=port,
                fix="Check the port, that the server runs, and any firewall",
            ),
        )
        raise StopTest from error
    writer.close()
    steps.add("Connect", True, f"TCP connection to {host}:{port} opened")


def read_password(
    channel: IncomingChannel | OutgoingChannel, secrets: SecretStore
) -> str:
    """Return the channel's stored password or raise MissingSecret."""
    try:
        password = secrets.get(secret_key(channel.name, PASSWORD))
    except SecretStoreError as error:
        raise MissingSecret(f"the password cannot be read: {error}") from error
    if password is None:
        raise MissingSecret(f"no password is stored for channel {channel.name!r}")
    return password


class MissingSecret(Exception):
    """The secret store has no password for the channel."""


def secret_fix(channel: IncomingChannel | OutgoingChannel) -> str:
    return f"Set it with: sagicc channels edit {channel.name}"


async def guard(steps: Steps, name: str, awaitable: Awaitable[T]) -> T:
    """Await a step; record a ChannelError as its failure and stop."""
    try:
        return await awaitable
    except ChannelError as error:
        steps.fail(name, error)
        raise StopTest from error

"""A replay's private SAGICC_HOME, channels and secrets, built from a scenario."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fakemail.scenario import ChannelSpec, Scenario
from fakemail.server import FakeMail
from sagicc_tui.paths import HOME_VARIABLE, Paths, resolve_paths
from sagicc_tui.settings import (
    OAUTH_ACCESS_TOKEN,
    PASSWORD,
    Config,
    FileSecretStore,
    IncomingChannel,
    OutgoingChannel,
    SecretBackend,
    build_channel,
    save_config,
    secret_key,
)
from sagicc_tui.settings.models import Channel

# Client id written into OAuth channels a scenario leaves without one: the
# settings require an id, and fakemail checks only the access token.
REPLAY_CLIENT_ID = "fakemail-replay"


class ScenarioChannelError(ValueError):
    """A scenario channel whose settings are not valid channel settings."""


@contextlib.contextmanager
def sagicc_home(folder: Path) -> Iterator[Paths]:
    """Point SAGICC_HOME at ``folder`` while the block runs, then restore it.

    Everything the product opens inside the block (config, store, secrets,
    logs) resolves its path from this variable, so it must be set before
    any of them is opened.
    """
    previous = os.environ.get(HOME_VARIABLE)
    os.environ[HOME_VARIABLE] = str(folder)
    try:
        yield resolve_paths().ensure()
    finally:
        if previous is None:
            os.environ.pop(HOME_VARIABLE, None)
        else:
            os.environ[HOME_VARIABLE] = previous


def _channel_values(
    spec: ChannelSpec, server: FakeMail, grouping: str | None
) -> dict[str, Any]:
    endpoint = server.endpoint(spec.name)
    values = dict(spec.settings)
    values.update(
        name=spec.name,
        host=endpoint.host,
        port=endpoint.port,
        encryption=endpoint.encryption,
        username=endpoint.username,
        auth=spec.auth,
        ca_file=str(endpoint.ca_path),
    )
    if spec.auth == "oauth":
        values.setdefault("oauth_client_id", REPLAY_CLIENT_ID)
    if spec.kind == "incoming" and grouping is not None:
        values["grouping"] = grouping
    return values


def build_channels(
    scenario: Scenario, server: FakeMail, grouping: str | None = None
) -> Config:
    """Return the scenario's channels as settings that point at ``server``.

    ``grouping`` replaces the grouping of every incoming channel (one run
    per grouping mode the expectations cover).
    """
    incoming: list[IncomingChannel] = []
    outgoing: list[OutgoingChannel] = []
    for spec in scenario.channels:
        model = IncomingChannel if spec.kind == "incoming" else OutgoingChannel
        channel, errors = build_channel(model, _channel_values(spec, server, grouping))
        if errors or channel is None:
            problems = "; ".join(error.message for error in errors)
            raise ScenarioChannelError(
                f"{scenario.path}: channel {spec.name!r} has invalid settings: "
                f"{problems}"
            )
        _append(channel, incoming, outgoing)
    return Config(
        incoming=tuple(incoming),
        outgoing=tuple(outgoing),
        secret_backend=SecretBackend.FILE,
    )


def _append(
    channel: Channel, incoming: list[IncomingChannel], outgoing: list[OutgoingChannel]
) -> None:
    if isinstance(channel, IncomingChannel):
        incoming.append(channel)
    else:
        outgoing.append(channel)


def write_environment(
    scenario: Scenario, server: FakeMail, config: Config, paths: Paths
) -> FileSecretStore:
    """Save the config file and store each channel's password or token.

    Returns the file secret store of ``paths``; the keyring is never used,
    so a replay leaves nothing behind outside its folder.
    """
    save_config(config, paths.config_file)
    secrets = FileSecretStore(paths.secrets_dir)
    for spec in scenario.channels:
        secret = server.endpoint(spec.name).secret
        if secret is None:
            continue
        kind = OAUTH_ACCESS_TOKEN if spec.auth == "oauth" else PASSWORD
        secrets.set(secret_key(spec.name, kind), secret)
    return secrets

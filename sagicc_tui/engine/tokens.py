"""OAuth access tokens for XOAUTH2: the provider interface and a stored token."""

from __future__ import annotations

from typing import Protocol

from sagicc_tui.engine.errors import SignInNeeded
from sagicc_tui.settings import OAUTH_ACCESS_TOKEN, SecretStore, secret_key
from sagicc_tui.settings.models import IncomingChannel, OutgoingChannel


class TokenProvider(Protocol):
    """Returns a fresh OAuth access token for a channel, or raises SignInNeeded."""

    async def access_token(self, channel: IncomingChannel | OutgoingChannel) -> str:
        """Return a token the server should accept now."""
        ...


class StoredTokenProvider:
    """Reads the access token kept in the secret store for the channel.

    Until OAuth sign-in can refresh tokens, the token is used as stored; a
    rejected or missing token leaves the channel in ``sign-in-needed``.
    """

    def __init__(self, secrets: SecretStore) -> None:
        self._secrets = secrets

    async def access_token(self, channel: IncomingChannel | OutgoingChannel) -> str:
        token = self._secrets.get(secret_key(channel.name, OAUTH_ACCESS_TOKEN))
        if token:
            return token
        raise SignInNeeded(
            f"no OAuth access token is stored for channel {channel.name!r}",
            host=channel.host,
            port=channel.port,
            fix="Sign in to this channel from the console's channel screen",
        )

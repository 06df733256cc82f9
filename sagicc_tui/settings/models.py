"""Typed channel settings: enums, provider presets and the top-level config."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar, TypeVar

MEBIBYTE = 1024 * 1024


class Provider(StrEnum):
    """Mail provider whose preset fills host, port and encryption."""

    GOOGLE = "google"
    MICROSOFT = "microsoft"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {"google": "Google", "microsoft": "Microsoft", "other": "Other"}[self]


class Encryption(StrEnum):
    """Transport security: implicit TLS, a STARTTLS upgrade, or clear text."""

    SSL = "ssl"
    STARTTLS = "starttls"
    NONE = "none"

    @property
    def label(self) -> str:
        """Label the console shows for this value."""
        return {"ssl": "SSL", "starttls": "TLS (STARTTLS)", "none": "None"}[self]


class AuthMethod(StrEnum):
    """Sign-in method: a password (or app password) or an OAuth token."""

    PASSWORD = "password"
    OAUTH = "oauth"

    @property
    def label(self) -> str:
        return {"password": "Password", "oauth": "OAuth"}[self]


class Grouping(StrEnum):
    """Rule that joins incoming mail to tickets."""

    NONE = "none"
    CUSTOMER = "customer"
    SUBJECT = "subject"
    THREAD = "thread"

    @property
    def label(self) -> str:
        return {
            "none": "None (one ticket per email)",
            "customer": "Customer",
            "subject": "Subject",
            "thread": "Thread",
        }[self]


class AfterImport(StrEnum):
    """Change made to a message in the mailbox once it is stored."""

    LEAVE = "leave"
    SEEN = "seen"
    MOVE = "move"
    DELETE = "delete"

    @property
    def label(self) -> str:
        return {
            "leave": "Leave unchanged",
            "seen": "Mark as seen",
            "move": "Move to folder",
            "delete": "Delete",
        }[self]


class ImportMode(StrEnum):
    """Choice of the mail already in the folder that the first sync imports."""

    ALL = "all"
    NONE = "none"
    RECENT = "recent"
    SINCE = "since"


class SecretBackend(StrEnum):
    """Secret storage: the OS keyring, a private file, or the best available."""

    AUTO = "auto"
    KEYRING = "keyring"
    FILE = "file"


class ChannelKind(StrEnum):
    """Direction of a channel: IMAP incoming or SMTP outgoing."""

    INCOMING = "incoming"
    OUTGOING = "outgoing"


@dataclass(frozen=True, slots=True)
class ImportExisting:
    """Choice of existing mail to import on a channel's first sync.

    Written in the config file as ``"all"``, ``"none"``, ``"14d"`` (the last
    14 days, counted back from the first sync) or a date ``"2026-01-31"``.
    """

    mode: ImportMode = ImportMode.RECENT
    days: int = 14
    since: dt.date | None = None

    @classmethod
    def all(cls) -> ImportExisting:
        return cls(ImportMode.ALL)

    @classmethod
    def nothing(cls) -> ImportExisting:
        return cls(ImportMode.NONE)

    @classmethod
    def recent(cls, days: int = 14) -> ImportExisting:
        return cls(ImportMode.RECENT, days=days)

    @classmethod
    def since_date(cls, since: dt.date) -> ImportExisting:
        return cls(ImportMode.SINCE, since=since)

    def cutoff(self, today: dt.date) -> dt.date | None:
        """Return the first day to import, or None for everything or nothing.

        Check ``mode`` to tell ``all`` (None, import everything) from ``none``
        (None, import nothing).
        """
        if self.mode is ImportMode.RECENT:
            return today - dt.timedelta(days=self.days)
        if self.mode is ImportMode.SINCE:
            return self.since
        return None

    def to_text(self) -> str:
        """Return the config-file spelling (see the class docstring)."""
        if self.mode is ImportMode.RECENT:
            return f"{self.days}d"
        if self.mode is ImportMode.SINCE and self.since is not None:
            return self.since.isoformat()
        return self.mode.value

    def __str__(self) -> str:
        return self.to_text()


@dataclass(frozen=True, slots=True)
class Preset:
    """Server settings a provider preset fills in."""

    host: str
    port: int
    encryption: Encryption


# Published server settings of the two big providers. Tests never connect to
# these hosts; they only check that the presets fill the fields.
INCOMING_PRESETS: dict[Provider, Preset] = {
    Provider.GOOGLE: Preset("imap.gmail.com", 993, Encryption.SSL),
    Provider.MICROSOFT: Preset("outlook.office365.com", 993, Encryption.SSL),
}
OUTGOING_PRESETS: dict[Provider, Preset] = {
    Provider.GOOGLE: Preset("smtp.gmail.com", 465, Encryption.SSL),
    Provider.MICROSOFT: Preset("smtp.office365.com", 587, Encryption.STARTTLS),
}

# Usual ports per encryption, for forms that suggest a port for "other".
DEFAULT_PORTS: dict[ChannelKind, dict[Encryption, int]] = {
    ChannelKind.INCOMING: {
        Encryption.SSL: 993,
        Encryption.STARTTLS: 143,
        Encryption.NONE: 143,
    },
    ChannelKind.OUTGOING: {
        Encryption.SSL: 465,
        Encryption.STARTTLS: 587,
        Encryption.NONE: 25,
    },
}


@dataclass(frozen=True, slots=True)
class IncomingChannel:
    """An IMAP mailbox folder that turns mail into tickets.

    The password and the OAuth client secret are not fields: they live in
    the secret store under ``secret_key(name, ...)``.
    """

    KIND: ClassVar[ChannelKind] = ChannelKind.INCOMING

    name: str
    provider: Provider = Provider.OTHER
    host: str = ""
    port: int = 993
    encryption: Encryption = Encryption.SSL
    validate_certificates: bool = True
    # PEM file of extra CAs to trust besides the system's (a private CA of a
    # self-hosted server); empty trusts the system store only.
    ca_file: str = ""
    username: str = ""
    auth: AuthMethod = AuthMethod.PASSWORD
    oauth_client_id: str = ""
    # Microsoft tenant: "common", "organizations", a domain or a tenant GUID.
    oauth_tenant: str = "common"
    folder: str = "INBOX"
    encoding: str = "utf-8"
    grouping: Grouping = Grouping.THREAD
    # Days after closing during which new mail reopens a ticket.
    reopen_window_days: int = 14
    import_existing: ImportExisting = field(default_factory=ImportExisting)
    after_import: AfterImport = AfterImport.LEAVE
    # Target folder when after_import is "move".
    move_to_folder: str = ""
    # Seconds between checks on servers without IDLE.
    poll_interval: int = 60
    # Bytes; larger messages keep only their headers and size.
    max_message_size: int = 25 * MEBIBYTE
    blocked_senders: tuple[str, ...] = ()
    blocked_domains: tuple[str, ...] = ()
    acknowledge_new_tickets: bool = False
    # Name of the OutgoingChannel that sends replies; empty means none.
    outgoing_channel: str = ""

    def with_preset(self, provider: Provider) -> IncomingChannel:
        """Return a copy with the provider and, unless "other", its server."""
        return _apply_preset(self, provider, INCOMING_PRESETS)


@dataclass(frozen=True, slots=True)
class OutgoingChannel:
    """An SMTP account that sends replies and acknowledgements.

    The password and the OAuth client secret live in the secret store.
    """

    KIND: ClassVar[ChannelKind] = ChannelKind.OUTGOING

    name: str
    provider: Provider = Provider.OTHER
    host: str = ""
    port: int = 465
    encryption: Encryption = Encryption.SSL
    validate_certificates: bool = True
    # PEM file of extra CAs to trust besides the system's (a private CA of a
    # self-hosted server); empty trusts the system store only.
    ca_file: str = ""
    # Empty with password auth: the server takes mail without AUTH (a relay).
    username: str = ""
    auth: AuthMethod = AuthMethod.PASSWORD
    oauth_client_id: str = ""
    oauth_tenant: str = "common"
    sender_address: str = ""
    sender_name: str = ""
    # Appended to replies below "-- "; may span lines (body, not a header).
    signature: str = ""
    # Every incoming channel is IMAP, so a copy goes to a Sent folder by
    # default. That folder is on the incoming channel whose replies use this one.
    save_to_sent: bool = True
    sent_folder: str = "Sent"

    def with_preset(self, provider: Provider) -> OutgoingChannel:
        """Return a copy with the provider and, unless "other", its server."""
        return _apply_preset(self, provider, OUTGOING_PRESETS)


Channel = IncomingChannel | OutgoingChannel


_C = TypeVar("_C", IncomingChannel, OutgoingChannel)


def _apply_preset(
    channel: _C, provider: Provider, presets: dict[Provider, Preset]
) -> _C:
    preset = presets.get(provider)
    if preset is None:
        return dataclasses.replace(channel, provider=provider)
    return dataclasses.replace(
        channel,
        provider=provider,
        host=preset.host,
        port=preset.port,
        encryption=preset.encryption,
    )


def channel_class(kind: ChannelKind | str) -> type[IncomingChannel | OutgoingChannel]:
    """Return the model class for ``incoming`` or ``outgoing``."""
    if ChannelKind(kind) is ChannelKind.INCOMING:
        return IncomingChannel
    return OutgoingChannel


@dataclass(frozen=True, slots=True)
class Config:
    """Everything in the config file: channels, ticket tag, keys, preferences.

    ``key_bindings`` maps a console action name to the key (or comma-separated
    keys) that triggers it; actions not listed keep the console's defaults.
    """

    incoming: tuple[IncomingChannel, ...] = ()
    outgoing: tuple[OutgoingChannel, ...] = ()
    # "" gives the tag "[#42]"; "ACME" gives "[ACME#42]".
    ticket_tag_prefix: str = ""
    key_bindings: dict[str, str] = field(default_factory=dict)
    secret_backend: SecretBackend = SecretBackend.AUTO
    # Shown to customers in replies only where a signature uses it.
    operator_name: str = ""

    def ticket_tag(self, number: int) -> str:
        """Return the subject tag for ticket ``number``, e.g. ``[ACME#42]``."""
        return f"[{self.ticket_tag_prefix}#{number}]"

    @property
    def channels(self) -> tuple[Channel, ...]:
        return (*self.incoming, *self.outgoing)

    def channel(self, name: str) -> Channel | None:
        """Return the channel of either kind called ``name``, if any."""
        for channel in self.channels:
            if channel.name == name:
                return channel
        return None

    def incoming_channel(self, name: str) -> IncomingChannel | None:
        return next((c for c in self.incoming if c.name == name), None)

    def outgoing_channel(self, name: str) -> OutgoingChannel | None:
        return next((c for c in self.outgoing if c.name == name), None)

    def outgoing_for(self, incoming: IncomingChannel) -> OutgoingChannel | None:
        """Return the outgoing channel that sends replies for ``incoming``."""
        if not incoming.outgoing_channel:
            return None
        return self.outgoing_channel(incoming.outgoing_channel)

    def incoming_using(self, outgoing_name: str) -> tuple[IncomingChannel, ...]:
        """Return the incoming channels whose replies go out through it."""
        return tuple(c for c in self.incoming if c.outgoing_channel == outgoing_name)

    def with_channel(self, channel: Channel, *, replace: str | None = None) -> Config:
        """Return a copy with ``channel`` added, or put in place of ``replace``.

        Renaming an outgoing channel also updates the incoming channels that
        referred to its old name.
        """
        old_name = replace if replace is not None else channel.name
        incoming = [c for c in self.incoming if c.name != old_name]
        outgoing = [c for c in self.outgoing if c.name != old_name]
        if isinstance(channel, IncomingChannel):
            incoming = _insert(self.incoming, incoming, channel, old_name)
        else:
            outgoing = _insert(self.outgoing, outgoing, channel, old_name)
            if old_name != channel.name:
                incoming = [
                    dataclasses.replace(c, outgoing_channel=channel.name)
                    if c.outgoing_channel == old_name
                    else c
                    for c in incoming
                ]
        return dataclasses.replace(
            self, incoming=tuple(incoming), outgoing=tuple(outgoing)
        )

    def without_channel(self, name: str) -> Config:
        """Return a copy without the channel ``name`` (references kept)."""
        return dataclasses.replace(
            self,
            incoming=tuple(c for c in self.incoming if c.name != name),
            outgoing=tuple(c for c in self.outgoing if c.name != name),
        )


def _insert(
    original: Sequence[Channel],
    remaining: list[_C],
    channel: _C,
    old_name: str,
) -> list[_C]:
    """Put ``channel`` where ``old_name`` was, or at the end when it is new."""
    names = [c.name for c in original]
    if old_name in names:
        position = names.index(old_name)
        return [*remaining[:position], channel, *remaining[position:]]
    return [*remaining, channel]

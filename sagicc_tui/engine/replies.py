"""The operator reply path: compose, sign and queue replies, new messages, forwards.

The console and ``sagicc replay`` both call these functions, so a replay
tests the same code an operator uses. Each function only writes to the
store's outbox (with a copy on the ticket); the engine's outbox worker
sends what is queued.
"""

from __future__ import annotations

import secrets as random_source
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import formataddr, getaddresses
from pathlib import Path

from sagicc_tui.engine.compose import (
    Composed,
    Sender,
    build_new_message,
    build_reply,
    quote_body,
)
from sagicc_tui.mail.parse import parse_message
from sagicc_tui.mail.record import Address, MessageRecord
from sagicc_tui.settings import Config, SecretStore
from sagicc_tui.settings.models import IncomingChannel, OutgoingChannel
from sagicc_tui.store import Direction, OutboxItem, StoredMessage, Ticket, TicketStore
from sagicc_tui.tickets import add_tag, make_message_id

# Secret-store key of the store-wide key that signs our Message-IDs. Every
# process on one store (engine and consoles) must read the same key, or
# answers to replies stop threading back by Message-ID.
MESSAGE_ID_KEY_NAME = "store/message_id_key"
MESSAGE_ID_KEY_BYTES = 32


class ReplyError(ValueError):
    """A reply that cannot be queued; the text names the value and the fix."""


@dataclass(frozen=True, slots=True)
class Route:
    """The channels a ticket's outgoing mail uses."""

    incoming: IncomingChannel
    outgoing: OutgoingChannel

    @property
    def sender(self) -> Sender:
        out = self.outgoing
        return Sender(out.sender_address, out.sender_name, out.signature)


def message_id_key(secrets: SecretStore) -> bytes:
    """Return the Message-ID signing key, creating and storing it on first use.

    The key is 32 random bytes kept hex-encoded in the secret store. Two
    processes that create it at the same moment each store their own key,
    and the later write wins. A process that kept the losing key would sign
    ids the others cannot verify, so a new store should see one process
    create the key before others start.
    """
    stored = secrets.get(MESSAGE_ID_KEY_NAME)
    if stored:
        try:
            return bytes.fromhex(stored)
        except ValueError:
            raise ReplyError(
                f"the secret {MESSAGE_ID_KEY_NAME!r} is not hex text; delete it "
                "from the secret store so a new key is made (answers to replies "
                "sent with the old key then thread by In-Reply-To only)"
            ) from None
    key = random_source.token_bytes(MESSAGE_ID_KEY_BYTES)
    secrets.set(MESSAGE_ID_KEY_NAME, key.hex())
    return key


def signing_key(secrets_or_key: SecretStore | bytes) -> bytes:
    """Return the key given, or the one kept in the secret store given."""
    if isinstance(secrets_or_key, bytes | bytearray):
        return bytes(secrets_or_key)
    return message_id_key(secrets_or_key)


def route_for(config: Config, channel_name: str) -> Route:
    """Return the incoming channel ``channel_name`` and the one that sends for it."""
    incoming = config.incoming_channel(channel_name)
    if incoming is None:
        raise ReplyError(
            f"the incoming channel {channel_name!r} is not configured; add it "
            "with 'sagicc channels add' or reply from a ticket of another channel"
        )
    if not incoming.outgoing_channel:
        raise ReplyError(
            f"the channel {channel_name!r} has no outgoing channel: set its "
            "outgoing_channel setting to the name of an outgoing channel"
        )
    outgoing = config.outgoing_for(incoming)
    if outgoing is None:
        raise ReplyError(
            f"the channel {channel_name!r} names the outgoing channel "
            f"{incoming.outgoing_channel!r}, which is not configured: add it or "
            "change the outgoing_channel setting"
        )
    if not outgoing.sender_address:
        raise ReplyError(
            f"the outgoing channel {outgoing.name!r} has no sender address: set "
            "its sender_address setting"
        )
    return Route(incoming, outgoing)


def _ticket(store: TicketStore, ticket_id: int) -> Ticket:
    ticket = store.get_ticket(ticket_id)
    if ticket is None:
        raise ReplyError(f"ticket id {ticket_id} not found in the store")
    if ticket.merged_into_id is not None:
        raise ReplyError(
            f"ticket #{ticket.number} was merged into ticket id "
            f"{ticket.merged_into_id}: reply on that ticket"
        )
    return ticket


def answered_message(
    store: TicketStore, ticket: Ticket, message_row: int | None = None
) -> StoredMessage:
    """Return the message a reply answers, with its raw bytes.

    ``message_row`` picks one of the ticket's messages; by default it is
    the latest message from the customer, else the ticket's latest message.
    """
    messages = store.ticket_messages(ticket.id)
    if not messages:
        raise ReplyError(
            f"ticket #{ticket.number} has no messages to reply to; write a new "
            "message instead"
        )
    if message_row is not None:
        chosen = next((m for m in messages if m.id == message_row), None)
        if chosen is None:
            raise ReplyError(
                f"message row {message_row} is not in ticket #{ticket.number}; "
                "pick one of the ticket's messages"
            )
    else:
        inbound = [m for m in messages if m.direction == Direction.IN]
        chosen = (inbound or messages)[-1]
    full = store.get_message(chosen.id)
    assert full is not None and full.raw is not None
    return full


def _record_of(message: StoredMessage, config: Config) -> MessageRecord:
    incoming = config.incoming_channel(message.channel)
    encoding = incoming.encoding if incoming is not None else "utf-8"
    assert message.raw is not None
    return parse_message(message.raw, encoding=encoding)


def _own_addresses(config: Config) -> list[str]:
    return [c.sender_address for c in config.outgoing if c.sender_address]


def queue_composed(
    store: TicketStore,
    route: Route,
    composed: Composed,
    *,
    who: str,
    ticket: Ticket,
    now: datetime | None,
) -> OutboxItem:
    """Queue ``composed`` on the route's outgoing channel, with a copy on ``ticket``."""
    return store.queue_outgoing(
        outgoing_channel=route.outgoing.name,
        raw=composed.as_bytes(),
        mail_from=composed.mail_from,
        rcpt_to=composed.recipients,
        who=who,
        ticket_id=ticket.id,
        now=now,
    )


def _override_recipients(
    composed: Composed,
    to: Sequence[Address] | None,
    cc: Sequence[Address] | None,
    subject: str | None,
) -> None:
    """Apply what an operator edited in the form to a composed reply."""
    message = composed.message
    if to is not None:
        if not to:
            raise ReplyError("the To field is empty: enter the recipient's address")
        del message["To"]
        message["To"] = [_checked(a, "To") for a in to]
    if cc is not None:
        del message["Cc"]
        if cc:
            message["Cc"] = [_checked(a, "Cc") for a in cc]
    if subject is not None:
        if any(char in subject for char in "\r\n"):
            raise ReplyError("the subject contains a line break: remove it")
        message.replace_header("Subject", subject.strip())

    # The envelope follows the final headers, so an edit never leaves a
    # removed recipient in RCPT TO.
    headers = [str(v) for name in ("To", "Cc") for v in message.get_all(name, [])]
    composed.recipients = [addr for _, addr in getaddresses(headers) if addr]


def _checked(address: Address, field_name: str) -> str:
    if any(char in address.name + address.addr for char in "\r\n") or (
        address.addr.count("@") != 1
    ):
        raise ReplyError(
            f"{field_name} address {address.addr!r} is not a valid email address; "
            "use the form name@example.com on one line"
        )
    return formataddr((address.name, address.addr))


def queue_reply(
    store: TicketStore,
    config: Config,
    secrets_or_key: SecretStore | bytes,
    *,
    ticket_id: int,
    body: str,
    who: str,
    reply_all: bool = False,
    in_reply_to_message_row: int | None = None,
    attachments: Sequence[Path] = (),
    now: datetime | None = None,
    to: Sequence[Address] | None = None,
    cc: Sequence[Address] | None = None,
    subject: str | None = None,
) -> OutboxItem:
    """Compose a reply on ticket ``ticket_id`` and queue it for sending.

    The reply answers ``in_reply_to_message_row`` (default: the customer's
    latest message) from the outgoing channel of the ticket's channel, with
    a Message-ID signed for the ticket number. ``to``, ``cc`` and
    ``subject`` replace what the reply rules chose (an operator's edits).
    The queued copy joins the ticket in the same transaction. Raises
    ReplyError (or ComposeError for a bad header value) with the fix.
    """
    ticket = _ticket(store, ticket_id)
    route = route_for(config, ticket.channel)
    original = answered_message(store, ticket, in_reply_to_message_row)
    record = _record_of(original, config)
    message_id = make_message_id(
        route.sender.domain, ticket.number, signing_key(secrets_or_key)
    )
    composed = build_reply(
        record,
        sender=route.sender,
        ticket_subject=ticket.subject,
        tag=ticket.tag,
        body=body,
        message_id=message_id,
        reply_all=reply_all,
        own_addresses=_own_addresses(config),
        attachments=attachments,
        now=now,
    )
    _override_recipients(composed, to, cc, subject)
    return queue_composed(store, route, composed, who=who, ticket=ticket, now=now)


def queue_new_message(
    store: TicketStore,
    config: Config,
    secrets_or_key: SecretStore | bytes,
    *,
    channel: str,
    to: Sequence[Address],
    subject: str,
    body: str,
    who: str,
    cc: Sequence[Address] = (),
    attachments: Sequence[Path] = (),
    now: datetime | None = None,
) -> OutboxItem:
    """Open a ticket on ``channel`` for a conversation we start, and queue its message.

    The ticket's customer is the first To address; the subject gets the
    ticket tag so answers join the ticket even without threading headers.
    """
    if not to:
        raise ReplyError("the To field is empty: enter the recipient's address")
    route = route_for(config, channel)
    key = signing_key(secrets_or_key)
    first = to[0]
    ticket = store.open_ticket(
        channel,
        customer_addr=first.addr,
        customer_name=first.name,
        subject=subject,
        who=who,
        tag_prefix=config.ticket_tag_prefix,
        now=now,
    )
    composed = build_new_message(
        sender=route.sender,
        to=to,
        cc=cc,
        subject=add_tag(subject, ticket.number, config.ticket_tag_prefix),
        body=body,
        message_id=make_message_id(route.sender.domain, ticket.number, key),
        attachments=attachments,
        now=now,
    )
    return queue_composed(store, route, composed, who=who, ticket=ticket, now=now)


def queue_forward(
    store: TicketStore,
    config: Config,
    secrets_or_key: SecretStore | bytes,
    *,
    ticket_id: int,
    to: Sequence[Address],
    body: str,
    who: str,
    message_row: int | None = None,
    cc: Sequence[Address] = (),
    attachments: Sequence[Path] = (),
    now: datetime | None = None,
) -> OutboxItem:
    """Forward a message of ticket ``ticket_id`` (default: the customer's latest).

    The forward carries ``body``, then the original quoted, under
    ``Fwd: <ticket subject> <tag>``, with the original attached whole
    (message/rfc822, its attachments included). Its copy stays on the
    ticket, so an answer from the third party joins the ticket by its tag.
    """
    if not to:
        raise ReplyError("the To field is empty: enter the recipient's address")
    ticket = _ticket(store, ticket_id)
    route = route_for(config, ticket.channel)
    original = answered_message(store, ticket, message_row)
    record = _record_of(original, config)
    text = body.rstrip("\n") + quote_body(record, original.body_text or None)
    subject = add_tag(f"Fwd: {ticket.subject}", ticket.number, config.ticket_tag_prefix)
    composed = build_new_message(
        sender=route.sender,
        to=to,
        cc=cc,
        subject=subject,
        body=text,
        message_id=make_message_id(
            route.sender.domain, ticket.number, signing_key(secrets_or_key)
        ),
        attachments=attachments,
        forwarded=original.raw,
        now=now,
    )
    return queue_composed(store, route, composed, who=who, ticket=ticket, now=now)

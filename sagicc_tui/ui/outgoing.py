"""Drafts and the outbox: turn what the operator wrote into a queued message."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import getaddresses
from pathlib import Path

from sagicc_tui.engine.compose import (
    Composed,
    Sender,
    build_new_message,
    build_reply,
    quote_body,
)
from sagicc_tui.mail.display import printable
from sagicc_tui.mail.parse import parse_message
from sagicc_tui.mail.record import Address, MessageRecord
from sagicc_tui.paths import resolve_paths
from sagicc_tui.settings import (
    Config,
    IncomingChannel,
    OutgoingChannel,
    load_config,
    open_secret_store,
)
from sagicc_tui.store import Direction, StoredMessage, Ticket, TicketStore
from sagicc_tui.tickets import make_message_id
from sagicc_tui.tickets.tag import add_tag
from sagicc_tui.ui.backend import ComposeMode, Draft

log = logging.getLogger(__name__)


def _stored_signing_key() -> bytes:
    """Return the store-wide Message-ID key from this user's secret store."""
    from sagicc_tui.engine.replies import message_id_key

    config = load_config()
    return message_id_key(open_secret_store(config))


def parse_addresses(text: str, field: str) -> list[Address]:
    """Split a To or Cc field; raise ValueError naming a bad entry."""
    if any(char in text for char in "\r\n"):
        raise ValueError(f"the {field} field contains a line break: remove it")
    found = []
    for name, addr in getaddresses([text]):
        if not addr:
            continue
        if "@" not in addr:
            raise ValueError(
                f"{addr!r} in {field} is not an email address: write name@example.com"
            )
        found.append(Address(name, addr))
    return found


class Outgoing:
    """Builds drafts from tickets and queues finished ones for the engine."""

    def __init__(
        self,
        store: TicketStore,
        config: Callable[[], Config],
        *,
        operator: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        signing_key: Callable[[], bytes] | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.operator = operator
        self.clock = clock
        self.signing_key = signing_key or _stored_signing_key

    # Which channel sends

    def _channels(self, channel_name: str) -> tuple[IncomingChannel, OutgoingChannel]:
        config = self.config()
        incoming = config.incoming_channel(channel_name)
        if incoming is None:
            raise LookupError(
                f"the incoming channel {channel_name!r} is not configured"
            )
        outgoing = config.outgoing_for(incoming)
        if outgoing is None:
            raise ValueError(
                f"the channel {channel_name!r} has no outgoing channel: set "
                "'Outgoing channel' in its settings (Channels screen, key L)"
            )
        return incoming, outgoing

    def _default_channel(self) -> str | None:
        config = self.config()
        return next((c.name for c in config.incoming if c.outgoing_channel), None)

    # Drafts

    def _original(
        self, ticket: Ticket, message_id: int | None
    ) -> tuple[StoredMessage, MessageRecord]:
        """Return the message replied to: the one given, else the customer's last."""
        messages = self.store.ticket_messages(ticket.id)
        chosen = next((m for m in messages if m.id == message_id), None)
        if chosen is None:
            incoming = [m for m in messages if m.direction == Direction.IN]
            chosen = (incoming or messages)[-1]
        full = self.store.get_message(chosen.id)
        assert full is not None and full.raw is not None
        return full, parse_message(full.raw)

    def draft(
        self, mode: ComposeMode, ticket_id: int | None, message_id: int | None
    ) -> Draft:
        """Return a draft with recipients and subject filled and the original quoted."""
        if ticket_id is None:
            return Draft(
                "new", to="", subject="", body="", channel=self._default_channel()
            )
        ticket = self.store.get_ticket(ticket_id)
        if ticket is None:
            raise LookupError(f"ticket {ticket_id} does not exist")
        stored, record = self._original(ticket, message_id)
        # The quote is shown in the editor and sent back, so the customer's
        # control characters are written as visible escapes in both.
        body = quote_body(record, stored.body_text or record.body_text)
        body = printable(body, multiline=True)
        if mode == "forward":
            subject = add_tag(
                f"Fwd: {printable(ticket.subject, multiline=False)}",
                ticket.number,
                self.config().ticket_tag_prefix,
            )
            return Draft(
                mode,
                "",
                subject,
                body,
                ticket_id=ticket.id,
                reply_to_message=stored.id,
                channel=ticket.channel,
            )
        composed = self._compose_reply(ticket, record, body, mode == "reply-all", [])
        message = composed.message
        return Draft(
            mode,
            to=printable(str(message.get("To", "")), multiline=False),
            cc=printable(str(message.get("Cc", "")), multiline=False),
            subject=printable(str(message["Subject"]), multiline=False),
            body=body,
            ticket_id=ticket.id,
            reply_to_message=stored.id,
            channel=ticket.channel,
        )

    def _compose_reply(
        self,
        ticket: Ticket,
        record: MessageRecord,
        body: str,
        reply_all: bool,
        attachments: list[Path],
    ) -> Composed:
        incoming, outgoing = self._channels(ticket.channel)
        sender = Sender(
            outgoing.sender_address, outgoing.sender_name, outgoing.signature
        )
        own = [c.sender_address for c in self.config().outgoing if c.sender_address]
        return build_reply(
            record,
            sender=sender,
            ticket_subject=ticket.subject,
            tag=ticket.tag,
            body=body,
            message_id=self._message_id(sender, ticket),
            reply_all=reply_all,
            own_addresses=own,
            attachments=attachments,
            now=self.clock(),
        )

    def _message_id(self, sender: Sender, ticket: Ticket) -> str:
        """Return our Message-ID, signed so answers thread back to ``ticket``."""
        return make_message_id(sender.domain, ticket.number, self.signing_key())

    # Queueing

    def queue(self, draft: Draft) -> int:
        """Compose ``draft`` and store it in the outbox; return the outbox id."""
        to = parse_addresses(draft.to, "To")
        cc = parse_addresses(draft.cc, "Cc")
        if not to:
            raise ValueError("the To field is empty: enter the recipient's address")
        ticket = self._ticket_for(draft, to[0])
        composed = self._compose(draft, ticket, to, cc)
        incoming, outgoing = self._channels(ticket.channel)
        item = self.store.queue_outgoing(
            outgoing_channel=outgoing.name,
            raw=composed.as_bytes(),
            mail_from=composed.mail_from,
            rcpt_to=composed.recipients,
            who=self.operator,
            ticket_id=ticket.id,
        )
        log.info(
            "operator %s queued %s %s on ticket #%s",
            self.operator,
            draft.mode,
            composed.message_id,
            ticket.number,
        )
        return item.id

    def _ticket_for(self, draft: Draft, first: Address) -> Ticket:
        if draft.ticket_id is not None:
            ticket = self.store.get_ticket(draft.ticket_id)
            if ticket is None:
                raise LookupError(f"ticket {draft.ticket_id} does not exist")
            return ticket
        channel = draft.channel or self._default_channel()
        if channel is None:
            raise ValueError("no incoming channel has an outgoing channel to send from")
        return self.store.open_ticket(
            channel,
            customer_addr=first.addr,
            customer_name=first.name,
            subject=draft.subject,
            who=self.operator,
            tag_prefix=self.config().ticket_tag_prefix,
        )

    def _compose(
        self, draft: Draft, ticket: Ticket, to: list[Address], cc: list[Address]
    ) -> Composed:
        if draft.mode in ("reply", "reply-all"):
            _, record = self._original(ticket, draft.reply_to_message)
            composed = self._compose_reply(
                ticket, record, draft.body, False, draft.attachments
            )
            # The operator may have edited the recipients in the form.
            del composed.message["To"]
            composed.message["To"] = ", ".join(str(a) for a in to)
            del composed.message["Cc"]
            if cc:
                composed.message["Cc"] = ", ".join(str(a) for a in cc)
            composed.message.replace_header("Subject", draft.subject)
            composed.recipients = [a.addr for a in (*to, *cc)]
            return composed
        _, outgoing = self._channels(ticket.channel)
        sender = Sender(
            outgoing.sender_address, outgoing.sender_name, outgoing.signature
        )
        prefix = self.config().ticket_tag_prefix
        forwarded = None
        if draft.mode == "forward":
            # The original goes along whole, with its own attachments.
            original, _ = self._original(ticket, draft.reply_to_message)
            forwarded = original.raw
        return build_new_message(
            sender=sender,
            to=to,
            cc=cc,
            subject=add_tag(draft.subject, ticket.number, prefix),
            body=draft.body,
            message_id=self._message_id(sender, ticket),
            attachments=draft.attachments,
            forwarded=forwarded,
            now=self.clock(),
        )

    @staticmethod
    def _drafts_folder() -> Path:
        folder = resolve_paths().ensure().data_dir / "drafts"
        folder.mkdir(exist_ok=True)
        return folder

    def postponed(self) -> list[tuple[str, Draft]]:
        """Return the postponed drafts, oldest first, by file name."""
        found = []
        for path in sorted(self._drafts_folder().glob("*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                data["attachments"] = [Path(p) for p in data.get("attachments", [])]
                found.append((path.name, Draft(**data)))
            except (OSError, ValueError, TypeError) as error:
                log.error("postponed draft %s cannot be read: %s", path, error)
        return found

    def resume(self, draft_id: str) -> Draft:
        """Return the postponed draft ``draft_id`` and delete its file."""
        path = self._drafts_folder() / Path(draft_id).name
        drafts = dict(self.postponed())
        if path.name not in drafts:
            raise LookupError(f"postponed draft {draft_id!r} not found")
        path.unlink()
        return drafts[path.name]

    def postpone(self, draft: Draft) -> Path:
        """Keep ``draft`` as a private JSON file under the data folder."""
        folder = self._drafts_folder()
        path = folder / f"{self.clock():%Y%m%dT%H%M%S}-{os.getpid()}.json"
        data = {
            "mode": draft.mode,
            "to": draft.to,
            "cc": draft.cc,
            "subject": draft.subject,
            "body": draft.body,
            "ticket_id": draft.ticket_id,
            "reply_to_message": draft.reply_to_message,
            "channel": draft.channel,
            "attachments": [str(p) for p in draft.attachments],
        }
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(data, file, indent=2)
        return path

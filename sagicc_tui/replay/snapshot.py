"""Results of one replay run: tickets by message name, states, outgoing mail."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import asdict, dataclass, field
from email.utils import getaddresses
from typing import Any

from fakemail.server import FakeMail
from sagicc_tui.engine.acks import ACK_ACTOR
from sagicc_tui.mail.parse import parse_message
from sagicc_tui.settings import Config
from sagicc_tui.store import OutboxItem, OutboxState, TicketFilter, TicketStore

_ANGLE_ID = re.compile(r"<([^<>\s]+)>")

# list_tickets pages; a replay's mailbox is far smaller than this.
_TICKET_PAGE = 100_000


class NameMap:
    """Message-IDs (as the store keeps them) mapped to the scenario's message names."""

    def __init__(self) -> None:
        self._by_id: dict[str, str] = {}
        self._by_name: dict[str, str] = {}

    def add(self, name: str, message_id: str) -> None:
        self._by_id.setdefault(message_id, name)
        self._by_name[name] = message_id

    def add_raw(self, name: str, raw: bytes) -> None:
        """Name the message ``raw``, with the Message-ID the store derives for it."""
        self.add(name, parse_message(raw, with_body=False).message_id)

    def name_of(self, message_id: str) -> str:
        """Return the name of ``message_id``, or the id in angle brackets."""
        return self._by_id.get(message_id, f"<{message_id}>")

    def id_of(self, name: str) -> str | None:
        return self._by_name.get(name)

    def names(self) -> list[str]:
        return list(self._by_name)


@dataclass(frozen=True)
class MessageEntry:
    """One stored message of a ticket, by name, with the reason grouping gave."""

    name: str
    message_id: str
    direction: str
    reason: str


@dataclass(frozen=True)
class TicketEntry:
    number: int
    channel: str
    status: str
    subject: str
    messages: tuple[MessageEntry, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(message.name for message in self.messages)


@dataclass(frozen=True)
class StateEntry:
    """A channel's last state; outgoing channels get theirs from the outbox."""

    channel: str
    state: str
    error: str


@dataclass(frozen=True)
class OutgoingEntry:
    """The headers of an operator reply as the SMTP server received them.

    ``received`` is false when fakemail never accepted the message; the
    headers then come from the copy queued in the store.
    """

    name: str
    message_id: str
    state: str
    last_error: str
    received: bool
    subject: str
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    to: tuple[str, ...]
    cc: tuple[str, ...]
    rcpt_to: tuple[str, ...]


@dataclass
class RunSnapshot:
    """Everything one run produced, ready to compare with the expectations."""

    mode: str | None
    tickets: dict[str, list[TicketEntry]] = field(default_factory=dict)
    states: dict[str, StateEntry] = field(default_factory=dict)
    outgoing: dict[str, OutgoingEntry] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    names: NameMap = field(default_factory=NameMap)

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "tickets": {
                channel: [asdict(ticket) for ticket in tickets]
                for channel, tickets in self.tickets.items()
            },
            "states": {name: asdict(state) for name, state in self.states.items()},
            "outgoing": {name: asdict(out) for name, out in self.outgoing.items()},
            "problems": list(self.problems),
        }


def name_messages(server: FakeMail, replies: dict[str, OutboxItem]) -> NameMap:
    """Name every message fakemail delivered and every operator reply queued."""
    names = NameMap()
    for name in server.messages.names():
        names.add_raw(name, server.messages.get(name).message.raw)
    for name, item in replies.items():
        names.add(name, item.message_id)
    return names


def _name_acknowledgements(store: TicketStore, names: NameMap) -> None:
    """Name each acknowledgement ``ack-<name of the message it answers>``."""
    for item in store.outbox():
        if item.created_by != ACK_ACTOR:
            continue
        message = email.message_from_bytes(item.raw, policy=email.policy.default)
        answered = _ids(message["In-Reply-To"])
        if answered:
            names.add(f"ack-{names.name_of(answered[0])}", item.message_id)


def _tickets(store: TicketStore, channel: str, names: NameMap) -> list[TicketEntry]:
    found = store.list_tickets(TicketFilter(channel=channel), 0, _TICKET_PAGE)
    entries = []
    for ticket in sorted(found, key=lambda t: t.number):
        messages = tuple(
            MessageEntry(
                names.name_of(m.message_id), m.message_id, str(m.direction), m.reason
            )
            for m in store.ticket_messages(ticket.id)
        )
        entries.append(
            TicketEntry(
                ticket.number, channel, str(ticket.status), ticket.subject, messages
            )
        )
    return entries


def _outgoing_states(store: TicketStore, config: Config) -> dict[str, StateEntry]:
    """Return each outgoing channel's state: that of its latest outbox message."""
    states: dict[str, StateEntry] = {}
    for item in store.outbox():
        if item.state == OutboxState.SENT:
            states[item.channel] = StateEntry(item.channel, "idle", "")
        elif item.state == OutboxState.FAILED:
            states[item.channel] = StateEntry(
                item.channel, "failed", item.last_error or ""
            )
    for channel in config.outgoing:
        states.setdefault(channel.name, StateEntry(channel.name, "unused", ""))
    return states


def _ids(value: str | None) -> tuple[str, ...]:
    return tuple(_ANGLE_ID.findall(value or ""))


def _addresses(values: list[Any]) -> tuple[str, ...]:
    return tuple(addr for _, addr in getaddresses([str(v) for v in values]) if addr)


def _outgoing(name: str, item: OutboxItem, server: FakeMail) -> OutgoingEntry:
    received = next(
        (
            record
            for record in server.outbox.records()
            if item.message_id in (record.header("Message-ID") or "")
        ),
        None,
    )
    raw = received.raw if received is not None else item.raw
    message = email.message_from_bytes(raw, policy=email.policy.default)
    return OutgoingEntry(
        name=name,
        message_id=item.message_id,
        state=str(item.state),
        last_error=item.last_error or "",
        received=received is not None,
        subject=str(message["Subject"] or ""),
        in_reply_to=_ids(message["In-Reply-To"]),
        references=_ids(message["References"]),
        to=_addresses(message.get_all("To", [])),
        cc=_addresses(message.get_all("Cc", [])),
        rcpt_to=tuple(received.rcpt_tos if received else item.rcpt_to),
    )


def take_snapshot(
    store: TicketStore,
    config: Config,
    server: FakeMail,
    *,
    mode: str | None,
    replies: dict[str, OutboxItem],
    problems: list[str],
) -> RunSnapshot:
    """Read tickets, channel states and operator replies from a finished run."""
    names = name_messages(server, replies)
    _name_acknowledgements(store, names)
    snapshot = RunSnapshot(mode=mode, problems=list(problems), names=names)
    for channel in config.incoming:
        snapshot.tickets[channel.name] = _tickets(store, channel.name, names)
    for state in store.channel_states():
        snapshot.states[state.channel] = StateEntry(
            state.channel, str(state.state), state.error or ""
        )
    snapshot.states.update(_outgoing_states(store, config))
    latest = {item.id: item for item in store.outbox()}
    for name, item in replies.items():
        snapshot.outgoing[name] = _outgoing(name, latest.get(item.id, item), server)
    return snapshot

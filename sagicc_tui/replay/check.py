"""Compare a replay run with the scenario's hand-written expectations."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from fakemail.scenario import (
    ChannelExpectation,
    OutgoingExpectation,
    Scenario,
    TicketExpectation,
)
from sagicc_tui.replay.snapshot import RunSnapshot, TicketEntry


@dataclass(frozen=True)
class Difference:
    """One way a run differs from the expectations.

    ``area`` is ``tickets``, ``channel``, ``outgoing`` or ``run``;
    ``reasons`` maps each message involved to the reason the store
    recorded for its ticket assignment.
    """

    mode: str | None
    area: str
    subject: str
    expected: str
    actual: str
    reasons: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def check_run(scenario: Scenario, snapshot: RunSnapshot) -> list[Difference]:
    """Return every difference between ``snapshot`` and the expectations."""
    differences = [
        Difference(snapshot.mode, "run", "replay", "no problems", problem)
        for problem in snapshot.problems
    ]
    for expectation in scenario.expect.tickets:
        if expectation.mode == snapshot.mode:
            differences += _check_tickets(scenario, expectation, snapshot)
    for state in scenario.expect.channels:
        differences += _check_channel(state, snapshot)
    for outgoing in scenario.expect.outgoing:
        differences += _check_outgoing(outgoing, snapshot)
    return differences


# Tickets --------------------------------------------------------------------


def _check_tickets(
    scenario: Scenario, expectation: TicketExpectation, snapshot: RunSnapshot
) -> list[Difference]:
    channel = expectation.channel
    expected_groups = scenario.expected_tickets(channel, expectation.mode) or []
    actual = snapshot.tickets.get(channel, [])
    where: dict[str, TicketEntry] = {}
    reasons: dict[str, str] = {}
    for ticket in actual:
        for message in ticket.messages:
            where[message.name] = ticket
            reasons[message.name] = message.reason

    expected = {frozenset(group) for group in expected_groups}
    got = {frozenset(ticket.names) for ticket in actual}
    mentioned = set().union(*expected) if expected else set()
    label = f"{channel} ({expectation.mode})"

    differences = []
    for group in expected_groups:
        if frozenset(group) in got:
            continue
        held = _holders(group, where)
        differences.append(
            Difference(
                snapshot.mode,
                "tickets",
                label,
                f"one ticket [{', '.join(group)}]",
                held,
                {name: reasons.get(name, "never stored") for name in group},
            )
        )
    for ticket in actual:
        if frozenset(ticket.names) in expected or set(ticket.names) & mentioned:
            continue
        differences.append(
            Difference(
                snapshot.mode,
                "tickets",
                label,
                "no such ticket",
                _describe(ticket),
                {m.name: m.reason for m in ticket.messages},
            )
        )
    return differences


def _holders(group: tuple[str, ...], where: dict[str, TicketEntry]) -> str:
    """Describe the tickets that hold the messages of ``group``."""
    parts = []
    seen: set[int] = set()
    for name in group:
        ticket = where.get(name)
        if ticket is None:
            parts.append(f"{name} never stored")
        elif ticket.number not in seen:
            seen.add(ticket.number)
            parts.append(_describe(ticket))
    return "; ".join(parts)


def _describe(ticket: TicketEntry) -> str:
    return f"ticket #{ticket.number} [{', '.join(ticket.names)}]"


# Channels -------------------------------------------------------------------


def _check_channel(
    expectation: ChannelExpectation, snapshot: RunSnapshot
) -> list[Difference]:
    state = snapshot.states.get(expectation.channel)
    actual_state = state.state if state else "no state recorded"
    error = state.error if state else ""
    differences = []
    if actual_state != expectation.state:
        differences.append(
            Difference(
                snapshot.mode,
                "channel",
                f"{expectation.channel} state",
                expectation.state,
                f"{actual_state}" + (f" ({error})" if error else ""),
            )
        )
    missing = [w for w in expectation.error_contains if w.lower() not in error.lower()]
    if missing:
        differences.append(
            Difference(
                snapshot.mode,
                "channel",
                f"{expectation.channel} error",
                f"contains {', '.join(repr(w) for w in missing)}",
                error or "no error",
            )
        )
    return differences


# Outgoing -------------------------------------------------------------------


def _check_outgoing(
    expectation: OutgoingExpectation, snapshot: RunSnapshot
) -> list[Difference]:
    name = expectation.reply
    sent = snapshot.outgoing.get(name)
    if sent is None:
        return [
            Difference(
                snapshot.mode, "outgoing", name, "queued and sent", "never queued"
            )
        ]

    differences = []

    def differ(header: str, expected: str, actual: str) -> None:
        differences.append(
            Difference(snapshot.mode, "outgoing", f"{name} {header}", expected, actual)
        )

    if not sent.received:
        differ("delivery", "accepted by the SMTP server", _not_sent(sent))
    names = snapshot.names
    if expectation.in_reply_to is not None:
        wanted = names.id_of(expectation.in_reply_to)
        if list(sent.in_reply_to) != [wanted]:
            differ(
                "In-Reply-To",
                f"{expectation.in_reply_to} <{wanted}>",
                _named(sent.in_reply_to, snapshot),
            )
    if expectation.references is not None:
        wanted_ids = [names.id_of(n) for n in expectation.references]
        if list(sent.references) != wanted_ids:
            differ(
                "References",
                ", ".join(expectation.references),
                _named(sent.references, snapshot),
            )
    if expectation.subject is not None and not re.search(
        expectation.subject, sent.subject
    ):
        differ("Subject", f"matches {expectation.subject!r}", repr(sent.subject))
    for header, wanted_list, actual in (
        ("To", expectation.to, sent.to),
        ("Cc", expectation.cc, sent.cc),
    ):
        if wanted_list is None:
            continue
        if sorted(a.lower() for a in wanted_list) != sorted(a.lower() for a in actual):
            differ(header, ", ".join(wanted_list), ", ".join(actual) or "none")

    # A display name must never add a recipient: the envelope carries exactly
    # the addresses of To and Cc.
    headers = sorted(a.lower() for a in (*sent.to, *sent.cc))
    if sorted(a.lower() for a in sent.rcpt_to) != headers:
        differ("envelope", ", ".join(headers), ", ".join(sent.rcpt_to) or "none")
    return differences


def _not_sent(sent: Any) -> str:
    text = f"outbox state {sent.state}"
    return f"{text}: {sent.last_error}" if sent.last_error else text


def _named(ids: tuple[str, ...], snapshot: RunSnapshot) -> str:
    if not ids:
        return "none"
    return ", ".join(snapshot.names.name_of(i) for i in ids)

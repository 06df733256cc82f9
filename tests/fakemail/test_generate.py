"""Generated mailboxes: deterministic, and their tickets agree with their headers."""

from __future__ import annotations

import asyncio
import email
import email.policy
import imaplib
from pathlib import Path

from fakemail.clock import SteppedClock
from fakemail.generate import GeneratorSpec
from fakemail.scenario import load_scenario
from tests.fakemail.conftest import write_scenario


def _threads_from_headers(spec: GeneratorSpec) -> dict[str, list[str]]:
    """Rebuild threads from Message-ID and In-Reply-To alone."""
    root_of: dict[str, str] = {}
    threads: dict[str, list[str]] = {}
    for generated in spec.messages():
        message = email.message_from_bytes(generated.raw, policy=email.policy.default)
        message_id = str(message["Message-ID"])
        parent = message["In-Reply-To"]
        root = root_of[str(parent)] if parent else message_id
        root_of[message_id] = root
        threads.setdefault(root, []).append(generated.name)
    return threads


def test_generated_count_and_names() -> None:
    spec = GeneratorSpec(count=250, seed=3)
    names = [generated.name for generated in spec.messages()]
    assert len(names) == 250
    assert names[0] == "gen-00001"
    assert names[-1] == "gen-00250"


def test_generation_is_deterministic() -> None:
    first = [m.raw for m in GeneratorSpec(count=60, seed=7).messages()]
    again = [m.raw for m in GeneratorSpec(count=60, seed=7).messages()]
    other = [m.raw for m in GeneratorSpec(count=60, seed=8).messages()]
    assert first == again
    assert first != other


def test_thread_tickets_match_headers() -> None:
    spec = GeneratorSpec(count=400, seed=1, customers=30)
    rebuilt = sorted(tuple(names) for names in _threads_from_headers(spec).values())
    assert sorted(spec.expected_tickets("thread")) == rebuilt
    assert sorted(spec.expected_tickets("subject")) == rebuilt


def test_customer_and_none_tickets() -> None:
    spec = GeneratorSpec(count=400, seed=1, customers=30)
    customer_of = {m.name: m.customer for m in spec.messages()}
    customer_tickets = spec.expected_tickets("customer")
    assert len(customer_tickets) <= 30
    for ticket in customer_tickets:
        assert len({customer_of[name] for name in ticket}) == 1
    none_tickets = spec.expected_tickets("none")
    assert len(none_tickets) == 400
    assert all(len(ticket) == 1 for ticket in none_tickets)


def test_every_message_in_one_ticket_per_mode() -> None:
    spec = GeneratorSpec(count=123, seed=5)
    names = sorted(m.name for m in spec.messages())
    for mode in ("none", "customer", "subject", "thread"):
        listed = sorted(
            name for ticket in spec.expected_tickets(mode) for name in ticket
        )
        assert listed == names, mode


def test_replies_follow_parents_in_delivery_order() -> None:
    spec = GeneratorSpec(count=300, seed=2)
    for ticket in spec.expected_tickets("thread"):
        positions = [int(name.split("-")[1]) for name in ticket]
        assert positions == sorted(positions)


async def test_generated_folder_served(fakemail_server, tmp_path: Path) -> None:
    path = write_scenario(
        tmp_path / "generated",
        """
[[accounts]]
username = "bulk@example.test"
password = "bulk-password"

[[listeners]]
name = "imap"
protocol = "imap"
encryption = "none"

[[channels]]
name = "Bulk"
kind = "incoming"
listener = "imap"

[[folders]]
[[folders.generate]]
count = 200
seed = 4
""",
    )
    scenario = load_scenario(path)
    assert len(scenario.expected_tickets("Bulk", "none") or []) == 200
    server = await fakemail_server(scenario, clock=SteppedClock())

    def count() -> int:
        client = imaplib.IMAP4("127.0.0.1", server.ports["imap"], timeout=5)
        try:
            client.login("bulk@example.test", "bulk-password")
            status, data = client.select("INBOX", readonly=True)
            assert status == "OK"
            return int(data[0])
        finally:
            client.logout()

    assert await asyncio.to_thread(count) == 200
    assert server.messages.message_id("gen-00001") is not None

"""Timeline steps fire in order at their scenario times, on a stepped clock."""

from __future__ import annotations

import asyncio
import imaplib
from pathlib import Path

import aioimaplib
import pytest

from fakemail.clock import SteppedClock
from fakemail.faults import FaultAction
from fakemail.server import FakeMail
from tests.fakemail.conftest import write_scenario

MESSAGE = (
    "From: {0}@example.org\r\nSubject: {0}\r\n"
    "Message-ID: <{0}@example.org>\r\n\r\nbody\r\n"
)

SCENARIO = """
[[accounts]]
username = "agent@example.test"
password = "timeline-password"

[[listeners]]
name = "imap"
protocol = "imap"
encryption = "none"

[[listeners]]
name = "imap-tls"
protocol = "imap"
encryption = "ssl"

[[folders]]
messages = [{ file = "a.eml" }, { file = "b.eml" }]

[[timeline]]
at = 30
action = "change-uidvalidity"

[[timeline]]
at = 10
action = "set-flags"
message = "a"
flags = ["\\\\Flagged", "\\\\Seen"]

[[timeline]]
at = 10
action = "deliver"
file = "c.eml"
flags = ["\\\\Draft"]

[[timeline]]
at = 20
action = "expunge"
message = "b"

[[timeline]]
at = 40
action = "no"
command = "SELECT"
listener = "imap"
text = "[UNAVAILABLE] Mailbox busy"

[[timeline]]
at = 40
action = "delay"
command = "UID FETCH"
seconds = 5
times = "always"

[[timeline]]
at = 50
action = "drop-connections"
listener = "imap"
"""


@pytest.fixture
def scenario_path(tmp_path: Path) -> Path:
    files = {f"{name}.eml": MESSAGE.format(name) for name in "abc"}
    return write_scenario(tmp_path / "scenario", SCENARIO, files)


def _login(server: FakeMail) -> imaplib.IMAP4:
    client = imaplib.IMAP4("127.0.0.1", server.ports["imap"], timeout=5)
    client.login("agent@example.test", "timeline-password")
    return client


async def test_steps_fire_in_order_at_their_times(
    fakemail_server, scenario_path: Path
) -> None:
    clock = SteppedClock()
    server: FakeMail = await fakemail_server(scenario_path, clock=clock)
    store = server.mailstore
    user = "agent@example.test"

    def inbox() -> dict[str, tuple[int, set[str]]]:
        by_uid = {m.uid: m for m in store.messages(user, "INBOX")}
        result = {}
        for name in server.messages.names():
            target = server.messages.get(name).message
            if target.uid in by_uid and by_uid[target.uid] is target:
                result[name] = (target.uid, set(target.flags))
        return result

    assert inbox() == {"a": (1, set()), "b": (2, set())}

    await clock.advance(9.5)
    assert server.timeline.fired == []

    await clock.advance(0.5)
    assert inbox() == {
        "a": (1, {"\\Flagged", "\\Seen"}),
        "b": (2, set()),
        "c": (3, {"\\Draft"}),
    }

    await clock.advance(10)
    assert inbox() == {"a": (1, {"\\Flagged", "\\Seen"}), "c": (3, {"\\Draft"})}

    before = store.folder(user, "INBOX").uidvalidity
    await clock.advance(10)
    assert store.folder(user, "INBOX").uidvalidity != before
    assert inbox() == {"a": (1, {"\\Flagged", "\\Seen"}), "c": (2, {"\\Draft"})}

    await clock.advance(10)
    # The NO step names one listener; the delay step, naming none, arms both.
    no_rule, plain_delay = server.faults["imap"].rules
    assert no_rule.action is FaultAction.NO
    assert no_rule.text == "[UNAVAILABLE] Mailbox busy"
    assert plain_delay.action is FaultAction.DELAY
    [delay_rule] = server.faults["imap-tls"].rules
    assert delay_rule.action is FaultAction.DELAY
    assert delay_rule.seconds == 5
    assert delay_rule.times is None

    fired = [(step.at, step.event.action) for step in server.timeline.fired]
    assert fired == [
        (10.0, "set-flags"),
        (10.0, "deliver"),
        (20.0, "expunge"),
        (30.0, "change-uidvalidity"),
        (40.0, "no"),
        (40.0, "delay"),
    ]
    assert all(step.error is None for step in server.timeline.fired)


async def test_no_fault_answers_select(fakemail_server, scenario_path: Path) -> None:
    clock = SteppedClock()
    server = await fakemail_server(scenario_path, clock=clock)
    await clock.run_until(40)

    def select() -> tuple[str, list]:
        client = _login(server)
        try:
            first = client.select("INBOX")
            second = client.select("INBOX")
            return first, second
        finally:
            client.logout()

    first, second = await asyncio.to_thread(select)
    assert first[0] == "NO"
    assert b"Mailbox busy" in first[1][0]
    assert second[0] == "OK"


async def test_drop_connections_closes_clients(
    fakemail_server, scenario_path: Path
) -> None:
    clock = SteppedClock()
    server = await fakemail_server(scenario_path, clock=clock)
    client = await asyncio.to_thread(_login, server)

    await clock.run_until(50)
    await asyncio.sleep(0.05)

    with pytest.raises((imaplib.IMAP4.abort, OSError)):
        await asyncio.to_thread(client.noop)
    assert server.timeline.fired[-1].event.action == "drop-connections"


async def test_idle_client_sees_timed_delivery(
    fakemail_server, scenario_path: Path
) -> None:
    clock = SteppedClock()
    server = await fakemail_server(scenario_path, clock=clock)
    client = aioimaplib.IMAP4("127.0.0.1", server.ports["imap"], timeout=5)
    await client.wait_hello_from_server()
    await client.login("agent@example.test", "timeline-password")
    await client.select("INBOX")
    idle = await client.idle_start(timeout=5)

    await clock.advance(10)
    pushed = await asyncio.wait_for(client.wait_server_push(), timeout=5)

    client.idle_done()
    await asyncio.wait_for(idle, timeout=5)
    await client.logout()
    assert b"3 EXISTS" in b" ".join(
        line if isinstance(line, bytes) else line.encode() for line in pushed
    )


async def test_delay_fault_waits_on_scenario_clock(
    fakemail_server, scenario_path: Path
) -> None:
    clock = SteppedClock()
    server = await fakemail_server(scenario_path, clock=clock)
    await clock.run_until(40)

    def fetch() -> str:
        client = _login(server)
        try:
            # The first SELECT gets the NO armed at 40 s.
            assert client.select("INBOX")[0] == "NO"
            assert client.select("INBOX")[0] == "OK"
            status, _ = client.uid("FETCH", "1", "(FLAGS)")
            return status
        finally:
            client.logout()

    fetching = asyncio.ensure_future(asyncio.to_thread(fetch))
    # The delayed UID FETCH sleeps until 45 s, before the drop step at 50 s.
    for _ in range(500):
        if clock.next_due() == 45.0:
            break
        await asyncio.sleep(0.01)
    assert clock.next_due() == 45.0
    assert not fetching.done()

    await clock.advance(5)
    assert await asyncio.wait_for(fetching, timeout=5) == "OK"

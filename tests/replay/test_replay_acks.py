"""Acknowledgements in a replay: sent through fakemail's SMTP, only where allowed."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

from fakemail.scenario import load_scenario
from sagicc_tui.replay import ReplayOptions, replay_scenario

SCENARIO = """
[scenario]
name = "acks"
duration = 30

[[accounts]]
username = "support@example.test"
password = "acks-support-password"

[[listeners]]
name = "imap"
protocol = "imap"
encryption = "ssl"

[[listeners]]
name = "smtp"
protocol = "smtp"
encryption = "ssl"

[[channels]]
name = "Support"
kind = "incoming"
listener = "imap"
grouping = "none"
import_existing = "all"
acknowledge_new_tickets = true
outgoing_channel = "Support SMTP"

[[channels]]
name = "Support SMTP"
kind = "outgoing"
listener = "smtp"
sender_address = "support@example.test"
save_to_sent = false

[[folders]]
name = "INBOX"
messages = [{ file = "mail/01-ask.eml" }, { file = "mail/02-vacation.eml" }]

[[timeline]]
at = 10
action = "deliver"
file = "mail/03-list.eml"
"""

# Dated on the stepped clock's first day, so none counts as old mail.
HEADERS = "To: support@example.test\nDate: Thu, 01 Jan 2026 00:00:00 +0000\n"
MESSAGES = {
    "01-ask.eml": (
        "From: Ann <ann@customer.example>\nSubject: Where is my order?\n"
        "Message-ID: <ask-1@customer.example>\n"
    ),
    "02-vacation.eml": (
        "From: Bob <bob@customer.example>\nSubject: Out of office\n"
        "Auto-Submitted: auto-replied\nMessage-ID: <away-1@customer.example>\n"
    ),
    "03-list.eml": (
        "From: Carol <carol@lists.example>\nSubject: Weekly digest\n"
        "List-Id: <digest.lists.example>\nMessage-ID: <digest-1@lists.example>\n"
    ),
}


def _write_scenario(folder: Path) -> Path:
    (folder / "mail").mkdir(parents=True)
    for name, headers in MESSAGES.items():
        text = headers + HEADERS + "\nHello.\n"
        (folder / "mail" / name).write_text(text, encoding="utf-8")
    (folder / "scenario.toml").write_text(SCENARIO, encoding="utf-8")
    return folder


async def test_acknowledgement_sent_only_to_customer(tmp_path: Path) -> None:
    scenario = load_scenario(_write_scenario(tmp_path / "acks"))

    [snapshot] = await replay_scenario(scenario, [None], ReplayOptions())

    tickets = [ticket.names for ticket in snapshot.tickets["Support"]]
    assert sorted(tickets) == [
        ("01-ask", "ack-01-ask"),
        ("02-vacation",),
        ("03-list",),
    ]
    assert snapshot.states["Support SMTP"].state == "idle"
    assert snapshot.problems == []


async def test_acknowledgement_reaches_smtp_server(tmp_path: Path) -> None:
    scenario = load_scenario(_write_scenario(tmp_path / "acks"))
    options = ReplayOptions(folder=tmp_path / "runs")

    await replay_scenario(scenario, [None], options)

    outbox = tmp_path / "runs" / "channels" / "fakemail" / "outbox"
    [sent] = sorted(outbox.glob("*.eml"))
    message = email.message_from_bytes(sent.read_bytes(), policy=email.policy.default)
    assert message["To"] == "Ann <ann@customer.example>"
    assert message["In-Reply-To"] == "<ask-1@customer.example>"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert message["Subject"] == "Re: Where is my order? [#1]"

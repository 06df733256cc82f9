"""Customer mail with terminal escapes and markup, shown in the console."""

from __future__ import annotations

import base64

from textual import events

from sagicc_tui.store.bodies import index_pending_bodies
from sagicc_tui.store.ingest import IngestParams, ingest
from sagicc_tui.ui.app import SagiccApp
from sagicc_tui.ui.backend import FeedFilter
from sagicc_tui.ui.screens.ticket import TicketScreen
from tests.ui.store_data import STORE_NOW
from tests.ui.test_store_backend import make_app

TERMINAL_CONTROLS = {chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))}
TERMINAL_CONTROLS |= {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def hostile_mail(number: int, subject: bytes) -> bytes:
    """Return a customer message carrying escapes in headers and body."""
    body = b"Hello\r\n\x1b[2J\x1b]0;TITLE\x07\x1b]52;c;ZXZpbA==\x07\xc2\x9b31m[/]\r\n"
    headers = [
        b'From: "Eve \x1b[5m[b]" <eve@mail.example>',
        b"To: Support <support@shop.example>",
        b"Subject: " + subject,
        b"Date: Mon, 02 Mar 2026 09:00:00 +0000",
        b"Message-ID: <hostile-%d@mail.example>" % number,
        b"Content-Type: multipart/mixed; boundary=b1",
        b"",
        b"--b1",
        b"Content-Type: text/plain; charset=utf-8",
        b"Content-Transfer-Encoding: base64",
        b"",
        base64.b64encode(body),
        b"--b1",
        b"Content-Type: application/octet-stream",
        b'Content-Disposition: attachment; filename="evil\x1b[8m.txt"',
        b"",
        b"data",
        b"--b1--",
    ]
    return b"\r\n".join(headers) + b"\r\n"


async def deliver(app: SagiccApp, pilot, raw: bytes) -> None:
    """Store ``raw`` as the engine would and let the console poll for it."""
    store = app.backend.store
    ingest(store, IngestParams(channel="support"), [raw], now=STORE_NOW)
    index_pending_bodies(store)
    app.poll_store()
    await pilot.pause()


def screen_text(app: SagiccApp) -> str:
    """Return every character the screen would draw, toasts included."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


def assert_no_controls(text: str) -> None:
    found = set(text) & (TERMINAL_CONTROLS - {"\n"})
    assert not found, f"control characters reach the screen: {sorted(found)!r}"


async def test_hostile_mail_shown_escaped(store_backend) -> None:
    app = make_app(store_backend)
    async with app.run_test(size=(160, 50)) as pilot:
        raw = hostile_mail(1, b"hi \x1b]0;PWNED\x07\x1b[31mred [bold]x[/]")
        await deliver(app, pilot, raw)

        feed = screen_text(app)
        assert_no_controls(feed)
        assert "hi \\x1b]0;PWNED\\x07\\x1b[31mred [bold]x[/]" in feed
        assert "Eve \\x1b[5m[b]" in feed
        notes = [n.message for n in app._notifications]
        assert any("\\x1b]0;PWNED" in note for note in notes)

        await pilot.press("home", "enter")
        await pilot.pause()
        assert isinstance(app.screen, TicketScreen)
        app.clear_notifications()
        await pilot.pause()
        ticket = screen_text(app)
        assert_no_controls(ticket)
        assert "#7 hi \\x1b]0;PWNED\\x07\\x1b[31mred [bold]x[/]" in ticket
        assert "\\x1b[2J\\x1b]0;TITLE\\x07\\x1b]52;c;ZXZpbA==\\x07\\x9b31m[/]" in ticket
        assert "evil\\x1b[8m.txt" in ticket


def test_store_views_escaped(store_backend) -> None:
    raw = hostile_mail(3, b"hi \x1b[31mred\x07")
    ingest(store_backend.store, IngestParams(channel="support"), [raw])
    index_pending_bodies(store_backend.store)

    row = store_backend.list_tickets(FeedFilter(), 0, 1)[0]
    assert row.subject == "hi \\x1b[31mred\\x07"
    assert row.customer == "Eve \\x1b[5m[b]"
    message = store_backend.ticket_messages(row.ticket_id)[0]
    assert message.sender == "Eve \\x1b[5m[b] <eve@mail.example>"
    assert "\\x1b[2J\\x1b]0;TITLE\\x07" in message.body
    assert message.attachments[0].filename == "evil\\x1b[8m.txt"


async def test_encoded_word_subject_escaped(store_backend) -> None:
    app = make_app(store_backend)
    async with app.run_test(size=(160, 50)) as pilot:
        raw = hostile_mail(2, b"=?utf-8?q?hi_=1B[31mred_=E2=80=AE?=")
        await deliver(app, pilot, raw)

        feed = screen_text(app)
        assert_no_controls(feed)
        assert "hi \\x1b[31mred \\u202e" in feed

        await pilot.press("home", "enter", "r")
        await pilot.pause()
        compose = screen_text(app)
        assert_no_controls(compose)
        assert "\\x1b]52;c;" in compose

        editor = app.screen.query_one("#compose-body")
        editor.post_message(events.Paste("Pasted \x1b]0;OPERATOR\x07 text\n"))
        await pilot.pause()
        subject = app.screen.query_one("#compose-subject")
        subject.post_message(events.Paste(" \x1b[31mpasted\x07\nsecond line"))
        await pilot.pause()
        assert subject.value.endswith(" \\x1b[31mpasted\\x07")
        await pilot.press("ctrl+s")
        await pilot.pause()
        review = screen_text(app)
        assert_no_controls(review)
        assert "Pasted \\x1b]0;OPERATOR\\x07 text" in review
        assert "\\x1b]52;c;" in review

"""The console on a real ticket store: feed, ticket, actions, outbox."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

import pytest

from sagicc_tui.engine.replies import message_id_key
from sagicc_tui.settings import load_config, open_secret_store
from sagicc_tui.store.ingest import IngestParams, ingest
from sagicc_tui.tickets import verify_message_id
from sagicc_tui.ui.app import SagiccApp
from sagicc_tui.ui.backend import FeedFilter
from sagicc_tui.ui.screens.compose import ComposeScreen
from sagicc_tui.ui.screens.ticket import TicketScreen
from sagicc_tui.ui.widgets.feed_list import FeedList
from tests.ui.store_data import CUSTOMERS, STORE_NOW, customer_mail


def make_app(backend) -> SagiccApp:
    return SagiccApp(
        backend, now=lambda: STORE_NOW, cursor_blink=False, poll_seconds=3600
    )


def test_feed_rows_from_store(store_backend) -> None:
    rows = store_backend.list_tickets(FeedFilter(), 0, 10)
    assert store_backend.count_tickets(FeedFilter()) == 6
    assert rows[0].subject == "Invoice charged twice"
    assert rows[0].message_count == 2
    assert rows[0].customer == "Ana Lima"
    assert store_backend.count_tickets(FeedFilter(search="parcel")) == 2


async def test_reply_lands_in_outbox(store_backend) -> None:
    app = make_app(store_backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TicketScreen)
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen)
        assert app.screen.draft.to == "Ana Lima <ana@mail.example>"
        app.screen.query_one("#compose-body").insert("Refunded today.\n")
        await pilot.press("ctrl+s", "y")
        await pilot.pause()
        assert isinstance(app.screen, TicketScreen)

    items = store_backend.store.outbox()
    assert len(items) == 1
    assert items[0].rcpt_to == ["ana@mail.example"]
    sent = message_from_bytes(items[0].raw)
    assert sent["In-Reply-To"] == "<customer-7@mail.example>"
    assert sent["Subject"].startswith("Re: Invoice charged twice [#")
    assert "Refunded today." in sent.get_payload(decode=True).decode()
    ticket = store_backend.store.get_ticket(items[0].ticket_id)
    assert ticket.message_count == 3
    # Our Message-ID is signed with the store-wide key, so answers thread back.
    key = message_id_key(open_secret_store(load_config()))
    assert verify_message_id(items[0].message_id, key) == ticket.number


async def test_forward_carries_original(store_backend) -> None:
    app = make_app(store_backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen)
        app.screen.query_one("#compose-to").value = "vendor@parts.example"
        await pilot.press("ctrl+s", "y")
        await pilot.pause()

    (item,) = store_backend.store.outbox()
    assert item.rcpt_to == ["vendor@parts.example"]
    sent = message_from_bytes(item.raw, policy=policy.default)
    assert sent["Subject"].startswith("Fwd: ")
    (attached,) = list(sent.iter_attachments())
    assert attached.get_content_type() == "message/rfc822"
    assert attached.get_content()["Message-ID"] == "<customer-7@mail.example>"


async def test_close_recorded_with_operator(store_backend) -> None:
    app = make_app(store_backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("c")
        await pilot.pause()
    ticket = store_backend.store.list_tickets(None, 0, 1)[0]
    assert str(ticket.status) == "closed"
    events = store_backend.store.ticket_events(ticket.id)
    assert [(e.who, e.action) for e in events][-1] == ("tester", "close")


async def test_live_message_announced(store_backend) -> None:
    app = make_app(store_backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("j", "j")
        feed = app.screen.query_one(FeedList)
        selected = feed.selected
        raw = customer_mail(8, subject="Printer on fire", sender=CUSTOMERS[1])
        ingest(
            store_backend.store, IngestParams(channel="support"), [raw], now=STORE_NOW
        )
        app.poll_store()
        await pilot.pause()
        assert feed.selected == selected
        assert feed.row_at(0).subject == "Printer on fire"
        messages = [n.message for n in app._notifications]
        assert any("Printer on fire" in m for m in messages)


def test_save_attachment_bytes(store_backend, tmp_path: Path) -> None:
    ticket = [
        t
        for t in store_backend.list_tickets(FeedFilter(), 0, 10)
        if t.message_count == 1
    ][-1]
    message = store_backend.ticket_messages(ticket.ticket_id)[0]
    assert [a.filename for a in message.attachments] == ["invoice.pdf"]
    target = tmp_path / "out.pdf"
    store_backend.save_attachment(
        message.message_id, message.attachments[0].part_index, target
    )
    assert target.read_bytes() == b"%PDF-1.4 fixed"
    with pytest.raises(ValueError, match="already exists"):
        store_backend.save_attachment(message.message_id, 2, target)


def test_merge_and_split(store_backend) -> None:
    rows = store_backend.list_tickets(FeedFilter(), 0, 10)
    source, target = rows[1], rows[0]
    merged = store_backend.merge_tickets(source.ticket_id, target.number)
    assert merged == target.ticket_id
    assert store_backend.get_ticket(source.ticket_id) is None
    messages = store_backend.ticket_messages(target.ticket_id)
    number = store_backend.split_message(messages[-1].message_id)
    assert store_backend.store.get_ticket(number=number) is not None
    with pytest.raises(LookupError):
        store_backend.merge_tickets(target.ticket_id, 9999)


def test_channel_form_round_trip(store_backend) -> None:
    values = store_backend.channel_values("incoming", "support")
    assert values["host"] == "127.0.0.1"
    assert values["password"] == ""
    error = store_backend.validate_field("incoming", "port", "0", values)
    assert error is not None and "65535" in error
    values.update(name="sales", password="s3cret")
    store_backend.save_channel("incoming", values, None)
    assert "sales" in store_backend.channel_names()
    secrets = store_backend.settings.secrets()
    assert secrets.get("channel/sales/password") == "s3cret"
    config_text = store_backend.settings.config_file.read_text()
    assert "s3cret" not in config_text
    store_backend.remove_channel("incoming", "sales")
    assert "sales" not in store_backend.channel_names()
    states = {s.name: s.state for s in store_backend.channel_states()}
    assert states == {"support": "waiting", "support-out": "on demand"}


def test_postponed_draft_round_trip(store_backend, tmp_path: Path) -> None:
    ticket = store_backend.list_tickets(FeedFilter(), 0, 1)[0]
    draft = store_backend.draft("reply", ticket.ticket_id, None)
    draft.body = "Half written."
    draft.attachments = [tmp_path / "a.txt"]
    store_backend.postpone_draft(draft)
    drafts = store_backend.postponed_drafts()
    assert len(drafts) == 1
    draft_id, saved = drafts[0]
    assert saved == draft
    assert store_backend.resume_draft(draft_id) == draft
    assert store_backend.postponed_drafts() == []
    with pytest.raises(LookupError):
        store_backend.resume_draft(draft_id)


async def test_sent_reply_scrolled_into_view(store_backend) -> None:
    params = IngestParams(channel="support", grouping="thread")
    for number in range(8, 12):
        raw = customer_mail(
            number,
            subject="Re: Invoice charged twice",
            sender=CUSTOMERS[0],
            in_reply_to="customer-3@mail.example",
        )
        ingest(store_backend.store, params, [raw], now=STORE_NOW)
    app = make_app(store_backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter", "r")
        await pilot.pause()
        app.screen.query_one("#compose-body").insert("Refunded today.\n")
        await pilot.press("ctrl+s", "y")
        await pilot.pause()
        app.poll_store()
        await pilot.pause()
        await pilot.pause()

        screen = app.screen
        assert isinstance(screen, TicketScreen)
        assert screen.messages[-1].outgoing
        assert screen.selected == len(screen.messages) - 1
        conversation = screen.query_one("#conversation")
        assert conversation.max_scroll_y > 0
        assert conversation.scroll_y == conversation.max_scroll_y

"""Ticket and compose screens driven with keys."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, OptionList, Static, TextArea

from sagicc_tui.ui.backend import Draft
from sagicc_tui.ui.screens.compose import ComposeScreen
from sagicc_tui.ui.screens.dialogs import PromptDialog
from sagicc_tui.ui.screens.feed import FeedScreen
from sagicc_tui.ui.screens.review import ReviewScreen
from sagicc_tui.ui.screens.ticket import TicketScreen
from sagicc_tui.ui.widgets.message_card import MessageCard


async def open_ticket(pilot, downs: int = 2) -> TicketScreen:
    await pilot.press(*["j"] * downs, "enter")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, TicketScreen)
    return screen


async def test_ticket_shows_conversation(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_ticket(pilot)
        cards = list(screen.query(MessageCard))
        assert len(cards) == 4
        assert cards[-1].has_class("-selected")
        first = str(cards[0].render())
        assert "invoice.pdf" in first
        assert "Joined: new ticket" in first
        assert "[AUTO-REPLY]" in str(cards[2].render())


async def test_message_selection_moves(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_ticket(pilot)
        await pilot.press("k", "k", "k", "k")
        assert screen.selected == 0
        assert list(screen.query(MessageCard))[0].has_class("-selected")
        await pilot.press("j")
        assert screen.selected == 1
        await pilot.press("end")
        assert screen.selected == 3
        await pilot.press("home")
        assert screen.selected == 0


async def test_close_reopen_and_back(make_app, backend) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_ticket(pilot)
        await pilot.press("c")
        assert backend.get_ticket(3).row.status == "closed"
        title = str(app.screen.query_one("#ticket-title", Static).render())
        assert "closed" in title
        await pilot.press("o")
        assert backend.get_ticket(3).row.status == "open"
        await pilot.press("q")
        assert isinstance(app.screen, FeedScreen)


async def test_save_attachment_to_path(make_app, backend, tmp_path: Path) -> None:
    app = make_app()
    target = tmp_path / "saved.pdf"
    async with app.run_test(size=(80, 24)) as pilot:
        await open_ticket(pilot)
        await pilot.press("k", "k", "k", "a")
        assert isinstance(app.screen, PromptDialog)
        app.screen.query_one(Input).value = f"1 {target}"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert target.read_bytes().startswith(b"%PDF")
        assert backend.saved == [(300, 2, target)]


async def test_merge_asks_for_number(make_app, backend) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_ticket(pilot)
        await pilot.press("M")
        app.screen.query_one(Input).value = "#1001"
        await pilot.press("enter")
        await pilot.pause()
        assert backend.get_ticket(3) is None
        assert isinstance(app.screen, TicketScreen)
        assert app.screen.ticket_id == 1
        assert len(backend.ticket_messages(1)) == 6


async def test_reply_review_send(make_app, backend) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_ticket(pilot)
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen)
        body = app.screen.query_one("#compose-body", TextArea)
        assert "> quoted original" in body.text
        body.insert("Thanks, refunded.")
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, TicketScreen)
        assert len(backend.queued) == 1
        draft = backend.queued[0]
        assert draft.mode == "reply"
        assert draft.ticket_id == 3
        assert draft.to == "dana@example.org"
        assert "Thanks, refunded." in draft.body


async def test_review_edit_postpone_abort(make_app, backend) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_ticket(pilot)
        await pilot.press("g", "ctrl+s", "e")
        assert isinstance(app.screen, ComposeScreen)
        assert app.screen.query_one("#compose-cc", Input).value == "boss@example.org"
        await pilot.press("ctrl+s", "p")
        await pilot.pause()
        assert isinstance(app.screen, TicketScreen)
        assert [d.mode for d in backend.postponed] == ["reply-all"]

        await pilot.press("f", "ctrl+s")
        assert isinstance(app.screen, ComposeScreen)  # forward has no recipient yet
        await pilot.press("escape", "y")
        await pilot.pause()
        assert isinstance(app.screen, TicketScreen)
        assert backend.queued == []


async def test_new_message_from_feed(make_app, backend, tmp_path: Path) -> None:
    attachment = tmp_path / "terms.txt"
    attachment.write_text("terms")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m")
        assert isinstance(app.screen, ComposeScreen)
        app.screen.query_one("#compose-to", Input).value = "lead@example.org"
        app.screen.query_one("#compose-subject", Input).value = "Hello"
        await pilot.press("ctrl+t")
        app.screen.query_one(Input).value = str(attachment)
        await pilot.press("enter", "ctrl+s", "y")
        await pilot.pause()
        assert isinstance(app.screen, FeedScreen)
        assert backend.queued[0].mode == "new"
        assert backend.queued[0].attachments == [attachment.resolve()]


async def test_postponed_draft_resumes(make_app, backend) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("P")
        assert isinstance(app.screen, FeedScreen)  # nothing postponed yet
        await open_ticket(pilot)
        await pilot.press("r", "ctrl+s", "p", "q")
        assert len(backend.postponed) == 1
        await pilot.press("P")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen)
        assert app.screen.draft.subject == "Re: Refund for order 8812"
        assert backend.postponed == []


async def test_drafts_list_keys(make_app, backend) -> None:
    backend.postponed = [
        Draft("new", to=f"c{n}@mail.example", subject=f"s{n}", body="")
        for n in range(3)
    ]
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("P")
        options = app.screen.query_one(OptionList)
        assert options.highlighted == 0
        await pilot.press("j")
        assert options.highlighted == 1
        await pilot.press("k")
        assert options.highlighted == 0
        await pilot.press("end")
        assert options.highlighted == 2
        await pilot.press("home")
        assert options.highlighted == 0

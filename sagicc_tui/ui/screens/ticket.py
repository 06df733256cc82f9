"""One ticket: its conversation in order and what can be done with it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widget import AwaitMount
from textual.widgets import Footer, Static

from sagicc_tui.mail.display import printable
from sagicc_tui.ui.backend import ComposeMode, MessageView, TicketView
from sagicc_tui.ui.messages import StoreChanged
from sagicc_tui.ui.screens.dialogs import ConfirmDialog, PromptDialog
from sagicc_tui.ui.widgets.message_card import MessageCard

if TYPE_CHECKING:
    from sagicc_tui.ui.app import SagiccApp


class TicketScreen(Screen[None]):
    """The conversation of one ticket, one message selected at a time."""

    app: SagiccApp

    BINDINGS = [
        Binding("j,down", "next_message", "Next message", show=False, id="ticket.next"),
        Binding(
            "k,up",
            "previous_message",
            "Previous message",
            show=False,
            id="ticket.previous",
        ),
        # Priority, because the focused conversation scroll binds Home and End
        # to scrolling, which would leave the selection behind.
        Binding(
            "home",
            "first_message",
            "First message",
            show=False,
            priority=True,
            id="ticket.first",
        ),
        Binding(
            "end",
            "last_message",
            "Last message",
            show=False,
            priority=True,
            id="ticket.last",
        ),
        Binding("r", "compose('reply')", "Reply", id="ticket.reply"),
        Binding("g", "compose('reply-all')", "Reply all", id="ticket.reply_all"),
        Binding("f", "compose('forward')", "Forward", id="ticket.forward"),
        Binding("c", "close_ticket", "Close", id="ticket.close"),
        Binding("o", "reopen_ticket", "Reopen", id="ticket.reopen"),
        Binding("S", "split", "Split message", id="ticket.split"),
        Binding("M", "merge", "Merge into…", id="ticket.merge"),
        Binding("a", "save_attachment", "Save attachment", id="ticket.save"),
        Binding("q,escape", "back", "Back", id="ticket.back"),
    ]

    def __init__(self, ticket_id: int) -> None:
        super().__init__()
        self.ticket_id = ticket_id
        self.ticket: TicketView | None = None
        self.messages: list[MessageView] = []
        self.selected = 0

    def compose(self) -> ComposeResult:
        yield Static(id="ticket-title", classes="title")
        yield VerticalScroll(id="conversation")
        yield Static(id="ticket-outbox")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.load()

    @on(StoreChanged)
    def reload(self, event: StoreChanged) -> None:
        if any(c.ticket_id == self.ticket_id for c in event.changes):
            self.load()

    def load(self) -> None:
        """Read the ticket again and rebuild the conversation."""
        backend = self.app.backend
        self.ticket = backend.get_ticket(self.ticket_id)
        if self.ticket is None:
            self.notify(f"Ticket {self.ticket_id} no longer exists", severity="warning")
            self.dismiss()
            return
        row = self.ticket.row
        # Text, not a markup string: a subject such as "[b]" must show as typed.
        title = (
            f"#{row.number} {row.subject}\n{row.status} · {row.channel} · "
            f"{row.customer} <{self.ticket.customer_address}>"
        )
        self.query_one("#ticket-title", Static).update(
            Text(printable(title, multiline=True))
        )
        had = len(self.messages)
        self.messages = list(backend.ticket_messages(self.ticket_id))
        if len(self.messages) != had:
            self.selected = max(0, len(self.messages) - 1)
        conversation = self.query_one("#conversation", VerticalScroll)
        conversation.remove_children()
        mounted = conversation.mount_all(MessageCard(m) for m in self.messages)
        self.call_next(self._highlight_when_mounted, mounted)
        self._show_outbox()
        self.refresh_bindings()

    def _show_outbox(self) -> None:
        entries = [
            e
            for e in self.app.backend.outbox(self.ticket_id)
            if e.state not in ("sent", "cancelled")
        ]
        lines = [
            f"outbox: {e.state} → {e.recipients} {e.error}".rstrip() for e in entries
        ]
        outbox = self.query_one("#ticket-outbox", Static)
        outbox.update(Text(printable("\n".join(lines), multiline=True)))
        outbox.display = bool(lines)

    async def _highlight_when_mounted(self, mounted: AwaitMount) -> None:
        """Select and scroll to the chosen card once the new cards exist.

        Scrolling before the cards are laid out leaves the view at the top,
        away from the newest message.
        """
        await mounted
        self.call_after_refresh(self._highlight)

    def _highlight(self) -> None:
        cards = list(self.query(MessageCard))
        for index, card in enumerate(cards):
            card.set_class(index == self.selected, "-selected")
        if cards:
            cards[min(self.selected, len(cards) - 1)].scroll_visible(animate=False)

    @property
    def message(self) -> MessageView | None:
        if 0 <= self.selected < len(self.messages):
            return self.messages[self.selected]
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        status = self.ticket.row.status if self.ticket else ""
        if action == "close_ticket":
            return status != "closed"
        if action == "reopen_ticket":
            return status == "closed"
        if action == "save_attachment":
            return bool(self.message and self.message.attachments)
        if action == "split":
            return len(self.messages) > 1
        return True

    # Moving

    def _select(self, index: int) -> None:
        self.selected = max(0, min(index, len(self.messages) - 1))
        self._highlight()
        self.refresh_bindings()

    def action_next_message(self) -> None:
        self._select(self.selected + 1)

    def action_previous_message(self) -> None:
        self._select(self.selected - 1)

    def action_first_message(self) -> None:
        self._select(0)

    def action_last_message(self) -> None:
        self._select(len(self.messages) - 1)

    def action_back(self) -> None:
        self.dismiss()

    # Actions

    def action_compose(self, mode: ComposeMode) -> None:
        from sagicc_tui.ui.screens.compose import open_compose

        message = self.message
        open_compose(
            self.app, mode, self.ticket_id, message.message_id if message else None
        )

    def _call(
        self, what: str, call: Callable[..., Any], *args: Any
    ) -> tuple[bool, Any]:
        """Run a store action; return (succeeded, its result)."""
        try:
            result = call(*args)
        except (LookupError, ValueError) as error:
            self.notify(f"{what} failed: {error}", severity="error")
            return False, None
        except Exception as error:
            self.app.report_error(f"{what} failed", error, "check the log and retry")
            return False, None
        self.load()
        return True, result

    def action_close_ticket(self) -> None:
        done, _ = self._call("Closing", self.app.backend.close_ticket, self.ticket_id)
        if done:
            self.notify("Ticket closed")

    def action_reopen_ticket(self) -> None:
        done, _ = self._call(
            "Reopening", self.app.backend.reopen_ticket, self.ticket_id
        )
        if done:
            self.notify("Ticket reopened")

    def action_split(self) -> None:
        message = self.message
        if message is None:
            return

        def split(confirmed: bool | None) -> None:
            if confirmed:
                backend = self.app.backend
                done, new_ticket = self._call(
                    "Split", backend.split_message, message.message_id
                )
                if done:
                    self.notify(f"The message moved to the new ticket #{new_ticket}")

        question = f"Move the message from {message.sender} to a new ticket?"
        self.app.push_screen(ConfirmDialog(question), split)

    def action_merge(self) -> None:
        def merge(number: str | None) -> None:
            if not number:
                return
            if not number.strip().lstrip("#").isdigit():
                self.notify(f"{number!r} is not a ticket number", severity="error")
                return
            target = int(number.strip().lstrip("#"))
            backend = self.app.backend
            done, merged = self._call(
                "Merge", backend.merge_tickets, self.ticket_id, target
            )
            if done:
                self.notify(f"Merged into ticket #{target}")
                self.app.switch_screen(TicketScreen(int(merged)))

        prompt = "Merge this ticket into ticket number:"
        self.app.push_screen(PromptDialog(prompt, placeholder="e.g. 1042"), merge)

    def action_save_attachment(self) -> None:
        message = self.message
        if message is None or not message.attachments:
            return
        choices = "\n".join(
            f"{n}. {a.filename}" for n, a in enumerate(message.attachments, start=1)
        )
        first = message.attachments[0].filename
        prompt = f"Save an attachment as NUMBER PATH\n{choices}"

        def save(answer: str | None) -> None:
            if answer:
                self._save(message, answer)

        self.app.push_screen(PromptDialog(prompt, f"1 {Path.cwd() / first}"), save)

    def _save(self, message: MessageView, answer: str) -> None:
        number, _, path = answer.strip().partition(" ")
        if not number.isdigit() or not 1 <= int(number) <= len(message.attachments):
            self.notify(
                f"{number!r} is not an attachment number: use 1 to "
                f"{len(message.attachments)}",
                severity="error",
            )
            return
        attachment = message.attachments[int(number) - 1]
        target = Path(path.strip() or attachment.filename).expanduser()
        if target.is_dir():
            target = target / attachment.filename
        self._save_worker(message.message_id, attachment.part_index, target)

    @work(
        thread=True, exclusive=True, group="save", description="Saving the attachment"
    )
    def _save_worker(self, message_id: int, part_index: int, target: Path) -> None:
        saved = self.app.backend.save_attachment(message_id, part_index, target)
        self.app.call_from_thread(self.notify, f"Saved to {saved}")

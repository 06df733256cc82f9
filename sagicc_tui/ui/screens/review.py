"""The review step before a message goes to the outbox."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from sagicc_tui.mail.display import printable
from sagicc_tui.ui.backend import Draft


class ReviewScreen(ModalScreen[str]):
    """Dismisses with ``send``, ``edit``, ``postpone`` or ``abort``."""

    BINDINGS = [
        Binding("y", "choose('send')", "Send", id="review.send"),
        Binding("e,escape", "choose('edit')", "Edit again", id="review.edit"),
        Binding("p", "choose('postpone')", "Postpone", id="review.postpone"),
        Binding("q", "choose('abort')", "Abort", id="review.abort"),
    ]

    def __init__(self, draft: Draft) -> None:
        super().__init__()
        self.draft = draft

    def compose(self) -> ComposeResult:
        draft = self.draft
        header = [f"To: {draft.to}"]
        if draft.cc:
            header.append(f"Cc: {draft.cc}")
        header.append(f"Subject: {draft.subject}")
        for path in draft.attachments:
            header.append(f"Attachment: {path}")
        # The body may quote a customer or come from $EDITOR, so controls in it
        # are shown as escapes here as everywhere else.
        with Vertical(classes="dialog", id="review"):
            yield Static(printable("\n".join(header), multiline=True), markup=False)
            with VerticalScroll(id="review-body"):
                yield Static(printable(draft.body, multiline=True), markup=False)
            yield Label(
                "[b]y[/b] send  [b]e[/b] edit again  [b]p[/b] postpone  [b]q[/b] abort"
            )

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)

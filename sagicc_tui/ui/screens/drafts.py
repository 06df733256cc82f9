"""The list of postponed drafts, to pick one to finish."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from sagicc_tui.ui.backend import Draft
from sagicc_tui.ui.widgets.lists import KeyOptionList


def draft_label(draft: Draft) -> str:
    """Return one line naming the draft: mode, recipient and subject."""
    to = draft.to or "(no recipient)"
    subject = draft.subject or "(no subject)"
    return f"{draft.mode:<9} {to} · {subject}"


class DraftsDialog(ModalScreen[str | None]):
    """Dismisses with the chosen draft's id, or None on Escape."""

    BINDINGS = [Binding("escape,q", "cancel", "Cancel", id="drafts.cancel")]

    def __init__(self, drafts: Sequence[tuple[str, Draft]]) -> None:
        super().__init__()
        self.drafts = list(drafts)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("[b]Postponed drafts[/b]  Enter opens one, Escape closes")
            yield KeyOptionList(
                *(
                    Option(Text(draft_label(d)), id=draft_id)
                    for draft_id, d in self.drafts
                ),
                id="drafts",
            )

    @on(OptionList.OptionSelected)
    def choose(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)

"""Messages the console app sends to its screens."""

from __future__ import annotations

from collections.abc import Sequence

from textual.message import Message

from sagicc_tui.ui.backend import Change


class StoreChanged(Message):
    """The store's change counter moved; ``changes`` lists what happened."""

    def __init__(self, changes: Sequence[Change]) -> None:
        super().__init__()
        self.changes = list(changes)

"""Lists that move like the feed: j/k or arrows by one row, Home/End to the ends."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import DataTable, OptionList


def row_bindings(first: str, last: str) -> list[Binding]:
    """Return the feed's movement keys, Home and End running ``first``/``last``."""
    return [
        Binding("j,down", "cursor_down", "Next row", show=False, id="list.down"),
        Binding("k,up", "cursor_up", "Previous row", show=False, id="list.up"),
        Binding("home", first, "First row", show=False, id="list.first"),
        Binding("end", last, "Last row", show=False, id="list.last"),
    ]


class RowTable(DataTable):
    """A row-cursor ``DataTable`` with the feed's movement keys."""

    BINDINGS = row_bindings("first_row", "last_row")

    def action_first_row(self) -> None:
        if self.row_count:
            self.move_cursor(row=0)

    def action_last_row(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)


class KeyOptionList(OptionList):
    """An ``OptionList`` that also moves with j and k."""

    BINDINGS = row_bindings("first", "last")

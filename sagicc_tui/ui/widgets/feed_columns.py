"""Column layout and cell text of the feed, shared by its header and rows."""

from __future__ import annotations

from datetime import datetime

from rich.cells import cell_len, set_cell_size

from sagicc_tui.mail.display import printable
from sagicc_tui.ui.backend import FeedRow

# Fixed widths in cells; the subject takes what is left of the line.
NUMBER_WIDTH = 6
STATUS_WIDTH = 6
CHANNEL_WIDTH = 10
CUSTOMER_WIDTH = 18
COUNT_WIDTH = 3
AGE_WIDTH = 4
MIN_SUBJECT_WIDTH = 10


def format_age(when: datetime, now: datetime) -> str:
    """Return a short age such as ``now``, ``12m``, ``5h``, ``3d`` or ``2y``."""
    seconds = max(0, int((now - when).total_seconds()))
    for unit, size in (("y", 365 * 86400), ("w", 7 * 86400), ("d", 86400)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    if seconds >= 3600:
        return f"{seconds // 3600}h"
    if seconds >= 60:
        return f"{seconds // 60}m"
    return "now"


def _cell(text: str, width: int, *, right: bool = False) -> str:
    """Pad or cut ``text`` to exactly ``width`` cells, marking a cut with …."""
    # The store backend escapes controls already; this covers any other
    # backend, and escaping twice changes nothing.
    text = " ".join(printable(text, multiline=False).split())
    if right and cell_len(text) <= width:
        return " " * (width - cell_len(text)) + text
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    return set_cell_size(text, width)


def subject_width(total: int) -> int:
    fixed = NUMBER_WIDTH + STATUS_WIDTH + CHANNEL_WIDTH + CUSTOMER_WIDTH
    fixed += COUNT_WIDTH + AGE_WIDTH + 7  # one space between seven columns
    return max(MIN_SUBJECT_WIDTH, total - fixed)


def _join(cells: list[str]) -> str:
    return " " + " ".join(cells)


def header_text(width: int) -> str:
    """Return the column titles laid out for a line of ``width`` cells."""
    cells = [
        _cell("#", NUMBER_WIDTH),
        _cell("Status", STATUS_WIDTH),
        _cell("Channel", CHANNEL_WIDTH),
        _cell("Customer", CUSTOMER_WIDTH),
        _cell("Subject", subject_width(width)),
        _cell("Msg", COUNT_WIDTH, right=True),
        _cell("Age", AGE_WIDTH, right=True),
    ]
    return _join(cells)


def row_text(row: FeedRow, width: int, now: datetime) -> str:
    """Return one ticket's feed line for a line of ``width`` cells."""
    cells = [
        _cell(str(row.number), NUMBER_WIDTH),
        _cell(row.status, STATUS_WIDTH),
        _cell(row.channel, CHANNEL_WIDTH),
        _cell(row.customer, CUSTOMER_WIDTH),
        _cell(row.subject, subject_width(width)),
        _cell(str(row.message_count), COUNT_WIDTH, right=True),
        _cell(format_age(row.last_activity, now), AGE_WIDTH, right=True),
    ]
    return _join(cells)

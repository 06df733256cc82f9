"""One message of a conversation, as shown on the ticket screen."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from sagicc_tui.mail.display import printable
from sagicc_tui.ui.backend import MessageView

KIND_MARKS = {"auto-reply": "AUTO-REPLY", "bounce": "BOUNCE"}


def format_size(size: int) -> str:
    """Return ``size`` bytes as ``512 B``, ``48 KB`` or ``3.1 MB``."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size // 1024} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _line(text: str) -> str:
    return printable(text, multiline=False)


def message_text(message: MessageView) -> Text:
    """Return the card's text: header lines, marks, attachments, then the body.

    Every field is escaped with ``printable`` even when the backend did so,
    because escaping twice changes nothing.
    """
    text = Text()
    arrow = "→ sent" if message.outgoing else "← received"
    text.append(_line(message.sender), style="bold")
    text.append(f"  {arrow} {message.date:%Y-%m-%d %H:%M} UTC")
    mark = KIND_MARKS.get(message.kind)
    if mark:
        text.append(f"  [{mark}]", style="bold reverse")
    if message.delivery:
        text.append(f"  [{message.delivery}]", style="bold yellow")
    text.append("\n")
    text.append(f"To: {_line(message.to)}\n", style="dim")
    if message.cc:
        text.append(f"Cc: {_line(message.cc)}\n", style="dim")
    text.append(f"Subject: {_line(message.subject)}\n")
    if message.join_reason:
        text.append(f"Joined: {_line(message.join_reason)}\n", style="italic dim")
    for number, attachment in enumerate(message.attachments, start=1):
        text.append(
            f"📎 {number}. {_line(attachment.filename)} "
            f"({_line(attachment.content_type)}, {format_size(attachment.size)})\n",
            style="cyan",
        )
    text.append("\n")
    text.append(printable(message.body.rstrip(), multiline=True) or "(no text)")
    return text


class MessageCard(Static):
    """A message; the selected card has the ``-selected`` class."""

    def __init__(self, message: MessageView) -> None:
        super().__init__(message_text(message), classes="message-card")
        self.message = message
        if message.outgoing:
            self.add_class("-outgoing")

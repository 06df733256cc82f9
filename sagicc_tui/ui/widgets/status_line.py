"""The status line: channel filter, sync state, ticket and outbox counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from textual.markup import escape
from textual.widgets import Static

from sagicc_tui.ui.backend import ChannelStateView, OutboxEntry


def summarize_states(states: Sequence[ChannelStateView]) -> str:
    """Return e.g. ``2 idle, 1 syncing 40%`` for the incoming channels."""
    incoming = [s for s in states if s.kind == "incoming"]
    if not incoming:
        return "no channels"
    counts = Counter(s.state for s in incoming)
    parts = []
    for state, number in sorted(counts.items()):
        text = f"{number} {state}"
        fractions = [s.progress for s in incoming if s.state == state and s.progress]
        if state == "syncing" and fractions:
            text += f" {int(100 * sum(fractions) / len(fractions))}%"
        parts.append(text)
    return ", ".join(parts)


class StatusLine(Static):
    """One line at the bottom of the feed and ticket screens."""

    DEFAULT_CSS = """
    StatusLine { height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    def show(
        self,
        channel: str | None,
        states: Sequence[ChannelStateView],
        shown: int,
        outbox: Sequence[OutboxEntry],
    ) -> None:
        """Render the line from the current filter, engine states and counts."""
        pending = sum(1 for e in outbox if e.state not in ("sent", "cancelled"))
        failed = sum(1 for e in outbox if e.state == "failed")
        parts = [
            f"[b]{escape(channel or 'all channels')}[/b]",
            summarize_states(states),
            f"{shown:,} {'ticket' if shown == 1 else 'tickets'}",
        ]
        if pending:
            outbox_text = f"outbox {pending}"
            if failed:
                outbox_text += f" ({failed} failed)"
            parts.append(outbox_text)
        self.update(" │ ".join(parts), layout=False)

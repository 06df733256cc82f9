"""The key list: every binding of the screen underneath, and the app's."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    """Lists each key with its description; dim ones do nothing right now."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close"),
    ]

    def __init__(self, under: Screen) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        lines = [
            f"[b]Keys on {self.under.__class__.__name__.removesuffix('Screen')}[/b]"
        ]
        seen: set[tuple[str, str]] = set()
        for active in self.under.active_bindings.values():
            binding = active.binding
            if not binding.description or binding.system:
                continue
            shown = self.app.get_key_display(binding)
            entry = (shown, binding.description)
            if entry in seen:
                continue
            seen.add(entry)
            text = f"  {shown:<12} {binding.description}"
            lines.append(text if active.enabled else f"[dim]{text}[/dim]")
        lines.append("")
        lines.append("Keys can be changed in the [b]keys[/b] table of the config file.")
        with VerticalScroll(id="help-body"):
            yield Static("\n".join(lines))

    def action_dismiss(self) -> None:
        self.dismiss()

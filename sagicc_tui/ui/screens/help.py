"""The key list: the console's own bindings on the screen underneath."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

KEYS_HINT = (
    "Change a key in the [key_bindings] table of config.toml in the config "
    "folder ($SAGICC_HOME/config when SAGICC_HOME is set, else "
    "~/.config/sagicc on Linux), naming the action from the right-hand "
    'column, e.g. search = "f3" or feed.search = "f3".'
)


@dataclass(frozen=True)
class ScreenAction:
    """One console action on a screen, with every key bound to it."""

    binding_id: str
    keys: str
    description: str
    enabled: bool
    binding: Binding
    node: DOMNode


def screen_actions(app: App, screen: Screen) -> list[ScreenAction]:
    """Return the console's actions active on ``screen``, one per binding id.

    Bindings without an id are Textual's own (scrolling, focus, copying) and
    are left out: the operator cannot remap them through the config.
    """
    keys: dict[str, list[str]] = {}
    first: dict[str, tuple[Binding, bool, DOMNode]] = {}
    for active in screen.active_bindings.values():
        binding = active.binding
        if not binding.id or not binding.description:
            continue
        shown = app.get_key_display(binding)
        if shown not in keys.setdefault(binding.id, []):
            keys[binding.id].append(shown)
        first.setdefault(binding.id, (binding, active.enabled, active.node))
    return [
        ScreenAction(
            binding_id=binding_id,
            keys=", ".join(keys[binding_id]),
            description=binding.description,
            enabled=enabled,
            binding=binding,
            node=node,
        )
        for binding_id, (binding, enabled, node) in first.items()
    ]


class HelpScreen(ModalScreen[None]):
    """Lists each key with its description; dim ones do nothing right now."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close"),
    ]

    def __init__(self, under: Screen) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        name = self.under.__class__.__name__.removesuffix("Screen")
        text = Text(f"Keys on {name}\n", style="bold")
        for action in screen_actions(self.app, self.under):
            line = f"  {action.keys:<12} {action.description:<22} {action.binding_id}\n"
            text.append(line, style="" if action.enabled else "dim")
        text.append(f"\n{KEYS_HINT}")
        with VerticalScroll(id="help-body"):
            yield Static(text)

    def action_dismiss(self) -> None:
        self.dismiss()

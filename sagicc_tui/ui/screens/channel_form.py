"""The form that adds or edits one incoming or outgoing channel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Input, Label, Select, Static, Switch

from sagicc_tui.mail.display import printable
from sagicc_tui.ui.backend import ChannelKind, FieldSpec, StepResult

if TYPE_CHECKING:
    from sagicc_tui.ui.app import SagiccApp

TRUE_WORDS = ("true", "yes", "on", "1")


def step_line(step: StepResult) -> str:
    """Return one connection-test step as a line: mark, name, detail."""
    if step.passed is None:
        mark = "…"
    elif step.passed:
        mark = "✔"
    else:
        mark = "✘"
    return f" {mark} {step.name}: {step.detail}".rstrip(": ")


def field_widget(spec: FieldSpec, value: str, *, editing: bool = False) -> Widget:
    """Build the input for one setting, filled with ``value``.

    While ``editing`` a saved channel, an empty secret field keeps the stored
    secret, and its placeholder tells the operator so.
    """
    widget_id = f"field-{spec.name}"
    if spec.kind == "bool":
        return Switch(value.lower() in TRUE_WORDS, id=widget_id)
    if spec.kind == "choice":
        options = [(label, stored) for stored, label in spec.choices]
        known = {stored for stored, _ in spec.choices}
        return Select(
            options,
            value=value if value in known else Select.NULL,
            allow_blank=value not in known,
            id=widget_id,
        )
    placeholder = spec.help
    if spec.kind == "secret":
        placeholder = "unchanged" if editing else "not shown once saved"
    return Input(
        value, password=spec.kind == "secret", placeholder=placeholder, id=widget_id
    )


class ChannelFormScreen(Screen[bool]):
    """Every setting of a channel, checked as it is typed.

    Dismisses with True when the channel was saved. A secret left empty
    while editing keeps the stored one.
    """

    app: SagiccApp

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="form.save"),
        Binding("ctrl+t", "test", "Test connection", id="form.test"),
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
    ]

    def __init__(self, kind: ChannelKind, name: str | None) -> None:
        super().__init__()
        self.kind = kind
        self.original_name = name
        self.specs: list[FieldSpec] = []
        self.errors: dict[str, str] = {}
        self._test_lines: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        backend = self.app.backend
        self.specs = list(backend.channel_fields(self.kind))
        values = {s.name: s.default for s in self.specs}
        if self.original_name:
            values.update(backend.channel_values(self.kind, self.original_name))
        verb = f"Edit {self.original_name}" if self.original_name else "Add"
        yield Static(f"{verb} · {self.kind} channel", classes="title")
        with VerticalScroll(id="form"):
            for spec in self.specs:
                with Horizontal(classes="form-row"):
                    yield Label(spec.label, classes="form-label")
                    value = values.get(spec.name, "")
                    yield field_widget(spec, value, editing=bool(self.original_name))
                    yield Label("", id=f"error-{spec.name}", classes="form-error")
        yield Static(id="form-test")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.app.apply_cursor_blink(self)
        if self.specs:
            self.query_one(f"#field-{self.specs[0].name}").focus()

    # Values and validation

    def values(self) -> dict[str, str]:
        """Return every field as text, the way the backend parses form input."""
        result: dict[str, str] = {}
        for spec in self.specs:
            widget = self.query_one(f"#field-{spec.name}")
            if isinstance(widget, Switch):
                result[spec.name] = "true" if widget.value else "false"
            elif isinstance(widget, Select):
                value = widget.value
                result[spec.name] = "" if value is Select.NULL else str(value)
            elif isinstance(widget, Input):
                result[spec.name] = widget.value
        return result

    def check_field(self, name: str, values: dict[str, str]) -> str | None:
        """Validate one field, show its error beside it, and return the error."""
        spec = next(s for s in self.specs if s.name == name)
        value = values.get(name, "")
        if spec.kind == "secret" and not value and self.original_name:
            error = None
        else:
            error = self.app.backend.validate_field(self.kind, name, value, values)
        label = self.query_one(f"#error-{name}", Label)
        # Text, because an error quotes the typed value, which may look like markup.
        label.update(Text(printable(error or "", multiline=False)))
        if error:
            self.errors[name] = error
        else:
            self.errors.pop(name, None)
        return error

    @on(Input.Changed)
    @on(Switch.Changed)
    @on(Select.Changed)
    def field_changed(
        self, event: Input.Changed | Switch.Changed | Select.Changed
    ) -> None:
        widget_id = event.control.id or ""
        if not widget_id.startswith("field-"):
            return
        name = widget_id.removeprefix("field-")
        values = self.values()
        if name == "provider":
            self._fill_preset(values.get("provider", ""))
            values = self.values()
        self.check_field(name, values)

    def _fill_preset(self, provider: str) -> None:
        preset = self.app.backend.provider_defaults(self.kind, provider)
        for name, value in preset.items():
            widget = self.query(f"#field-{name}").first()
            if isinstance(widget, Input):
                widget.value = value
            elif isinstance(widget, Select):
                widget.value = value

    # Actions

    def action_save(self) -> None:
        values = self.values()
        failed = [s for s in self.specs if self.check_field(s.name, values)]
        if failed:
            labels = ", ".join(s.label for s in failed)
            self.notify(f"Fix the marked fields first: {labels}", severity="error")
            self.query_one(f"#field-{failed[0].name}").focus()
            return
        try:
            self.app.backend.save_channel(self.kind, values, self.original_name)
        except ValueError as error:
            self.notify(f"Saving failed: {error}", severity="error")
            return
        except Exception as error:
            self.app.report_error("Saving the channel failed", error, "check the log")
            return
        self.notify(f"Saved the {self.kind} channel {values.get('name', '')}")
        self.dismiss(True)

    def action_test(self) -> None:
        self._test_lines = {}
        self.query_one("#form-test", Static).update("Testing the connection…")
        self._run_test(self.values())

    @work(thread=True, exclusive=True, group="form-test", description="Connection test")
    def _run_test(self, values: dict[str, str]) -> None:
        def on_step(step: StepResult) -> None:
            self._test_lines[step.name] = step_line(step)
            self.app.call_from_thread(self._show_test)

        passed = self.app.backend.test_connection(self.kind, values, on_step)
        self._test_lines["result"] = (
            " All steps passed." if passed else " The test failed at the step above."
        )
        self.app.call_from_thread(self._show_test)

    def _show_test(self) -> None:
        # Step details quote server replies: plain text with controls escaped.
        lines = printable("\n".join(self._test_lines.values()), multiline=True)
        self.query_one("#form-test", Static).update(Text(lines))

    def action_cancel(self) -> None:
        self.dismiss(False)

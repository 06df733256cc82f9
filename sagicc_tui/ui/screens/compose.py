"""Writing a reply, forward or new message, then reviewing it."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Static, TextArea

from sagicc_tui.mail.display import printable
from sagicc_tui.paths import resolve_paths
from sagicc_tui.ui.backend import ComposeMode, Draft
from sagicc_tui.ui.screens.dialogs import ConfirmDialog, PromptDialog
from sagicc_tui.ui.screens.review import ReviewScreen

if TYPE_CHECKING:
    from sagicc_tui.ui.app import SagiccApp

TITLES = {
    "reply": "Reply",
    "reply-all": "Reply to all",
    "forward": "Forward",
    "new": "New message",
}


def open_compose(
    app: SagiccApp, mode: ComposeMode, ticket_id: int | None, message_id: int | None
) -> None:
    """Ask the backend for a draft (original quoted) and open the editor on it."""
    try:
        draft = app.backend.draft(mode, ticket_id, message_id)
    except Exception as error:
        app.report_error(
            "Preparing the message failed", error, "check the log and retry"
        )
        return
    app.push_screen(ComposeScreen(draft))


class BodyArea(TextArea):
    """The body editor; pasted control characters are inserted as escapes.

    A terminal would act on an ESC sequence drawn by the editor, so pasted
    text gets the same treatment as customer mail.
    """

    async def _on_paste(self, event: events.Paste) -> None:
        event.text = printable(event.text, multiline=True)
        await super()._on_paste(event)


class HeaderInput(Input):
    """A header field; a paste keeps its first line, controls as escapes."""

    def _on_paste(self, event: events.Paste) -> None:
        lines = event.text.splitlines()
        event.text = printable(lines[0], multiline=False) if lines else ""
        super()._on_paste(event)


class ComposeScreen(Screen[None]):
    """Header fields and body of one outgoing message."""

    app: SagiccApp

    BINDINGS = [
        Binding("ctrl+s", "review", "Review and send", id="compose.review"),
        # ctrl+e moves to the end of a line in text fields, so the editor key
        # is ctrl+o ("open").
        Binding("ctrl+o", "external_editor", "Edit in $EDITOR", id="compose.editor"),
        Binding("ctrl+t", "attach", "Attach file", id="compose.attach"),
        Binding("escape", "abort", "Abort", id="compose.abort"),
    ]

    def __init__(self, draft: Draft) -> None:
        super().__init__()
        self.draft = draft

    def compose(self) -> ComposeResult:
        yield Static(TITLES[self.draft.mode], classes="title")
        with Vertical(id="compose-fields"):
            for name, label in (("to", "To"), ("cc", "Cc"), ("subject", "Subject")):
                with Horizontal(classes="form-row"):
                    yield Label(label, classes="form-label")
                    value = getattr(self.draft, name)
                    yield HeaderInput(value, id=f"compose-{name}")
        yield BodyArea(self.draft.body, id="compose-body", soft_wrap=True)
        yield Static(id="compose-attachments")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.app.apply_cursor_blink(self)
        self._show_attachments()
        first_empty = "#compose-to" if not self.draft.to else "#compose-body"
        self.query_one(first_empty).focus()

    def _read_fields(self) -> None:
        self.draft.to = self.query_one("#compose-to", Input).value.strip()
        self.draft.cc = self.query_one("#compose-cc", Input).value.strip()
        self.draft.subject = self.query_one("#compose-subject", Input).value
        self.draft.body = self.query_one("#compose-body", TextArea).text

    def _show_attachments(self) -> None:
        names = ", ".join(str(p) for p in self.draft.attachments)
        self.query_one("#compose-attachments", Static).update(
            f"Attachments: {names}"
            if names
            else "No attachments (ctrl+t adds one, ctrl+o edits in $EDITOR)"
        )

    def action_review(self) -> None:
        self._read_fields()
        if not self.draft.to:
            self.notify(
                "The To field is empty: enter the recipient's address", severity="error"
            )
            self.query_one("#compose-to").focus()
            return
        self.app.push_screen(ReviewScreen(self.draft), self._reviewed)

    def _reviewed(self, choice: str | None) -> None:
        if choice == "send":
            self._send()
        elif choice == "postpone":
            self._postpone()
        elif choice == "abort":
            self.dismiss()

    def _send(self) -> None:
        try:
            self.app.backend.queue_draft(self.draft)
        except (ValueError, LookupError) as error:
            self.notify(f"Sending failed: {error}", severity="error")
            return
        except Exception as error:
            self.app.report_error("Queueing the message failed", error, "check the log")
            return
        self.notify(f"Queued for {self.draft.to}; the outbox shows when it is sent")
        self.dismiss()

    def _postpone(self) -> None:
        try:
            self.app.backend.postpone_draft(self.draft)
        except Exception as error:
            self.app.report_error("Postponing failed", error, "check the log")
            return
        self.notify("Draft postponed")
        self.dismiss()

    def action_abort(self) -> None:
        def aborted(confirmed: bool | None) -> None:
            if confirmed:
                self.dismiss()

        self.app.push_screen(
            ConfirmDialog("Abort this message? The text is lost."), aborted
        )

    def action_attach(self) -> None:
        def attach(answer: str | None) -> None:
            if not answer:
                return
            path = Path(answer.strip()).expanduser()
            if not path.is_file():
                self.notify(
                    f"{path} is not a readable file: check the path", severity="error"
                )
                return
            self.draft.attachments.append(path.resolve())
            self._show_attachments()

        self.app.push_screen(
            PromptDialog("Attach the file at path:", str(Path.cwd()) + "/"), attach
        )

    def action_external_editor(self) -> None:
        """Edit the body in ``$VISUAL`` or ``$EDITOR``, suspending the console."""
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
        if not editor:
            self.notify("Set $EDITOR to edit in an external editor", severity="warning")
            return
        self._read_fields()
        drafts = resolve_paths().ensure().data_dir / "drafts"
        drafts.mkdir(exist_ok=True)
        file = drafts / f"draft-{os.getpid()}.txt"
        file.write_text(self.draft.body, encoding="utf-8")
        file.chmod(0o600)
        try:
            with self.app.suspend():
                subprocess.run([*shlex.split(editor), str(file)], check=False)
            edited = file.read_text(encoding="utf-8")
            body = self.query_one("#compose-body", TextArea)
            body.text = printable(edited, multiline=True)
        except Exception as error:
            self.app.report_error(
                "The external editor failed", error, f"check {editor!r}"
            )
        finally:
            file.unlink(missing_ok=True)

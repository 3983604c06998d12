"""Ask for a file path (with completion from the disk): export and import of files."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from widgets.path_suggester import PathSuggester


class PathPrompt(ModalScreen[str | None]):
    DEFAULT_CSS = """
    PathPrompt { align: center middle; }
    PathPrompt > Vertical {
        width: 72; max-width: 100%; height: auto; border: thick $primary;
        background: $surface; padding: 0 1;
    }
    PathPrompt Horizontal { height: auto; align-horizontal: right; }
    """
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="path.cancel")]

    def __init__(self, question: str, value: str = "", ok: str = "OK", paths: bool = True) -> None:
        super().__init__()
        self.question = question
        self.value = value
        self.ok = ok
        self.paths = paths

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question)
            yield Input(self.value, id="path", suggester=PathSuggester() if self.paths else None)
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button(self.ok, variant="primary", id="ok")

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        value = self.query_one("#path", Input).value.strip()
        if value:
            self.dismiss(value)

    @on(Button.Pressed, "#cancel")
    def action_dismiss_none(self) -> None:
        self.dismiss(None)

"""Whose companies to show: mine, everyone's, or one colleague's."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.client import Session
from widgets.keys_footer import KeysFooter


class UsersFilter(ModalScreen[str | None]):
    """Answers "me", "all" or a user id (None: unchanged)."""

    DEFAULT_CSS = """
    UsersFilter { align: center middle; }
    UsersFilter > Vertical {
        width: 48; height: auto; max-height: 100%; border: thick $primary;
        background: $surface; padding: 0 1;
    }
    UsersFilter OptionList { height: auto; max-height: 16; }
    """
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="users.cancel")]

    def __init__(self, session: Session, current: str) -> None:
        super().__init__()
        self.session = session
        self.current = current

    def compose(self) -> ComposeResult:
        options = [Option("My companies", id="me"), Option("Everyone's companies", id="all")]
        options += [
            Option(Text(f"{u['name']}  ({u['role']})"), id=u["id"])
            for u in self.session.users
            if u["id"] != self.session.user["id"]
        ]
        with Vertical():
            yield Static("[b]Users[/b] — whose companies to show")
            yield OptionList(*options, id="users")
        yield KeysFooter()  # this dialog's own keys, not the screen's behind

    def on_mount(self) -> None:
        users = self.query_one(OptionList)
        for index in range(users.option_count):
            if users.get_option_at_index(index).id == self.current:
                users.highlighted = index
        users.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

"""Help (`?`): every key that works where you are, and what the statuses mean.

Built from the bindings active on the screen underneath, so remapped keys ([keys] in
config) show as remapped, and hidden bindings (the ones the footer has no room for)
are listed too.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from widgets.keys_footer import KeysFooter
from widgets.plain import plain_cells
from widgets.status_badge import STATUS_STYLES, status_text

STATUS_MEANINGS = {
    "Requested": "a request is out; the customer has not finished it",
    "In progress": "the customer is part-way through the journey",
    "Uploaded": "files were uploaded and are being checked",
    "Available": "every linked entity's data is in",
    "Warning": "some entities' data is in; others' is missing, failed or cut off",
    "Error": "access was denied, or a data pull failed and no entity's data is current",
    "Deauthorized": "the customer or the RM cut a connection",
    "Expired": "the request's link ran out before it was finished",
}


def keys_of(screen: Screen[object]) -> list[tuple[str, str]]:
    """(key, what it does) for every binding active on ``screen``, each action once."""
    seen: set[str] = set()
    rows: list[tuple[str, str]] = []
    # The screen's own actions first, then the focused widget's, then the app's.
    ranked = sorted(
        screen.active_bindings.values(),
        key=lambda active: 0 if active.node is screen else 2 if active.node is screen.app else 1,
    )
    for active in ranked:
        binding = active.binding
        if not binding.description or binding.action in seen:
            continue
        seen.add(binding.action)
        rows.append((screen.app.get_key_display(binding), binding.description))
    return rows


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close", id="help.close"),
    ]

    def __init__(self, title: str, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.keys = keys

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text(f"Keys: {self.title_text}", style="bold"))
            # Two columns of keys: the list fits an 80x24 terminal without scrolling.
            table = Table.grid(padding=(0, 1))
            for _ in range(2):
                table.add_column(style="bold", no_wrap=True, min_width=9)
                table.add_column(min_width=24)
            half = (len(self.keys) + 1) // 2
            for left, right in zip(self.keys[:half], [*self.keys[half:], ("", "")], strict=False):
                table.add_row(*plain_cells(*left, *right))  # keys may be remapped to "["
            yield Static(table)
            yield Static(
                Text(
                    "Ctrl+P opens the command palette: every action by name, and any "
                    "company by name.",
                    style="dim",
                )
            )
            yield Static(Text("\nStatuses", style="bold"))
            legend = Table.grid(padding=(0, 2))
            legend.add_column(no_wrap=True)
            legend.add_column()
            for status in STATUS_STYLES:
                legend.add_row(status_text(status), STATUS_MEANINGS.get(status, ""))
            legend.add_row(Text("—", style="dim"), "nothing asked of this company yet")
            yield Static(legend)
            yield Static(Text("\nEsc or ? closes this.", style="dim"))
        yield KeysFooter()  # this dialog's own keys, not the screen's behind

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)

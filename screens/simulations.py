"""Customer simulations, for support: the companies that simulations, demo requests and
replays made. They are kept out of the bank's list, counts and portfolio; here they can be
opened, and cleared all at once."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from screens.messages import OpenCompany
from tui.client import ServiceClient, ServiceProblem, ServiceUnavailable, Session
from widgets.plain import plain_cells
from widgets.status_badge import status_text, when

SHOWN = 200


class SimulationsScreen(Screen[None]):
    DEFAULT_CSS = """
    SimulationsScreen #simulations-head { height: auto; padding: 0 1; background: $panel; }
    SimulationsScreen DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="simulations.back"),
        Binding("C", "clear", "Clear all", id="simulations.clear"),
        Binding("R", "reload", "Reload", show=False, id="simulations.reload"),
    ]

    class Loaded(Message):
        def __init__(self, body: dict[str, Any]) -> None:
            super().__init__()
            self.body = body

    def __init__(self, client: ServiceClient, session: Session) -> None:
        super().__init__()
        self.client = client
        self.session = session
        self.rows: list[dict[str, Any]] = []
        self.total = 0

    def compose(self) -> ComposeResult:
        yield Static("Customer simulations · loading…", id="simulations-head")
        yield DataTable(cursor_type="row", id="simulations")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("Company", "Status", "Created", "Description")
        self.load()

    def on_screen_resume(self) -> None:
        self.load()

    def action_reload(self) -> None:
        self.load()

    @work(exclusive=True, group="simulations", exit_on_error=False)
    async def load(self) -> None:
        try:
            body = await self.client.get(
                "/v1/relationships", user="all", simulated="true", sort="-created", limit=SHOWN
            )
        except (ServiceProblem, ServiceUnavailable) as exc:
            self.notify(str(exc), title="Cannot list the simulations", severity="error")
            return
        self.post_message(self.Loaded(body))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.rows = message.body["items"]
        self.total = message.body.get("total") or len(self.rows)
        head = Text("Customer simulations", style="bold")
        head.append(
            f"  ·  {self.total:,} · kept out of the companies list, counts and portfolio"
            "  ·  enter opens, C clears them all",
            style="dim",
        )
        self.query_one("#simulations-head", Static).update(head)
        table = self.query_one(DataTable)
        table.clear()
        for row in self.rows:
            table.add_row(
                *plain_cells(
                    row["name"],
                    status_text(row["status"]),
                    when(row["created_at"], with_year=True),
                    row["description"],
                ),
                key=row["id"],
            )
        if not self.rows:
            head.append("\nNo customer simulations.", style="dim")
            self.query_one("#simulations-head", Static).update(head)

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.post_message(OpenCompany(event.row_key.value))

    def action_clear(self) -> None:
        from screens.confirm import Confirm

        if not self.rows:
            self.notify("There are no customer simulations to clear.", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.clear()

        self.app.push_screen(
            Confirm(
                f"Clear all {self.total:,} customer simulations? Their companies, requests "
                "and transcripts are removed; the bank's companies are not touched.",
                yes="Clear simulations",
                no="Keep them",
            ),
            answered,
        )

    @work(group="simulations-clear", exit_on_error=False)
    async def clear(self) -> None:
        try:
            result = await self.client.delete("/v1/simulations")
        except (ServiceProblem, ServiceUnavailable) as exc:
            self.notify(str(exc), title="Not cleared", severity="error")
            return
        removed = (result or {}).get("removed", 0)
        self.notify(f"Cleared {removed:,} customer simulations")
        self.load()

"""A fresh demo request to simulate: what is requested and which switches are on, so
that every branch of the journey can be shown whatever the organization has."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

from tui.client import Session
from widgets.keys_footer import KeysFooter
from widgets.tick_box import TickBox

SWITCHES = (
    ("manual_upload", "Manual file upload (spend analysis: upload or connect)"),
    ("multi_entity", "Multi-entity flow (spend analysis: several legal entities)"),
)


class SimulationSetup(ModalScreen[dict[str, Any] | None]):
    DEFAULT_CSS = """
    SimulationSetup { align: center middle; }
    SimulationSetup > Vertical {
        width: 70; max-width: 100%; height: auto; border: thick $primary;
        background: $surface; padding: 0 1;
    }
    SimulationSetup #error { color: $error; height: auto; }
    SimulationSetup Horizontal { height: auto; align-horizontal: right; }
    """
    BINDINGS = [
        Binding("escape", "dismiss_none", "Cancel", id="setup.cancel"),
        Binding("ctrl+s", "create", "Start", id="setup.start"),
    ]

    def __init__(self, session: Session, company_name: str = "") -> None:
        super().__init__()
        self.session = session
        self.company_name = company_name

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("[b]Simulate a customer journey[/b]")
            yield Label("Requested information")
            yield TickBox("Financials", id="financials")
            yield TickBox("Spend analysis", True, id="spend_analysis")
            yield Label("Feature switches for this journey")
            for key, label in SWITCHES:
                yield TickBox(label, key in self.session.features, id=key)
            yield Label("Company name (blank: a made-up one)")
            yield Input(self.company_name, id="company_name", max_length=200)
            yield Static(id="error")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Start", variant="primary", id="start")
        yield KeysFooter()  # this dialog's own keys, not the screen's behind

    @on(Button.Pressed, "#start")
    @on(Input.Submitted, "#company_name")  # enter in the name starts, as ctrl+s does
    def action_create(self) -> None:
        types = [
            t for t in ("financials", "spend_analysis") if self.query_one(f"#{t}", Checkbox).value
        ]
        if not types:
            self.query_one("#error", Static).update("Choose at least one kind of information.")
            return
        body: dict[str, Any] = {
            "data_types": types,
            "features": [k for k, _ in SWITCHES if self.query_one(f"#{k}", Checkbox).value],
        }
        name = self.query_one("#company_name", Input).value.strip()
        if name:
            body["company_name"] = name
        self.dismiss(body)

    @on(Button.Pressed, "#cancel")
    def action_dismiss_none(self) -> None:
        self.dismiss(None)

"""Add or edit a company: name, description, contact (mandatory), assigned users."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from journey.core.domain import COMPANY_NAME_MAX, CONTACT_NAME_MAX, DESCRIPTION_MAX, EMAIL_MAX
from tui.client import ServiceClient, ServiceProblem, ServiceUnavailable, Session
from widgets.keys_footer import KeysFooter
from widgets.limited_input import LimitedInput
from widgets.tick_box import TickList

# Each field: its key in the API, its label, whether it is required, and its length
# limit, the service's own (journey/core/domain.py), so the form never holds what the
# service would refuse.
FIELDS = (
    ("name", "Company name", True, COMPANY_NAME_MAX),
    ("description", "Description", False, DESCRIPTION_MAX),
    ("contact_name", "Contact name", True, CONTACT_NAME_MAX),
    ("contact_email", "Contact email", True, EMAIL_MAX),
)
LIMITS = {key: (label, limit) for key, label, _, limit in FIELDS}


class CompanyForm(ModalScreen[dict[str, Any] | None]):
    """Answers the saved company, or None when cancelled."""

    DEFAULT_CSS = """
    CompanyForm { align: center middle; }
    CompanyForm > Vertical {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    CompanyForm VerticalScroll { height: auto; max-height: 14; }
    CompanyForm .field { height: 1; margin-bottom: 1; }
    CompanyForm .field Label { width: 17; color: $text-muted; }
    CompanyForm .field Input { width: 1fr; background: $boost; }
    CompanyForm #counter { color: $text-muted; height: 1; }
    CompanyForm #error { color: $error; height: auto; }
    CompanyForm TickList { height: auto; max-height: 4; }
    CompanyForm #buttons { height: auto; align-horizontal: right; }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("ctrl+s", "save", "Save", id="form.save"),
    ]

    def __init__(
        self, client: ServiceClient, session: Session, company: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__()
        self.client = client
        self.session = session
        self.company = company

    def compose(self) -> ComposeResult:
        title = "Edit company" if self.company else "Add a company"
        with Vertical():
            yield Static(f"[b]{title}[/b]")
            with VerticalScroll():
                for key, label, required, limit in FIELDS:
                    value = str(self.company.get(key, "")) if self.company else ""
                    with Horizontal(classes="field"):
                        yield Label(label + (" *" if required else ""))
                        yield LimitedInput(
                            value, id=key, max_length=limit, what=label, compact=True
                        )
                yield Label("Users")
                chosen = set(self.company["users"]) if self.company else {self.session.user["id"]}
                yield TickList(
                    *[(Text(u["name"]), u["id"], u["id"] in chosen) for u in self.session.users],
                    id="users",
                    compact=True,
                )
            yield Static(id="counter")
            yield Static(id="error")
            with Horizontal(id="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save", variant="primary", id="save")
        yield KeysFooter()  # this dialog's own keys, not the screen's behind

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    @on(Input.Changed)
    def _count(self, event: Input.Changed) -> None:
        self._show_counter(event.input)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self._show_counter(event.widget)

    def _show_counter(self, field: object) -> None:
        """How many characters the field in hand has left, as the entity name's counter says."""
        if not isinstance(field, Input) or field.id not in LIMITS:
            return
        label, limit = LIMITS[field.id]
        remaining = limit - len(field.value)
        self.query_one("#counter", Static).update(
            f"{label}: {remaining:,}/{limit:,} characters remaining"
        )

    def _values(self) -> dict[str, Any]:
        values: dict[str, Any] = {key: self.query_one(f"#{key}", Input).value for key, *_ in FIELDS}
        values["users"] = list(self.query_one("#users", TickList).selected)
        return values

    def _missing(self, values: dict[str, Any]) -> str | None:
        for key, label, required, _ in FIELDS:
            if required and not values[key].strip():
                return f"{label} is required."
        if "@" not in values["contact_email"]:
            return "Contact email must be an email address."
        return None

    @on(Button.Pressed, "#save")
    @on(Input.Submitted)
    def action_save(self) -> None:
        values = self._values()
        problem = self._missing(values)
        if problem:
            self.query_one("#error", Static).update(problem)
            return
        self.save(values)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @work(exclusive=True, group="save", exit_on_error=False)
    async def save(self, values: dict[str, Any]) -> None:
        try:
            if self.company:
                saved = await self.client.patch(
                    f"/v1/relationships/{self.company['id']}",
                    values,
                    **{"If-Match": f'"{self.company["version"]}"'},
                )
            else:
                saved = await self.client.post("/v1/relationships", values)
        except (ServiceProblem, ServiceUnavailable) as exc:
            # The service's own reason (a field too long, a stale version…), word for word.
            self.query_one("#error", Static).update(Text(str(exc)))
            return
        self.dismiss(saved)

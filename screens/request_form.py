"""Request information: choose the data, then send by email (preview first) or copy a link."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Static

from journey.core.labels import REPLACES_OPEN_REQUEST
from tui.client import ServiceClient, ServiceProblem, ServiceUnavailable, Session
from widgets.keys_footer import KeysFooter
from widgets.tick_box import TickBox


class RequestForm(ModalScreen[dict[str, Any] | None]):
    """Answers the created request (with the link when copied), or None."""

    DEFAULT_CSS = """
    RequestForm { align: center middle; }
    RequestForm > Vertical {
        width: 78; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    RequestForm #preview { height: auto; max-height: 9; border: round $panel; display: none; }
    RequestForm #preview.shown { display: block; }
    RequestForm #error { color: $error; height: auto; }
    RequestForm #link { height: auto; }
    RequestForm Horizontal { height: auto; align-horizontal: right; margin-top: 1; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="request.cancel")]

    def __init__(self, client: ServiceClient, session: Session, company: Mapping[str, Any]) -> None:
        super().__init__()
        self.client = client
        self.session = session
        self.company = company
        self.previewed = False
        self.result: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                Text.assemble(("Request information", "bold"), f" — {self.company['name']}")
            )
            yield Static(
                Text(f"To {self.company['contact_name']} <{self.company['contact_email']}>"),
                classes="dim",
            )
            # Ticked as the company's last request asked (Financials when never asked).
            asked = set(self.company.get("requested") or ["financials"])
            yield TickBox(
                "Financials — profit and loss, balance sheet",
                "financials" in asked,
                id="financials",
            )
            yield TickBox(
                "Spend analysis — suppliers, bills, payments",
                "spend_analysis" in asked,
                id="spend_analysis",
            )
            with VerticalScroll(id="preview"):
                yield Static(id="preview-text")
            if self._open_request():
                yield Static(Text(REPLACES_OPEN_REQUEST), id="replaces")
            yield Static(id="link")
            yield Static(id="error")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                if "copy_link" in self.session.features:
                    yield Button("Copy link", id="copy")
                yield Button("Request by email", variant="primary", id="email")
        yield KeysFooter()  # this dialog's own keys, not the screen's behind

    def _open_request(self) -> bool:
        requests = self.company.get("requests") or []
        return bool(requests) and requests[0]["state"] in ("Sent", "Opened")

    def _types(self) -> list[str]:
        return [
            k for k in ("financials", "spend_analysis") if self.query_one(f"#{k}", Checkbox).value
        ]

    @on(Checkbox.Changed)
    def _changed(self) -> None:
        # Another choice is another email: preview again before sending.
        self.previewed = False
        self.query_one("#error", Static).update("")
        self.query_one("#preview").remove_class("shown")
        self.query_one("#email", Button).label = "Request by email"

    @on(Button.Pressed, "#email")
    def _email(self) -> None:
        types = self._types()
        if not types:
            self.query_one("#error", Static).update("Choose at least one kind of data.")
            return
        if self.previewed:
            self.send(types, "email")
        else:
            self.preview(types)

    @on(Button.Pressed, "#copy")
    def _copy(self) -> None:
        types = self._types()
        if not types:
            self.query_one("#error", Static).update("Choose at least one kind of data.")
            return
        self.send(types, "link")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(self.result)

    @work(exclusive=True, group="request", exit_on_error=False)
    async def preview(self, types: list[str]) -> None:
        try:
            body = await self.client.post(
                f"/v1/relationships/{self.company['id']}/request-preview", {"data_types": types}
            )
        except (ServiceProblem, ServiceUnavailable) as exc:
            self.query_one("#error", Static).update(Text(str(exc)))
            return
        email = body["email"]
        text = Text()
        text.append(f"Subject: {email['subject']}\n", style="bold")
        text.append(email["text"].replace("{link}", "(the customer's personal link)"))
        self.query_one("#preview-text", Static).update(text)
        self.query_one("#preview").add_class("shown")
        self.query_one("#email", Button).label = "Send"
        self.previewed = True

    @work(exclusive=True, group="request", exit_on_error=False)
    async def send(self, types: list[str], delivery: str) -> None:
        try:
            body = await self.client.post(
                f"/v1/relationships/{self.company['id']}/requests",
                {"data_types": types, "delivery": delivery},
            )
        except (ServiceProblem, ServiceUnavailable) as exc:
            self.query_one("#error", Static).update(Text(str(exc)))
            return
        self.result = body
        self.query_one("#error", Static).update("")  # a request was made: nothing is wrong
        if delivery == "link":
            self.app.copy_to_clipboard(body["link"])
            self.query_one("#link", Static).update(
                Text.assemble(("Link copied: ", "bold"), body["link"])
            )
            self.query_one("#email", Button).display = False
            self.query_one("#copy", Button).display = False
            self.query_one("#cancel", Button).label = "Done"
            self.notify("The customer's link is on your clipboard.", title="Link copied")
            return
        sent = body.get("email", {}).get("sent")
        self.notify(
            f"Sent to {self.company['contact_email']}" if sent else "The email could not be sent.",
            title="Request by email",
            severity="information" if sent else "error",
        )
        if body.get("notice"):  # the emailed link opens only on this computer
            self.notify(body["notice"], title="Link unreachable", severity="warning", timeout=20)
        self.dismiss(body)

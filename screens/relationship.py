"""One company: who it is, its requests, legal entities, connections and timeline."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui.client import ServiceClient, ServiceProblem, ServiceUnavailable, Session
from widgets.status_badge import status_text, when

EVENT_WORDS = {
    "relationship.created": "Company added",
    "relationship.updated": "Company edited",
    "relationship.status_changed": "Status changed",
    "request.created": "Information requested",
    "request.email_sent": "Request email sent",
    "request.email_failed": "Request email failed",
    "request.opened": "Customer opened the request",
    "request.completed": "Customer completed the request",
    "request.resent": "Request resent",
    "request.cancelled": "Request cancelled",
    "request.expired": "Link expired",
    "entity.created": "Legal entity added",
    "entity.discarded": "Legal entity discarded",
    "connection.pending": "Connecting",
    "connection.linked": "Connection linked",
    "connection.denied": "Access not granted",
    "connection.signin_failed": "Platform sign-in failed",
    "connection.unlinked": "Connection unlinked",
    "connection.deauthorized": "Connection deauthorized",
    "pull.status": "Data pull",
    "upload.accepted": "Supplier file uploaded",
    "upload.processed": "Supplier file processed",
    "journey.action": "Customer step",
}


def describe_event(event: dict[str, Any]) -> str:
    payload = event.get("payload", {})
    words = EVENT_WORDS.get(event["kind"], event["kind"])
    if event["kind"] == "relationship.status_changed":
        return f"{words}: {payload.get('from')} → {payload.get('to')}"
    if event["kind"] == "pull.status":
        return f"{words}: {payload.get('status')}"
    if event["kind"] == "journey.action":
        answer = payload.get("answer") or {}
        shown = ", ".join(f"{k} {v}" for k, v in answer.items())
        return f"{words}: {payload.get('action')} ({payload.get('from')} → {payload.get('to')})" + (
            f" — {shown}" if shown else ""
        )
    if "platform_name" in payload:
        return f"{words} via {payload['platform_name']}"
    if payload.get("entity"):
        return f"{words}: {payload['entity']}"
    if "name" in payload and event["kind"].startswith("entity."):
        return f"{words}: {payload['name']}"
    return words


class RelationshipScreen(Screen[None]):
    DEFAULT_CSS = """
    RelationshipScreen VerticalScroll { padding: 0 1; }
    RelationshipScreen .section { margin: 1 0 0 0; }
    """

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="company.back"),
        Binding("c", "copy_contact", "Copy email", id="company.copy_contact"),
        Binding("R", "reload", "Reload", id="company.reload"),
    ]

    class Loaded(Message):
        def __init__(self, body: dict[str, Any]) -> None:
            super().__init__()
            self.body = body

    def __init__(self, client: ServiceClient, session: Session, rel_id: str) -> None:
        super().__init__()
        self.client = client
        self.session = session
        self.rel_id = rel_id
        self.body: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("Loading…", id="info")
            yield Static(id="requests", classes="section")
            yield Static(id="entities", classes="section")
            yield Static(id="timeline", classes="section")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True, group="company", exit_on_error=False)
    async def load(self) -> None:
        try:
            body = await self.client.get(f"/v1/relationships/{self.rel_id}")
        except (ServiceProblem, ServiceUnavailable) as exc:
            self.notify(str(exc), title="Cannot load the company", severity="error")
            return
        self.post_message(self.Loaded(body))

    def action_reload(self) -> None:
        self.load()

    def action_copy_contact(self) -> None:
        if self.body:
            self.app.copy_to_clipboard(self.body["contact_email"])
            self.notify(f"Copied {self.body['contact_email']}")

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        body = self.body = message.body
        info = Table.grid(padding=(0, 2))
        info.add_column(style="dim", no_wrap=True)
        info.add_column()
        info.add_row(
            "Status", Text.assemble(status_text(body["status"]), "  ", when(body["status_at"]))
        )
        info.add_row("Contact", f"{body['contact_name']} <{body['contact_email']}>")
        users = ", ".join(self.session.user_name(u) for u in body["users"]) or "—"
        info.add_row("Users", users)
        info.add_row("Created", when(body["created_at"], with_year=True))
        requested = {"financials": "Financials", "spend_analysis": "Spend analysis"}
        info.add_row("Requested", " + ".join(requested[r] for r in body["requested"]) or "—")
        if body["subsidiaries"]:
            info.add_row(
                "Subsidiaries",
                "\n".join(f"{s['name']}  ({s['status'] or '—'})" for s in body["subsidiaries"]),
            )
        title = Text(body["name"], style="bold")
        if body["description"]:
            title.append(f"\n{body['description']}", style="dim")
        self.query_one("#info", Static).update(Group(title, Text(""), info))

        requests = Table(title="Requests", title_justify="left", expand=True)
        for column in ("Requested", "Sent", "State", "Step", "Link expires"):
            requests.add_column(column)
        for req in body["requests"]:
            requests.add_row(
                " + ".join(requested[d] for d in req["data_types"]),
                when(req["created_at"], with_year=True),
                req["state"],
                req["step"].replace("_", " "),
                when(req["expires_at"], with_year=True),
            )
        self.query_one("#requests", Static).update(requests)

        entities = Table(title="Legal entities", title_justify="left", expand=True)
        for column in ("Entity", "Connection", "Platform", "Last sync", "Data pull", "Reports"):
            entities.add_column(column)
        for entity in body["entities"]:
            conn = entity["connection"] or {}
            pulls = conn.get("pulls") or []
            uploads = entity["uploads"]
            entities.add_row(
                entity["name"],
                conn.get("status", "Uploaded" if uploads else "—"),
                (conn.get("platform") or {}).get("name", "Manual upload" if uploads else "—"),
                when(conn.get("last_sync_at")) or "—",
                pulls[0]["status"] if pulls else (uploads[0]["status"] if uploads else "—"),
                ", ".join(
                    f"{r['kind'].replace('_', ' ')}: {r['status']}" for r in entity["reports"]
                ),
            )
        self.query_one("#entities", Static).update(entities)

        timeline = Table(title="Timeline", title_justify="left", expand=True, show_header=False)
        timeline.add_column(style="dim", no_wrap=True)
        timeline.add_column()
        for event in reversed(body["events"][-40:]):
            timeline.add_row(when(event["at"]), describe_event(event))
        self.query_one("#timeline", Static).update(timeline)

"""One company: who it is, its requests, legal entities, connections and timeline."""

from __future__ import annotations

from collections.abc import Collection, Mapping
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
from textual.timer import Timer
from textual.widgets import Static

from journey.core.labels import (
    DATA_TYPE_LABELS,
    REPORT_KIND_LABELS,
    action_label,
    connection_status_label,
    pull_status_label,
    request_state_label,
    status_change,
    step_label,
)
from journey.core.prompts import REQUEST_LINK_WORDS
from screens.messages import (
    CompaniesShown,
    CompaniesTouched,
    OpenReports,
    OpenTranscript,
    ServiceBack,
    StartSimulation,
)
from tui.client import Company, Request, ServiceClient, ServiceProblem, ServiceUnavailable, Session
from tui.live import Throttle
from widgets.keys_footer import KeysFooter
from widgets.plain import plain_cells
from widgets.status_badge import status_text, when

RETRY_SECONDS = (1.0, 2.0, 4.0, 8.0)  # waits between reads while the service is away

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
        return status_change(payload.get("from"), payload.get("to"))
    if event["kind"] == "pull.status":
        return f"{words}: {pull_status_label(payload.get('status'))}"
    if event["kind"] == "journey.action":
        answer = payload.get("answer") or {}
        shown = ", ".join(f"{k} {v}" for k, v in answer.items())
        failed = f" — failed: {payload['error']}" if payload.get("error") else ""
        return (
            f"{words}: {action_label(payload.get('action'))}"
            f" ({step_label(payload.get('from'))} → {step_label(payload.get('to'))})"
            + (f" — {shown}" if shown else "")
            + failed
        )
    if event["kind"] == "request.cancelled" and payload.get("superseded_by"):
        return "Request replaced by a new one: its link stopped working"
    if "platform_name" in payload:
        return f"{words} via {payload['platform_name']}"
    if payload.get("entity"):
        return f"{words}: {payload['entity']}"
    if "name" in payload and event["kind"].startswith("entity."):
        return f"{words}: {payload['name']}"
    return words


def link_note(req: Mapping[str, Any]) -> str:
    """What became of a request's link: when it expires while it is open, else when
    the request ended ("completed 3 Dec 2026 10:05"), never an expiry that no
    longer means anything."""
    word, key = REQUEST_LINK_WORDS.get(req["state"], ("", "expires_at"))
    stamp = when(req.get(key), with_year=True)
    return f"{word} {stamp}".strip() if stamp else "—"


class RelationshipScreen(Screen[None]):
    DEFAULT_CSS = """
    RelationshipScreen VerticalScroll { padding: 0 1; }
    RelationshipScreen .section { margin: 1 0 0 0; }
    """

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="company.back"),
        Binding("r", "request", "Request info", id="company.request"),
        Binding("e", "edit", "Edit", id="company.edit"),
        Binding("d", "delete", "Delete", id="company.delete"),
        Binding("s", "resend", "Resend", id="company.resend"),
        Binding("x", "cancel_request", "Cancel request", id="company.cancel_request"),
        Binding("f", "refresh_data", "Refresh data", id="company.refresh_data"),
        Binding("l", "unlink", "Unlink", id="company.unlink"),
        Binding("c", "copy_contact", "Copy email", id="company.copy_contact"),
        Binding("p", "reports", "Reports", id="company.reports"),
        Binding("v", "simulate", "Simulate customer", id="company.simulate"),
        Binding("t", "transcript", "Transcript", id="company.transcript"),
        Binding("R", "reload", "Reload", show=False, id="company.reload"),
    ]
    # The command palette offers these bindings by name, for this company (tui.commands).
    PALETTE_PREFIX = "company"
    PALETTE_NAMES = {
        "request": "request information",
        "copy_contact": "copy contact email",
        "simulate": "simulate the customer",
        "app.pop_screen": "back to the list",
    }

    class Loaded(Message):
        def __init__(self, body: Company) -> None:
            super().__init__()
            self.body = body

    class Unreachable(Message):
        """The company could not be read because the service is away (or failing)."""

        def __init__(self, detail: str) -> None:
            super().__init__()
            self.detail = detail

    def __init__(
        self,
        client: ServiceClient,
        session: Session,
        rel_id: str,
        users: Collection[str] | None = None,
    ) -> None:
        super().__init__()
        self.client = client
        self.session = session
        self.rel_id = rel_id
        # Whose it was in the row it was opened from (None: not known), until it is read.
        self._users_before_read = users
        self.body: Company | None = None
        # While the service is away the company is asked for again by itself, each wait
        # longer than the last (one timer, re-armed only after an answer).
        self._retry_timer: Timer | None = None
        self._retries = 0
        # Reads its customer's events call for: at most one a second (tui.live).
        self._reloads = Throttle()

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("Loading…", id="info")
            yield Static(id="requests", classes="section")
            yield Static(id="entities", classes="section")
            yield Static(id="timeline", classes="section")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.load()

    def companies_not_of(self, user_id: str) -> frozenset[str]:
        """The companies this screen shows (itself, its subsidiaries) not assigned to
        ``user_id``: the portal's long-poll follows them besides the user's own
        (``tui.live.ShowsCompanies``). Until it is read, as the row it was opened from
        (the list's, the palette's) said; without one, it counts as not the user's."""
        body = self.body
        if body is None:
            users = self._users_before_read
            return (
                frozenset() if users is not None and user_id in users else frozenset({self.rel_id})
            )
        return frozenset(
            company["id"]
            for company in [body, *body["subsidiaries"]]
            if user_id not in company["users"]
        )

    def palette_subject(self) -> str:
        """What this screen's palette commands act on: this company."""
        return self.body["name"] if self.body else ""

    @work(exclusive=True, group="company", exit_on_error=False)
    async def load(self) -> None:
        try:
            body = await self.client.company(self.rel_id)
        except ServiceUnavailable as exc:
            self.post_message(self.Unreachable(str(exc)))
            return
        except ServiceProblem as exc:
            if exc.status >= 500:  # a service starting up or failing: try again
                self.post_message(self.Unreachable(str(exc)))
            else:
                self.notify(str(exc), title="Cannot load the company", severity="error")
            return
        self.post_message(self.Loaded(body))

    @on(Unreachable)
    def _unreachable(self, message: Unreachable) -> None:
        if self._retries == 0:
            self.notify(
                f"{message.detail}. Trying again by itself.",
                title="Cannot load the company",
                severity="error",
            )
        if self.body is None:
            self.query_one("#info", Static).update(
                Text(f"Loading… the service is unreachable ({message.detail}); retrying…")
            )
        if self._retry_timer is None:
            wait = RETRY_SECONDS[min(self._retries, len(RETRY_SECONDS) - 1)]
            self._retry_timer = self.set_timer(wait, self._retry)
        self._retries += 1

    def _retry(self) -> None:
        self._retry_timer = None
        self.load()

    @on(ServiceBack)
    def _service_back(self) -> None:
        """The portal saw the service answer again: ask at once, not at the next retry."""
        if self._retry_timer is not None:
            self._retry_timer.stop()
            self._retry_timer = None
            self.load()

    def action_reload(self) -> None:
        self.load()

    @on(CompaniesTouched)
    def _touched(self, message: CompaniesTouched) -> None:
        """The service recorded events about companies (the portal's event follower
        says so): this one's customer's journey arriving live. Its subsidiaries and its
        requests are on this screen too; any other company's events are not read for."""
        body = self.body
        shown = {self.rel_id}
        requests: set[str] = set()
        if body is not None:
            shown.update(s["id"] for s in body["subsidiaries"])
            requests.update(r["id"] for r in body["requests"])
        if shown & message.rel_ids or requests & message.request_ids:
            wait = self._reloads.ask()
            if wait is None:
                return  # one is on its way
            if wait > 0:
                self.set_timer(wait, self._reload_touched)
            else:
                self._reload_touched()

    def _reload_touched(self) -> None:
        self._reloads.ran()
        self.load()

    def _reload(self, _: object = None) -> None:
        self.load()

    def _latest_request(self) -> Request | None:
        if not self.body or not self.body["requests"]:
            return None
        return self.body["requests"][0]

    def action_request(self) -> None:
        from screens.request_form import RequestForm

        if self.body:
            self.app.push_screen(RequestForm(self.client, self.session, self.body), self._reload)

    def action_edit(self) -> None:
        from screens.company_form import CompanyForm

        def saved(company: dict[str, Any] | None) -> None:
            if company:
                self.notify(f"Saved {company['name']}")
                self.load()

        if self.body:
            self.app.push_screen(CompanyForm(self.client, self.session, self.body), saved)

    def action_delete(self) -> None:
        from screens.confirm import Confirm

        body = self.body
        if not body:
            return
        extra = f" and its {len(body['subsidiaries'])} subsidiaries" if body["subsidiaries"] else ""
        question = f"Delete {body['name']}{extra}? Its requests and data go with it."

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_call(
                    "delete",
                    f"/v1/relationships/{body['id']}",
                    done=f"Deleted {body['name']}",
                    leave=True,
                    headers={"If-Match": f'"{body["version"]}"'},
                )

        self.app.push_screen(Confirm(question, "Delete"), answered)

    def action_resend(self) -> None:
        request = self._latest_request()
        if request is None:
            self.notify("There is no request to resend.", severity="warning")
            return
        delivery = "link" if "copy_link" in self.session.features else "email"
        self.run_call(
            "post",
            f"/v1/requests/{request['id']}/resend",
            body={"delivery": delivery},
            done="Resent: the old link no longer works",
            copy_link=delivery == "link",
        )

    def action_cancel_request(self) -> None:
        from screens.confirm import Confirm

        request = self._latest_request()
        if request is None or request["state"] in ("Cancelled", "Complete"):
            self.notify("There is no open request to cancel.", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes and request:
                self.run_call(
                    "post", f"/v1/requests/{request['id']}/cancel", done="Request cancelled"
                )

        self.app.push_screen(
            Confirm(
                "Cancel the open request? Its link stops working.",
                yes="Cancel request",
                no="Keep request",
            ),
            answered,
        )

    def action_refresh_data(self) -> None:
        if self.body:
            self.run_call(
                "post",
                f"/v1/relationships/{self.body['id']}/refresh",
                done="Refreshing: a new data pull is on its way",
            )

    def action_unlink(self) -> None:
        from screens.confirm import Confirm

        linked = [
            e
            for e in (self.body["entities"] if self.body else [])
            if e["connection"] and e["connection"]["status"] == "Linked"
        ]
        if not linked:
            self.notify("No connection is linked.", severity="warning")
            return
        entity = linked[0]
        platform = entity["connection"]["platform"]["name"]

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_call(
                    "post",
                    f"/v1/connections/{entity['connection']['id']}/unlink",
                    done=f"Unlinked {entity['name']} from {platform}",
                )

        self.app.push_screen(
            Confirm(f"Unlink {entity['name']} from {platform}? Data fetched so far stays."),
            answered,
        )

    @work(group="company-actions", exit_on_error=False)
    async def run_call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        done: str,
        leave: bool = False,
        copy_link: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        try:
            if method == "delete":
                result = await self.client.delete(path, **(headers or {}))
            else:
                result = await self.client.post(path, body)
        except (ServiceProblem, ServiceUnavailable) as exc:
            self.notify(str(exc), title="Not done", severity="error")
            return
        if copy_link and result and result.get("link"):
            self.app.copy_to_clipboard(result["link"])
            done += " (new link copied)"
        self.notify(done)
        if result and result.get("notice"):  # an emailed link only this computer opens
            self.notify(result["notice"], title="Link unreachable", severity="warning", timeout=20)
        if leave:
            self.app.pop_screen()
        else:
            self.load()

    def action_simulate(self) -> None:
        """Walk the latest request's journey as the customer, on a fresh demo copy (the
        customer's own link is theirs alone); with no request yet, choose what to show."""
        request = self._latest_request()
        if request is not None:
            self.post_message(StartSimulation({"from_request": request["id"]}))
            return
        from screens.simulation_setup import SimulationSetup

        def chosen(body: dict[str, Any] | None) -> None:
            if body:
                self.post_message(StartSimulation(body))

        name = self.body["name"] if self.body else ""
        self.app.push_screen(SimulationSetup(self.session, name), chosen)

    def action_reports(self) -> None:
        if self.body:
            self.post_message(OpenReports(self.body["id"], self.body["name"]))

    def action_transcript(self) -> None:
        request = self._latest_request()
        if request is None:
            self.notify("There is no request, so no journey yet.", severity="warning")
            return
        self.post_message(OpenTranscript(request["id"]))

    def action_copy_contact(self) -> None:
        if self.body:
            self.app.copy_to_clipboard(self.body["contact_email"])
            self.notify(f"Copied {self.body['contact_email']}")

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        me = self.session.user["id"]
        before = self.companies_not_of(me)
        body = self.body = message.body
        if self.companies_not_of(me) != before:
            # The portal under this screen follows them through its one long-poll.
            for screen in self.app.screen_stack:
                if screen is not self:
                    screen.post_message(CompaniesShown())
        self._retries = 0
        info = Table.grid(padding=(0, 2))
        info.add_column(style="dim", no_wrap=True)
        info.add_column()
        info.add_row(
            "Status", Text.assemble(status_text(body["status"]), "  ", when(body["status_at"]))
        )
        info.add_row(*plain_cells("Contact", f"{body['contact_name']} <{body['contact_email']}>"))
        users = ", ".join(self.session.user_name(u) for u in body["users"]) or "—"
        info.add_row(*plain_cells("Users", users))
        info.add_row("Created", when(body["created_at"], with_year=True))
        requested = {str(k): v for k, v in DATA_TYPE_LABELS.items()}
        info.add_row("Requested", " + ".join(requested[r] for r in body["requested"]) or "—")
        if body["subsidiaries"]:
            info.add_row(
                *plain_cells(
                    "Subsidiaries",
                    "\n".join(f"{s['name']}  ({s['status'] or '—'})" for s in body["subsidiaries"]),
                )
            )
        title = Text(body["name"], style="bold")
        if body["description"]:
            title.append(f"\n{body['description']}", style="dim")
        self.query_one("#info", Static).update(Group(title, Text(""), info))

        requests = Table(title="Requests", title_justify="left", expand=True)
        for column in ("Requested", "Sent", "State", "Step", "Link"):
            requests.add_column(column)
        for req in body["requests"]:
            requests.add_row(
                *plain_cells(
                    " + ".join(requested.get(d, d) for d in req["data_types"]),
                    when(req["created_at"], with_year=True),
                    request_state_label(
                        req["state"], req.get("delivery", "email"), req.get("superseded_by")
                    ),
                    step_label(req["step"]),
                    link_note(req),
                )
            )
        self.query_one("#requests", Static).update(
            requests
            if body["requests"]
            else Text("No information requested yet: press r to request it.", style="dim")
        )

        entities = Table(title="Legal entities", title_justify="left", expand=True)
        for column in ("Entity", "Connection", "Platform", "Last sync", "Data pull", "Reports"):
            entities.add_column(column)
        for entity in body["entities"]:
            conn = entity["connection"] or {}
            pulls = conn.get("pulls") or []
            uploads = entity["uploads"]
            entities.add_row(
                *plain_cells(
                    entity["name"] + (" (earlier request)" if entity.get("earlier") else ""),
                    connection_status_label(conn["status"])
                    if conn
                    else ("Uploaded" if uploads else "—"),
                    (conn.get("platform") or {}).get("name", "Manual upload" if uploads else "—"),
                    when(conn.get("last_sync_at")) or "—",
                    pull_status_label(pulls[0]["status"])
                    if pulls
                    else (uploads[0]["status"] if uploads else "—"),
                    ", ".join(
                        f"{REPORT_KIND_LABELS.get(r['kind'], r['kind'])}: {r['status']}"
                        for r in entity["reports"]
                    ),
                )
            )
        self.query_one("#entities", Static).update(
            entities
            if body["entities"]
            else Text("No legal entities yet: they appear as the customer shares.", style="dim")
        )

        timeline = Table(title="Timeline", title_justify="left", expand=True, show_header=False)
        timeline.add_column(style="dim", no_wrap=True)
        timeline.add_column()
        for event in reversed(body["events"][-40:]):
            timeline.add_row(*plain_cells(when(event["at"]), describe_event(event)))
        self.query_one("#timeline", Static).update(timeline)

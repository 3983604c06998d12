"""The Relationship Portal: the RM's companies, live.

The screen owns the query (search, status, users, sort); workers talk to the
service and hand results back through messages; the table only draws.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Input, Static

from journey.core.domain import SEARCH_MAX
from screens.messages import (
    CompaniesShown,
    CompaniesTouched,
    OpenCompany,
    OpenPortfolio,
    ServiceBack,
)
from tui.client import (
    Event,
    Relationship,
    RelationshipPage,
    ServiceClient,
    ServiceProblem,
    ServiceUnavailable,
    Session,
)
from tui.listing import PAGE_SIZE, Criteria
from tui.live import Following, ShowsCompanies, Throttle, following, react
from widgets.keys_footer import KeysFooter
from widgets.limited_input import LimitedInput
from widgets.relationship_table import SORT_OF_COLUMN, RelationshipTable
from widgets.status_badge import STATUS_STYLES

STATUSES = [None, *STATUS_STYLES, "None"]
# The sort's name, as the title and the sorted column's header both say it.
SORTS = [("name", "Company"), ("created", "Created"), ("updated", "Status date")]
COUNTS_DELAY = 0.25  # seconds of quiet typing before a search's counts are asked for


class SummaryBar(Static):
    """Counts per status for the filter in force; the chosen status is marked."""

    DEFAULT_CSS = """
    SummaryBar { height: auto; padding: 0 1; color: $text-muted; }
    """

    def show(self, counts: dict[str, int], total: int, status: str | None) -> None:
        everyone = sum(counts.values())
        items = [(f" All {everyone:,} ", "reverse bold" if status is None else "bold")]
        for name in [*STATUS_STYLES, "None"]:
            n = counts.get(name, 0)
            label = "—" if name == "None" else name
            chosen = status == name
            style = "reverse bold" if chosen else (STATUS_STYLES.get(name, ("", "dim"))[1])
            if n or chosen:
                items.append((f" {label} {n:,} ", style))
        self._items = items
        self.update(self._lines())

    def _lines(self) -> Text:
        """The items on as many lines as the width needs, each item whole: a line never
        breaks between a status and its count."""
        width = max(1, self.content_size.width or self.size.width - 2)
        text = Text(no_wrap=True)
        used = 0
        for number, (item, style) in enumerate(getattr(self, "_items", [])):
            if number:
                if used + 2 + len(item) > width:
                    text.append("\n")
                    used = 0
                else:
                    text.append("  ")
                    used += 2
            text.append(item, style=style)
            used += len(item)
        return text

    def on_resize(self) -> None:
        if getattr(self, "_items", None):
            self.update(self._lines())


def portal_title(
    organization: str, who: str, sort: str, search: str, user: str, width: int
) -> Text:
    """The portal's title line in ``width`` cells. Who you are (the last words) always
    shows: the other parts give way first, the least needed first."""
    sort_full = f"sorted by {sort}"
    tries = [
        ("Relationships", organization, sort_full),
        ("Relationships", organization, sort),  # "Company ↑" says it as well
        ("Relationships", "", sort),
        ("", "", sort),
        ("", "", ""),
    ]
    for head, org, sorting in tries:
        title = _title(head, org, who, sorting, search, user)
        if title.cell_len <= width:
            return title
    # Still too long (a long search, or a very narrow terminal): the search gives way,
    # cut with an ellipsis, then whatever precedes the name.
    title = _title("", "", who, "", "", user)
    room = width - title.cell_len - 5  # "  ·  " before the search
    if search and room >= 4:
        return _title("", "", who, "", search[: room - 3] + "…", user)
    tail = Text(f"  ·  {user}", style="dim") if width > len(user) + 8 else Text(user, style="dim")
    lead = _title("", "", who, "", "", "")
    lead.truncate(max(width - tail.cell_len, 0), overflow="ellipsis")
    return lead + tail


def _title(head: str, org: str, who: str, sort: str, search: str, user: str) -> Text:
    title = Text(no_wrap=True)
    if head:
        title.append(head, style="bold")
        title.append("  " if org else "  ·  ")
    if org:
        title.append(org, style="dim")
        title.append("  ·  ")
    title.append(who)
    if sort:
        title.append(f"  ·  {sort}")
    if search:
        title.append(f"  ·  “{search}”", style="italic")
    if user:
        title.append(f"  ·  {user}", style="dim")
    return title


class PortalScreen(Screen[None]):
    DEFAULT_CSS = """
    PortalScreen { layout: vertical; }
    #title { height: 1; padding: 0 1; background: $panel; }
    #search { height: 3; margin: 0 1; display: none; }
    #search.shown { display: block; }
    #search { border-subtitle-color: $text-muted; border-subtitle-background: $surface; }
    #columns { height: 1; padding: 0 1; background: $boost; }
    #banner { height: auto; padding: 0 1; background: $error; color: $text; display: none; }
    #banner.shown { display: block; }
    """

    # In order of use: the footer shows as many as fit, in this order (`?` lists all).
    BINDINGS = [
        Binding("slash", "search", "Search", id="portal.search"),
        Binding("r", "request", "Request info", id="portal.request"),
        Binding("a", "add_company", "Add company", id="portal.add_company"),
        Binding("u", "toggle_users", "Mine/all", id="portal.users"),
        Binding("s", "cycle_status(1)", "Status", id="portal.status"),
        Binding("o", "cycle_sort", "Sort", id="portal.sort"),
        Binding("P", "portfolio", "Portfolio", id="portal.portfolio"),
        Binding("escape", "back_out", "Back out", show=False, id="portal.back_out"),
        Binding("U", "pick_users", "Users…", show=False, id="portal.pick_users"),
        Binding("S", "cycle_status(-1)", "Status back", show=False, id="portal.status_back"),
        Binding("O", "reverse_sort", "Reverse", show=False, id="portal.reverse"),
    ]
    # The command palette offers these bindings by name (tui.commands).
    PALETTE_PREFIX = "portal"
    PALETTE_NAMES = {
        "add_company": "company: add",
        "request": "company: request information (highlighted row)",
        "portfolio": "portfolio: statuses and journey funnel",
        "toggle_users": "mine or all companies",
        "pick_users": "users filter",
        "cycle_status(1)": "next status filter",
        "cycle_status(-1)": "previous status filter",
        "cycle_sort": "next sort",
        "reverse_sort": "reverse sort",
    }

    criteria: reactive[Criteria] = reactive(Criteria, init=False, always_update=True)

    class Loaded(Message):
        def __init__(self, query: Criteria, body: RelationshipPage) -> None:
            super().__init__()
            self.criteria = query
            self.body = body

    class Totals(Message):
        """Fresh counts for the query in force (after live changes)."""

        def __init__(self, query: Criteria, body: RelationshipPage) -> None:
            super().__init__()
            self.criteria = query
            self.body = body

    class Changed(Message):
        """Something changed at the service that rows on screen may show."""

    class Happened(Message):
        """The service recorded these events (the long poll's latest answer)."""

        def __init__(self, events: list[Event]) -> None:
            super().__init__()
            self.events = events

    class PageLoaded(Message):
        def __init__(self, generation: int, page: int, rows: list[Relationship]) -> None:
            super().__init__()
            self.generation = generation
            self.page = page
            self.rows = rows

    class Linked(Message):
        """A connection of one of the user's companies was linked: worth a toast."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Reachable(Message):
        def __init__(self, ok: bool, detail: str = "") -> None:
            super().__init__()
            self.ok = ok
            self.detail = detail

    def __init__(self, client: ServiceClient, session: Session) -> None:
        super().__init__()
        self.client = client
        self.session = session
        # A list asked for and not yet shown, and whether it must be fetched again once
        # shown (a change may have landed between its read and the event log's head).
        self._load_pending = False
        self._refetch_after_load = False
        # Reads of the page on screen that events call for: at most one a second.
        self._reloads = Throttle()
        # The event log as followed so far: the last sequence number seen (None: not
        # yet; the head is read first), what the long-poll asks for (None: not started),
        # and whether the service answered last time. Kept on the screen, not in the
        # follower, so that a follower started anew goes on from where the last stopped.
        self._after: int | None = None
        self._following: Following | None = None
        self._answering = True

    def compose(self) -> ComposeResult:
        yield Static(id="title")
        yield SummaryBar(id="summary")
        # As long as the service's limit: a longer paste is cut, with a notice, never
        # sent whole to be refused (the list would then quietly stay unfiltered).
        yield LimitedInput(
            placeholder="Search companies and contacts…",
            id="search",
            max_length=SEARCH_MAX,
            what="A search",
        )
        yield Static(id="banner")
        yield Static(id="columns")
        yield RelationshipTable(PAGE_SIZE, id="table")
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one(RelationshipTable)
        table.users = {u["id"]: u["name"] for u in self.session.users}
        self.criteria = Criteria.saved(getattr(self.app, "preferences", None))
        table.focus()
        # Company screens opening and closing over the portal change what it follows.
        self.app.screen_change_signal.subscribe(self, self._screens_changed)
        self._follow_what_is_shown()

    # Loading

    def watch_criteria(self, criteria: Criteria) -> None:
        self._follow_what_is_shown()
        self._show_title()
        self._show_columns()
        self.load(criteria)
        saved = getattr(self.app, "preferences", None)
        if saved is not None and (saved.users, saved.sort, saved.descending) != (
            criteria.user,
            criteria.sort,
            criteria.descending,
        ):
            saved.users, saved.sort, saved.descending = (
                criteria.user,
                criteria.sort,
                criteria.descending,
            )
            self.app.save_preferences()  # type: ignore[attr-defined]

    def _show_title(self) -> None:
        query = self.criteria
        who = {"me": "My companies", "all": "All companies"}.get(
            query.user, f"{self.session.user_name(query.user)}'s companies"
        )
        sort = dict(SORTS)[query.sort] + (" ↓" if query.descending else " ↑")
        title = self.query_one("#title", Static)
        # Before the first layout the title has no width yet: the screen's, less padding.
        width = (title.size.width or self.app.size.width) - 2
        title.update(
            portal_title(
                self.session.organization["name"],
                who,
                sort,
                query.q,
                self.session.user["name"],
                width,
            )
        )

    @work(exclusive=True, group="load", exit_on_error=False)
    async def load(self, query: Criteria) -> None:
        try:
            await self._load(query)
        except ServiceProblem as exc:
            # Refused (a search with control characters, say): said, never a list that
            # quietly stays as it was. (An unreachable service is the banner's to say.)
            self._load_pending = False
            self.notify(exc.detail, title="The list was not updated", severity="error")

    async def _load(self, query: Criteria) -> None:
        self._load_pending = True
        if not query.q:
            body = await self.client.relationships(**query.first_page())
            self.post_message(self.Loaded(query, body))
            return
        # Typing: rows first, counts after. Counting a broad search costs more than its
        # page, and the next keystroke may make it moot (this worker is then cancelled
        # before the counts are asked for).
        body = await self.client.relationships(**query.params(), limit=PAGE_SIZE, counts="false")
        self.post_message(self.Loaded(query, body))
        await asyncio.sleep(COUNTS_DELAY)
        totals = await self.client.relationships(**query.params(), limit=1)
        self.post_message(self.Totals(query, totals))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        if message.criteria != self.criteria:
            return
        self._load_pending = False
        table = self.query_one(RelationshipTable)
        body = message.body
        total = body["total"]
        if total is None:
            # Counts follow; until then, what the first page tells.
            total = len(body["items"]) * (2 if body["next_cursor"] else 1)
        table.reset(total, body["items"])
        if body["counts"] is not None:
            self.query_one(SummaryBar).show(body["counts"], total, self.criteria.status)
        self._show_columns()
        if self._refetch_after_load:
            self._refetch_after_load = False
            table.forget_pages()

    @on(RelationshipTable.PageWanted)
    def _page_wanted(self, message: RelationshipTable.PageWanted) -> None:
        table = self.query_one(RelationshipTable)
        self.fetch_page(self.criteria, table.generation, message.page)

    @work(group="pages", exit_on_error=False)
    async def fetch_page(self, query: Criteria, generation: int, page: int) -> None:
        body = await self.client.relationships(
            **query.params(), offset=page * PAGE_SIZE, limit=PAGE_SIZE
        )
        self.post_message(self.PageLoaded(generation, page, body["items"]))
        # Every page comes with the counts: a page read again down the list brings
        # them up to date as well as the first does.
        self.post_message(self.Totals(query, body))

    @on(Totals)
    def _totals(self, message: Totals) -> None:
        total, counts = message.body["total"], message.body["counts"]
        if message.criteria == self.criteria and total is not None and counts is not None:
            self.query_one(RelationshipTable).update_total(total)
            self.query_one(SummaryBar).show(counts, total, self.criteria.status)

    @on(PageLoaded)
    def _page_loaded(self, message: PageLoaded) -> None:
        self.query_one(RelationshipTable).put_page(message.generation, message.page, message.rows)

    def on_resize(self) -> None:
        self._show_columns()
        self._show_title()  # what gives way depends on the width

    @on(RelationshipTable.Resized)
    @on(RelationshipTable.ColumnsShifted)
    def _columns_moved(self) -> None:
        # The search box opening or closing, or a scrollbar coming and going, moves the
        # table's columns without a resize of the screen; left/right scroll them. (Not
        # while the screen is taken down: its titles may be gone before the table's
        # last resize arrives.)
        if self.query("#columns") and self.query(RelationshipTable):
            self._show_columns()

    def _show_columns(self) -> None:
        table = self.query_one(RelationshipTable)
        sort = self.criteria.sort
        header = table.header_text(sort, self.criteria.descending, dict(SORTS).get(sort, ""))
        self.query_one("#columns", Static).update(header)

    def on_click(self, event: events.Click) -> None:
        """A click on a sortable column's title sorts by it; a second click reverses."""
        if event.widget is None or event.widget.id != "columns":
            return
        table = self.query_one(RelationshipTable)
        sort = SORT_OF_COLUMN.get(table.column_at(event.x - 1) or "")
        if sort is None:
            return
        if sort == self.criteria.sort:
            self._set(descending=not self.criteria.descending)
        else:
            self._set(sort=sort, descending=False)

    # Live

    def _follow_what_is_shown(self) -> None:
        """Follow only what the portal shows: the user's own companies when it lists
        them (and the companies open over it that are not), else the organization's.

        A poll already waiting keeps what it was asked for up to 20 s. When that is
        less than is needed now (everyone's companies listed, a company not the user's
        opened), the follower starts again at once, from the last event seen: a batch
        either reached the screen before the restart (and moved ``_after`` with it) or
        was dropped with the poll and is asked for again; none lost, none seen twice.
        When it is more (back to the user's own, a company closed), the events to spare
        cost only their reading: the next poll asks for less, with no restart."""
        me = self.session.user["id"]
        open_not_mine: set[str] = set()
        for screen in self.app.screen_stack:
            if screen is not self and isinstance(screen, ShowsCompanies):
                open_not_mine |= screen.companies_not_of(me)
        wanted = following(self.criteria, me, open_not_mine)
        asked, self._following = self._following, wanted
        if asked is None or not asked.covers(wanted):
            self.follow_events()  # exclusive: the poll under way is cancelled

    def _screens_changed(self, _: Screen[Any]) -> None:
        self._follow_what_is_shown()

    @on(CompaniesShown)
    def _companies_shown(self) -> None:
        self._follow_what_is_shown()

    @work(exclusive=True, group="events", exit_on_error=False)
    async def follow_events(self) -> None:
        """Long-poll the event log; each batch goes to the screen (``Happened``)."""
        delay = 0.5
        while True:
            following = self._following or Following()
            try:
                if self._after is None:
                    self._after = int((await self.client.get("/v1/events/head"))["last_seq"])
                    # The list on screen was read apart from this head, maybe before it:
                    # a change committed in between is in no event still to come. Read
                    # what is shown once more (cheap: unchanged answers are cached).
                    self.post_message(self.Changed())
                # Back from an outage: a poll that does not wait says so at once.
                body = await self.client.events(
                    self._after,
                    wait=20 if self._answering else 0,
                    scope=following.scope,
                    also=following.also,
                )
                delay = 0.5
                if not self._answering:
                    self._answering = True
                    self.post_message(self.Reachable(True))
            except (ServiceUnavailable, ServiceProblem) as exc:
                self._answering = False
                self.post_message(self.Reachable(False, str(exc)))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 8.0)
                continue
            except (Exception, asyncio.CancelledError) as exc:
                current = asyncio.current_task()
                if isinstance(exc, asyncio.CancelledError) and (
                    current is None or current.cancelling()
                ):
                    raise  # this follower is being stopped
                # Anything else, a cancel from inside the embedded service included: note
                # it and keep following, or the screen would quietly stop being live.
                self.log.error(f"following the service's events: {exc!r}")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 8.0)
                continue
            # With no await between them: the follower is cancelled either before both
            # or after both (``_follow_what_is_shown``).
            self._after = body["last_seq"]
            if body["events"]:
                self.post_message(self.Happened(body["events"]))

    @on(Happened)
    def _happened(self, message: Happened) -> None:
        """Rows held are updated from the events where they say enough; the page on
        screen is read again, at most once a second, only when they touch what it
        shows (``tui.live``)."""
        table = self.query_one(RelationshipTable)
        me = self.session.user["id"]
        reaction = react(
            message.events, self.criteria, me, table.held_rows(), loading=self._load_pending
        )
        if reaction.changes and table.change_rows(reaction.changes):
            reaction.reload = True  # a read under way may not have seen the change
        if reaction.reload:
            self._want_reload()
        self._tell_open_companies(message.events)
        linked = [e for e in message.events if e["kind"] == "connection.linked"]
        if linked:
            held = table.held_rows()
            for event in linked:
                self._maybe_toast(event, held)

    def _tell_open_companies(self, events: list[Event]) -> None:
        """Company screens open over the portal follow their company through this one
        long-poll, rather than each holding a poll of its own."""
        others = [screen for screen in self.app.screen_stack if screen is not self]
        if not others:
            return
        rel_ids = {e["relationship_id"] or "" for e in events} - {""}
        request_ids = {e["request_id"] or "" for e in events} - {""}
        for screen in others:
            screen.post_message(CompaniesTouched(rel_ids, request_ids))

    def _tell_open_companies_it_is_back(self) -> None:
        for screen in self.app.screen_stack:
            if screen is not self:
                screen.post_message(ServiceBack())

    def _maybe_toast(self, event: Event, held: Mapping[str, Mapping[str, Any]]) -> None:
        """A toast when one of the user's companies links: whose it is and its name come
        from the row held, or the event itself; only an event that says neither (from
        an older service) has the company read."""
        rel_id = event.get("relationship_id")
        if not rel_id:
            return
        payload = event["payload"]
        row = held.get(rel_id)
        users = row["users"] if row is not None else payload.get("users")
        name = row["name"] if row is not None else payload.get("name")
        if users is None or name is None:
            self.toast_after_reading(event)
        elif self.session.user["id"] in users:
            self.post_message(self.Linked(f"{name}: Linked via {payload['platform_name']}"))

    @work(group="toasts", exit_on_error=False)
    async def toast_after_reading(self, event: Event) -> None:
        rel_id = event.get("relationship_id")
        try:
            rel = await self.client.company(str(rel_id))
        except (ServiceProblem, ServiceUnavailable):
            return
        if self.session.user["id"] in rel.get("users", []):
            payload = event["payload"]
            self.post_message(self.Linked(f"{rel['name']}: Linked via {payload['platform_name']}"))

    @on(Changed)
    def _changed(self) -> None:
        self._want_reload()

    def _want_reload(self) -> None:
        wait = self._reloads.ask()
        if wait is None:
            return  # one is on its way, and will read what this one would
        if wait > 0:
            self.set_timer(wait, self._reload)
        else:
            self._reload()

    def _reload(self) -> None:
        self._reloads.ran()
        if self._load_pending:
            self._refetch_after_load = True  # read it once the list asked for is shown
            return
        self.query_one(RelationshipTable).forget_pages()

    @on(Linked)
    def _linked(self, message: Linked) -> None:
        self.notify(message.text, title="Connected")

    @on(Reachable)
    def _reachable(self, message: Reachable) -> None:
        banner = self.query_one("#banner", Static)
        if message.ok:
            if banner.has_class("shown"):
                banner.remove_class("shown")
                self.load(self.criteria)  # what was asked while it was away
                self._tell_open_companies_it_is_back()
        else:
            banner.update(Text(f"The service is unreachable ({message.detail}); retrying…"))
            banner.add_class("shown")

    # Opening a company

    @on(RelationshipTable.Opened)
    def _opened(self, message: RelationshipTable.Opened) -> None:
        self.post_message(OpenCompany(message.row["id"], message.row["users"]))

    # Filters

    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        search.add_class("shown")
        search.focus()

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        # While a search filters the list, its box stays up, saying how to clear it.
        event.input.border_subtitle = "esc clears" if event.value else ""
        self.criteria = Criteria(
            event.value.strip(),
            self.criteria.status,
            self.criteria.user,
            self.criteria.sort,
            self.criteria.descending,
        )

    @on(Input.Submitted, "#search")
    def _search_done(self) -> None:
        self.query_one(RelationshipTable).focus()

    def action_back_out(self) -> None:
        """esc backs out one thing at a time: the search's text while typing it, a
        search in force (its box stays shown while it filters), then the box, then the
        status filter."""
        search = self.query_one("#search", Input)
        if search.value:
            search.value = ""
            if not search.has_focus:
                self._close_search()
        elif search.has_class("shown"):
            self._close_search()
        elif self.criteria.status is not None:
            self._set(status=None)

    def _close_search(self) -> None:
        self.query_one("#search", Input).remove_class("shown")
        self.query_one(RelationshipTable).focus()

    def _set(self, **changes: Any) -> None:
        current = self.criteria
        values = {
            "q": current.q,
            "status": current.status,
            "user": current.user,
            "sort": current.sort,
            "descending": current.descending,
            **changes,
        }
        self.criteria = Criteria(**values)

    def action_toggle_users(self) -> None:
        self._set(user="me" if self.criteria.user == "all" else "all")

    def action_pick_users(self) -> None:
        from screens.users_filter import UsersFilter

        def chosen(user: str | None) -> None:
            if user is not None:
                self._set(user=user)

        self.app.push_screen(UsersFilter(self.session, self.criteria.user), chosen)

    def action_cycle_status(self, step: int) -> None:
        index = STATUSES.index(self.criteria.status)
        self._set(status=STATUSES[(index + step) % len(STATUSES)])

    def action_cycle_sort(self) -> None:
        keys = [k for k, _ in SORTS]
        self._set(sort=keys[(keys.index(self.criteria.sort) + 1) % len(keys)], descending=False)

    def action_reverse_sort(self) -> None:
        self._set(descending=not self.criteria.descending)

    def action_add_company(self) -> None:
        from screens.company_form import CompanyForm

        def saved(company: dict[str, Any] | None) -> None:
            if company:
                self.notify(f"Added {company['name']}", title="Company added")
                self.criteria = self.criteria  # reload

        self.app.push_screen(CompanyForm(self.client, self.session), saved)

    def action_portfolio(self) -> None:
        self.post_message(OpenPortfolio("me" if self.criteria.user == "me" else "all"))

    def action_request(self) -> None:
        from screens.request_form import RequestForm

        row = self.query_one(RelationshipTable).current
        if row is None:
            return
        self.app.push_screen(
            RequestForm(self.client, self.session, row),
            lambda _: self.query_one(RelationshipTable).forget_pages(),
        )

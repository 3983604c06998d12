"""The portfolio: how requests are going across the book (for an operations lead).

Companies per status, requests per data type, and the journey funnel of the period:
how many requests were opened, reached each step, connected, completed and had
data, where the unfinished ones stand, and the median time to data. `u` switches
between your companies and everyone's; `1`–`4` choose the period.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from journey.core.labels import SIDE_STEPS_HEADING
from tui.client import ServiceClient, ServiceProblem, ServiceUnavailable, Session
from widgets.keys_footer import KeysFooter
from widgets.plain import plain_cells
from widgets.status_badge import STATUS_STYLES, status_text

PERIODS = ((7, "7 days"), (30, "30 days"), (90, "90 days"), (365, "year"))
BAR = 30


TITLE_WIDTH = 34  # a step's title beside its bar; longer ones end in "…"
# Beside a funnel bar: the step's title, the count, "100.0%", the gaps, the margin.
FUNNEL_BESIDE_BAR = TITLE_WIDTH + 6 + 6 + 3 + 4


def funnel_bar_width(columns: int) -> int:
    """The funnel's bars, as long as BAR when there is room, shorter on a narrow
    terminal so that the percentages stay whole (80 columns cut "100.0%")."""
    return max(10, min(BAR, columns - FUNNEL_BESIDE_BAR))


def step_title(title: str, width: int = TITLE_WIDTH) -> str:
    """A step's title in ``width`` columns, ending in an ellipsis when cut."""
    return title if len(title) <= width else title[: width - 1] + "…"


def funnel_bars(rows: list[dict[str, Any]], width: int = BAR) -> Table:
    """The funnel top-down: the main path, then (under a heading) the steps only some
    journeys take, as the service orders them."""
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    table.add_column(justify="right", style="dim", no_wrap=True)
    top = max((r["count"] for r in rows), default=0) or 1
    side = False
    for row in rows:
        if row.get("path") == "side" and not side:
            side = True
            table.add_row(Text(SIDE_STEPS_HEADING, style="dim italic"), "", "", "")
        filled = round(row["count"] / top * width)
        bar = Text("█" * filled, style="#5b8def")
        bar.append("░" * (width - filled), style="dim")
        table.add_row(
            *plain_cells(
                step_title(row["title"]), bar, f"{row['count']:,}", f"{row['percent_of_sent']}%"
            )
        )
    return table


class PortfolioScreen(Screen[None]):
    DEFAULT_CSS = """
    PortfolioScreen { layout: vertical; }
    #portfolio-head { height: auto; padding: 0 1; background: $panel; }
    #portfolio-body { height: 1fr; padding: 0 1; }
    #portfolio-body Static { margin-top: 1; height: auto; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="portfolio.back"),
        Binding("u", "toggle_users", "Mine/all", id="portfolio.users"),
        Binding("1", "period(7)", "7 days", id="portfolio.week"),
        Binding("2", "period(30)", "30 days", id="portfolio.month"),
        Binding("3", "period(90)", "90 days", id="portfolio.quarter"),
        Binding("4", "period(365)", "Year", id="portfolio.year"),
    ]
    PALETTE_PREFIX = "portfolio"  # the command palette names these bindings "portfolio: …"

    class Loaded(Message):
        def __init__(self, body: dict[str, Any] | None, problem: str = "") -> None:
            super().__init__()
            self.body = body
            self.problem = problem

    def __init__(
        self,
        client: ServiceClient,
        session: Session | None,
        user: str = "me",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__()
        self.client = client
        self.clock = clock  # "the last 30 days" ends now (tests pass a fixed day)
        self.session = session
        self.user = user
        self.days = 30
        self.body: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="portfolio-head")
        with VerticalScroll(id="portfolio-body"):
            yield Static(id="statuses")
            yield Static(id="funnel")
            yield Static(id="stopped")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True, group="portfolio", exit_on_error=False)
    async def load(self) -> None:
        until = self.clock()
        since = until - timedelta(days=self.days)
        try:
            body = await self.client.get(
                "/v1/portfolio",
                user=self.user,
                since=since.isoformat(timespec="seconds"),
                until=until.isoformat(timespec="seconds"),
            )
        except (ServiceProblem, ServiceUnavailable) as exc:
            self.post_message(self.Loaded(None, str(exc)))
            return
        self.post_message(self.Loaded(body))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.body = message.body
        head = Text()
        head.append("Portfolio", style="bold")
        who = "My companies" if self.user == "me" else "All companies"
        period = dict(PERIODS)[self.days]
        head.append(f"  ·  {who}  ·  requests of the last {period}")
        if message.body is None:
            head.append(f"\n{message.problem}", style="red")
            self.query_one("#portfolio-head", Static).update(head)
            return
        body = message.body
        median = body["median_hours_to_data"]
        head.append(f"\n{body['requests']:,} requests", style="dim")
        for name, count in body["requests_by_data_type"].items():
            head.append(f"  ·  {name} {count:,}", style="dim")
        if median is not None:
            shown = f"{median:.1f} h" if median < 48 else f"{median / 24:.1f} days"
            head.append(f"\nMedian time from request to data: {shown}", style="bold")
        self.query_one("#portfolio-head", Static).update(head)

        statuses = Table(
            title=f"Companies by status ({body['companies']:,})",
            title_justify="left",
            title_style="bold",
            box=None,
            show_header=False,
            padding=(0, 1),
        )
        statuses.add_column(no_wrap=True)
        statuses.add_column(no_wrap=True)
        statuses.add_column(justify="right")
        counts = body["companies_by_status"]
        top = max(counts.values(), default=0) or 1
        for name in [*STATUS_STYLES, "None"]:
            count = counts.get(name, 0)
            filled = round(count / top * BAR)
            statuses.add_row(
                status_text(None if name == "None" else name),
                Text("█" * filled, style=STATUS_STYLES.get(name, ("", "dim"))[1]),
                f"{count:,}",
            )
        self.query_one("#statuses", Static).update(statuses)
        funnel = Table(
            title="Journey funnel",
            title_justify="left",
            title_style="bold",
            box=None,
            show_header=False,
        )
        funnel.add_column()
        funnel.add_row(funnel_bars(body["funnel"], funnel_bar_width(self.size.width)))
        self.query_one("#funnel", Static).update(funnel)
        stopped = Table(
            "Where unfinished requests stand", "Requests", box=None, header_style="bold"
        )
        for row in body["stopped_at"]:
            stopped.add_row(*plain_cells(row["title"], f"{row['count']:,}"))
        if not body["stopped_at"]:
            stopped.add_row(Text("Nothing is waiting on a customer.", style="dim"), "")
        self.query_one("#stopped", Static).update(stopped)

    def action_toggle_users(self) -> None:
        self.user = "all" if self.user == "me" else "me"
        self.load()

    def action_period(self, days: int) -> None:
        self.days = days
        self.load()

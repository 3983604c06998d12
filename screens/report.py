"""A company's reports: financials and spend analysis, as tables and small charts.

Each report's status (Generating, Available, Unavailable, Failed) and time sit on
top; `1` `2` `3` switch report, `e` steps through the entities (combined first when
there are several), `d` downloads the report (xlsx, csv or json: the file name's
suffix says which), `f` refreshes the data (a new pull; the reports regenerate).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.table import Column, Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static

from journey.core.labels import payment_method_label
from tui.client import ServiceClient, ServiceProblem, ServiceUnavailable, Session
from tui.file_choices import SaveTarget
from tui.files import desk_of, readable_file_name
from widgets.keys_footer import KeysFooter
from widgets.month_chart import month_chart
from widgets.plain import plain_cells
from widgets.status_badge import when

KINDS = (
    ("profit_and_loss", "P&L"),
    ("balance_sheet", "Balance sheet"),
    ("spend_analysis", "Spend analysis"),
)
REPORT_MARKS = {
    "Available": ("✔", "green"),
    "Generating": ("◔", "cyan"),
    "Failed": ("✖", "red"),
    "Unavailable": ("·", "dim"),
}
TOP_SUPPLIERS = 10
BAR_WIDTH = 28
# While a report is generating the screen asks again this often (one timer, re-armed
# after each answer, so asks never overlap), and shows the new report once it is in.
GENERATING_POLL_SECONDS = 1.0
REFRESHING = "Refreshing: the data is being fetched again. This is the report as it was."


def amount(value: str | Decimal, currency: str = "") -> str:
    number = Decimal(value)
    return f"{currency} {number:,.2f}".strip()


def bars(rows: list[tuple[str, Decimal]], currency: str, width: int = BAR_WIDTH) -> Text:
    """A horizontal bar per row, scaled to the largest."""
    text = Text()
    top = max((v for _, v in rows), default=Decimal(0)) or Decimal(1)
    label_width = min(max((len(n) for n, _ in rows), default=0), 28)
    for name, value in rows:
        filled = round(float(value / top) * width)
        text.append(f"{name[:label_width]:<{label_width}} ")
        text.append("█" * filled, style="#5b8def")
        text.append("░" * (width - filled), style="dim")
        text.append(f" {amount(value, currency)}\n")
    return text


class ReportScreen(Screen[None]):
    DEFAULT_CSS = """
    ReportScreen { layout: vertical; }
    #report-head { height: auto; padding: 0 1; background: $panel; }
    #report-body { height: 1fr; padding: 0 1; }
    #report-body .section { margin-top: 1; height: auto; }
    #report-body .chart { height: auto; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="report.back"),
        Binding("1", "show('profit_and_loss')", "P&L", id="report.pnl"),
        Binding("2", "show('balance_sheet')", "Balance sheet", id="report.balance"),
        Binding("3", "show('spend_analysis')", "Spend", id="report.spend"),
        Binding("e", "next_entity", "Entity", id="report.entity"),
        Binding("d", "download", "Download", id="report.download"),
        Binding("f", "refresh_data", "Refresh data", id="report.refresh"),
    ]
    PALETTE_PREFIX = "report"  # the command palette names these bindings "report: …"

    class Loaded(Message):
        def __init__(
            self,
            statuses: dict[str, Any],
            report: dict[str, Any] | None,
            note: str,
            refreshing: bool = False,
        ) -> None:
            super().__init__()
            self.statuses = statuses
            self.report = report
            self.note = note
            self.refreshing = refreshing  # ``report`` is the last one seen, being remade

    def __init__(
        self, client: ServiceClient, session: Session | None, rel_id: str, company: str
    ) -> None:
        super().__init__()
        self.client = client
        self.session = session
        self.rel_id = rel_id
        self.company = company
        self.kind = "spend_analysis"
        self.statuses: dict[str, Any] = {}
        self.report: dict[str, Any] | None = None
        self.refreshing = False
        # The last report seen of each kind: shown, marked, while a new one is made.
        self.last_reports: dict[str, dict[str, Any]] = {}
        self.entity_index = 0
        self._poll_timer: Timer | None = None
        self._shown_kind = ""

    def palette_subject(self) -> str:
        """What this screen's palette commands act on: this company's reports."""
        return self.company

    def compose(self) -> ComposeResult:
        yield Static(id="report-head")
        yield VerticalScroll(id="report-body")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.load(first=True)

    @property
    def base(self) -> str:
        return f"/v1/relationships/{self.rel_id}/reports"

    @work(exclusive=True, group="report", exit_on_error=False)
    async def load(self, first: bool = False) -> None:
        try:
            statuses = await self.client.get(self.base)
        except (ServiceProblem, ServiceUnavailable) as exc:
            self.post_message(self.Loaded({}, None, str(exc)))
            return
        by_kind = {r["kind"]: r for r in statuses["reports"]}
        if first and by_kind.get(self.kind, {}).get("status") != "Available":
            # Open on the first report there is.
            self.kind = next(
                (k for k, _ in KINDS if by_kind.get(k, {}).get("status") == "Available"), self.kind
            )
        report, note = None, ""
        status = by_kind.get(self.kind, {}).get("status", "Unavailable")
        if status == "Available":
            try:
                report = await self.client.get(f"{self.base}/{self.kind}")
            except ServiceProblem as exc:
                note = exc.detail
            else:
                self.last_reports[self.kind] = report
        elif status == "Generating" and self.kind in self.last_reports:
            self.post_message(self.Loaded(by_kind, self.last_reports[self.kind], REFRESHING, True))
            return
        else:
            note = {
                "Generating": "The data is being fetched; the report appears when it is in.",
                "Failed": "The last data pull failed. Refresh data (f) to try again.",
            }.get(status, "This report needs data the company has not shared yet.")
        self.post_message(self.Loaded(by_kind, report, note))

    def _poll_while_generating(self) -> None:
        """Ask again later while any report is generating, so the screen shows the new
        report by itself once it is in (the timer is re-armed only after an answer)."""
        generating = any(r.get("status") == "Generating" for r in self.statuses.values())
        if generating and self._poll_timer is None:
            self._poll_timer = self.set_timer(GENERATING_POLL_SECONDS, self._poll)

    def _poll(self) -> None:
        self._poll_timer = None
        self.load()

    @on(Loaded)
    async def _loaded(self, message: Loaded) -> None:
        self.statuses, self.report = message.statuses, message.report
        self.refreshing = message.refreshing
        self.entity_index = min(self.entity_index, max(len(self._views()) - 1, 0))
        self._show_head()
        self._poll_while_generating()
        body = self.query_one("#report-body", VerticalScroll)
        # The same report drawn again (new data, the next poll) stays where it was read.
        scrolled = body.scroll_y if self._shown_kind == self.kind else 0.0
        self._shown_kind = self.kind
        await body.remove_children()
        if self.report is None:
            await body.mount(Static(Text(message.note, style="dim"), classes="section"))
            return
        widgets = self._widgets()
        if message.refreshing:
            widgets.insert(0, Static(Text(f"◔ {message.note}", style="cyan"), id="refreshing"))
        await body.mount_all(widgets)
        if scrolled:
            self.call_after_refresh(body.scroll_to, y=scrolled, animate=False)

    # What is shown

    def _views(self) -> list[tuple[str, dict[str, Any]]]:
        """(label, data) for each view of the report: combined blocks, then entities."""
        if self.report is None:
            return []
        views = [
            (f"Combined ({block['currency']}: {', '.join(block['entities'])})", block)
            for block in self.report.get("combined", [])
        ]
        views += [(e["entity"], e) for e in self.report.get("entities", [])]
        return views

    def _show_head(self) -> None:
        text = Text()
        text.append("Reports  ", style="bold")
        text.append(f"{self.company}\n")
        for number, (kind, title) in enumerate(KINDS, 1):
            status = self.statuses.get(kind, {"status": "Unavailable", "status_at": None})
            mark, style = REPORT_MARKS.get(status["status"], ("·", "dim"))
            chosen = kind == self.kind
            text.append(f" {number} ", style="reverse" if chosen else "dim")
            text.append(f" {title} ", style="bold" if chosen else "")
            text.append(f"{mark} {status['status']}", style=style)
            if status.get("status_at") and status["status"] != "Unavailable":
                text.append(f" {when(status['status_at'])}", style="dim")
            text.append("  ")
        views = self._views()
        if len(views) > 1:
            text.append(f"\nEntity ({self.entity_index + 1}/{len(views)}, e): ", style="dim")
            text.append(views[self.entity_index][0], style="bold")
        elif views:
            text.append(f"\nEntity: {views[0][0]}", style="dim")
        self.query_one("#report-head", Static).update(text)

    def _widgets(self) -> list[Widget]:
        views = self._views()
        if not views:
            return [Static("No entity has data for this report yet.", classes="section")]
        data = views[self.entity_index][1]
        if self.kind == "spend_analysis":
            return self._spend(data)
        if self.kind == "profit_and_loss":
            return self._profit_and_loss(data)
        return self._balance_sheet(data)

    def _spend(self, data: dict[str, Any]) -> list[Widget]:
        currency = data.get("currency", "")
        summary = data["summary"]
        out: list[Widget] = []
        facts = Table.grid(padding=(0, 2))
        facts.add_column(style="dim")
        facts.add_column()
        if "period" in summary:
            period = summary["period"]
            facts.add_row(
                *plain_cells(
                    "Period",
                    f"{period['start']} – {period['end']} ({summary['months_reviewed']} months)",
                )
            )
        if data.get("source") == "upload":
            facts.add_row(*plain_cells("Source", f"uploaded file {data.get('filename', '')}"))
        facts.add_row(*plain_cells("Suppliers", str(summary["suppliers_count"])))

        def count_and_amount(name: str) -> str:
            return f"{summary[name + '_count']:,}  {amount(summary[name + '_amount'], currency)}"

        if "bills_count" in summary:
            facts.add_row(
                *plain_cells(
                    "Bills",
                    f"{summary['bills_count']:,}  {amount(summary['bills_amount'], currency)}",
                )
            )
            facts.add_row(
                *plain_cells(
                    "Payments",
                    f"{summary['payments_count']:,}  "
                    f"{amount(summary['payments_amount'], currency)}",
                )
            )
            facts.add_row(*plain_cells("Outstanding", count_and_amount("bills_outstanding")))
            facts.add_row(*plain_cells("Paid late", count_and_amount("bills_paid_late")))
        else:
            facts.add_row(
                *plain_cells("Annual spend", amount(summary.get("annual_spend", "0"), currency))
            )
        out.append(Static(facts, classes="section"))
        key = "bills_amount" if "bills_count" in summary else "annual_spend"
        top = [(s["supplier_name"], Decimal(s[key])) for s in data["suppliers"][:TOP_SUPPLIERS]]
        out.append(Static(Text("Top suppliers by spend", style="bold"), classes="section"))
        out.append(Static(bars(top, currency)))
        if data.get("monthly"):
            values = [float(m["bills_amount"]) for m in data["monthly"]]
            first, last = data["monthly"][0]["month"], data["monthly"][-1]["month"]
            peak = amount(Decimal(str(max(values))), currency)
            out.append(
                Static(
                    Text(
                        f"Spend per month  {first} … {last}  (peak {peak})",
                        style="bold",
                    ),
                    classes="section",
                )
            )
            months = [m["month"] for m in data["monthly"]]
            out.append(Static(month_chart(values, months), classes="chart"))
        methods = Table(
            "Payment method", "Suppliers", "Share of spend", box=None, header_style="bold"
        )
        for row in data.get("payment_methods", []):
            share = row.get("percentage_bills_by_amount") or row.get("percentage_spend") or "0"
            methods.add_row(
                *plain_cells(
                    payment_method_label(row["payment_method"], currency),
                    str(row.get("suppliers_count", "")),
                    f"{share}%",
                )
            )
        out.append(Static(methods, classes="section"))
        suppliers = Table(
            "Supplier", "Spend", "Terms", "Method", "Late", box=None, header_style="bold"
        )
        for s in data["suppliers"][:50]:
            suppliers.add_row(
                *plain_cells(
                    s["supplier_name"],
                    amount(s[key], currency),
                    f"{s.get('payment_terms_days', '')} d",
                    payment_method_label(s.get("preferred_payment_method"), currency),
                    str(s.get("bills_paid_late_count", "—")),
                )
            )
        out.append(Static(suppliers, classes="section"))
        if data.get("late_payments"):
            late = Table(
                "Late payment", "Amount", "Due", "Days late", box=None, header_style="bold"
            )
            for row in data["late_payments"][:10]:
                late.add_row(
                    *plain_cells(
                        row["supplier_name"],
                        amount(row["amount"], currency),
                        row["due_date"],
                        str(row["days_late"]),
                    )
                )
            out.append(Static(late, classes="section"))
        return out

    def _profit_and_loss(self, data: dict[str, Any]) -> list[Widget]:
        currency = data.get("currency", "")
        periods = data["periods"]
        out: list[Widget] = [
            Static(Text(f"Net profit per month ({currency})", style="bold"), classes="section")
        ]
        out.append(
            Static(
                month_chart(
                    [float(p["net_profit"]) for p in periods], [p["start"][:7] for p in periods]
                ),
                classes="chart",
            )
        )
        months = Table("Month", "Income", "Expenses", "Net profit", box=None, header_style="bold")
        for p in periods:
            net = Decimal(p["net_profit"])
            months.add_row(
                *plain_cells(
                    p["start"][:7],
                    amount(p["income"]),
                    amount(p["expenses"]),
                    Text(amount(net), style="red" if net < 0 else "green"),
                )
            )
        out.append(Static(months, classes="section"))
        if periods:
            out.append(self._lines(f"Accounts, {periods[-1]['start'][:7]}", periods[-1]["lines"]))
        return out

    def _balance_sheet(self, data: dict[str, Any]) -> list[Widget]:
        currency = data.get("currency", "")
        totals = Table.grid(padding=(0, 2))
        totals.add_column(style="dim")
        totals.add_column(justify="right")
        totals.add_row(*plain_cells("Date", data["date"]))
        for key in ("assets", "liabilities", "equity"):
            totals.add_row(*plain_cells(key.capitalize(), amount(data[key], currency)))
        return [Static(totals, classes="section"), self._lines("Accounts", data["lines"])]

    def _lines(self, title: str, lines: list[dict[str, Any]]) -> Static:
        table = Table(
            Column(header=Text(title)),
            "Category",
            "Amount",
            box=None,
            header_style="bold",
            title_justify="left",
        )
        last = None
        for line in lines:
            group = f"{line['category']} · {line['sub_category']}"
            if group != last:
                table.add_row(Text(group, style="italic dim"), "", "")
                last = group
            table.add_row(
                *plain_cells(f"  {line['account']}", line["category"], amount(line["amount"]))
            )
        return Static(table, classes="section")

    # Keys

    def action_show(self, kind: str) -> None:
        self.kind = kind
        self.entity_index = 0
        self.load()

    def action_next_entity(self) -> None:
        views = self._views()
        if len(views) > 1:
            self.entity_index = (self.entity_index + 1) % len(views)
            note = REFRESHING if self.refreshing else ""
            self.post_message(self.Loaded(self.statuses, self.report, note, self.refreshing))
        elif views:
            self.notify(f"This report has one legal entity: {views[0][0]}.", title="Entity")
        else:
            self.notify("This report has no legal entities to switch between.", title="Entity")

    def action_refresh_data(self) -> None:
        self.refresh_data()

    @work(group="report-refresh", exit_on_error=False)
    async def refresh_data(self) -> None:
        try:
            await self.client.post(f"/v1/relationships/{self.rel_id}/refresh")
        except (ServiceProblem, ServiceUnavailable) as exc:
            self.notify(str(exc), title="Not refreshed", severity="error")
            return
        self.notify("A new data pull is on its way; the reports regenerate.", title="Refreshing")
        self.load()

    def action_download(self) -> None:
        if self.report is None:
            self.notify("This report is not available to download yet.", severity="warning")
            return
        name = readable_file_name(self.company, self.kind.replace("_", " "), ".xlsx")

        def chosen(target: SaveTarget) -> None:
            self.download(target)

        # The name's suffix says the format, so it is asked in a browser too.
        desk_of(self.app).ask_where(
            "Save the report as (.xlsx, .csv or .json):",
            name,
            chosen,
            ok="Download",
            ask_name_in_browser=True,
            suffixes=(".xlsx", ".csv", ".json"),
        )

    @work(group="report-download", exit_on_error=False)
    async def download(self, target: SaveTarget) -> None:
        fmt = target.name.rpartition(".")[2].lower()
        if fmt not in ("xlsx", "csv", "json"):
            self.notify("End the file name with .xlsx, .csv or .json.", severity="error")
            return
        try:
            data = await self.client.download(f"{self.base}/{self.kind}/download?format={fmt}")
        except (ServiceProblem, ServiceUnavailable) as exc:
            self.notify(str(exc), title="Not downloaded", severity="error")
            return
        desk_of(self.app).save(target, data, what="the report", title="Report downloaded")

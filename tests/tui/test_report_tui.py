"""The report screen through Pilot: what the RM reads, switches, downloads, refreshes."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from journey.settings import ServiceSettings
from screens.path_prompt import PathPrompt
from screens.portal import PortalScreen
from tests.support.reports import open_reports, until
from tui.app import RelportalApp
from tui.client import embedded_client


@pytest.fixture
def report_settings(tmp_path: Path) -> ServiceSettings:
    return ServiceSettings(
        db_path=tmp_path / "reports.db",
        outbox_dir=tmp_path / "outbox",
        demo_companies=60,
        pull_queue_seconds=0.0,
        pull_fetch_seconds=0.05,
        worker_interval=0.02,
    )


async def test_the_spend_report_reads_like_the_service_says(report_settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = RelportalApp(lambda: embedded_client(report_settings), downloads=tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await open_reports(pilot)
        await until(pilot, lambda: screen.report is not None, "a report")
        report = screen.report
        assert report is not None
        kind = report["kind"]
        head = str(screen.query_one("#report-head").render())
        assert "✔ Available" in head
        shown = "\n".join(str(w.render()) for w in screen.query("#report-body Static"))
        data = (report.get("combined") or report["entities"])[0]
        if kind == "spend_analysis":
            top = data["suppliers"][0]
            assert top["supplier_name"] in shown and "Top suppliers by spend" in shown
            chart = "\n".join(str(w.render()) for w in screen.query("#report-body .chart"))
            assert "Spend per month" in shown and "─" in chart  # with its zero line
        else:
            assert "Net profit" in shown or "Assets" in shown
        # Download: the suffix says the format; the file reads back.
        await pilot.press("d")
        await until(
            pilot,
            lambda: isinstance(app.screen, PathPrompt) and app.screen.query("Input"),
            "the download prompt",
        )
        prompt_value = app.screen.query_one("Input").value
        assert prompt_value.startswith(str(tmp_path)) and prompt_value.endswith(".xlsx")
        await pilot.press("enter")
        target = Path(prompt_value)
        await until(pilot, target.exists, "the file saved")
        book = openpyxl.load_workbook(io.BytesIO(target.read_bytes()))
        assert book.sheetnames
        # Refresh data: a new pull; the report regenerates, then is back.
        await until(pilot, lambda: app.screen is screen, "back on the report")
        before = await app.client.get(f"/v1/relationships/{screen.rel_id}/reports")
        await pilot.press("f")
        await until(
            pilot,
            lambda: any("new data pull" in str(n.message) for n in app._notifications),
            "the refresh",
        )
        after = await app.client.get(f"/v1/relationships/{screen.rel_id}/reports")
        stamp = {r["kind"]: r["status_at"] for r in before["reports"]}
        assert any(r["status_at"] != stamp[r["kind"]] for r in after["reports"])


async def test_the_download_prompt_stays_open_saying_what_is_wrong(
    report_settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """Finding 18: a name without a format, or a folder that cannot be written, is said
    in the prompt, which stays open with the path as typed; a good path then saves."""
    app = RelportalApp(lambda: embedded_client(report_settings), downloads=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_reports(pilot)
        await until(pilot, lambda: screen.report is not None, "a report")
        await pilot.press("d")
        await until(
            pilot,
            lambda: isinstance(app.screen, PathPrompt) and app.screen.query("Input"),
            "the download prompt",
        )
        prompt = app.screen
        field = prompt.query_one("Input")

        async def answer(path: str) -> str:
            field.value = path
            await pilot.press("enter")
            await pilot.pause(0.1)
            assert app.screen is prompt and field.value == path  # open, as typed
            return str(prompt.query_one("#path-problem").render())

        assert "End the file name with .xlsx, .csv or .json." in await answer(
            str(tmp_path / "report.pdf")
        )
        not_a_folder = tmp_path / "notes.txt"
        not_a_folder.write_text("a file, not a folder")
        problem = await answer(str(not_a_folder / "report.xlsx"))
        assert f"Cannot write {not_a_folder / 'report.xlsx'}" in problem
        assert not list(tmp_path.glob("*.xlsx"))
        target = tmp_path / "saved" / "report.csv"
        field.value = str(target)
        await pilot.press("enter")
        await until(pilot, target.exists, "the file saved")
        assert app.screen is screen


async def test_a_regenerating_report_stays_shown_and_the_new_one_comes_by_itself(  # type: ignore[no-untyped-def]
    report_settings, tmp_path
) -> None:
    """Finding 10: after Refresh data the last report stays on screen, marked
    Refreshing, and the screen shows the new one once it is Available, untouched."""
    slow = dataclasses.replace(report_settings, pull_fetch_seconds=1.5)
    app = RelportalApp(lambda: embedded_client(slow), downloads=tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await open_reports(pilot)
        await until(pilot, lambda: screen.report is not None, "a report")
        kind = screen.kind

        def body() -> str:
            return "\n".join(str(w.render()) for w in screen.query("#report-body Static"))

        def head() -> str:
            return str(screen.query_one("#report-head").render())

        shown = screen.report
        sections = len(screen.query("#report-body Static"))
        await pilot.press("f")
        await until(pilot, lambda: screen.refreshing, "the report marked as refreshing")
        await pilot.pause(0.1)
        assert "◔ Generating" in head()
        assert "Refreshing" in body()
        # The report as it was, still there, under the notice.
        assert screen.report is shown
        assert len(screen.query("#report-body Static")) == sections + 1
        await until(
            pilot,
            lambda: not screen.refreshing and screen.statuses[kind]["status"] == "Available",
            "the new report, with no key pressed",
        )
        await pilot.pause(0.1)
        assert "Refreshing" not in body() and "✔ Available" in head()
        assert screen.report is not None and screen.report["kind"] == kind


async def test_switching_reports_says_what_is_not_there(report_settings) -> None:  # type: ignore[no-untyped-def]
    app = RelportalApp(lambda: embedded_client(report_settings))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_reports(pilot)
        unavailable = [k for k, r in screen.statuses.items() if r["status"] == "Unavailable"]
        available = [k for k, r in screen.statuses.items() if r["status"] == "Available"]
        assert available
        keys = {"profit_and_loss": "1", "balance_sheet": "2", "spend_analysis": "3"}
        if unavailable:
            await pilot.press(keys[unavailable[0]])
            await until(
                pilot, lambda: screen.kind == unavailable[0] and screen.report is None, "switched"
            )
            await pilot.pause(0.2)
            shown = "\n".join(str(w.render()) for w in screen.query("#report-body Static"))
            assert "has not shared" in shown
        await pilot.press(keys[available[0]])
        await until(
            pilot, lambda: screen.report is not None and screen.kind == available[0], "back"
        )


async def open_portfolio(pilot: Any, app: RelportalApp) -> None:
    """From the start, to the portfolio screen with its figures loaded."""
    from screens.portfolio import PortfolioScreen

    await until(pilot, lambda: isinstance(app.screen, PortalScreen), "the portal")
    await pilot.pause(0.3)
    await pilot.press("P")
    await until(
        pilot,
        lambda: isinstance(app.screen, PortfolioScreen) and app.screen.body is not None,
        "the portfolio",
    )


async def test_the_portfolio_screen_follows_its_filters(report_settings) -> None:  # type: ignore[no-untyped-def]

    app = RelportalApp(lambda: embedded_client(report_settings))
    async with app.run_test(size=(100, 40)) as pilot:
        await open_portfolio(pilot, app)
        screen = app.screen
        head = str(screen.query_one("#portfolio-head").render())
        assert "My companies" in head and "30 days" in head
        mine = screen.body["requests"]
        direct = await app.client.get("/v1/portfolio", user="me")
        assert direct["companies"] == screen.body["companies"]
        await pilot.press("u")
        await until(pilot, lambda: screen.user == "all" and screen.body["user"] == "all", "all")
        assert screen.body["requests"] >= mine
        from tests.support.portal import text_of

        funnel = text_of(screen.query_one("#funnel"))
        assert "Request sent" in funnel and "Data available" in funnel
        await pilot.press("1")
        await until(pilot, lambda: screen.days == 7, "a week")
        await pilot.pause(0.3)
        assert "7 days" in str(screen.query_one("#portfolio-head").render())
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, PortalScreen), "back")


async def test_the_funnel_keeps_its_percentages_whole_at_80_columns(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """At 80 columns the bars are shorter, so "100.0%" is not cut to "100.…" beside
    the demo's longest step titles."""
    from journey.settings import ServiceSettings
    from tests.support.portal import text_of

    settings = ServiceSettings(
        db_path=tmp_path / "demo.db", outbox_dir=tmp_path / "outbox", demo_companies=300
    )
    app = RelportalApp(lambda: embedded_client(settings))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_portfolio(pilot, app)
        await pilot.pause(0.2)
        funnel = text_of(app.screen.query_one("#funnel"))
        assert "100.0%" in funnel and "100.…" not in funnel


def test_the_funnel_reads_top_down_and_cut_titles_end_in_an_ellipsis() -> None:
    """Finding 25: the steps only some journeys take come after the main path, under a
    heading; a title too long for its place ends in "…"."""
    from rich.console import Console

    from screens.portfolio import funnel_bars

    rows = [
        {"title": "Request sent", "count": 10, "percent_of_sent": 100.0, "path": "main"},
        {"title": "Connect to your accounting software", "count": 8, "percent_of_sent": 80.0},
        {"title": "Data available", "count": 5, "percent_of_sent": 50.0, "path": "main"},
        {
            "title": "Which legal entity are you linking today?",
            "count": 2,
            "percent_of_sent": 20.0,
            "path": "side",
        },
    ]
    console = Console(width=100, record=True)
    console.print(funnel_bars(rows, 20))
    lines = console.export_text().splitlines()
    assert lines[1].startswith("Connect to your accounting softwa…")
    assert lines[3].startswith("Steps only some journeys take")
    assert lines[4].startswith("Which legal entity are you linkin…")


def test_loss_months_hang_below_a_zero_line_with_the_months_named() -> None:
    """Finding 30: a loss is drawn under the zero line, a profit over it, and each
    column has its month's name under it."""
    from widgets.month_chart import month_chart

    lines = month_chart([12_000.0, -38_575.0, 30_000.0], ["2030-01", "2030-02", "2030-03"]).plain
    rows = lines.splitlines()
    zero = next(i for i, row in enumerate(rows) if "─" in row)
    assert rows[zero].strip().startswith("0 ─")
    months = rows[-1].split()
    assert months == ["Jan", "Feb", "Mar"]
    column = {name: rows[-1].index(name) for name in months}

    def drawn(name: str, above: bool) -> bool:
        part = rows[:zero] if above else rows[zero + 1 : -1]
        return any(row[column[name]] == "█" for row in part if len(row) > column[name])

    assert drawn("Jan", above=True) and not drawn("Jan", above=False)
    assert drawn("Feb", above=False) and not drawn("Feb", above=True)
    assert drawn("Mar", above=True)
    assert "30.0k" in rows[0] and "-38.6k" in rows[-2]  # the scale labelled at both ends


async def test_entity_on_a_one_entity_report_says_why_nothing_changes(report_settings) -> None:  # type: ignore[no-untyped-def]
    """Finding 35: `e` with nothing to switch to says so, instead of doing nothing."""
    app = RelportalApp(lambda: embedded_client(report_settings))
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await open_reports(pilot)
        await until(pilot, lambda: screen.report is not None, "a report")
        views = screen._views()
        if len(views) != 1:
            pytest.skip("the first Available demo company has several entities")
        await pilot.press("e")
        await until(
            pilot,
            lambda: any("one legal entity" in str(n.message) for n in app._notifications),
            "the note",
        )
        assert any(views[0][0] in str(n.message) for n in app._notifications)

"""How the portal looks, at 80×24 and 160×48 (pytest-textual-snapshot).

The demo is seeded from a fixed day and shown in UTC, so the pictures are the same
every day. Update them on purpose with `pytest tests/tui/test_snapshots.py --snapshot-update`
and look at the report before committing.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from journey.settings import ServiceSettings
from screens.portal import PortalScreen
from screens.relationship import RelationshipScreen
from screens.request_form import RequestForm
from tui.app import RelportalApp
from tui.client import embedded_client
from widgets.relationship_table import RelationshipTable

SIZES = [(80, 24), (160, 48)]
ANCHOR = datetime(2031, 3, 3, tzinfo=UTC).timestamp()


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


def _app(tmp_path: Path) -> RelportalApp:
    settings = ServiceSettings(
        db_path=tmp_path / "snap.db",
        outbox_dir=tmp_path / "outbox",
        demo_companies=150,
        demo_anchor=ANCHOR,
    )
    return RelportalApp(lambda: embedded_client(settings))


async def _wait(pilot: Any, check: Any) -> None:
    deadline = time.monotonic() + 15
    while not check():
        assert time.monotonic() < deadline, "the screen never settled"
        await pilot.pause(0.05)


async def _portal_ready(pilot: Any) -> None:
    app = pilot.app
    await _wait(pilot, lambda: isinstance(app.screen, PortalScreen) and app.screen.is_mounted)
    table = app.screen.query_one(RelationshipTable)
    await _wait(pilot, lambda: table.total > 0 and table.row(0) is not None)
    await pilot.pause(0.2)


def _still(app: Any) -> None:
    for widget in app.screen.query(Input):
        widget.cursor_blink = False


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_portal(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=_portal_ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_company_detail(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    async def open_company(pilot: Any) -> None:
        await _portal_ready(pilot)
        await pilot.press("down", "down", "enter")
        await _wait(pilot, lambda: isinstance(pilot.app.screen, RelationshipScreen))
        await _wait(pilot, lambda: pilot.app.screen.body is not None)
        await pilot.pause(0.2)

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=open_company)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_request_form(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    async def open_form(pilot: Any) -> None:
        await _portal_ready(pilot)
        await pilot.press("r")
        await _wait(pilot, lambda: isinstance(pilot.app.screen, RequestForm))
        form = pilot.app.screen
        await pilot.click("#email")
        await _wait(pilot, lambda: form.previewed)
        await pilot.pause(0.2)
        _still(pilot.app)

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=open_form)


def test_company_form(snap_compare: Any, tmp_path: Path) -> None:
    """The add-company dialog at 80x24 shows its own keys (ctrl+s Save), not the list's."""
    from screens.company_form import CompanyForm

    async def open_form(pilot: Any) -> None:
        await _portal_ready(pilot)
        await pilot.press("a")
        await _wait(pilot, lambda: isinstance(pilot.app.screen, CompanyForm))
        await pilot.pause(0.2)
        _still(pilot.app)

    assert snap_compare(_app(tmp_path), terminal_size=(80, 24), run_before=open_form)


def test_portal_light_theme_wide(snap_compare: Any, tmp_path: Path) -> None:
    async def light(pilot: Any) -> None:
        pilot.app.theme = "textual-light"
        await _portal_ready(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=(200, 60), run_before=light)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_report(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    from screens.report import ReportScreen

    async def open_report(pilot: Any) -> None:
        await _portal_ready(pilot)
        portal = pilot.app.screen
        while portal.criteria.status != "Available":
            await pilot.press("s")
        await _wait(
            pilot,
            lambda: (portal.query_one(RelationshipTable).row(0) or {}).get("status") == "Available",
        )
        await pilot.press("enter")
        await _wait(pilot, lambda: isinstance(pilot.app.screen, RelationshipScreen))
        await _wait(pilot, lambda: pilot.app.screen.body is not None)
        await pilot.press("p")
        await _wait(pilot, lambda: isinstance(pilot.app.screen, ReportScreen))
        await _wait(pilot, lambda: pilot.app.screen.report is not None)
        await pilot.pause(0.3)

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=open_report)


def test_portfolio(snap_compare: Any, tmp_path: Path) -> None:
    from screens.portfolio import PortfolioScreen

    async def open_portfolio(pilot: Any) -> None:
        await _portal_ready(pilot)
        app = pilot.app
        day = datetime.fromtimestamp(ANCHOR, UTC)
        await app.push_screen(PortfolioScreen(app.client, app.session, "all", clock=lambda: day))
        await _wait(pilot, lambda: app.screen.body is not None)
        await pilot.press("4")  # the last year
        await _wait(pilot, lambda: app.screen.days == 365 and app.screen.body is not None)
        await pilot.pause(0.5)

    assert snap_compare(_app(tmp_path), terminal_size=(100, 40), run_before=open_portfolio)

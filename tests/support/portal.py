"""The portal driven through Pilot: waiting for what the screen shows, reading it,
opening a company; and a demo database of its own."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from textual.geometry import Region

from journey.seed import ensure_demo
from journey.settings import ServiceSettings
from journey.storage.sqlite import SQLiteStore
from screens.portal import PortalScreen
from screens.relationship import RelationshipScreen
from tui.app import RelportalApp
from widgets.relationship_table import RelationshipTable


async def until(pilot: Any, check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the portal never showed what was expected")
        await pilot.pause(0.05)


def text_of(widget: Any) -> str:
    """What a widget shows, as plain text."""
    region = Region(0, 0, widget.size.width, widget.size.height)
    return "\n".join(strip.text for strip in widget.render_lines(region))


def table_of(app: RelportalApp) -> RelationshipTable:
    return app.screen.query_one(RelationshipTable)


async def started(pilot: Any) -> RelationshipTable:
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, PortalScreen) and app.screen.is_mounted)
    table = table_of(app)
    await until(pilot, lambda: table.total > 0 and table.row(0) is not None)
    return table


async def open_first_with_status(pilot: Any, status: str) -> RelationshipScreen:
    """Filter the portal to ``status``, open the first company, wait for its detail."""
    app = pilot.app
    table = await started(pilot)
    screen = app.screen
    while screen.criteria.status != status:
        await pilot.press("s")
    await until(pilot, lambda: table.row(0) is not None and table.row(0)["status"] == status)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, RelationshipScreen))
    detail = app.screen
    await until(pilot, lambda: detail.body is not None)
    return detail  # type: ignore[return-value]


def demo_database(path: Path) -> ServiceSettings:
    settings = ServiceSettings(
        db_path=path, outbox_dir=path.parent / "outbox", demo_companies=20, worker_interval=0.02
    )
    store = SQLiteStore(path)
    try:
        ensure_demo(store, settings.demo_companies, settings.demo_seed, settings.demo_anchor)
    finally:
        store.close()
    return settings

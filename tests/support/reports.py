"""The report screen reached through Pilot, as the RM reaches it."""

from __future__ import annotations

import time
from typing import Any

from screens.portal import PortalScreen
from screens.relationship import RelationshipScreen
from screens.report import ReportScreen


async def until(pilot: Any, check: Any, what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"never happened: {what}"
        await pilot.pause(0.05)


async def open_reports(pilot: Any, status: str = "Available") -> ReportScreen:
    """The first demo company with ``status``, then its reports (p)."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, PortalScreen), "the portal")
    portal = app.screen
    await pilot.pause(0.3)
    while portal.criteria.status != status:
        await pilot.press("s")
    await pilot.pause(0.5)
    await pilot.press("enter")
    await until(
        pilot,
        lambda: isinstance(app.screen, RelationshipScreen) and app.screen.body is not None,
        "the company",
    )
    await pilot.press("p")
    await until(
        pilot,
        lambda: isinstance(app.screen, ReportScreen) and app.screen.statuses,
        "the reports",
    )
    return app.screen  # type: ignore[return-value]

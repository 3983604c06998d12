"""The words on screen are people's words: buttons that say what they do, labels
instead of the vendor's enum values, no Python ``None`` (issue 18, findings 28, 32, 33)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Button

from journey.settings import ServiceSettings
from screens.confirm import Confirm
from tests.test_portal import open_first_with_status, text_of, until
from tui.app import RelportalApp
from tui.client import embedded_client


@pytest.fixture
def demo_settings(tmp_path: Path) -> ServiceSettings:
    return ServiceSettings(
        db_path=tmp_path / "words.db",
        outbox_dir=tmp_path / "outbox",
        demo_companies=120,
        pull_queue_seconds=0.0,
        pull_fetch_seconds=0.05,
        worker_interval=0.02,
    )


async def test_the_cancel_dialog_says_keep_or_cancel_the_request(demo_settings) -> None:  # type: ignore[no-untyped-def]
    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(120, 40)) as pilot:
        detail = await open_first_with_status(pilot, "Requested")
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        labels = [str(b.label) for b in app.screen.query(Button)]
        assert labels == ["Keep request", "Cancel request"]
        await pilot.press("enter")  # the focused button keeps the request
        await until(pilot, lambda: app.screen is detail)
        await pilot.pause(0.2)
        assert detail.body["requests"][0]["state"] != "Cancelled"
        assert "Cancelled" not in text_of(detail.query_one("#requests"))

"""The words on screen are people's words: buttons that say what they do, labels
instead of the vendor's enum values, no Python ``None`` (issue 18, findings 28, 32, 33)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Button

from journey.settings import ServiceSettings
from screens.confirm import Confirm
from tests.support.portal import open_first_with_status, started, text_of, until
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


# The vendor's values that have a label (journey/core/labels.py), Python's None, and
# snake_case identifiers (steps, report kinds, actions) never reach a screen.
LEAKS = re.compile(
    r"\bNone\b|PendingAuth|FetchError|AuthError|BankTransfer|CreditCard|DebitCard|\bCheck\b"
    r"|\b[a-z]+_[a-z_]+\b"
)


def shown(screen: Any) -> str:
    """Everything a screen shows but its footer, as plain text."""
    return "\n".join(
        text_of(widget)
        for widget in screen.query("Static, DataTable")
        if widget.display and widget.size.area
    )


def leaks(text: str) -> list[str]:
    return sorted({m.group(0) for m in LEAKS.finditer(text)})


async def test_no_screen_shows_none_or_a_vendor_value(demo_settings) -> None:  # type: ignore[no-untyped-def]
    from screens.relationship import RelationshipScreen
    from screens.report import ReportScreen

    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(160, 60)) as pilot:
        await started(pilot)
        portal = app.screen
        await pilot.press("u")  # everyone's companies
        await pilot.pause(0.3)
        assert leaks(shown(portal)) == []
        client, session = portal.client, portal.session
        everything: list[str] = []
        for status in ("Requested", "In progress", "Available", "Warning", "Error", "Deauthorized"):
            page = await client.get("/v1/relationships", user="all", status=status, limit=3)
            for company in page["items"]:
                detail = RelationshipScreen(client, session, company["id"])
                await app.push_screen(detail)
                await until(pilot, lambda d=detail: d.body is not None)  # type: ignore[misc]
                await pilot.pause(0.05)
                text = shown(detail)
                assert leaks(text) == [], (company["name"], text)
                everything.append(text)
                # Where the service says a vendor value, the screen says its label.
                for entity in detail.body["entities"]:
                    conn = entity["connection"] or {}
                    if conn.get("status") == "PendingAuth":
                        assert "Waiting for sign-in" in text, company["name"]
                    if (conn.get("pulls") or [{}])[0].get("status") == "FetchError":
                        assert "Fetch failed" in text, company["name"]
                if status in ("Available", "Warning"):
                    await pilot.press("p")
                    await until(pilot, lambda: isinstance(app.screen, ReportScreen))
                    report = app.screen
                    await until(pilot, lambda r=report: bool(r.statuses))  # type: ignore[misc]
                    await pilot.press("3")
                    await pilot.pause(0.1)
                    await until(
                        pilot,
                        lambda: not any(w.group == "report" and w.is_running for w in app.workers),
                    )
                    await pilot.pause(0.1)
                    text = shown(report)
                    found = leaks(text)
                    if "USD" in text:  # American data spells it Check
                        found = [word for word in found if word != "Check"]
                    assert found == [], (company["name"], found, text)
                    everything.append(text)
                    await pilot.press("escape")
                    await until(pilot, lambda d=detail: app.screen is d)  # type: ignore[misc]
                await pilot.press("escape")
                await until(pilot, lambda: app.screen is portal)
        seen = "\n".join(everything)
        # The labels stand where the vendor's values were.
        for label in ("Fetch failed", "Status: Requested", "Not opened yet"):
            assert label in seen, label
        assert "Bank transfer" in seen or "Credit card" in seen


async def test_a_copied_link_reads_link_copied_and_the_error_clears(demo_settings) -> None:  # type: ignore[no-untyped-def]
    from textual.widgets import Checkbox

    from screens.request_form import RequestForm

    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(120, 40)) as pilot:
        detail = await open_first_with_status(pilot, "Available")
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RequestForm))
        form = app.screen
        for box in form.query(Checkbox):
            box.value = False
        await pilot.pause()
        form.query_one("#copy", Button).press()
        await until(pilot, lambda: "at least one" in text_of(form.query_one("#error")))
        form.query_one("#spend_analysis", Checkbox).value = True
        await pilot.pause()
        form.query_one("#copy", Button).press()
        await until(pilot, lambda: "Link copied" in text_of(form.query_one("#link")))
        assert "at least one" not in text_of(form.query_one("#error"))
        form.query_one("#cancel", Button).press()  # now labelled Done
        await until(pilot, lambda: app.screen is detail)
        # (A subsidiary whose data came under its parent's request has none of its own
        # until this one.)
        await until(pilot, lambda: (detail.body["requests"] or [{}])[0].get("delivery") == "link")
        await pilot.pause(0.1)
        requests = text_of(detail.query_one("#requests"))
        first_row = next(line for line in requests.splitlines() if "Spend analysis" in line)
        assert "Link copied" in first_row and "Not opened yet" in first_row
        assert "Sent" not in first_row and "email" not in first_row


async def test_a_new_request_keeps_shared_data_on_screen_and_says_what_it_replaces(  # type: ignore[no-untyped-def]
    demo_settings,
) -> None:
    """Issue 18, finding 4: the company's entities stay while a new request is open, and
    the dialog says that a new request replaces the open one."""
    from textual.widgets import Checkbox

    from journey.core.labels import REPLACES_OPEN_REQUEST
    from screens.request_form import RequestForm

    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(160, 50)) as pilot:
        detail = await open_first_with_status(pilot, "Available")
        shared = [e["name"] for e in detail.body["entities"]]
        assert shared
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RequestForm))
        form = app.screen
        assert not form.query("#replaces")  # the request before was complete: nothing to replace
        form.query_one("#financials", Checkbox).value = True
        await pilot.pause()
        form.query_one("#copy", Button).press()
        await until(pilot, lambda: "Link copied" in text_of(form.query_one("#link")))
        form.query_one("#cancel", Button).press()
        await until(pilot, lambda: app.screen is detail)
        await until(pilot, lambda: detail.body["status"] == "Requested")
        await pilot.pause(0.1)
        entities = text_of(detail.query_one("#entities"))
        assert "No legal entities yet" not in entities
        assert "(earlier request)" in entities and shared[0][:20] in entities

        # Now a request is open: asking again says what happens to it.
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RequestForm))
        assert REPLACES_OPEN_REQUEST in text_of(app.screen.query_one("#replaces"))
        app.screen.query_one("#copy", Button).press()
        await until(pilot, lambda: "Link copied" in text_of(app.screen.query_one("#link")))
        app.screen.query_one("#cancel", Button).press()
        await until(pilot, lambda: app.screen is detail)
        await until(pilot, lambda: any(r["superseded_by"] for r in detail.body["requests"]))
        await pilot.pause(0.1)
        assert "Replaced" in text_of(detail.query_one("#requests"))
        assert "Request replaced by a new one" in text_of(detail.query_one("#timeline"))

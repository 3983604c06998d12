"""How each step of the customer simulation looks at 80×24 (pytest-textual-snapshot).

Each picture walks a fresh simulation to its step through the customer API, then
shows it. Company names are chosen and the demo is seeded from a fixed day, so the
pictures are the same every day; the requests summary (it shows today's date) is
checked by the Pilot tests instead.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from journey.settings import ServiceSettings
from journey.template import sample_file
from screens.portal import PortalScreen
from screens.simulation import SimulationScreen
from tui.app import RelportalApp
from tui.client import ServiceProblem, embedded_client
from tui.simulate import start_simulation

ANCHOR = datetime(2031, 3, 3, tzinfo=UTC).timestamp()
SUPPORT = "jordan.blake@larkspurbank.example"
SPEND = {"data_types": ["spend_analysis"], "features": ["manual_upload", "multi_entity"]}
FINANCIALS = {"data_types": ["financials"]}
SIGN_IN = [("connect", {}), ("select_platform", {"platform": "gbol"}), ("consent", {})]
DEMO = {"username": "demo", "password": "demo"}
MULTIPLE = [
    ("view_request", {}),
    ("choose_method", {"method": "connect"}),
    ("choose_entities", {"count": "multiple"}),
]

# name: (request, customer actions before the picture, the step it shows)
STEPS: dict[str, tuple[dict[str, Any], list[tuple[str, dict[str, Any]]], str]] = {
    "email": (FINANCIALS, [], "email"),
    "choose_method": (SPEND, [("view_request", {})], "choose_method"),
    "manual_upload_rejected": (
        SPEND,
        [("view_request", {}), ("choose_method", {"method": "upload"}), ("upload:invalid", {})],
        "manual_upload",
    ),
    "entity_count": (SPEND, MULTIPLE[:2], "entity_count"),
    "entity_name": (SPEND, MULTIPLE, "entity_name"),
    "share_accounting": (FINANCIALS, [("view_request", {})], "share_accounting"),
    "select_platform": (FINANCIALS, [("view_request", {}), ("connect", {})], "select_platform"),
    "consent": (FINANCIALS, [("view_request", {}), *SIGN_IN[:2]], "consent"),
    "platform_signin_wrong_password": (
        FINANCIALS,
        [("view_request", {}), *SIGN_IN, ("authorize", {"username": "demo", "password": "x"})],
        "platform_signin",
    ),
    "entities": (
        SPEND,
        [
            *MULTIPLE,
            ("name_entity", {"name": "Abra Kebabra Brighton"}),
            *SIGN_IN,
            ("authorize", DEMO),
            ("add_entity", {}),
            ("name_entity", {"name": "Abra Kebabra Camden"}),
            ("connect", {}),
            ("select_platform", {"platform": "qhyg"}),
            ("consent", {}),
            ("authorize", DEMO),
        ],
        "entities",
    ),
    "complete": (FINANCIALS, [("view_request", {}), *SIGN_IN, ("authorize", DEMO)], "complete"),
    "summary": (
        FINANCIALS,
        [("view_request", {}), *SIGN_IN, ("authorize", DEMO), ("close", {})],
        "summary",
    ),
    "closed": (
        FINANCIALS,
        [("view_request", {}), ("connect", {}), ("close", {})],
        "select_platform",
    ),
    "expired": (FINANCIALS, [("view_request", {}), ("expire", {})], "gone"),
}


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


@pytest.mark.parametrize("name", list(STEPS))
def test_simulation_step(
    snap_compare: Any, tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if name == "summary":
        # The customer's summary shows the request's date: make it a fixed day.
        fixed = datetime(2031, 3, 3, 9, 30, tzinfo=UTC)
        monkeypatch.setattr("journey.service.requests._now", lambda: fixed)
        monkeypatch.setattr(
            "journey.storage.sqlite.querying.utc_now", lambda: "2031-03-03T09:30:00.000Z"
        )
    _picture(snap_compare, tmp_path, name, (80, 24))


def test_simulation_wide_with_map_and_what_the_rm_sees(snap_compare: Any, tmp_path: Path) -> None:
    _picture(snap_compare, tmp_path, "entities", (160, 48))


def _picture(snap_compare: Any, tmp_path: Path, name: str, size: tuple[int, int]) -> None:
    body, actions, step = STEPS[name]
    settings = ServiceSettings(
        db_path=tmp_path / "snap.db",
        outbox_dir=tmp_path / "outbox",
        demo_companies=3,
        demo_anchor=ANCHOR,
        pull_queue_seconds=3600,  # data pulls wait: the RM's side stays as pictured
    )
    app = RelportalApp(
        lambda: embedded_client(settings, SUPPORT), downloads=Path("/home/demo/Downloads")
    )

    async def walk(pilot: Any) -> None:
        deadline = time.monotonic() + 15
        while not isinstance(app.screen, PortalScreen):
            assert time.monotonic() < deadline
            await pilot.pause(0.05)
        assert await start_simulation(
            app, app.client, app.session, {**body, "company_name": "Abra Kebabra"}
        )
        screen = app.screen
        assert isinstance(screen, SimulationScreen)
        base = f"/v1/journeys/{screen.token}"
        refusal: ServiceProblem | None = None
        for action, params in actions:
            if action == "upload:invalid":
                try:
                    await app.client.upload(
                        f"{base}/uploads", "suppliers.xlsx", sample_file(valid=False)
                    )
                except ServiceProblem as exc:  # refused, as intended: the screen shows why
                    refusal = exc
            elif action == "expire":
                await app.client.post(f"/v1/requests/{screen.request_id}/expire")
            else:
                await app.client.post(f"{base}/actions", {"action": action, **params})
        screen.load()

        def settled() -> bool:
            loading = any(w.group == "journey" and not w.is_finished for w in screen.workers)
            shown = (screen.journey or {}).get("step", "gone" if screen.gone else None)
            return not loading and shown == step

        while not settled():
            assert time.monotonic() < deadline + 15, f"never reached {step}"
            await pilot.pause(0.05)
        if refusal is not None:
            screen.post_message(SimulationScreen.Refused(refusal.detail, refusal.body["errors"]))
            while screen.refusal is None or not screen.query_one("#upload-path").has_focus:
                assert time.monotonic() < deadline + 15, "the refusal never took focus"
                await pilot.pause(0.05)
        if name == "entity_name":
            # The step drawn and its input focused first, as a customer finds it: an
            # input focused after it was filled selects its text (and the picture
            # would depend on which came first). The step is known before it is drawn.
            while not (found := screen.query("#entity-name")) or not found.first().has_focus:
                assert time.monotonic() < deadline + 15, "the name field never took focus"
                await pilot.pause(0.05)
            field = screen.query_one("#entity-name", Input)
            field.value = "Abra Kebabra Brighton"
            counter = screen.query_one("#counter")
            while "79/100" not in str(counter.render()):
                await pilot.pause(0.05)
        await pilot.pause(0.3)
        await pilot.wait_for_animation()
        for widget in screen.query(Input):
            widget.cursor_blink = False

    assert snap_compare(app, terminal_size=size, run_before=walk)

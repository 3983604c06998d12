"""Links that cannot reach anyone: an emailed link on a loopback address opens only on
the service's own computer. The answer says so, the portal shows it, and
`relportal serve` says it once at start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from journey.links import LOOPBACK_NOTICE
from journey.settings import ServiceSettings
from screens.portal import PortalScreen
from tests.support.portal import started, until
from tests.support.service import Service
from tui.app import RelportalApp
from tui.client import embedded_client

LOOPBACK = {"public_url": "http://127.0.0.1:8765"}


async def _email(svc: Service, rel_id: str) -> dict[str, Any]:
    response = await svc.post(
        f"/v1/relationships/{rel_id}/requests",
        json={"data_types": ["financials"], "delivery": "email"},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.mark.parametrize("settings", [LOOPBACK], indirect=True)
async def test_an_emailed_loopback_link_comes_with_the_notice(svc: Service) -> None:
    company = await svc.company()
    sent = await _email(svc, company["id"])
    assert sent["notice"] == LOOPBACK_NOTICE
    resent = await svc.post(
        f"/v1/requests/{sent['request']['id']}/resend", json={"delivery": "email"}
    )
    assert resent.status_code == 200, resent.text
    assert resent.json()["notice"] == LOOPBACK_NOTICE
    # A copied link is for this computer's browser (the embedded portal serves it).
    copied = await svc.post(
        f"/v1/relationships/{company['id']}/requests",
        json={"data_types": ["financials"], "delivery": "link"},
    )
    assert "notice" not in copied.json()


@pytest.mark.parametrize("settings", [{"public_url": "https://bank.example"}], indirect=True)
async def test_a_reachable_link_has_no_notice(svc: Service) -> None:
    company = await svc.company()
    assert "notice" not in await _email(svc, company["id"])


async def test_the_portal_warns_when_it_emails_a_loopback_link(tmp_path: Path) -> None:
    from screens.request_form import RequestForm

    settings = ServiceSettings(
        db_path=tmp_path / "portal.db",
        outbox_dir=tmp_path / "outbox",
        public_url="http://localhost:8765",
        demo_companies=20,
        pull_queue_seconds=0.0,
        worker_interval=0.02,
    )
    app = RelportalApp(lambda: embedded_client(settings))
    async with app.run_test(size=(100, 40), notifications=True) as pilot:
        await started(pilot)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RequestForm))
        form = app.screen
        await pilot.click("#email")
        await until(pilot, lambda: form.previewed)
        await pilot.pause(0.2)
        await pilot.click("#email")  # Send
        await until(pilot, lambda: isinstance(app.screen, PortalScreen) and app.screen.is_mounted)
        warnings = [n for n in app._notifications if n.severity == "warning"]
        assert [n.message for n in warnings] == [LOOPBACK_NOTICE]


@pytest.mark.parametrize("public_url", ["", "https://journeys.example.com"])
def test_serve_says_once_at_start_when_links_reach_no_one(tmp_path: Path, public_url: str) -> None:
    from tests.support.serve import Serve

    config = tmp_path / "config.toml"
    config.write_text(f'[service]\npublic_url = "{public_url}"\n' if public_url else "")
    server = Serve(tmp_path / "s.db", "--config", str(config))
    try:
        server.wait_listening()
        log = server.log()
    finally:
        server.stop()
    said = [line for line in log.splitlines() if "only opens on this computer" in line]
    if public_url:
        assert said == []
    else:
        assert said == [
            f"relportal: customer links start with {server.url}, which only opens on this "
            "computer: set [service] public_url to an address your customers can reach "
            "(see docs/deploy.md)"
        ]

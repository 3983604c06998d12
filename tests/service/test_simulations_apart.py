"""Customer simulations live apart from the bank's companies (issue 18, finding 6): never
in lists, counts or the portfolio unless asked for, and they can be cleared."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.service import Service


async def books(svc: Service) -> dict[str, Any]:
    """What the bank's people see: the whole list with its counts, searched, the portfolio."""
    listed = (await svc.get("/v1/relationships?user=all")).json()
    searched = (await svc.get("/v1/relationships?user=all&q=Abra")).json()
    portfolio = (await svc.get("/v1/portfolio?user=all")).json()
    return {
        "ids": [r["id"] for r in listed["items"]],
        "total": listed["total"],
        "counts": listed["counts"],
        "searched": (searched["total"], searched["counts"], len(searched["items"])),
        "portfolio": {k: v for k, v in portfolio.items() if k not in ("generated_at", "period")},
    }


async def test_simulations_stay_out_of_lists_counts_and_the_portfolio(svc: Service) -> None:
    rel = await svc.company()
    await svc.request_link(rel["id"], ["financials"])
    before = await books(svc)
    assert before["total"] == 1

    made = []
    for body in (
        {"company_name": "Abra Kebabra Demo", "data_types": ["spend_analysis"]},
        {"data_types": ["financials"]},
    ):
        response = await svc.post("/v1/simulations", json=body)
        assert response.status_code == 201, response.text
        made.append(response.json())
    # A simulated customer walks a step, which changes its company's status.
    await svc.walk(made[0]["link"].rsplit("/", 1)[-1], ("view_request", {}))

    assert await books(svc) == before
    mine = (await svc.get("/v1/relationships")).json()
    assert all(not r["simulated"] for r in mine["items"])

    simulations = (await svc.get("/v1/relationships?user=all&simulated=true")).json()
    assert {r["id"] for r in simulations["items"]} == {m["relationship_id"] for m in made}
    assert simulations["total"] == 2 and all(r["simulated"] for r in simulations["items"])
    # Still the simulation's own pages work: the company and its request.
    detail = await svc.relationship(made[0]["relationship_id"])
    assert detail["simulated"] is True

    cleared = await svc.delete("/v1/simulations")
    assert cleared.status_code == 200 and cleared.json() == {"removed": 2}
    assert (await svc.get("/v1/relationships?user=all&simulated=true")).json()["total"] == 0
    assert (await svc.get(f"/v1/relationships/{made[0]['relationship_id']}")).status_code == 404
    assert await books(svc) == before


async def test_the_customer_simulations_view_opens_from_the_palette_and_clears(
    tmp_path: Path,
) -> None:
    from textual.command import CommandPalette
    from textual.widgets import Button, DataTable

    from journey.settings import ServiceSettings
    from screens.confirm import Confirm
    from screens.portal import PortalScreen
    from screens.simulations import SimulationsScreen
    from tests.support.portal import started, until
    from tui.app import RelportalApp
    from tui.client import embedded_client

    settings = ServiceSettings(
        db_path=tmp_path / "sims.db",
        outbox_dir=tmp_path / "outbox",
        demo_companies=30,
        pull_queue_seconds=0.0,
        pull_fetch_seconds=0.05,
        worker_interval=0.02,
    )
    app = RelportalApp(lambda: embedded_client(settings))
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        portal = app.screen
        await pilot.press("u")
        before = (await portal.client.get("/v1/relationships", user="all"))["total"]
        made = await portal.client.post(
            "/v1/simulations", {"company_name": "Demo Deli", "data_types": ["financials"]}
        )
        after = await portal.client.get("/v1/relationships", user="all")
        assert after["total"] == before
        assert made["relationship_id"] not in {r["id"] for r in after["items"]}

        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"customer simulations")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SimulationsScreen))
        view = app.screen
        table = view.query_one(DataTable)
        await until(pilot, lambda: table.row_count == 1)
        assert "Demo Deli" in str(table.get_row_at(0)[0])

        await pilot.press("C")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        labels = [str(b.label) for b in app.screen.query(Button)]
        assert labels == ["Keep them", "Clear simulations"]
        await pilot.press("y")
        await until(pilot, lambda: app.screen is view and table.row_count == 0)
        left = await portal.client.get("/v1/relationships", user="all", simulated="true")
        assert left["total"] == 0
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, PortalScreen) and app.screen.is_mounted)

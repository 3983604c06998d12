"""Customer simulations live apart from the bank's companies (issue 18, finding 6): never
in lists, counts or the portfolio unless asked for, and they can be cleared."""

from __future__ import annotations

from typing import Any

from conftest import Service


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

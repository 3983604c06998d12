"""Data the customer already shared stays visible while a new request is open, and a new
request that replaces an open one says so and records it (issue 18, finding 4)."""

from __future__ import annotations

from typing import Any

from tests.support.journeys import connect_with, start
from tests.support.service import Service


async def spend_available(svc: Service) -> tuple[dict[str, Any], dict[str, Any]]:
    """A company whose spend analysis the customer shared through QuickBooks."""
    rel, req, token = await start(svc, ["spend_analysis"])
    await svc.walk(
        token,
        ("view_request", {}),
        ("choose_method", {"method": "connect"}),
        ("choose_entities", {"count": "single"}),
        *connect_with("qhyg"),
    )
    await svc.status_becomes(rel["id"], "Available")

    async def spend_ready() -> bool:
        reports = (await svc.get(f"/v1/relationships/{rel['id']}/reports", "rm")).json()
        return any(
            r["kind"] == "spend_analysis" and r["status"] == "Available" for r in reports["reports"]
        )

    await svc.eventually(spend_ready)
    return rel, req


def reports_by_kind(body: dict[str, Any]) -> dict[str, str]:
    return {r["kind"]: r["status"] for r in body["reports"]}


async def test_a_new_request_keeps_the_data_already_shared(svc: Service) -> None:
    rel, first = await spend_available(svc)
    before = await svc.relationship(rel["id"])
    [entity] = before["entities"]

    made, _ = await svc.request_link(rel["id"], ["financials"])
    detail = await svc.relationship(rel["id"])
    assert detail["status"] == "Requested"
    assert detail["requests"][0]["id"] == made["id"]
    # The entity shared under the first request is still there, with its data.
    [kept] = detail["entities"]
    assert kept["id"] == entity["id"] and kept["earlier"] is True
    assert kept["connection"]["last_sync_at"] == entity["connection"]["last_sync_at"]
    assert [(r["kind"], r["status"]) for r in kept["reports"]] == [("spend_analysis", "Available")]
    reports = (await svc.get(f"/v1/relationships/{rel['id']}/reports", "rm")).json()
    assert reports_by_kind(reports) == {
        "profit_and_loss": "Unavailable",
        "balance_sheet": "Unavailable",
        "spend_analysis": "Available",
    }
    spend = await svc.get(f"/v1/relationships/{rel['id']}/reports/spend_analysis", "rm")
    assert spend.status_code == 200, spend.text
    assert spend.json()["entities"]
    # A completed request is not replaced: it was never open.
    assert detail["requests"][1]["id"] == first["id"]
    assert detail["requests"][1]["superseded_by"] is None


async def test_a_request_replacing_an_open_one_records_which(svc: Service) -> None:
    rel = await svc.company()
    old, old_token = await svc.request_link(rel["id"], ["financials"])
    new, _ = await svc.request_link(rel["id"], ["spend_analysis"])
    detail = await svc.relationship(rel["id"])
    replaced = next(r for r in detail["requests"] if r["id"] == old["id"])
    assert replaced["state"] == "Cancelled"
    assert replaced["superseded_by"] == new["id"]
    cancelled = [e for e in detail["events"] if e["kind"] == "request.cancelled"]
    assert cancelled[-1]["payload"]["superseded_by"] == new["id"]
    assert (await svc.journey(old_token)).status_code == 410

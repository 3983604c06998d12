"""The portfolio view through HTTP: counts, the journey funnel, where customers stop."""

from __future__ import annotations

from tests.support.journeys import CONNECT_XERO, start
from tests.support.service import Service


async def test_the_funnel_counts_each_request_once_per_stage(svc: Service) -> None:
    # Completed with data; opened and stopped at the software list; never opened.
    done, _, token = await start(svc, ["financials"], name="Tea Rex")
    await svc.walk(token, ("view_request", {}), *CONNECT_XERO)
    await svc.status_becomes(done["id"], "Available")
    _, _, token = await start(svc, ["financials"], name="Oh My Cod")
    await svc.walk(token, ("view_request", {}), ("connect", {}))
    # A wrong password twice, then nothing: the sign-in is reached once, not twice.
    _, _, token = await start(svc, ["spend_analysis"], name="Grill Seeker")
    await svc.walk(
        token,
        ("view_request", {}),
        ("choose_method", {"method": "connect"}),
        ("choose_entities", {"count": "single"}),
        ("connect", {}),
        ("select_platform", {"platform": "gbol"}),
        ("consent", {}),
    )
    for _ in range(2):
        await svc.act(token, "authorize", username="demo", password="wrong")
    await start(svc, ["financials", "spend_analysis"], name="Pizza the Action")
    response = await svc.get("/v1/portfolio?user=all")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["requests"] == 4
    assert body["requests_by_data_type"] == {
        "Financials": 2,
        "Financials and spend analysis": 1,
        "Spend analysis": 1,
    }
    funnel = {row["stage"]: row["count"] for row in body["funnel"]}
    assert funnel["sent"] == 4 and funnel["opened"] == 3
    assert funnel["select_platform"] == 3 and funnel["consent"] == 2
    assert funnel["platform_signin"] == 2
    assert (funnel["connected"], funnel["completed"], funnel["data"]) == (1, 1, 1)
    assert [row["stage"] for row in body["funnel"]][:2] == ["sent", "opened"]
    assert body["funnel"][1]["percent_of_sent"] == 75.0
    # The main path first, top-down; the steps only some journeys take after it.
    paths = [row["path"] for row in body["funnel"]]
    assert paths == sorted(paths), paths  # "main" < "side"
    assert {row["stage"] for row in body["funnel"] if row["path"] == "side"} >= {
        "choose_method",
        "entity_count",
    }
    main = [row["count"] for row in body["funnel"] if row["path"] == "main"]
    assert main == sorted(main, reverse=True), main
    stopped = {row["step"]: row["count"] for row in body["stopped_at"]}
    assert stopped == {"select_platform": 1, "platform_signin": 1, "email": 1}
    assert body["median_hours_to_data"] is not None and body["median_hours_to_data"] < 1
    assert body["companies_by_status"]["Available"] == 1
    # Another RM's view: none of these companies are theirs.
    theirs = (await svc.get("/v1/portfolio?user=me", "rm2")).json()
    assert theirs["requests"] == 0 and theirs["funnel"][0]["count"] == 0
    # A period that ended before them: nothing.
    old = (await svc.get("/v1/portfolio?user=all&since=2020-01-01&until=2020-02-01")).json()
    assert old["requests"] == 0
    bad = await svc.get("/v1/portfolio?since=yesterday")
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_since"
    other = (await svc.get("/v1/portfolio?user=all", "other")).json()
    assert other["requests"] == 0  # another organization sees none of it

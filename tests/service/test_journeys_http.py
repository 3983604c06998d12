"""Every customer journey walked end to end over HTTP, and what the RM sees of it.

The customer side uses only the link token; the RM side reads the relationship, the
request and the event log with a bearer token, as the TUI does.
What a journey refuses, and closing, dead links and failures, are in
``test_journey_refusals_http.py``.
"""

from __future__ import annotations

import io

import openpyxl

from journey.template import SUPPLIER_COLUMNS
from tests.support.journeys import (
    BAD_SUPPLIERS,
    CONNECT_XERO,
    DEMO,
    GOOD_SUPPLIERS,
    QUICKBOOKS,
    XERO,
    XLSX,
    actions,
    all_events,
    checked_events,
    connect_with,
    in_order,
    last_seq,
    problem,
    rm_request,
    snapshot,
    start,
    supplier_file,
    timeline,
    view,
)
from tests.support.service import Service

# Financials only: the software connection journey for the company itself


async def test_financials_only_with_xero_becomes_available(svc: Service) -> None:
    start_seq = await last_seq(svc)
    rel, req, token = await start(svc, ["financials"])
    assert (await svc.relationship(rel["id"]))["status"] == "Requested"

    body = await view(svc, token)
    assert body["step"] == "email"
    assert body["view"]["email"]["call_to_action"] == "Securely connect"

    body = await svc.walk(token, ("view_request", {}))
    assert body["step"] == "share_accounting"
    assert body["title"] == "Share your accounting data with Larkspur Bank"
    assert (await svc.relationship(rel["id"]))["status"] == "In progress"

    body = await svc.walk(token, ("connect", {}))
    assert body["step"] == "select_platform"
    assert {"key": "gbol", "name": "Xero"} in body["view"]["platforms"]
    body = await svc.walk(token, ("select_platform", {"platform": "gbol"}))
    assert (body["step"], body["title"]) == ("consent", "Connect to Xero")
    body = await svc.walk(token, ("consent", {}))
    assert (body["step"], body["title"]) == ("platform_signin", "Sign in to Xero")
    assert body["view"]["consent"]["organisation"] == "Abra Kebabra"
    body = await svc.walk(token, ("authorize", DEMO))
    assert body["step"] == "complete"
    assert body["entities"] == [
        {
            "id": body["entities"][0]["id"],
            "name": "Abra Kebabra",
            "state": "linked",
            "platform": "gbol",
        }
    ]

    seen = await svc.status_becomes(rel["id"], "Available")
    assert seen["entities_linked"] == 1
    assert seen["entities_total"] == 1
    assert seen["platforms"] == [XERO]
    assert seen["requested"] == ["financials"]
    assert seen["subsidiaries"] == []

    detail = await rm_request(svc, req["id"])
    assert detail["state"] == "Complete"
    assert detail["step"] == "complete"
    [entity] = detail["entities"]
    assert (entity["name"], entity["is_company"], entity["state"]) == (
        "Abra Kebabra",
        True,
        "linked",
    )
    assert entity["connection"]["status"] == "Linked"
    assert entity["connection"]["platform"] == XERO
    assert [p["status"] for p in entity["connection"]["pulls"]] == ["Complete"]
    assert {r["kind"]: r["status"] for r in entity["reports"]} == {
        "profit_and_loss": "Available",
        "balance_sheet": "Available",
    }

    body = await svc.walk(token, ("close", {}))
    assert body["step"] == "summary"
    assert body["actions"] == []
    assert body["requests"][0]["name"] == "Financials"

    events = await checked_events(svc, start_seq)
    assert timeline(events, req["id"]) == [
        "request.created",
        "status:Abra Kebabra:Requested",
        "request.opened",
        "action:view_request",
        "status:Abra Kebabra:In progress",
        "action:connect",
        "action:select_platform",
        "entity.created",
        "connection.pending",
        "action:consent",
        "connection.linked",
        "pull:Queued",
        "request.completed",
        "action:authorize",
        "pull:Fetching",
        "pull:Complete",
        "status:Abra Kebabra:Available",
        "action:close",
    ]
    # "Last updated" beside the status is the time of the event that changed it.
    changes = [
        e
        for e in events
        if e["kind"] == "relationship.status_changed" and e["relationship_id"] == rel["id"]
    ]
    assert [e["payload"]["to"] for e in changes] == ["Requested", "In progress", "Available"]
    assert (await svc.relationship(rel["id"]))["status_at"] == changes[-1]["at"]
    # The request's own timeline on the RM side is the same events.
    rm_seqs = [e["seq"] for e in (await rm_request(svc, req["id"]))["events"]]
    assert rm_seqs == [e["seq"] for e in events if e["request_id"] == req["id"]]


# Spend analysis only


async def test_spend_only_single_entity_via_connect(svc: Service) -> None:
    rel, req, token = await start(svc, ["spend_analysis"])
    body = await view(svc, token)
    assert body["view"]["email"]["call_to_action"] == "View request"

    body = await svc.walk(token, ("view_request", {}))
    assert body["step"] == "choose_method"
    labels = {c["value"]: c["label"] for c in body["actions"][0]["choices"]}
    assert labels == {"upload": "Upload file manually", "connect": "Connect platform"}

    body = await svc.walk(token, ("choose_method", {"method": "connect"}))
    assert body["step"] == "entity_count"
    body = await svc.walk(token, ("choose_entities", {"count": "single"}))
    assert body["step"] == "share_accounting"
    body = await svc.walk(token, *connect_with("qhyg"))
    assert body["step"] == "complete"

    seen = await svc.status_becomes(rel["id"], "Available")
    assert (seen["entities_linked"], seen["entities_total"]) == (1, 1)
    assert seen["platforms"] == [QUICKBOOKS]
    assert seen["subsidiaries"] == []
    [entity] = (await rm_request(svc, req["id"]))["entities"]
    assert entity["name"] == "Abra Kebabra" and entity["is_company"] is True
    assert entity["connection"]["status"] == "Linked"
    assert [r["kind"] for r in entity["reports"]] == ["spend_analysis"]


async def test_spend_only_three_entities_on_two_platforms(svc: Service) -> None:
    start_seq = await last_seq(svc)
    rel, req, token = await start(svc, ["spend_analysis"])
    await svc.walk(
        token,
        ("view_request", {}),
        ("choose_method", {"method": "connect"}),
    )
    body = await svc.walk(token, ("choose_entities", {"count": "multiple"}))
    assert body["step"] == "entity_name"
    assert body["title"] == "Which legal entity of Abra Kebabra are you linking?"
    assert body["view"]["field"]["max_length"] == 100

    plan = [("North", "gbol"), ("South", "qhyg"), ("East", "gbol")]
    for index, (name, platform) in enumerate(plan):
        if index:
            body = await svc.walk(token, ("add_entity", {}))
            assert body["step"] == "entity_name"
        body = await svc.walk(token, ("name_entity", {"name": name}))
        assert body["step"] == "share_accounting"
        assert body["view"]["entity"] == name
        assert actions(body) == ["connect", "close"]
        body = await svc.walk(token, *connect_with(platform))
        assert body["step"] == "entities"
        assert [(e["name"], e["state"], e["platform"]) for e in body["entities"]] == [
            (n, "linked", p) for n, p in plan[: index + 1]
        ]
    body = await svc.walk(token, ("finish", {}))
    assert body["step"] == "complete"

    parent = await svc.status_becomes(rel["id"], "Available")
    assert (parent["entities_linked"], parent["entities_total"]) == (3, 3)
    assert parent["platforms"] == [XERO, QUICKBOOKS]
    subsidiaries = {s["name"]: s for s in parent["subsidiaries"]}
    assert set(subsidiaries) == {
        "Abra Kebabra - North",
        "Abra Kebabra - South",
        "Abra Kebabra - East",
    }
    for name, platform in plan:
        child = await svc.status_becomes(subsidiaries[f"Abra Kebabra - {name}"]["id"], "Available")
        assert child["parent_id"] == rel["id"]
        assert (child["entities_linked"], child["entities_total"]) == (1, 1)
        assert [p["key"] for p in child["platforms"]] == [platform]
        assert child["subsidiaries"] == []

    detail = await rm_request(svc, req["id"])
    assert [(e["name"], e["is_company"]) for e in detail["entities"]] == [
        ("North", False),
        ("South", False),
        ("East", False),
    ]
    assert all(e["connection"]["pulls"][0]["status"] == "Complete" for e in detail["entities"])

    # The RM's list shows the subsidiaries as their own rows, beside the parent.
    listing = (await svc.get("/v1/relationships", params={"user": "all", "q": "Abra"})).json()
    assert listing["total"] == 4

    events = await checked_events(svc, start_seq)
    labels = timeline(events, req["id"])
    assert labels.count("request.completed") == 1
    assert labels.count("connection.linked") == 3
    assert labels.count("relationship.created") == 3
    assert labels.count("action:finish") == 1
    assert in_order(
        [
            "action:choose_entities",
            "relationship.created",
            "entity.created",
            "action:name_entity",
            "status:Abra Kebabra - North:In progress",
            "connection.linked",
            "action:add_entity",
            "action:name_entity",
            "action:add_entity",
            "action:name_entity",
            "request.completed",
            "action:finish",
        ],
        labels,
    )
    assert labels.index("status:Abra Kebabra:Available") > labels.index("request.completed")


async def test_changing_to_multiple_entities_after_consent(svc: Service) -> None:
    """The customer picks a single entity, reaches the platform's sign-in (the company's own
    entity now exists, connection pending), goes back and picks multiple legal entities.
    With no subsidiary named yet, Back must return to the entity count. (It leads to "Your
    legal entities" listing only the abandoned company entity, whose Finish completes the
    request with nothing linked: the RM then sees In progress, 0 of 1 linked, for ever.)"""
    _, _, token = await start(svc, ["spend_analysis"])
    await svc.walk(
        token,
        ("view_request", {}),
        ("choose_method", {"method": "connect"}),
        ("choose_entities", {"count": "single"}),
        *CONNECT_XERO[:3],
    )
    body = await svc.walk(token, ("back", {}), ("back", {}), ("back", {}), ("back", {}))
    assert body["step"] == "entity_count"
    body = await svc.walk(token, ("choose_entities", {"count": "multiple"}))
    assert body["step"] == "entity_name"
    body = await svc.walk(token, ("back", {}))
    assert body["step"] == "entity_count"
    assert "finish" not in actions(body)


async def test_financials_and_spend_skip_the_spend_only_steps(svc: Service) -> None:
    rel, req, token = await start(svc, ["financials", "spend_analysis"])
    body = await svc.walk(token, ("view_request", {}))
    assert body["step"] == "share_accounting"
    assert actions(body) == ["connect", "close"]
    steps = []
    for action, params in CONNECT_XERO:
        steps.append((await svc.walk(token, (action, params)))["step"])
    assert steps == ["select_platform", "consent", "platform_signin", "complete"]
    seen = await svc.status_becomes(rel["id"], "Available")
    assert seen["requested"] == ["financials", "spend_analysis"]
    assert (seen["entities_linked"], seen["entities_total"]) == (1, 1)
    [entity] = (await rm_request(svc, req["id"]))["entities"]
    assert [r["kind"] for r in entity["reports"]] == [
        "profit_and_loss",
        "balance_sheet",
        "spend_analysis",
    ]
    events = (await rm_request(svc, req["id"]))["events"]
    visited = {e["payload"]["to"] for e in events if e["kind"] == "journey.action"}
    assert visited.isdisjoint({"choose_method", "manual_upload", "entity_count", "entity_name"})


# Manual upload


async def test_manual_upload_bad_file_then_good_file(svc: Service) -> None:
    start_seq = await last_seq(svc)
    rel, req, token = await start(svc, ["spend_analysis"])
    await svc.walk(token, ("view_request", {}))

    # Not yet at the upload step: refused before the file is read.
    early = await svc.base.post(
        f"/v1/journeys/{token}/uploads",
        files={"file": ("suppliers.xlsx", b"PK whatever", XLSX)},
    )
    problem(early, 409, "action_not_allowed")

    body = await svc.walk(token, ("choose_method", {"method": "upload"}))
    assert body["step"] == "manual_upload"
    assert "upload" in actions(body)
    assert body["view"]["template"]["filename"] == "supplier-information-template.xlsx"

    template = await svc.base.get(f"/v1/journeys/{token}/template")
    assert template.status_code == 200
    assert template.headers["content-type"] == XLSX
    assert "supplier-information-template.xlsx" in template.headers["content-disposition"]
    assert template.content[:2] == b"PK"
    sheet = openpyxl.load_workbook(io.BytesIO(template.content))["Suppliers"]
    assert [c.value for c in sheet[1]] == [c.header for c in SUPPLIER_COLUMNS]

    before = await snapshot(svc, token, req["id"])
    seq_before = await last_seq(svc)
    bad = await svc.base.post(
        f"/v1/journeys/{token}/uploads",
        files={"file": ("suppliers.xlsx", supplier_file(BAD_SUPPLIERS, template.content), XLSX)},
    )
    rejected = problem(bad, 422, "upload_rejected")
    where = {(e["row"], e["column"]) for e in rejected["errors"]}
    assert where == {
        (2, "Country"),
        (2, "Annual spend"),
        (3, "Payment terms (days)"),
        (3, "Preferred payment method"),
    }
    assert all(e["message"] for e in rejected["errors"])
    assert "Row 2" in rejected["detail"]
    # Nothing changed (same step, no entity, same status) but the attempt is kept:
    # one journey action, with why it failed, for the transcript and the timeline.
    after = await snapshot(svc, token, req["id"])
    assert after == {**before, "journey_actions": before["journey_actions"] + 1}
    assert (await rm_request(svc, req["id"]))["entities"] == []
    attempt = (await all_events(svc, seq_before))[-1]
    assert attempt["kind"] == "journey.action"
    assert attempt["payload"]["error"] == "upload_rejected"
    assert attempt["payload"]["answer"]["problems"] == len(rejected["errors"])
    assert (await svc.relationship(rel["id"]))["status"] == "In progress"

    good = await svc.base.post(
        f"/v1/journeys/{token}/uploads",
        files={"file": ("suppliers.xlsx", supplier_file(GOOD_SUPPLIERS, template.content), XLSX)},
    )
    assert good.status_code == 200, good.text
    body = good.json()
    assert body["step"] == "complete"
    assert [(e["name"], e["state"]) for e in body["entities"]] == [("Abra Kebabra", "uploaded")]

    seen = await svc.status_becomes(rel["id"], "Available")
    assert (seen["entities_linked"], seen["entities_total"]) == (1, 1)
    assert seen["platforms"] == []
    [entity] = (await rm_request(svc, req["id"]))["entities"]
    assert entity["is_company"] is True
    assert entity["connection"] is None
    [upload] = entity["uploads"]
    assert (upload["filename"], upload["rows"], upload["status"]) == (
        "suppliers.xlsx",
        2,
        "Processed",
    )
    assert entity["reports"][0] == {**entity["reports"][0], "status": "Available"}

    events = await checked_events(svc, start_seq)
    labels = timeline(events, req["id"])
    assert in_order(
        [
            "action:choose_method",
            "entity.created",
            "upload.accepted",
            "request.completed",
            "action:upload",
            "status:Abra Kebabra:Uploaded",
            "upload.processed",
            "status:Abra Kebabra:Available",
        ],
        labels,
    )
    assert labels.count("upload.accepted") == 1


async def test_upload_back_returns_to_the_choice(svc: Service) -> None:
    _, _, token = await start(svc, ["spend_analysis"])
    await svc.walk(token, ("view_request", {}), ("choose_method", {"method": "upload"}))
    body = await svc.walk(token, ("back", {}))
    assert body["step"] == "choose_method"
    body = await svc.walk(token, ("choose_method", {"method": "connect"}))
    assert body["step"] == "entity_count"

"""Every customer journey walked end to end over HTTP, and what the RM sees of it.

The customer side uses only the link token; the RM side reads the relationship, the
request and the event log with a bearer token, as the TUI does.
"""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from conftest import ALL_FEATURES, Service, fast_settings, set_features

from journey import customer
from journey.events import EventHub
from journey.storage.base import Committed
from journey.storage.sqlite import SQLiteStore
from journey.template import SUPPLIER_COLUMNS
from journey.worker import Worker

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DEMO = {"username": "demo", "password": "demo"}
XERO = {"key": "gbol", "name": "Xero"}
QUICKBOOKS = {"key": "qhyg", "name": "QuickBooks Online"}

# Every action a client may post to /actions (an upload has its own endpoint).
POSTABLE = [
    "view_request",
    "choose_method",
    "choose_entities",
    "name_entity",
    "connect",
    "select_platform",
    "consent",
    "authorize",
    "deny",
    "add_entity",
    "finish",
    "back",
    "close",
    "resume",
]
# Plausible values, so that a refusal is about the step and not about a missing value.
SOME_PARAMS: dict[str, dict[str, Any]] = {
    "choose_method": {"method": "connect"},
    "choose_entities": {"count": "single"},
    "name_entity": {"name": "Somewhere Ltd"},
    "select_platform": {"platform": "gbol"},
    "authorize": DEMO,
}
# How the refusal names each step.
TITLES = {
    "email": "Email",
    "choose_method": "Provide supplier information",
    "manual_upload": "Manual upload",
    "entity_count": "How complex is your organization?",
    "entity_name": "Which legal entity are you linking?",
    "share_accounting": "Share your accounting data",
    "select_platform": "Select your accounting software",
    "consent": "Connect to your accounting software",
    "platform_signin": "Sign in to your accounting software",
    "entities": "Your legal entities",
    "complete": "Information request complete!",
    "summary": "Requests",
}

CONNECT_XERO = (
    ("connect", {}),
    ("select_platform", {"platform": "gbol"}),
    ("consent", {}),
    ("authorize", DEMO),
)


def connect_with(platform: str) -> tuple[tuple[str, dict[str, Any]], ...]:
    return (
        ("connect", {}),
        ("select_platform", {"platform": platform}),
        ("consent", {}),
        ("authorize", DEMO),
    )


# Helpers


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert an RFC 9457 problem document and return it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert {"type", "title", "status", "detail", "code"} <= body.keys()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(code)
    assert body["title"] and body["detail"].strip()
    return body


def actions(body: dict[str, Any]) -> list[str]:
    return [a["action"] for a in body["actions"]]


async def view(svc: Service, token: str) -> dict[str, Any]:
    response = await svc.journey(token)
    assert response.status_code == 200, response.text
    return response.json()


async def rm_request(svc: Service, req_id: str) -> dict[str, Any]:
    response = await svc.get(f"/v1/requests/{req_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def last_seq(svc: Service) -> int:
    return (await svc.get("/v1/events", params={"limit": 1000})).json()["last_seq"]


async def all_events(svc: Service, after: int = 0) -> list[dict[str, Any]]:
    """The event log read in small pages, as a live client resumes it."""
    events: list[dict[str, Any]] = []
    while True:
        page = (await svc.get("/v1/events", params={"after": after, "limit": 7})).json()
        if not page["events"]:
            assert page["last_seq"] == after
            return events
        events.extend(page["events"])
        after = page["last_seq"]
        assert after == page["events"][-1]["seq"]


async def checked_events(svc: Service, after: int = 0) -> list[dict[str, Any]]:
    """Events in order, with increasing seq, each exactly once, whatever the page size."""
    paged = await all_events(svc, after)
    seqs = [e["seq"] for e in paged]
    assert seqs == sorted(set(seqs)), "events out of order or repeated"
    whole = (await svc.get("/v1/events", params={"after": after, "limit": 1000})).json()
    assert [e["seq"] for e in whole["events"]] == seqs
    return paged


def timeline(events: list[dict[str, Any]], req_id: str) -> list[str]:
    """A request's events as short labels a person can read."""
    out = []
    for e in events:
        if e["request_id"] != req_id:
            continue
        payload = e["payload"]
        if e["kind"] == "journey.action":
            out.append(f"action:{payload['action']}")
        elif e["kind"] == "relationship.status_changed":
            out.append(f"status:{payload['name']}:{payload['to']}")
        elif e["kind"] == "pull.status":
            out.append(f"pull:{payload['status']}")
        else:
            out.append(e["kind"])
    return out


def in_order(needles: list[str], haystack: list[str]) -> bool:
    it = iter(haystack)
    return all(any(n == h for h in it) for n in needles)


async def snapshot(svc: Service, token: str, req_id: str) -> dict[str, Any]:
    """What must not change when an action is refused."""
    body = await view(svc, token)
    req = await rm_request(svc, req_id)
    return {
        "step": body["step"],
        "closed": body["closed"],
        "actions": actions(body),
        "error": body["error"],
        "entities": [(e["name"], e["state"]) for e in body["entities"]],
        "rm_step": req["step"],
        "version": req["version"],
        "journey_actions": sum(e["kind"] == "journey.action" for e in req["events"]),
    }


async def refuses_everything_else(
    svc: Service, token: str, req_id: str, step: str, allowed: list[str], *, closed: bool = False
) -> None:
    """At this step exactly ``allowed`` is offered; every other action is a 409."""
    before = await snapshot(svc, token, req_id)
    assert before["step"] == step
    assert before["closed"] is closed
    assert before["actions"] == allowed
    for action in POSTABLE:
        if action in allowed:
            continue
        response = await svc.act(token, action, **SOME_PARAMS.get(action, {}))
        body = problem(response, 409, "action_not_allowed")
        assert body["title"] == "Conflict"
        assert TITLES[step] in body["detail"], body["detail"]
        for name in allowed:
            if name != "upload":
                assert name in body["detail"], body["detail"]
        if not allowed:
            assert "Nothing more can be done" in body["detail"]
    assert await snapshot(svc, token, req_id) == before


async def start(
    svc: Service, data_types: list[str], **company: Any
) -> tuple[dict[str, Any], dict[str, Any], str]:
    rel = await svc.company(**company)
    req, token = await svc.request_link(rel["id"], data_types)
    return rel, req, token


def supplier_file(rows: list[dict[str, Any]], template: bytes) -> bytes:
    """The downloaded template, filled in with ``rows`` (keys are template column keys)."""
    workbook = openpyxl.load_workbook(io.BytesIO(template))
    sheet = workbook["Suppliers"]
    for row in rows:
        sheet.append([row.get(column.key) for column in SUPPLIER_COLUMNS])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


GOOD_SUPPLIERS = [
    {
        "supplier_name": "Pitta Bakery Ltd",
        "registration_number": "GB123456789",
        "country": "GB",
        "currency": "GBP",
        "annual_spend": 48250.5,
        "payment_terms_days": 30,
        "preferred_payment_method": "BankTransfer",
        "contact_email": "accounts@pitta.example",
        "category": "Bread",
    },
    {
        "supplier_name": "Garlic Sauce GmbH",
        "country": "DE",
        "currency": "EUR",
        "annual_spend": 12000,
        "payment_terms_days": 14,
        "preferred_payment_method": "Cheque",
    },
]
BAD_SUPPLIERS = [
    {
        "supplier_name": "Nowhere Ltd",
        "country": "ZZ",
        "currency": "GBP",
        "annual_spend": -5,
        "payment_terms_days": 30,
        "preferred_payment_method": "BankTransfer",
    },
    {
        "supplier_name": "Late Payers plc",
        "country": "GB",
        "currency": "GBP",
        "annual_spend": 100,
        "payment_terms_days": 400,
        "preferred_payment_method": "Carrier pigeon",
    },
]


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


# Platform refusals


async def test_deny_at_the_platform_then_connect(svc: Service) -> None:
    rel, req, token = await start(svc, ["financials"])
    await svc.walk(
        token,
        ("view_request", {}),
        ("connect", {}),
        ("select_platform", {"platform": "gbol"}),
        ("consent", {}),
    )
    body = await svc.walk(token, ("deny", {}))
    assert body["step"] == "select_platform"
    assert body["error"]["code"] == "access_denied"
    assert "Xero" in body["error"]["message"]
    assert [e["state"] for e in body["entities"]] == ["denied"]

    seen = await svc.relationship(rel["id"])
    assert seen["status"] == "Error"
    assert (seen["entities_linked"], seen["entities_total"]) == (0, 1)

    body = await svc.walk(token, ("select_platform", {"platform": "gbol"}))
    assert body["error"] is None
    body = await svc.walk(token, ("consent", {}), ("authorize", DEMO))
    assert body["step"] == "complete"
    seen = await svc.status_becomes(rel["id"], "Available")
    assert (seen["entities_linked"], seen["entities_total"]) == (1, 1)
    assert seen["platforms"] == [XERO]
    kinds = [e["kind"] for e in (await rm_request(svc, req["id"]))["events"]]
    assert kinds.count("connection.denied") == 1
    assert kinds.count("connection.linked") == 1


async def test_wrong_password_then_right(svc: Service) -> None:
    rel, req, token = await start(svc, ["financials"])
    await svc.walk(
        token,
        ("view_request", {}),
        ("connect", {}),
        ("select_platform", {"platform": "gbol"}),
        ("consent", {}),
    )
    body = await svc.walk(token, ("authorize", {"username": "demo", "password": "hunter2"}))
    assert body["step"] == "platform_signin"
    assert body["error"] == {
        "code": "wrong_credentials",
        "message": "Your email or password is incorrect.",
    }
    assert (await svc.relationship(rel["id"]))["status"] == "In progress"
    events = (await rm_request(svc, req["id"]))["events"]
    assert [e["kind"] for e in events].count("connection.signin_failed") == 1
    assert all("hunter2" not in str(e["payload"]) for e in events)

    missing = await svc.act(token, "authorize", username="demo")
    problem(missing, 422, "credentials_missing")

    body = await svc.walk(token, ("authorize", DEMO))
    assert body["step"] == "complete"
    assert body["error"] is None
    await svc.status_becomes(rel["id"], "Available")


# Close and resume


async def test_close_and_resume_at_the_same_step(svc: Service) -> None:
    rel, _, token = await start(svc, ["financials"])
    await svc.walk(token, ("view_request", {}), ("connect", {}))
    body = await svc.walk(token, ("close", {}))
    assert body["step"] == "select_platform"
    assert body["closed"] is True
    assert actions(body) == ["resume"]
    assert body["notice"]

    # Later, the same link: still closed where it stopped.
    body = await view(svc, token)
    assert (body["step"], body["closed"], actions(body)) == ("select_platform", True, ["resume"])
    assert (await svc.relationship(rel["id"]))["status"] == "In progress"
    refused = await svc.act(token, "select_platform", platform="gbol")
    assert "resume" in problem(refused, 409, "action_not_allowed")["detail"]

    body = await svc.walk(token, ("resume", {}))
    assert (body["step"], body["closed"]) == ("select_platform", False)
    assert actions(body) == ["select_platform", "back", "close"]
    body = await svc.walk(token, ("select_platform", {"platform": "gbol"}), ("consent", {}))
    body = await svc.walk(token, ("authorize", DEMO))
    assert body["step"] == "complete"
    await svc.status_becomes(rel["id"], "Available")


async def test_every_answer_to_an_action_is_what_the_link_then_shows(svc: Service) -> None:
    """An action's answer is built from what it wrote (a step that only moves the
    journey skips re-reading it): it must equal a fresh read of the same link, and
    moving between steps must leave the company's status and its time alone."""
    rel, _, token = await start(svc, ["financials"])
    await svc.walk(token, ("view_request", {}))
    before = await svc.relationship(rel["id"])
    steps = [
        ("connect", {}),
        ("select_platform", {"platform": "gbol"}),
        ("back", {}),
        ("close", {}),
        ("resume", {}),
        ("select_platform", {"platform": "mqjo"}),
        ("consent", {}),
    ]
    for action, params in steps:
        answered = await svc.walk(token, (action, params))
        assert answered == await view(svc, token), action
    after = await svc.relationship(rel["id"])
    assert (after["status"], after["status_at"]) == (before["status"], before["status_at"])
    events = (await svc.relationship(rel["id"]))["events"]
    moves = [e["payload"]["action"] for e in events if e["kind"] == "journey.action"]
    assert moves == ["view_request", *(action for action, _ in steps)]


def other_tab(svc: Service, token: str, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` taken on the same link in another process (another store on the
    file), as the customer's other tab would; that action's answer."""
    other_process = SQLiteStore(svc.settings.db_path, readers=1)
    try:
        answer: dict[str, Any] = other_process.write_sync(
            lambda other: customer.act(other, token, body)
        )
        return answer
    finally:
        other_process.close()


async def test_a_step_after_the_other_tabs_starts_where_that_left_the_journey(
    svc: Service,
) -> None:
    """Each action is decided and written in one write transaction: after another
    process takes the customer's other tab's "back", this tab's "back" is decided
    from where that left the journey, and neither step is lost."""
    _, req, token = await start(svc, ["financials"])
    await svc.walk(token, ("view_request", {}), *CONNECT_XERO[:2])  # at consent
    overtaken = other_tab(svc, token, {"action": "back"})
    answered = await svc.walk(token, ("back", {}))
    assert overtaken["step"] == "select_platform"
    assert answered["step"] == "share_accounting"
    assert answered == await view(svc, token)
    events = (await rm_request(svc, req["id"]))["events"]
    moves = [
        (e["payload"]["action"], e["payload"]["from"], e["payload"]["to"])
        for e in events
        if e["kind"] == "journey.action"
    ]
    assert moves[-2:] == [
        ("back", "consent", "select_platform"),
        ("back", "select_platform", "share_accounting"),
    ]


async def test_a_step_the_other_tab_made_impossible_is_refused(svc: Service) -> None:
    """Choosing a platform, shown at that step, after the other tab's "back": the
    step that left offers no platforms, so the choice is refused and writes nothing."""
    _, req, token = await start(svc, ["financials"])
    await svc.walk(token, ("view_request", {}), *CONNECT_XERO[:1])  # at select_platform
    overtaken = other_tab(svc, token, {"action": "back"})
    refused = await svc.act(token, "select_platform", platform="gbol")
    problem(refused, 409, "action_not_allowed")
    assert (await view(svc, token))["step"] == overtaken["step"] == "share_accounting"
    events = (await rm_request(svc, req["id"]))["events"]
    moves = [e["payload"]["action"] for e in events if e["kind"] == "journey.action"]
    assert moves[-2:] == ["connect", "back"]


# Links that stop working


async def test_expired_link(svc: Service) -> None:
    rel, req, token = await start(svc, ["financials"])
    await svc.walk(token, ("view_request", {}), ("connect", {}))

    problem(await svc.post(f"/v1/requests/{req['id']}/expire", "rm"), 403, "forbidden")
    response = await svc.post(f"/v1/requests/{req['id']}/expire", "support")
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "Expired"

    gone = problem(await svc.journey(token), 410, "link_expired")
    assert "expired" in gone["detail"]
    problem(await svc.act(token, "select_platform", platform="gbol"), 410, "link_expired")
    problem(await svc.base.get(f"/v1/journeys/{token}/template"), 410, "link_expired")

    seen = await svc.relationship(rel["id"])
    assert seen["status"] == "Expired"
    assert (await rm_request(svc, req["id"]))["state"] == "Expired"


async def test_cancelled_link(svc: Service) -> None:
    rel, req, token = await start(svc, ["financials"])
    await svc.walk(token, ("view_request", {}))
    response = await svc.post(f"/v1/requests/{req['id']}/cancel")
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "Cancelled"

    problem(await svc.journey(token), 410, "link_revoked")
    problem(await svc.act(token, "connect"), 410, "link_revoked")
    seen = await svc.relationship(rel["id"])
    assert seen["status"] is None
    assert seen["status_label"] == "—"


async def test_resend_revokes_the_old_link_and_resumes_at_the_same_step(svc: Service) -> None:
    rel, req, token = await start(svc, ["financials"])
    await svc.walk(
        token,
        ("view_request", {}),
        ("connect", {}),
        ("select_platform", {"platform": "gbol"}),
    )
    response = await svc.post(f"/v1/requests/{req['id']}/resend", json={"delivery": "link"})
    assert response.status_code == 200, response.text
    new_token = response.json()["link"].rsplit("/j/", 1)[1]
    assert new_token != token

    problem(await svc.journey(token), 410, "link_revoked")
    problem(await svc.act(token, "consent"), 410, "link_revoked")
    body = await view(svc, new_token)
    assert body["step"] == "consent"
    assert body["title"] == "Connect to Xero"
    assert (await svc.relationship(rel["id"]))["status"] == "In progress"

    body = await svc.walk(new_token, ("consent", {}), ("authorize", DEMO))
    assert body["step"] == "complete"
    await svc.status_becomes(rel["id"], "Available")
    kinds = [e["kind"] for e in (await rm_request(svc, req["id"]))["events"]]
    assert kinds.count("request.resent") == 1
    assert kinds.count("request.opened") == 1


# Organization features


async def test_without_manual_upload_spend_starts_at_entity_count(svc: Service) -> None:
    await set_features(svc, ["copy_link", "multi_entity"])
    rel, _, token = await start(svc, ["spend_analysis"])
    body = await svc.walk(token, ("view_request", {}))
    assert body["step"] == "entity_count"
    assert actions(body) == ["choose_entities", "close"]
    body = await svc.walk(token, ("choose_entities", {"count": "single"}))
    assert body["step"] == "share_accounting"
    assert actions(body) == ["connect", "back", "close"]
    body = await svc.walk(token, *CONNECT_XERO)
    assert body["step"] == "complete"
    await svc.status_becomes(rel["id"], "Available")


async def test_without_multi_entity_connect_goes_straight_to_sharing(svc: Service) -> None:
    await set_features(svc, ["copy_link", "manual_upload"])
    rel, _, token = await start(svc, ["spend_analysis"])
    body = await svc.walk(token, ("view_request", {}))
    assert body["step"] == "choose_method"
    body = await svc.walk(token, ("choose_method", {"method": "connect"}))
    assert body["step"] == "share_accounting"
    assert actions(body) == ["connect", "back", "close"]
    body = await svc.walk(token, ("back", {}))
    assert body["step"] == "choose_method"
    body = await svc.walk(token, ("choose_method", {"method": "connect"}), *CONNECT_XERO)
    assert body["step"] == "complete"
    seen = await svc.status_becomes(rel["id"], "Available")
    assert seen["subsidiaries"] == []


async def test_without_upload_and_multi_entity_spend_is_a_plain_connection(svc: Service) -> None:
    await set_features(svc, ["copy_link"])
    rel, _, token = await start(svc, ["spend_analysis"])
    body = await svc.walk(token, ("view_request", {}))
    assert body["step"] == "share_accounting"
    assert actions(body) == ["connect", "close"]
    body = await svc.walk(token, *CONNECT_XERO)
    assert body["step"] == "complete"
    await svc.status_becomes(rel["id"], "Available")


async def test_without_copy_link_a_link_cannot_be_requested(svc: Service) -> None:
    await set_features(svc, ["manual_upload", "multi_entity"])
    me = (await svc.get("/v1/me")).json()
    assert me["features"] == ["manual_upload", "multi_entity"]
    rel = await svc.company()
    response = await svc.post(
        f"/v1/relationships/{rel['id']}/requests",
        json={"data_types": ["financials"], "delivery": "link"},
    )
    problem(response, 403, "feature_disabled")
    assert (await svc.relationship(rel["id"]))["status"] is None
    response = await svc.post(
        f"/v1/relationships/{rel['id']}/requests",
        json={"data_types": ["financials"], "delivery": "email"},
    )
    assert response.status_code == 201, response.text
    assert "link" not in response.json()
    assert (await svc.relationship(rel["id"]))["status"] == "Requested"
    req_id = response.json()["request"]["id"]
    resend = await svc.post(f"/v1/requests/{req_id}/resend", json={"delivery": "link"})
    problem(resend, 403, "feature_disabled")


# Simulated platform failures


async def test_fetch_error_at_the_platform_is_an_error(svc: Service) -> None:
    await set_features(svc, ALL_FEATURES, simulated_failures={"gbol": "FetchError"})
    rel, req, token = await start(svc, ["financials"])
    body = await svc.walk(token, ("view_request", {}), *CONNECT_XERO)
    assert body["step"] == "complete"
    seen = await svc.status_becomes(rel["id"], "Error")
    assert seen["platforms"] == [XERO]
    [entity] = (await rm_request(svc, req["id"]))["entities"]
    assert entity["connection"]["status"] == "Linked"
    [pull] = entity["connection"]["pulls"]
    assert pull["status"] == "FetchError"
    assert pull["error"]
    assert {r["status"] for r in entity["reports"]} == {"Failed"}


async def test_auth_error_at_the_platform_deauthorizes(svc: Service) -> None:
    await set_features(svc, ALL_FEATURES, simulated_failures={"gbol": "AuthError"})
    rel, req, token = await start(svc, ["financials"])
    await svc.walk(token, ("view_request", {}), *CONNECT_XERO)
    await svc.status_becomes(rel["id"], "Deauthorized")
    [entity] = (await rm_request(svc, req["id"]))["entities"]
    assert entity["connection"]["status"] == "Deauthorized"
    assert entity["state"] == "deauthorized"
    assert [p["status"] for p in entity["connection"]["pulls"]] == ["AuthError"]


# Refusals at every reachable step


async def test_every_step_of_the_multi_entity_journey_refuses_other_actions(svc: Service) -> None:
    _, req, token = await start(svc, ["spend_analysis"])

    async def check(step: str, allowed: list[str], closed: bool = False) -> None:
        await refuses_everything_else(svc, token, req["id"], step, allowed, closed=closed)

    await check("email", ["view_request"])
    await svc.walk(token, ("view_request", {}))
    await check("choose_method", ["choose_method", "close"])
    await svc.walk(token, ("choose_method", {"method": "connect"}))
    await check("entity_count", ["choose_entities", "back", "close"])
    await svc.walk(token, ("choose_entities", {"count": "single"}))
    await check("share_accounting", ["connect", "back", "close"])
    await svc.walk(token, ("back", {}), ("choose_entities", {"count": "multiple"}))
    await check("entity_name", ["name_entity", "back", "close"])
    await svc.walk(token, ("name_entity", {"name": "North"}))
    await check("share_accounting", ["connect", "close"])
    await svc.walk(token, ("connect", {}))
    await check("select_platform", ["select_platform", "back", "close"])
    await svc.walk(token, ("select_platform", {"platform": "gbol"}))
    await check("consent", ["consent", "back", "close"])
    await svc.walk(token, ("consent", {}))
    await check("platform_signin", ["authorize", "deny", "back", "close"])
    await svc.walk(token, ("close", {}))
    await check("platform_signin", ["resume"], closed=True)
    await svc.walk(token, ("resume", {}), ("authorize", DEMO))
    await check("entities", ["add_entity", "finish", "close"])
    await svc.walk(token, ("add_entity", {}))
    await check("entity_name", ["name_entity", "back", "close"])
    await svc.walk(token, ("back", {}))
    await check("entities", ["add_entity", "finish", "close"])
    await svc.walk(token, ("finish", {}))
    await check("complete", ["close"])
    await svc.walk(token, ("close", {}))
    await check("summary", [])


async def test_every_step_of_the_upload_and_financials_journeys_refuses_other_actions(
    svc: Service,
) -> None:
    _, req, token = await start(svc, ["spend_analysis"])
    await svc.walk(token, ("view_request", {}), ("choose_method", {"method": "upload"}))
    await refuses_everything_else(
        svc, token, req["id"], "manual_upload", ["upload", "back", "close"]
    )

    rel2 = await svc.company(name="Falafel Fabulous", contact_email="fay@falafel.example")
    req2, token2 = await svc.request_link(rel2["id"], ["financials"])
    await svc.walk(token2, ("view_request", {}))
    await refuses_everything_else(svc, token2, req2["id"], "share_accounting", ["connect", "close"])
    await svc.walk(token2, ("connect", {}), ("select_platform", {"platform": "gbol"}))
    await svc.walk(token2, ("consent", {}), ("deny", {}))
    await refuses_everything_else(
        svc, token2, req2["id"], "select_platform", ["select_platform", "back", "close"]
    )


# Malformed customer requests


async def test_unknown_link_is_not_found(svc: Service) -> None:
    problem(await svc.journey("no-such-token"), 404, "link_not_found")
    problem(await svc.act("no-such-token", "view_request"), 404, "link_not_found")
    problem(await svc.base.get("/v1/journeys/no-such-token/template"), 404, "link_not_found")


async def test_upload_is_not_an_action(svc: Service) -> None:
    _, req, token = await start(svc, ["spend_analysis"])
    await svc.walk(token, ("view_request", {}), ("choose_method", {"method": "upload"}))
    before = await snapshot(svc, token, req["id"])
    body = problem(await svc.act(token, "upload"), 422, "use_upload_endpoint")
    assert "upload" in body["detail"]
    problem(await svc.act(token, "teleport"), 422, "unknown_action")
    assert await snapshot(svc, token, req["id"]) == before


async def test_bad_values_are_422_and_change_nothing(svc: Service) -> None:
    _, req, token = await start(svc, ["spend_analysis"])
    await svc.walk(
        token,
        ("view_request", {}),
        ("choose_method", {"method": "connect"}),
        ("choose_entities", {"count": "multiple"}),
        ("name_entity", {"name": "North"}),
        ("connect", {}),
        ("select_platform", {"platform": "gbol"}),
        ("consent", {}),
        ("authorize", DEMO),
        ("add_entity", {}),
    )
    before = await snapshot(svc, token, req["id"])
    for params, code in [
        ({"name": ""}, "entity_name_missing"),
        ({"name": "x" * 101}, "entity_name_too_long"),
        ({"name": "Bad\u0000name"}, "entity_name_bad"),
        ({"name": "NORTH"}, "entity_name_taken"),
    ]:
        problem(await svc.act(token, "name_entity", **params), 422, code)
    problem(await svc.act(token, "name_entity", colour="red"), 422, "invalid_request")
    assert await snapshot(svc, token, req["id"]) == before
    body = await svc.walk(token, ("name_entity", {"name": "y" * 100}), ("connect", {}))
    problem(await svc.act(token, "select_platform", platform="nope"), 422, "unknown_platform")
    assert body["step"] == "select_platform"


# Shutting the service down
#
# A commit that queues work wakes the background worker, and one with events the event hub.
# Shutting the service down right after one must still stop them. On Python 3.11,
# asyncio.wait_for swallows a cancel that arrives while the awaited Event is already set,
# so their stop() would wait forever.


async def _stops_within(stop: Any, task: asyncio.Task[None] | None, seconds: float) -> bool:
    stopper = asyncio.ensure_future(stop())
    done, _ = await asyncio.wait({stopper}, timeout=seconds)
    if stopper in done:
        return True
    stopper.cancel()  # clean up: a second cancel gets through
    assert task is not None
    task.cancel()
    await asyncio.gather(task, stopper, return_exceptions=True)
    return False


async def test_worker_stops_right_after_a_customer_action(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path, db_path=tmp_path / "worker.db", worker_interval=30.0)
    store = SQLiteStore(settings.db_path)
    worker = Worker(store, settings)
    worker.start()
    await asyncio.sleep(0.1)  # the worker has looked for work and waits for a poke
    worker.poke()  # what a commit that queued a data pull does
    stopped = await _stops_within(worker.stop, worker._task, 1.0)
    store.close()
    assert stopped, "Worker.stop() did not return after a poke"


async def test_event_hub_stops_right_after_a_commit(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "hub.db")
    hub = EventHub(store)
    await hub.start()
    await asyncio.sleep(0.1)  # the hub waits for a commit
    hub.committed(Committed(newest_event=1))  # what the store calls after a commit
    await asyncio.sleep(0)  # the commit's wake-up reaches the event loop
    stopped = await _stops_within(hub.stop, hub._task, 1.0)
    store.close()
    assert stopped, "EventHub.stop() did not return after a commit"


# Commits tell the background worker and the event hub what they did


@pytest.mark.parametrize(
    "settings", [{"worker_interval": 30.0, "pull_fetch_seconds": 0.0}], indirect=True
)
async def test_a_linked_connection_wakes_the_worker_at_once(svc: Service) -> None:
    """The worker looks for work only every 30 s here: the data pull the link queued
    completes long before, because the commit that queued it woke the worker."""
    rel, _, token = await start(svc, ["financials"])
    began = time.monotonic()
    await svc.walk(token, ("view_request", {}), *CONNECT_XERO)
    while (await svc.relationship(rel["id"]))["status"] != "Available":
        assert time.monotonic() - began < 5, "the pull never ran: the worker was not woken"
        await asyncio.sleep(0.02)


async def test_the_event_hub_reads_nothing_while_nobody_waits(svc: Service) -> None:
    """A commit tells the hub its newest event; the hub polls the database (for other
    processes' events) only while a long-poll waits."""
    hub = svc.app.state.ctx.hub
    store = hub.store
    reads = 0

    class Counted:
        """The store, counting the hub's reads."""

        async def read(self, fn: Any) -> Any:
            nonlocal reads
            reads += 1
            return await store.read(fn)

        def data_version(self) -> int | None:
            return store.data_version()  # not a read: SQLite's shared memory

    hub.store = Counted()
    try:
        head = await last_seq(svc)
        reads = 0
        for number in range(5):
            await svc.company(name=f"Quiet Company {number}")
        await asyncio.sleep(0.3)
        assert reads == 0
        assert hub.latest > head  # told, not read
        # A long-poll is answered by the commit that follows it, at once.
        waiting = asyncio.create_task(
            svc.get("/v1/events", params={"after": hub.latest, "wait": 10})
        )
        await asyncio.sleep(0.1)
        began = time.monotonic()
        await svc.company(name="Loud Company")
        answer = (await waiting).json()
        assert time.monotonic() - began < 1
        assert answer["events"][0]["kind"] == "relationship.created"
    finally:
        hub.store = store

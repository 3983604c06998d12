"""Customer journeys over HTTP: the actions a client may post and how each step names its
refusals, platform walks, the event log read back, and supplier files to upload."""

from __future__ import annotations

import io
from typing import Any

import httpx
import openpyxl

from journey.template import SUPPLIER_COLUMNS
from tests.support.service import Service

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

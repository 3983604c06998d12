"""The RM's companies over HTTP: a problem document checked, a company's body, the list
read as a page or as ids, and the counts beside it."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.service import Service

PROBLEM_KEYS = ("type", "title", "status", "detail", "code")


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> dict:
    """An RFC 9457 problem document with a stable code, never a traceback."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    for key in PROBLEM_KEYS:
        assert key in body, f"problem without {key}: {body}"
    assert body["status"] == status
    assert isinstance(body["detail"], str) and body["detail"]
    assert "Traceback" not in response.text
    if code is not None:
        assert body["code"] == code, body
    return body


def fields_named(problem: dict) -> set[str]:
    """The fields a 422 blames, whether listed in ``errors`` or as ``field``."""
    named = {e["field"] for e in problem.get("errors", [])}
    if "field" in problem:
        named.add(problem["field"])
    return named


def company_body(svc: Service, who: str = "rm", **fields: Any) -> dict[str, Any]:
    return {
        "name": "Abra Kebabra",
        "description": "Kebabs on the go",
        "contact_name": "Larry Pepper",
        "contact_email": "larry@abra.example",
        "users": [svc.users[who]["id"]],
        **fields,
    }


async def snapshot(svc: Service) -> tuple[Any, ...]:
    """What a user could see of the organization's data: companies, counts, requests, events."""
    page = await svc.get("/v1/relationships", "admin", params={"user": "all", "limit": 500})
    assert page.status_code == 200
    body = page.json()
    rows = sorted(
        (r["id"], r["version"], r["name"], r["contact_email"], r["status"], tuple(r["users"]))
        for r in body["items"]
    )
    events = await svc.get("/v1/events", "admin", params={"after": 0, "limit": 1000})
    assert events.status_code == 200
    return body["total"], body["counts"], rows, events.json()["last_seq"]


async def list_ids(svc: Service, who: str = "rm", **params: Any) -> list[str]:
    response = await svc.get("/v1/relationships", who, params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()["items"]]


async def list_page(svc: Service, who: str = "rm", **params: Any) -> dict[str, Any]:
    response = await svc.get("/v1/relationships", who, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if v}

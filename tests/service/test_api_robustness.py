"""What the API does with bodies, paths and parameters nobody should send.

Every answer is a problem document with a 4xx status: never a 500, never a traceback.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import openpyxl
import pytest

from tests.support.service import Service

PROBLEM_KEYS = ("type", "title", "status", "detail", "code")


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    for key in PROBLEM_KEYS:
        assert key in body, f"problem without {key}: {body}"
    assert body["status"] == status
    assert "Traceback" not in response.text
    if code is not None:
        assert body["code"] == code, body
    return body


def json_headers(svc: Service, who: str = "rm", **extra: str) -> dict[str, str]:
    return {**svc.headers(who), "Content-Type": "application/json", **extra}


async def total(svc: Service) -> int:
    page = await svc.get("/v1/relationships", "admin", params={"user": "all"})
    return int(page.json()["total"])


def company(**fields: Any) -> dict[str, Any]:
    return {
        "name": "Abra Kebabra",
        "contact_name": "Larry Pepper",
        "contact_email": "larry@abra.example",
        **fields,
    }


# Bodies


@pytest.mark.parametrize(
    "raw",
    [b'{"name": ', b"{'name': 'x'}", b"not json at all", b'{"name": "x",}', b"\xff\xfe\x00"],
    ids=["truncated", "single quotes", "text", "trailing comma", "binary"],
)
async def test_bad_json_is_400_invalid_json(svc: Service, raw: bytes) -> None:
    response = await svc.base.post("/v1/relationships", headers=json_headers(svc), content=raw)
    assert_problem(response, 400, "invalid_json")
    assert await total(svc) == 0


async def test_json_that_is_not_an_object_is_422(svc: Service) -> None:
    for raw in (b"[]", b"null", b"42", b'"name"'):
        response = await svc.base.post("/v1/relationships", headers=json_headers(svc), content=raw)
        assert_problem(response, 422)
    assert await total(svc) == 0


async def test_body_over_64_kib_is_413(svc: Service) -> None:
    big = company(description="d" * (70 * 1024))
    response = await svc.post("/v1/relationships", json=big)
    assert_problem(response, 413, "too_large")
    assert await total(svc) == 0


async def test_large_declared_content_length_is_refused_before_reading(svc: Service) -> None:
    read: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        read.append(1)
        yield b'{"name": "x"}'

    response = await svc.base.post(
        "/v1/relationships",
        headers=json_headers(svc, **{"Content-Length": str(10 * 1024 * 1024)}),
        content=body(),
    )
    assert_problem(response, 413, "too_large")
    assert read == [], "the body was read although its declared size was over the limit"


async def test_small_declared_content_length_does_not_let_a_big_body_through(
    svc: Service,
) -> None:
    raw = b'{"name": "' + b"x" * (200 * 1024) + b'"}'
    response = await svc.base.post(
        "/v1/relationships", headers=json_headers(svc, **{"Content-Length": "20"}), content=raw
    )
    assert_problem(response, 413, "too_large")
    assert await total(svc) == 0


async def test_streamed_body_stops_being_read_past_the_limit(svc: Service) -> None:
    chunks_read = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal chunks_read
        yield b'{"name": "'
        for _ in range(10_000):  # 10 MB if read to the end
            chunks_read += 1
            yield b"x" * 1024
        yield b'"}'

    response = await svc.base.post(
        "/v1/relationships", headers=json_headers(svc), content=endless()
    )
    assert_problem(response, 413, "too_large")
    assert chunks_read < 100, f"read {chunks_read} KiB of a body over the 64 KiB limit"


async def test_non_numeric_content_length_is_400(svc: Service) -> None:
    response = await svc.base.post(
        "/v1/relationships",
        headers=json_headers(svc, **{"Content-Length": "lots"}),
        content=b"{}",
    )
    assert_problem(response, 400)


async def spend_journey_at_upload(svc: Service) -> str:
    rel = await svc.company()
    _, token = await svc.request_link(rel["id"], ["spend_analysis"])
    await svc.walk(token, ("view_request", {}), ("choose_method", {"method": "upload"}))
    assert (await svc.journey(token)).json()["step"] == "manual_upload"
    return token


async def test_upload_over_the_body_limit_is_413(svc: Service) -> None:
    token = await spend_journey_at_upload(svc)
    blob = b"\0" * 1_300_000
    response = await svc.base.post(
        f"/v1/journeys/{token}/uploads",
        files={"file": ("suppliers.xlsx", blob, "application/octet-stream")},
    )
    assert_problem(response, 413)
    assert (await svc.journey(token)).json()["step"] == "manual_upload"
    # Refused before routing too: an unknown link gets the same 413, not a lookup.
    response = await svc.base.post(
        "/v1/journeys/unknown/uploads",
        files={"file": ("suppliers.xlsx", blob, "application/octet-stream")},
    )
    assert_problem(response, 413)


async def test_upload_just_over_one_mb_is_413_upload_too_large(svc: Service) -> None:
    token = await spend_journey_at_upload(svc)
    blob = b"\0" * (1024 * 1024 + 10_000)
    response = await svc.base.post(
        f"/v1/journeys/{token}/uploads",
        files={"file": ("suppliers.xlsx", blob, "application/octet-stream")},
    )
    body = assert_problem(response, 413)
    assert "1 MB" in body["detail"]
    assert (await svc.journey(token)).json()["step"] == "manual_upload"


async def test_upload_that_is_not_a_spreadsheet_is_422(svc: Service) -> None:
    token = await spend_journey_at_upload(svc)
    for name, blob in (
        ("suppliers.xlsx", b"PK\x03\x04 not really a zip"),
        ("suppliers.xlsx", b"\x00" * 1000),
        ("suppliers.csv", b"name,amount\n"),
    ):
        response = await svc.base.post(
            f"/v1/journeys/{token}/uploads", files={"file": (name, blob, "application/x")}
        )
        assert response.status_code in (415, 422), response.text[:300]
        assert_problem(response, response.status_code)
    # An empty workbook is a spreadsheet, but not the template.
    book = openpyxl.Workbook()
    data = io.BytesIO()
    book.save(data)
    response = await svc.base.post(
        f"/v1/journeys/{token}/uploads",
        files={"file": ("suppliers.xlsx", data.getvalue(), "application/x")},
    )
    assert_problem(response, 422)
    assert (await svc.journey(token)).json()["step"] == "manual_upload"


@pytest.mark.parametrize("field", ["name", "description", "contact_name", "contact_email"], ids=str)
async def test_nul_bytes_in_fields_are_422(svc: Service, field: str) -> None:
    value = "larry\x00@abra.example" if field == "contact_email" else "Abra\x00Kebabra"
    response = await svc.post("/v1/relationships", json=company(**{field: value}))
    assert_problem(response, 422)
    assert await total(svc) == 0


@pytest.mark.parametrize("field", ["name", "description", "contact_name", "contact_email"], ids=str)
async def test_huge_strings_in_fields_are_422(svc: Service, field: str) -> None:
    response = await svc.post("/v1/relationships", json=company(**{field: "x" * 60_000}))
    assert_problem(response, 422)
    assert await total(svc) == 0


async def test_nul_and_huge_values_in_journey_actions_are_422(svc: Service) -> None:
    rel = await svc.company()
    _, token = await svc.request_link(rel["id"], ["spend_analysis"])
    await svc.walk(
        token,
        ("view_request", {}),
        ("choose_method", {"method": "connect"}),
        ("choose_entities", {"count": "multiple"}),
    )
    for name in ("Sub\x00sidiary", "x" * 101, "x" * 5000, "\x1b[2J", ""):
        response = await svc.act(token, "name_entity", name=name)
        assert_problem(response, 422)
        assert token not in response.text
    assert (await svc.journey(token)).json()["step"] == "entity_name"
    for action, params in (
        ("\x00", {}),
        ("x" * 10_000, {}),
        ("select_platform", {"platform": "\x00"}),
    ):
        response = await svc.act(token, action, **params)
        assert response.status_code in (409, 422), response.text[:300]
        assert_problem(response, response.status_code)


async def test_nul_in_search_text_is_not_a_500(svc: Service) -> None:
    await svc.company()
    for q in ("a\x00", "\x00", "abc\x00def", "Abra\x00"):
        response = await svc.get("/v1/relationships", params={"q": q})
        assert response.status_code in (200, 422), (q, response.text[:300])
        if response.status_code == 200:
            assert response.json()["items"] == []


async def test_deeply_nested_json_is_4xx(svc: Service) -> None:
    for depth in (100, 5_000, 30_000):
        raw = b'{"name": ' + b"[" * depth + b"]" * depth + b"}"
        response = await svc.base.post("/v1/relationships", headers=json_headers(svc), content=raw)
        assert 400 <= response.status_code < 500, (depth, response.text[:300])
        assert_problem(response, response.status_code)
        nested_objects = b'{"a":' * depth + b"1" + b"}" * depth
        response = await svc.base.post(
            "/v1/relationships", headers=json_headers(svc), content=nested_objects
        )
        assert 400 <= response.status_code < 500, (depth, response.text[:300])
    assert await total(svc) == 0


async def test_wrong_content_type_is_4xx(svc: Service) -> None:
    import json

    response = await svc.base.post(
        "/v1/relationships",
        headers={**svc.headers(), "Content-Type": "text/plain"},
        content=json.dumps(company()).encode(),
    )
    assert 400 <= response.status_code < 500
    assert_problem(response, response.status_code)


async def test_journey_actions_refuse_bad_bodies_as_every_route_does(svc: Service) -> None:
    """A body the action route cannot take is refused as every route refuses it,
    and takes nothing."""
    rel = await svc.company()
    _, token = await svc.request_link(rel["id"], ["financials"])
    url = f"/v1/journeys/{token}/actions"
    view = b'{"action": "view_request"}'
    refusals = [
        ({"Content-Type": "text/plain"}, view, 422, "invalid_request"),
        ({"Content-Type": "application/json"}, b'{"action": ', 400, "invalid_json"),
        ({"Content-Type": "application/json"}, b'{"action": "view_request", "x": 1}', 422, None),
        ({"Content-Type": "application/json"}, b'{"action": 7}', 422, "invalid_request"),
        ({"Content-Type": "application/json"}, b"[]", 422, "invalid_request"),
    ]
    for headers, body, status, code in refusals:
        response = await svc.base.post(url, headers=headers, content=body)
        problem = assert_problem(response, status)
        assert code is None or problem["code"] == code, (body, problem)
    # Nothing of those was taken: the journey is still where the link opens.
    assert (await svc.journey(token)).json()["step"] == "email"
    taken = await svc.base.post(
        url, headers={"Content-Type": "application/json; charset=utf-8"}, content=view
    )
    assert taken.status_code == 200 and taken.json()["step"] == "share_accounting"
    assert taken.headers["cache-control"] == "no-store"


async def test_unknown_links_in_actions_count_as_misses_once_each(svc: Service) -> None:
    limit = svc.settings.link_misses_per_minute
    statuses = []
    for _ in range(limit + 1):
        response = await svc.base.post(
            f"/v1/journeys/{uuid.uuid4().hex}/actions", json={"action": "view_request"}
        )
        statuses.append(response.status_code)
    assert statuses == [404] * limit + [429]


# Paths


GARBAGE_IDS = [
    "garbage",
    "x" * 5000,
    "ünïcødé-☃-名前",
    "%00",
    "..%2F..%2Fetc%2Fpasswd",
    "' OR 1=1 --",
    "%F0%9F%92%A9",
    "%ED%A0%80",  # a lone surrogate, percent-encoded
]


@pytest.mark.parametrize("bad", GARBAGE_IDS, ids=range(len(GARBAGE_IDS)))
async def test_garbage_ids_in_paths_are_404(svc: Service, bad: str) -> None:
    await svc.company()
    for method, template in (
        ("GET", "/v1/relationships/{}"),
        ("GET", "/v1/relationships/{}/requests"),
        ("GET", "/v1/relationships/{}/reports"),
        ("DELETE", "/v1/relationships/{}"),
        ("GET", "/v1/requests/{}"),
        ("POST", "/v1/requests/{}/cancel"),
        ("POST", "/v1/connections/{}/unlink"),
    ):
        response = await svc.base.request(
            method, template.format(bad), headers=svc.headers("admin")
        )
        assert_problem(response, 404)
    response = await svc.base.get(f"/v1/journeys/{bad}")
    assert_problem(response, 404)
    assert await total(svc) == 1


async def test_unknown_route_is_a_404_problem(svc: Service) -> None:
    for url in ("/v1/nope", "/nope", "/v2/relationships", "/v1/relationships/a/b/c/d"):
        assert_problem(await svc.get(url), 404)


async def test_wrong_method_is_a_405_problem(svc: Service) -> None:
    for method, url in (
        ("PUT", "/v1/relationships"),
        ("DELETE", "/v1/me"),
        ("GET", "/v1/requests/x/cancel"),
        ("PATCH", "/v1/events"),
    ):
        response = await svc.base.request(method, url, headers=svc.headers())
        assert_problem(response, 405)
        assert response.headers.get("Allow")


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/v1/relationships", {"limit": "0"}),
        ("/v1/relationships", {"limit": "501"}),
        ("/v1/relationships", {"limit": "ten"}),
        ("/v1/relationships", {"offset": "-1"}),
        ("/v1/relationships", {"q": "q" * 201}),
        ("/v1/relationships", {"status": "s" * 41}),
        ("/v1/relationships", {"user": "u" * 65}),
        ("/v1/events", {"after": "-1"}),
        ("/v1/events", {"after": str(2**63)}),
        ("/v1/events", {"wait": "61"}),
        ("/v1/events", {"wait": "-1"}),
        ("/v1/events", {"wait": "nan"}),
        ("/v1/events", {"wait": "inf"}),
        ("/v1/events", {"limit": "0"}),
        ("/v1/events", {"limit": "1001"}),
    ],
    ids=lambda v: "-".join(f"{k}={str(x)[:8]}" for k, x in v.items()) if isinstance(v, dict) else v,
)
async def test_query_parameters_out_of_range_are_422(
    svc: Service, url: str, params: dict[str, str]
) -> None:
    response = await svc.get(url, params=params)
    assert_problem(response, 422)


# The published contract

SKETCH_PATHS = [
    "/v1/me",
    "/v1/relationships",
    "/v1/relationships/{rel_id}",
    "/v1/relationships/{rel_id}/requests",
    "/v1/requests/{req_id}",
    "/v1/requests/{req_id}/resend",
    "/v1/requests/{req_id}/cancel",
    "/v1/events",
    "/v1/relationships/{rel_id}/reports",
    "/v1/relationships/{rel_id}/refresh",
    "/v1/journeys/{token}",
    "/v1/journeys/{token}/actions",
    "/v1/journeys/{token}/template",
    "/v1/journeys/{token}/uploads",
]


async def test_openapi_lists_the_sketched_paths(svc: Service) -> None:
    response = await svc.base.get("/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    missing = [p for p in SKETCH_PATHS if p not in paths]
    assert missing == []
    assert {"get", "patch", "delete"} <= set(paths["/v1/relationships/{rel_id}"])
    assert {"get", "post"} <= set(paths["/v1/relationships"])
    assert "post" in paths["/v1/journeys/{token}/actions"]
    # Errors are documented as problem documents.
    errors = paths["/v1/relationships"]["post"]["responses"]
    assert "application/problem+json" in errors["422"]["content"]


# Guessing customer links


async def test_guessing_links_is_rate_limited(svc: Service) -> None:
    limit = svc.settings.link_misses_per_minute
    assert limit == 30
    rel = await svc.company()
    _, token = await svc.request_link(rel["id"], ["financials"])
    statuses = []
    for _ in range(limit + 5):
        response = await svc.base.get(f"/v1/journeys/{uuid.uuid4().hex}")
        statuses.append(response.status_code)
        if response.status_code == 429:
            problem = assert_problem(response, 429)
            assert problem["code"] == "rate_limited"
            retry = int(response.headers["Retry-After"])
            assert 1 <= retry <= 61
            break
    assert statuses.count(404) == limit
    assert statuses[-1] == 429
    # Every link endpoint is guarded, whatever the method.
    for method, url in (
        ("POST", f"/v1/journeys/{uuid.uuid4().hex}/actions"),
        ("GET", f"/v1/journeys/{uuid.uuid4().hex}/template"),
    ):
        kw: dict[str, Any] = {"json": {"action": "view_request"}} if method == "POST" else {}
        response = await svc.base.request(method, url, **kw)
        assert_problem(response, 429)
        assert response.headers.get("Retry-After")
    assert token is not None


async def test_real_links_do_not_count_as_misses(svc: Service) -> None:
    rel = await svc.company()
    _, token = await svc.request_link(rel["id"], ["financials"])
    for _ in range(svc.settings.link_misses_per_minute + 10):
        assert (await svc.journey(token)).status_code == 200
    assert_problem(await svc.base.get(f"/v1/journeys/{uuid.uuid4().hex}"), 404)

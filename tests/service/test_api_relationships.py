"""The RM side of the HTTP API: companies, idempotent creation, isolation, roles (the
company list is in ``test_api_relationship_list.py``).

Everything goes through HTTP, as the TUI and a remote client would; assertions are the
ones a person using the portal (or writing a client for it) would check.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from tests.support.relationships import (
    assert_problem,
    company_body,
    fields_named,
    list_ids,
    list_page,
    nonzero,
    snapshot,
)
from tests.support.service import Service

# Create, read, edit, delete


async def test_create_read_edit_delete(svc: Service) -> None:
    created = await svc.post("/v1/relationships", json=company_body(svc))
    assert created.status_code == 201, created.text
    rel = created.json()
    assert created.headers["ETag"] == '"1"'
    assert rel["version"] == 1
    assert rel["name"] == "Abra Kebabra"
    assert rel["contact_email"] == "larry@abra.example"
    assert rel["users"] == [svc.users["rm"]["id"]]
    assert rel["status"] is None and rel["status_label"] == "—"

    read = await svc.get(f"/v1/relationships/{rel['id']}")
    assert read.status_code == 200
    assert read.headers["ETag"] == '"1"'
    assert read.json()["name"] == "Abra Kebabra"
    assert read.json()["requests"] == []

    edited = await svc.patch(
        f"/v1/relationships/{rel['id']}",
        json={"name": "Abra Kebabra Ltd", "contact_name": "Lara Pepper"},
        headers={"If-Match": '"1"'},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 2
    assert edited.headers["ETag"] == '"2"'
    assert edited.json()["name"] == "Abra Kebabra Ltd"
    assert edited.json()["description"] == "Kebabs on the go"  # untouched fields stay
    again = await svc.relationship(rel["id"])
    assert (again["name"], again["contact_name"], again["version"]) == (
        "Abra Kebabra Ltd",
        "Lara Pepper",
        2,
    )

    # The version may also travel in the body.
    by_body = await svc.patch(
        f"/v1/relationships/{rel['id']}", json={"description": "Wraps", "version": 2}
    )
    assert by_body.status_code == 200, by_body.text
    assert by_body.json()["version"] == 3

    gone = await svc.delete(f"/v1/relationships/{rel['id']}")
    assert gone.status_code == 204
    assert gone.content == b""
    assert_problem(await svc.get(f"/v1/relationships/{rel['id']}"), 404, "relationship_not_found")
    assert rel["id"] not in await list_ids(svc, user="all")
    assert_problem(await svc.delete(f"/v1/relationships/{rel['id']}"), 404)


async def test_delete_takes_the_subsidiaries_along(svc: Service) -> None:
    parent = await svc.company(name="Parent Holdings")
    _, token = await svc.request_link(parent["id"], ["spend_analysis"])
    await svc.walk(
        token,
        ("view_request", {}),
        ("choose_method", {"method": "connect"}),
        ("choose_entities", {"count": "multiple"}),
        ("name_entity", {"name": "Child Co"}),
    )
    children = await list_page(svc, user="all", parent=parent["id"])
    assert [r["name"] for r in children["items"]] == ["Parent Holdings - Child Co"]
    child_id = children["items"][0]["id"]
    assert children["items"][0]["parent_id"] == parent["id"]
    assert (await list_page(svc, user="all"))["total"] == 2
    assert (await list_page(svc))["total"] == 2

    assert (await svc.delete(f"/v1/relationships/{parent['id']}")).status_code == 204
    assert_problem(await svc.get(f"/v1/relationships/{child_id}"), 404)
    for params in ({"user": "all"}, {"user": "me"}):
        page = await list_page(svc, **params)
        assert page["items"] == [] and page["total"] == 0 and nonzero(page["counts"]) == {}
    assert (await svc.journey(token)).status_code in (404, 410)


async def test_edit_with_a_stale_version_is_refused_and_changes_nothing(svc: Service) -> None:
    rel = await svc.company()
    first = await svc.patch(
        f"/v1/relationships/{rel['id']}", json={"name": "First"}, headers={"If-Match": '"1"'}
    )
    assert first.status_code == 200
    before = await snapshot(svc)
    stale = await svc.patch(
        f"/v1/relationships/{rel['id']}", json={"name": "Second"}, headers={"If-Match": '"1"'}
    )
    problem = assert_problem(stale, 412, "version_mismatch")
    assert problem.get("current_version") == 2
    assert (await svc.relationship(rel["id"]))["name"] == "First"
    assert await snapshot(svc) == before


async def test_edit_without_a_version_is_428(svc: Service) -> None:
    rel = await svc.company()
    before = await snapshot(svc)
    response = await svc.patch(f"/v1/relationships/{rel['id']}", json={"name": "Blind"})
    assert_problem(response, 428, "version_required")
    bad = await svc.patch(
        f"/v1/relationships/{rel['id']}", json={"name": "Blind"}, headers={"If-Match": "abc"}
    )
    assert_problem(bad, 422)
    assert (await svc.relationship(rel["id"]))["name"] == "Abra Kebabra"
    assert await snapshot(svc) == before


async def test_weak_etag_is_accepted_as_if_match(svc: Service) -> None:
    rel = await svc.company()
    response = await svc.patch(
        f"/v1/relationships/{rel['id']}", json={"name": "Weak"}, headers={"If-Match": 'W/"1"'}
    )
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2


async def test_delete_with_a_stale_version_is_refused(svc: Service) -> None:
    rel = await svc.company()
    await svc.patch(f"/v1/relationships/{rel['id']}", json={"name": "B"}, headers={"If-Match": "1"})
    response = await svc.delete(f"/v1/relationships/{rel['id']}", headers={"If-Match": '"1"'})
    assert_problem(response, 412, "version_mismatch")
    assert (await svc.relationship(rel["id"]))["name"] == "B"


INVALID_CREATES: list[tuple[str, dict[str, Any], str]] = [
    ("missing name", {"name": None}, "name"),
    ("blank name", {"name": "   "}, "name"),
    ("missing contact name", {"contact_name": None}, "contact_name"),
    ("blank contact name", {"contact_name": ""}, "contact_name"),
    ("missing email", {"contact_email": None}, "contact_email"),
    ("bad email", {"contact_email": "larry at abra"}, "contact_email"),
    ("email without domain", {"contact_email": "larry@"}, "contact_email"),
    ("email with two at signs", {"contact_email": "a@b@c.example"}, "contact_email"),
    ("201-char name", {"name": "x" * 201}, "name"),
    ("name with escape", {"name": "Abra\x1b[31m Kebabra"}, "name"),
    ("name with bell", {"name": "Abra\x07"}, "name"),
    ("name with NUL", {"name": "Abra\x00Kebabra"}, "name"),
    ("bidi override", {"name": "Abra\u202earbe"}, "name"),
    ("description with NUL", {"description": "x\x00y"}, "description"),
    ("contact with escape", {"contact_name": "Larry\x1b"}, "contact_name"),
    ("501-char description", {"description": "d" * 501}, "description"),
    ("unknown field", {"colour": "red"}, "colour"),
    ("name not text", {"name": 123}, "name"),
    ("name a list", {"name": ["Abra"]}, "name"),
    ("users not a list", {"users": "me"}, "users"),
    ("users of numbers", {"users": [1, 2]}, "users.0"),
    ("email not text", {"contact_email": {"at": "abra"}}, "contact_email"),
]


@pytest.mark.parametrize(
    ("change", "blamed"),
    [(c, b) for _, c, b in INVALID_CREATES],
    ids=[i for i, _, _ in INVALID_CREATES],
)
async def test_invalid_create_is_422_naming_the_field(
    svc: Service, change: dict[str, Any], blamed: str
) -> None:
    body = company_body(svc)
    for key, value in change.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    before = await snapshot(svc)
    response = await svc.post("/v1/relationships", json=body)
    problem = assert_problem(response, 422)
    assert blamed in fields_named(problem) or blamed in problem["detail"], problem
    assert await snapshot(svc) == before


async def test_a_200_char_name_is_accepted_and_whitespace_is_tidied(svc: Service) -> None:
    rel = await svc.company(name="n" * 200)
    assert rel["name"] == "n" * 200
    tidy = await svc.company(name="  Acme \t  Widgets  ", contact_email="ops@acme.example")
    assert tidy["name"] == "Acme Widgets"


@pytest.mark.parametrize("field", ["name", "description", "contact_name", "contact_email"])
async def test_each_field_takes_exactly_the_limit_the_portal_holds(
    svc: Service, field: str
) -> None:
    """Finding 24: the service's limits are journey/core/domain.py's, which the portal's
    company form holds its fields to: the limit is accepted, one more is refused."""
    from journey.core.domain import COMPANY_NAME_MAX, CONTACT_NAME_MAX, DESCRIPTION_MAX, EMAIL_MAX

    limit = {
        "name": COMPANY_NAME_MAX,
        "description": DESCRIPTION_MAX,
        "contact_name": CONTACT_NAME_MAX,
        "contact_email": EMAIL_MAX,
    }[field]

    def text(length: int) -> str:
        if field != "contact_email":
            return "n" * length
        # 64 characters before the @ (the most a mailbox name has), labels of 50 after.
        host = length - 64 - 1 - len(".example")
        return "l" * 64 + "@" + ("a" * 50 + ".") * (host // 51) + "b" * (host % 51) + ".example"

    fits = await svc.post("/v1/relationships", json=company_body(svc, **{field: text(limit)}))
    assert fits.status_code == 201, fits.text
    assert len(fits.json()[field]) == limit
    over = await svc.post("/v1/relationships", json=company_body(svc, **{field: text(limit + 1)}))
    assert field in fields_named(assert_problem(over, 422)) or field in over.json()["detail"]


async def test_unknown_user_id_is_refused(svc: Service) -> None:
    before = await snapshot(svc)
    for users in ([str(uuid.uuid4())], [svc.users["other"]["id"]]):
        response = await svc.post("/v1/relationships", json=company_body(svc, users=users))
        assert_problem(response, 422, "unknown_user")
    assert await snapshot(svc) == before


async def test_rejected_edits_change_nothing(svc: Service) -> None:
    rel = await svc.company()
    before = await snapshot(svc)
    url = f"/v1/relationships/{rel['id']}"
    for body in (
        {"name": ""},
        {"name": "x" * 201},
        {"contact_email": "nope"},
        {"users": [svc.users["other"]["id"]]},
        {"unknown": 1},
        {"name": 5},
    ):
        response = await svc.patch(url, json=body, headers={"If-Match": '"1"'})
        assert_problem(response, 422)
    assert await snapshot(svc) == before
    assert (await svc.relationship(rel["id"]))["version"] == 1


# Idempotency-Key


async def test_idempotent_create_answers_the_same_and_creates_once(svc: Service) -> None:
    key = {"Idempotency-Key": "create-abra-1"}
    body = company_body(svc)
    first = await svc.post("/v1/relationships", json=body, headers=key)
    second = await svc.post("/v1/relationships", json=body, headers=key)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["ETag"] == first.headers["ETag"]
    page = await list_page(svc, user="all")
    assert page["total"] == 1
    assert [r["id"] for r in page["items"]] == [first.json()["id"]]
    events = (await svc.get("/v1/events", params={"after": 0, "limit": 1000})).json()["events"]
    assert [e["kind"] for e in events].count("relationship.created") == 1

    other_body = await svc.post(
        "/v1/relationships", json={**body, "name": "Something Else"}, headers=key
    )
    assert_problem(other_body, 422, "idempotency_key_reused")
    assert (await list_page(svc, user="all"))["total"] == 1


async def test_idempotency_keys_belong_to_their_user(svc: Service) -> None:
    key = {"Idempotency-Key": "shared-key"}
    mine = await svc.post("/v1/relationships", json=company_body(svc), headers=key)
    theirs = await svc.post(
        "/v1/relationships", "rm2", json=company_body(svc, users=[]), headers=key
    )
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert (await list_page(svc, user="all"))["total"] == 2


async def test_bad_idempotency_key_is_422(svc: Service) -> None:
    response = await svc.post(
        "/v1/relationships", json=company_body(svc), headers={"Idempotency-Key": "k" * 201}
    )
    assert_problem(response, 422, "invalid_idempotency_key")
    assert (await list_page(svc, user="all"))["total"] == 0


async def test_idempotent_request_returns_the_same_link_and_creates_one_request(
    svc: Service,
) -> None:
    rel = await svc.company()
    url = f"/v1/relationships/{rel['id']}/requests"
    body = {"data_types": ["financials"], "delivery": "link"}
    key = {"Idempotency-Key": "req-1"}
    first = await svc.post(url, json=body, headers=key)
    second = await svc.post(url, json=body, headers=key)
    assert first.status_code == second.status_code == 201, second.text
    assert first.json()["link"] == second.json()["link"]
    assert first.json()["request"]["id"] == second.json()["request"]["id"]

    requests = (await svc.get(url)).json()["items"]
    assert len(requests) == 1
    assert requests[0]["state"] == "Sent"  # not superseded by a second request
    token = first.json()["link"].rsplit("/j/", 1)[1]
    assert (await svc.journey(token)).status_code == 200

    changed = await svc.post(url, json={**body, "data_types": ["spend_analysis"]}, headers=key)
    assert_problem(changed, 422, "idempotency_key_reused")
    assert len((await svc.get(url)).json()["items"]) == 1
    assert (await svc.journey(token)).status_code == 200


async def test_idempotent_email_request_sends_one_email(svc: Service) -> None:
    rel = await svc.company()
    url = f"/v1/relationships/{rel['id']}/requests"
    body = {"data_types": ["spend_analysis"], "delivery": "email"}
    key = {"Idempotency-Key": "email-once"}
    first = await svc.post(url, json=body, headers=key)
    second = await svc.post(url, json=body, headers=key)
    assert first.status_code == second.status_code == 201
    assert first.json()["request"]["id"] == second.json()["request"]["id"]
    assert len(list(svc.settings.outbox_dir.glob("*.eml"))) == 1
    assert len((await svc.get(url)).json()["items"]) == 1
    # A retry (after a timeout, say) must learn what the first call did, email sent included.
    assert first.json()["email"].get("sent") is True
    assert second.json() == first.json()


async def test_concurrent_retries_with_one_key_create_one_company(svc: Service) -> None:
    key = {"Idempotency-Key": "burst"}
    body = company_body(svc)
    answers = await asyncio.gather(
        *(svc.post("/v1/relationships", json=body, headers=key) for _ in range(6))
    )
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert (await list_page(svc, user="all"))["total"] == 1


# Organizations are sealed from each other


async def other_org_world(svc: Service) -> dict[str, str]:
    """Another organization's company, request, connection: every id an attacker might try."""
    rel = await svc.company("other", name="Quayside Secret Co", users=[svc.users["other"]["id"]])
    req, token = await svc.request_link(rel["id"], ["financials"], "other")
    await svc.walk(
        token,
        ("view_request", {}),
        ("connect", {}),
        ("select_platform", {"platform": "gbol"}),
        ("consent", {}),
        ("authorize", {"username": "demo", "password": "demo"}),
    )

    async def settled() -> bool:
        return (await svc.relationship(rel["id"], "other"))["status"] == "Available"

    await svc.eventually(settled)
    detail = await svc.relationship(rel["id"], "other")
    conn = detail["entities"][0]["connection"]
    assert conn is not None
    return {"rel": rel["id"], "req": req["id"], "conn": conn["id"]}


async def test_other_organizations_ids_answer_404_and_leak_nothing(svc: Service) -> None:
    theirs = await other_org_world(svc)
    missing = str(uuid.uuid4())
    before = await svc.relationship(theirs["rel"], "other")

    def calls(ids: dict[str, str]) -> list[tuple[str, str, dict[str, Any]]]:
        rel, req, conn = ids["rel"], ids["req"], ids["conn"]
        return [
            ("GET", f"/v1/relationships/{rel}", {}),
            ("PATCH", f"/v1/relationships/{rel}", {"json": {"name": "Pwned", "version": 1}}),
            ("DELETE", f"/v1/relationships/{rel}", {}),
            ("GET", f"/v1/relationships/{rel}/requests", {}),
            (
                "POST",
                f"/v1/relationships/{rel}/requests",
                {"json": {"data_types": ["financials"], "delivery": "link"}},
            ),
            (
                "POST",
                f"/v1/relationships/{rel}/request-preview",
                {"json": {"data_types": ["financials"]}},
            ),
            ("GET", f"/v1/relationships/{rel}/reports", {}),
            ("GET", f"/v1/relationships/{rel}/reports/profit_and_loss", {}),
            ("POST", f"/v1/relationships/{rel}/refresh", {}),
            ("GET", f"/v1/requests/{req}", {}),
            ("POST", f"/v1/requests/{req}/resend", {"json": {"delivery": "link"}}),
            ("POST", f"/v1/requests/{req}/cancel", {}),
            ("POST", f"/v1/requests/{req}/expire", {}),
            ("POST", f"/v1/connections/{conn}/unlink", {}),
            ("POST", f"/v1/connections/{conn}/deauthorize", {}),
        ]

    fake = {"rel": missing, "req": missing, "conn": missing}
    for (method, url, kw), (_, fake_url, _) in zip(calls(theirs), calls(fake), strict=True):
        for who in ("admin", "rm", "support"):
            response = await svc.base.request(method, url, headers=svc.headers(who), **kw)
            problem = assert_problem(response, 404 if who == "admin" else response.status_code)
            assert response.status_code in (403, 404), (who, method, url, response.text)
            assert "Quayside" not in response.text and theirs["rel"] not in response.text
            # Exactly what a made-up id gets: no hint that the id exists elsewhere.
            made_up = await svc.base.request(method, fake_url, headers=svc.headers(who), **kw)
            assert (response.status_code, problem["code"], problem["detail"]) == (
                made_up.status_code,
                made_up.json()["code"],
                made_up.json()["detail"],
            ), (who, method, url)

    after = await svc.relationship(theirs["rel"], "other")
    assert (after["name"], after["version"], after["status"]) == (
        before["name"],
        before["version"],
        before["status"],
    )
    assert len(after["requests"]) == 1
    assert (
        after["entities"][0]["connection"]["status"]
        == before["entities"][0]["connection"]["status"]
    )

    # Nothing of theirs shows in our lists, searches or events.
    assert (await list_page(svc, "admin", user="all"))["total"] == 0
    assert (await list_page(svc, "admin", user="all", q="Quayside"))["items"] == []
    page = await list_page(svc, "admin", user="all", parent=theirs["rel"])
    assert page["items"] == []
    events = (await svc.get("/v1/events", "admin", params={"after": 0, "limit": 1000})).json()
    assert theirs["rel"] not in str(events) and "Quayside" not in str(events)
    assert_problem(
        await svc.get("/v1/relationships", params={"user": svc.users["other"]["id"]}),
        422,
        "invalid_user",
    )


async def test_users_of_another_organization_cannot_be_assigned(svc: Service) -> None:
    rel = await svc.company()
    response = await svc.patch(
        f"/v1/relationships/{rel['id']}",
        json={"users": [svc.users["other"]["id"]]},
        headers={"If-Match": '"1"'},
    )
    assert_problem(response, 422, "unknown_user")


# Roles and authentication


async def test_support_reads_but_does_not_write(svc: Service) -> None:
    rel = await svc.company()
    req, _token = await svc.request_link(rel["id"], ["financials"])
    before = await snapshot(svc)
    support_body = company_body(svc, "support", users=[])
    refused = [
        await svc.post("/v1/relationships", "support", json=support_body),
        await svc.patch(
            f"/v1/relationships/{rel['id']}",
            "support",
            json={"name": "Support Was Here"},
            headers={"If-Match": '"1"'},
        ),
        await svc.delete(f"/v1/relationships/{rel['id']}", "support"),
        await svc.post(
            f"/v1/relationships/{rel['id']}/requests",
            "support",
            json={"data_types": ["financials"], "delivery": "link"},
        ),
        await svc.post(f"/v1/requests/{req['id']}/cancel", "support"),
        await svc.patch("/v1/organization", "support", json={"features": []}),
    ]
    for response in refused:
        assert_problem(response, 403)
    assert await snapshot(svc) == before

    assert (
        await svc.get("/v1/relationships", "support", params={"user": "all"})
    ).status_code == 200
    assert (await svc.get(f"/v1/relationships/{rel['id']}", "support")).status_code == 200
    assert (await svc.get(f"/v1/requests/{req['id']}", "support")).status_code == 200
    assert (await svc.get("/v1/events", "support")).status_code == 200

    expired = await svc.post(f"/v1/requests/{req['id']}/expire", "support")
    assert expired.status_code == 200, expired.text
    assert expired.json()["state"] == "Expired"
    await svc.status_becomes(rel["id"], "Expired")


async def test_rm_cannot_expire_links(svc: Service) -> None:
    rel = await svc.company()
    req, token = await svc.request_link(rel["id"], ["financials"])
    assert_problem(await svc.post(f"/v1/requests/{req['id']}/expire"), 403)
    assert (await svc.journey(token)).status_code == 200


async def test_only_admin_changes_the_organization(svc: Service) -> None:
    me = (await svc.get("/v1/me", "admin")).json()
    version = me["organization"]["version"]
    headers = {"If-Match": f'"{version}"'}
    for who in ("rm", "support"):
        response = await svc.patch(
            "/v1/organization", who, json={"link_lifetime_days": 3}, headers=headers
        )
        assert_problem(response, 403)
    assert (await svc.get("/v1/me", "admin")).json()["link_lifetime_days"] == 7
    ok = await svc.patch(
        "/v1/organization", "admin", json={"link_lifetime_days": 3}, headers=headers
    )
    assert ok.status_code == 200, ok.text
    assert (await svc.get("/v1/me")).json()["link_lifetime_days"] == 3
    # The other organization is untouched.
    assert (await svc.get("/v1/me", "other")).json()["link_lifetime_days"] == 7


RM_ENDPOINTS = [
    ("GET", "/v1/me"),
    ("GET", "/v1/relationships"),
    ("POST", "/v1/relationships"),
    ("GET", "/v1/relationships/x"),
    ("PATCH", "/v1/relationships/x"),
    ("DELETE", "/v1/relationships/x"),
    ("POST", "/v1/relationships/x/requests"),
    ("GET", "/v1/requests/x"),
    ("POST", "/v1/requests/x/cancel"),
    ("GET", "/v1/events"),
    ("PATCH", "/v1/organization"),
]


@pytest.mark.parametrize(("method", "url"), RM_ENDPOINTS)
async def test_no_or_bad_token_is_401(svc: Service, method: str, url: str) -> None:
    before = await snapshot(svc)
    kw: dict[str, Any] = {"json": {}} if method in ("POST", "PATCH") else {}
    for headers, code in (
        ({}, "token_missing"),
        ({"Authorization": "Bearer rp_not-a-real-token"}, "token_invalid"),
        ({"Authorization": "Bearer " + "x" * 5000}, "token_invalid"),
        ({"Authorization": f"Basic {svc.tokens['rm']}"}, None),
        ({"Authorization": "Bearer"}, None),
    ):
        response = await svc.base.request(method, url, headers=headers, **kw)
        problem = assert_problem(response, 401, code)
        assert response.headers.get("WWW-Authenticate", "").startswith("Bearer"), headers
        assert svc.tokens["rm"] not in response.text
        assert problem["code"] in ("token_missing", "token_invalid")
    assert await snapshot(svc) == before


async def test_rows_without_counts_for_type_ahead(svc: Service) -> None:
    for name in ("Harbour Lights", "Harbour Bakery", "Quay Cafe"):
        await svc.company(name=name)
    response = await svc.get("/v1/relationships", params={"q": "harbour", "counts": "false"})
    body = response.json()
    assert response.status_code == 200
    assert body["total"] is None and body["counts"] is None
    assert [r["name"] for r in body["items"]] == ["Harbour Bakery", "Harbour Lights"]
    with_counts = (await svc.get("/v1/relationships", params={"q": "harbour"})).json()
    assert with_counts["total"] == 2 and with_counts["counts"] == {"None": 2}


async def test_kept_answers_end_with_any_write_even_from_another_process(svc: Service) -> None:
    """List pages and tokens are kept between writes (journey/api/cache.py); a write
    through another connection — another process sharing the file — retires them at
    once: the new company is listed, the revoked token refused, on the next request."""
    from journey import service
    from journey.core.tokens import hash_secret
    from journey.storage.sqlite import SQLiteStore

    url = "/v1/relationships?user=all&q=Kept+Answers&limit=100"
    assert (await svc.get(url)).json()["total"] == 0
    assert (await svc.get(url)).json()["total"] == 0  # the kept answer

    elsewhere = SQLiteStore(svc.settings.db_path)  # another process's connections
    try:
        org_id = svc.users["rm"]["org_id"]
        user_id = svc.users["rm"]["id"]

        def add(tx: Any) -> None:
            user = tx.get_user(org_id, user_id)
            fields = {
                "name": "Kept Answers Ltd",
                "contact_name": "Kim Kept",
                "contact_email": "kim@kept.example",
                "users": [],
            }
            service.add_relationship(tx, user, service.clean_relationship(fields))

        elsewhere.write_sync(add)
        assert (await svc.get(url)).json()["total"] == 1
        assert (await svc.get(url, who="rm2")).status_code == 200
        elsewhere.write_sync(lambda tx: tx.revoke_token(hash_secret(svc.tokens["rm2"])))
        assert_problem(await svc.get(url, who="rm2"), 401, "token_revoked")
    finally:
        elsewhere.close()

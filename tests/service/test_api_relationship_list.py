"""The company list over HTTP: whose companies, search, status filter, sort, pages and
cursors, and the counts beside it.

Creating, editing and deleting companies, isolation and roles are in
``test_api_relationships.py``.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.relationships import assert_problem, list_ids, list_page, nonzero
from tests.support.service import Service

# The list


async def assigned_companies(svc: Service) -> dict[str, str]:
    """Companies with different assignments: name -> id."""
    rm, rm2 = svc.users["rm"]["id"], svc.users["rm2"]["id"]
    made = {
        "Mine Only": await svc.company(name="Mine Only", users=[rm]),
        "Theirs Only": await svc.company("rm2", name="Theirs Only", users=[rm2]),
        "Nobody's": await svc.company(name="Nobody's", users=[]),
        "Shared": await svc.company(name="Shared", users=[rm, rm2]),
    }
    return {name: rel["id"] for name, rel in made.items()}


async def test_list_defaults_to_my_companies(svc: Service) -> None:
    ids = await assigned_companies(svc)
    mine = await list_page(svc)
    assert {r["name"] for r in mine["items"]} == {"Mine Only", "Shared"}
    assert mine["total"] == 2
    assert await list_ids(svc, user="me") == await list_ids(svc)

    everything = await list_page(svc, user="all")
    assert {r["id"] for r in everything["items"]} == set(ids.values())
    assert everything["total"] == 4

    theirs = await list_page(svc, user=svc.users["rm2"]["id"])
    assert {r["name"] for r in theirs["items"]} == {"Theirs Only", "Shared"}
    assert theirs["total"] == 2
    rm2_own = await list_page(svc, "rm2")
    assert {r["name"] for r in rm2_own["items"]} == {"Theirs Only", "Shared"}

    nobody = await list_page(svc, user=svc.users["support"]["id"])
    assert nobody["items"] == [] and nobody["total"] == 0


async def test_list_follows_reassignment_and_deletion(svc: Service) -> None:
    ids = await assigned_companies(svc)
    rel = await svc.relationship(ids["Mine Only"])
    moved = await svc.patch(
        f"/v1/relationships/{rel['id']}",
        json={"users": [svc.users["rm2"]["id"]]},
        headers={"If-Match": f'"{rel["version"]}"'},
    )
    assert moved.status_code == 200, moved.text
    mine = await list_page(svc)
    assert {r["name"] for r in mine["items"]} == {"Shared"}
    assert mine["total"] == 1 and nonzero(mine["counts"]) == {"None": 1}
    theirs = await list_page(svc, "rm2")
    assert {r["name"] for r in theirs["items"]} == {"Mine Only", "Theirs Only", "Shared"}
    assert theirs["total"] == 3 and nonzero(theirs["counts"]) == {"None": 3}

    assert (await svc.delete(f"/v1/relationships/{ids['Shared']}")).status_code == 204
    mine = await list_page(svc)
    assert mine["items"] == [] and mine["total"] == 0 and nonzero(mine["counts"]) == {}
    theirs = await list_page(svc, "rm2")
    assert theirs["total"] == 2 and nonzero(theirs["counts"]) == {"None": 2}
    everything = await list_page(svc, user="all")
    assert everything["total"] == 3 and nonzero(everything["counts"]) == {"None": 3}


async def test_user_filter_must_be_of_my_organization(svc: Service) -> None:
    await svc.company()
    for value in (svc.users["other"]["id"], str(uuid.uuid4()), "everyone", ""):
        response = await svc.get("/v1/relationships", params={"user": value})
        if value == "":
            # An empty value is not a user id either; it must not widen the list.
            assert response.status_code in (200, 422), response.text
            if response.status_code == 200:
                assert response.json()["total"] <= 1
            continue
        assert_problem(response, 422, "invalid_user")


async def request_for(svc: Service, rel_id: str, data_types: list[str] | None = None) -> str:
    _, token = await svc.request_link(rel_id, data_types or ["financials"])
    return token


async def test_status_filter_and_counts(svc: Service) -> None:
    rels = [await svc.company(name=f"Company {i}") for i in range(5)]
    other_rm = await svc.company("rm2", name="Company of rm2", users=[svc.users["rm2"]["id"]])
    for rel in rels[:2]:
        await request_for(svc, rel["id"])
    await request_for(svc, other_rm["id"])
    requested = {rels[0]["id"], rels[1]["id"]}

    page = await list_page(svc)
    assert page["total"] == 5
    assert nonzero(page["counts"]) == {"None": 3, "Requested": 2}
    by_id = {r["id"]: r for r in page["items"]}
    assert {i for i, r in by_id.items() if r["status"] == "Requested"} == requested

    for spelling in ("Requested", "requested", "REQUESTED"):
        filtered = await list_page(svc, status=spelling)
        assert {r["id"] for r in filtered["items"]} == requested
        assert filtered["total"] == 2
        # The counts stay those of the other filters, so every status tab shows its number.
        assert nonzero(filtered["counts"]) == {"None": 3, "Requested": 2}

    for spelling in ("None", "none"):
        never = await list_page(svc, status=spelling)
        assert {r["id"] for r in never["items"]} == {r["id"] for r in rels[2:]}
        assert never["total"] == 3
        assert all(r["status"] is None for r in never["items"])

    everyone = await list_page(svc, user="all", status="requested")
    assert everyone["total"] == 3
    assert nonzero(everyone["counts"]) == {"None": 3, "Requested": 3}

    empty = await list_page(svc, status="in progress")
    assert empty["items"] == [] and empty["total"] == 0

    assert_problem(await svc.get("/v1/relationships", params={"status": "Bogus"}), 422)


async def test_counts_follow_status_changes(svc: Service) -> None:
    rels = [await svc.company(name=f"Co {i}") for i in range(3)]
    token = await request_for(svc, rels[0]["id"])
    await request_for(svc, rels[1]["id"])
    assert nonzero((await list_page(svc))["counts"]) == {"None": 1, "Requested": 2}

    # The customer opens the link: In progress.
    await svc.walk(token, ("view_request", {}))
    page = await list_page(svc)
    assert nonzero(page["counts"]) == {"None": 1, "Requested": 1, "In progress": 1}
    in_progress = await list_page(svc, status="In Progress")
    assert [r["id"] for r in in_progress["items"]] == [rels[0]["id"]]

    # Cancelling the only request puts the company back to "never requested".
    req_id = (await svc.relationship(rels[1]["id"]))["latest_request_id"]
    assert (await svc.post(f"/v1/requests/{req_id}/cancel")).status_code == 200
    page = await list_page(svc)
    assert nonzero(page["counts"]) == {"None": 2, "In progress": 1}
    assert page["total"] == 3


async def test_search(svc: Service) -> None:
    def make(name: str, contact: str, email: str) -> Any:
        return svc.company(name=name, contact_name=contact, contact_email=email)

    acme = await make("Acme Widgets", "Wile Coyote", "wile@acme.example")
    black = await make("Black Cat Ltd", "Felix Moggy", "felix@blackcat.example")
    north = await make("Northwind Traders", "Nancy Davolio", "nancy@northwind.example")
    south = await make("Southwind Bakery", "Andrew Fuller", "andrew@bakery.example")

    async def names(q: str, **extra: Any) -> set[str]:
        page = await list_page(svc, q=q, limit=500, **extra)
        assert page["total"] == len(page["items"])
        return {r["name"] for r in page["items"]}

    assert await names("wind") == {"Northwind Traders", "Southwind Bakery"}
    assert await names("WIND") == {"Northwind Traders", "Southwind Bakery"}
    assert await names("idget") == {"Acme Widgets"}
    assert await names("ack") == {"Black Cat Ltd"}
    assert await names("Davolio") == {"Northwind Traders"}  # contact name
    assert await names("zzz") == set()
    # One or two characters match the start of the name only.
    assert await names("ac") == {"Acme Widgets"}
    assert await names("a") == {"Acme Widgets"}
    assert await names("No") == {"Northwind Traders"}
    assert await names("nd") == set()
    # Search text is never query syntax.
    for tricky in ('"wind', "wind*", "a OR b", "NEAR(x y)", "%wind%", "'; DROP TABLE x; --"):
        response = await svc.get("/v1/relationships", params={"q": tricky})
        assert response.status_code == 200, (tricky, response.text)

    # Search combines with status and user filters, and the counts follow it.
    await request_for(svc, north["id"])
    page = await list_page(svc, q="wind")
    assert page["total"] == 2
    assert nonzero(page["counts"]) == {"None": 1, "Requested": 1}
    requested = await list_page(svc, q="wind", status="requested")
    assert [r["name"] for r in requested["items"]] == ["Northwind Traders"]
    assert requested["total"] == 1
    assert await names("wind", user=svc.users["rm2"]["id"]) == set()
    assert {acme["id"], black["id"], south["id"]}  # all made


async def test_search_by_contact_email(svc: Service) -> None:
    await svc.company(name="Black Cat Ltd", contact_email="felix@blackcat.example")
    await svc.company(name="Southwind Bakery", contact_email="andrew@bakery.example")
    # Text with an "@" matches the beginning of the contact's address, in any case.
    for q, expected in (
        ("felix@", {"Black Cat Ltd"}),
        ("FELIX@Black", {"Black Cat Ltd"}),
        ("andrew@bakery.example", {"Southwind Bakery"}),
        ("nobody@", set()),
    ):
        page = await list_page(svc, q=q)
        assert {r["name"] for r in page["items"]} == expected, q
        assert page["total"] == len(expected)


async def test_search_finds_renamed_companies(svc: Service) -> None:
    rel = await svc.company(name="Old Name Trading")
    await svc.patch(
        f"/v1/relationships/{rel['id']}", json={"name": "Fresh Produce"}, headers={"If-Match": "1"}
    )
    assert [r["id"] for r in (await list_page(svc, q="produce"))["items"]] == [rel["id"]]
    assert (await list_page(svc, q="old name"))["items"] == []
    assert [r["id"] for r in (await list_page(svc, q="Fr"))["items"]] == [rel["id"]]


NAMES = ["delta", "Alpha", "charlie", "Bravo", "echo", "alpha", "Foxtrot"]


async def seven_companies(svc: Service) -> list[dict[str, Any]]:
    return [await svc.company(name=name) for name in NAMES]


async def test_sorts(svc: Service) -> None:
    made = await seven_companies(svc)

    by_name = (await list_page(svc, sort="name", limit=500))["items"]
    keys = [r["name"].casefold() for r in by_name]
    assert keys == sorted(keys)
    assert [r["name"].casefold() for r in by_name][:2] == ["alpha", "alpha"]
    desc = (await list_page(svc, sort="-name", limit=500))["items"]
    assert [r["id"] for r in desc] == [r["id"] for r in reversed(by_name)]

    created = (await list_page(svc, sort="created", limit=500))["items"]
    stamps = [r["created_at"] for r in created]
    assert stamps == sorted(stamps)
    assert {r["id"] for r in created} == {r["id"] for r in made}
    newest_first = (await list_page(svc, sort="-created", limit=500))["items"]
    assert [r["id"] for r in newest_first] == [r["id"] for r in reversed(created)]
    assert newest_first[0]["id"] == made[-1]["id"]

    # "updated" is the time beside the status: a company just asked for data comes first.
    await request_for(svc, made[2]["id"])
    recent = (await list_page(svc, sort="-updated", limit=500))["items"]
    assert recent[0]["id"] == made[2]["id"]
    assert [r["status_at"] for r in recent] == sorted(
        (r["status_at"] for r in recent), reverse=True
    )
    oldest = (await list_page(svc, sort="updated", limit=500))["items"]
    assert [r["id"] for r in oldest] == [r["id"] for r in reversed(recent)]

    assert_problem(await svc.get("/v1/relationships", params={"sort": "colour"}), 422)


async def test_malformed_sort_is_422(svc: Service) -> None:
    for sort in ("--name", "---created", "-", "name-", "Name"):
        response = await svc.get("/v1/relationships", params={"sort": sort})
        assert_problem(response, 422, "invalid_sort")


@pytest.mark.parametrize("sort", ["name", "-name", "created", "-created", "updated", "-updated"])
@pytest.mark.parametrize("user", ["me", "all"])
async def test_keyset_pagination_walks_every_row_once(svc: Service, sort: str, user: str) -> None:
    await seven_companies(svc)
    # A company of someone else: part of "all" only.
    await svc.company("rm2", name="Golf", users=[svc.users["rm2"]["id"]])
    whole = await list_page(svc, sort=sort, user=user, limit=500)
    expected = [r["id"] for r in whole["items"]]
    assert len(expected) == (7 if user == "me" else 8)

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"sort": sort, "user": user, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = await list_page(svc, **params)
        pages += 1
        assert len(page["items"]) <= 2
        assert page["total"] == len(expected)
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 10, "pagination does not end"
    assert seen == expected
    assert len(set(seen)) == len(seen)
    assert pages == (len(expected) + 1) // 2


async def test_pagination_with_filters(svc: Service) -> None:
    rels = [await svc.company(name=f"Wind {i}") for i in range(5)]
    await svc.company(name="Calm")
    for rel in rels[:3]:
        await request_for(svc, rel["id"])
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"q": "wind", "status": "requested", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = await list_page(svc, **params)
        assert page["total"] == 3
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(r["id"] for r in rels[:3])


async def test_cursor_of_another_sort_or_garbage_is_422(svc: Service) -> None:
    await seven_companies(svc)
    cursor = (await list_page(svc, sort="name", limit=2))["next_cursor"]
    assert cursor
    for sort in ("-name", "created", "updated"):
        response = await svc.get("/v1/relationships", params={"sort": sort, "cursor": cursor})
        assert_problem(response, 422, "invalid_cursor")
    for garbage in ("garbage", "!!!!", "a", "abcd", "eyJ4IjoxfQ", "W10", "bnVsbA", "x" * 1999):
        response = await svc.get("/v1/relationships", params={"cursor": garbage})
        assert_problem(response, 422, "invalid_cursor")
    too_long = await svc.get("/v1/relationships", params={"cursor": "x" * 2001})
    assert_problem(too_long, 422)


@pytest.mark.parametrize("limit", ["0", "-1", "501", "abc", "1e3"])
async def test_limit_out_of_bounds_is_422(svc: Service, limit: str) -> None:
    response = await svc.get("/v1/relationships", params={"limit": limit})
    assert_problem(response, 422)


async def test_limit_bounds_that_are_allowed(svc: Service) -> None:
    await seven_companies(svc)
    assert len((await list_page(svc, limit=1))["items"]) == 1
    page = await list_page(svc, limit=500)
    assert len(page["items"]) == 7 and page["limit"] == 500 and page["next_cursor"] is None

"""Live updates that scale: the portal under a burst of customer steps reads the
service in proportion (counted at its client, by path), and still ends showing what
the service holds. Pilot on the embedded service, as tests/test_portal.py."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from journey.core.tokens import link_token_from
from journey.settings import ServiceSettings
from screens.portal import PortalScreen
from screens.relationship import RelationshipScreen
from tui.app import RelportalApp
from tui.client import ServiceClient, embedded_client
from tui.listing import Criteria
from tui.live import RELOAD_SECONDS, Throttle, react
from widgets.relationship_table import RelationshipTable

COMPANY = re.compile(r"^/v1/relationships/[^/]+$")


@pytest.fixture
def demo_settings(tmp_path: Path) -> ServiceSettings:
    return ServiceSettings(
        db_path=tmp_path / "portal.db",
        outbox_dir=tmp_path / "outbox",
        demo_companies=120,
        pull_queue_seconds=0.0,
        pull_fetch_seconds=0.05,
        worker_interval=0.02,
    )


async def until(pilot: Any, check: Any, timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"the portal never showed {what or 'what was expected'}")
        await pilot.pause(0.02)


def count_reads(client: ServiceClient) -> Counter[str]:
    """Every GET the portal's client sends from now on, by kind: the client's own request
    method, wrapped (real requests to the real service, counted on their way)."""
    reads: Counter[str] = Counter()
    send = client._call

    async def counted(method: str, path: str, **kwargs: Any) -> Any:
        if method == "GET":
            if path == "/v1/relationships":
                reads["list"] += 1
            elif COMPANY.match(path):
                reads["company"] += 1
            else:
                reads[path] += 1
        return await send(method, path, **kwargs)

    client._call = counted  # type: ignore[method-assign]
    return reads


async def journey_at_platforms(client: ServiceClient, name: str, users: list[str]) -> str:
    """A company of ``users`` asked for its financials by link, its customer at the
    choice of platform; the link's token."""
    company = await client.post(
        "/v1/relationships",
        {
            "name": name,
            "contact_name": "Casey Live",
            "contact_email": f"{name.split()[-1].lower()}@live.example",
            "users": users,
        },
    )
    made = await client.post(
        f"/v1/relationships/{company['id']}/requests",
        {"data_types": ["financials"], "delivery": "link"},
    )
    return link_token_from(made["link"])


async def step(client: ServiceClient, token: str, action: str, **params: Any) -> None:
    await client.post(f"/v1/journeys/{token}/actions", {"action": action, **params})


def shown(table: RelationshipTable) -> dict[str, Mapping[str, Any]]:
    return {row["id"]: row for i in range(min(table.total, 100)) if (row := table.row(i))}


async def test_a_burst_of_customer_steps_costs_a_handful_of_reads(demo_settings) -> None:  # type: ignore[no-untyped-def]
    """200 customer steps, on my companies at the top of the list and on a colleague's
    (not in my list): the portal reads its page about once a second at most, never a
    company, toasts my links from the rows it holds, and ends showing the service's
    statuses."""
    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PortalScreen) and app.screen.is_mounted)
        screen = app.screen
        assert isinstance(screen, PortalScreen)
        table = screen.query_one(RelationshipTable)
        await until(pilot, lambda: table.total > 0 and table.row(0) is not None)
        client = screen.client
        me = screen.session.user["id"]
        colleague = next(u["id"] for u in screen.session.users if u["id"] != me)
        mine = [await journey_at_platforms(client, f"Aardvark Live {n}", [me]) for n in range(5)]
        theirs = [
            await journey_at_platforms(client, f"Aardvark Theirs {n}", [colleague])
            for n in range(5)
        ]
        await until(
            pilot,
            lambda: sum(r["name"].startswith("Aardvark Live") for r in shown(table).values()) == 5,
            what="my new companies at the top",
        )
        assert not any(r["name"].startswith("Aardvark Theirs") for r in shown(table).values())
        await pilot.pause(RELOAD_SECONDS + 0.2)  # the additions' reads are done

        reads = count_reads(client)
        started = time.monotonic()
        steps = 0
        everyone = mine + theirs
        # Each customer opens the link and goes on to share, then hesitates between
        # platforms (choose, back, choose…), round-robin: 10 × 20 = 200 steps.
        for action in ("view_request", "connect"):
            for token in everyone:
                await step(client, token, action)
                steps += 1
        for _ in range(9):
            for token in everyone:
                await step(client, token, "select_platform", platform="gbol")
                await step(client, token, "back")
                steps += 2
        # My customers then connect: their companies link, and their data arrives.
        for token in mine:
            await step(client, token, "select_platform", platform="gbol")
            await step(client, token, "consent")
            await step(client, token, "authorize", username="demo", password="demo")
            steps += 3
        burst = time.monotonic() - started
        assert steps >= 200

        truth = await screen.client.relationships(**Criteria().first_page())
        expected = {r["id"]: r["status"] for r in truth["items"]}
        ours = [r for r in truth["items"] if r["name"].startswith("Aardvark Live")]
        assert len(ours) == 5 and all(r["status"] not in (None, "Requested") for r in ours)

        def statuses_match() -> bool:
            rows = shown(table)
            return all(rows.get(i, {}).get("status") == s for i, s in expected.items())

        await until(pilot, statuses_match, timeout=5, what="the service's statuses")
        await until(
            pilot,
            lambda: sum("Linked via Xero" in str(n.message) for n in app._notifications) == 5,
            timeout=5,
            what="a toast for each of my links",
        )
        settled = time.monotonic() - started
        list_reads = reads["list"]
        # The truth read above went through the same client: it is not the portal's.
        list_reads -= 1
        # One read at once, then at most one a second (a page or two on screen each).
        bound = 2 * (2 + settled / RELOAD_SECONDS)
        assert list_reads <= bound, (list_reads, f"burst {burst:.1f} s, settled {settled:.1f} s")
        assert list_reads <= 30  # the portal of old read its page on every batch: ~200
        assert reads["company"] == 0, "a toast read its company"


async def test_a_row_on_screen_updates_within_a_second_of_its_event(demo_settings) -> None:  # type: ignore[no-untyped-def]
    """A status change reaches the row from the event itself, even just after a reload
    (when the next read must wait its second)."""
    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PortalScreen) and app.screen.is_mounted)
        screen = app.screen
        assert isinstance(screen, PortalScreen)
        table = screen.query_one(RelationshipTable)
        await until(pilot, lambda: table.total > 0 and table.row(0) is not None)
        client = screen.client
        me = screen.session.user["id"]
        token = await journey_at_platforms(client, "Aardvark Prompt", [me])
        await until(
            pilot,
            lambda: any(
                r["name"] == "Aardvark Prompt" and r["status"] == "Requested"
                for r in shown(table).values()
            ),
            what="the new company, Requested",
        )
        await pilot.pause(RELOAD_SECONDS + 0.2)
        # A company added just now: its read starts the second the next must wait.
        await client.post(
            "/v1/relationships",
            {
                "name": "Aardvark Another",
                "contact_name": "A",
                "contact_email": "a@b.example",
                "users": [me],
            },
        )
        await pilot.pause(0.1)
        await step(client, token, "view_request")
        stepped = time.monotonic()
        await until(
            pilot,
            lambda: any(
                r["name"] == "Aardvark Prompt" and r["status"] == "In progress"
                for r in shown(table).values()
            ),
            timeout=5,
            what="the customer's step",
        )
        took = time.monotonic() - stepped
        # From the event itself: well before the read the throttle holds back.
        assert took < RELOAD_SECONDS / 2, took


async def test_an_open_company_reads_itself_only_for_its_own_events(demo_settings) -> None:  # type: ignore[no-untyped-def]
    """A company screen open over the portal: 100 steps by another company's customer
    cost it no read; 62 steps by its own customer a read a second at most, and it ends
    showing the last of them."""
    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(120, 50)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PortalScreen) and app.screen.is_mounted)
        portal = app.screen
        assert isinstance(portal, PortalScreen)
        table = portal.query_one(RelationshipTable)
        await until(pilot, lambda: table.total > 0 and table.row(0) is not None)
        client = portal.client
        me = portal.session.user["id"]
        own = await journey_at_platforms(client, "Aardvark Open", [me])
        other = await journey_at_platforms(client, "Aardvark Elsewhere", [me])
        for token in (own, other):
            await step(client, token, "view_request")
            await step(client, token, "connect")
        opened = next(
            r["id"]
            for r in (await client.relationships(**Criteria().first_page()))["items"]
            if r["name"] == "Aardvark Open"
        )
        app.push_screen(RelationshipScreen(client, portal.session, opened))
        await until(pilot, lambda: isinstance(app.screen, RelationshipScreen))
        company = app.screen
        await until(pilot, lambda: company.body is not None, what="the company")  # type: ignore[attr-defined]
        await pilot.pause(RELOAD_SECONDS + 0.2)

        reads = count_reads(client)
        for _ in range(50):
            await step(client, other, "select_platform", platform="gbol")
            await step(client, other, "back")
        await pilot.pause(0.5)
        assert reads["company"] == 0

        started = time.monotonic()
        for _ in range(30):
            await step(client, own, "select_platform", platform="gbol")
            await step(client, own, "back")
        # Then on, past any step of the burst: the screen must show this one.
        await step(client, own, "select_platform", platform="gbol")
        await step(client, own, "consent")
        request_id = company.body["requests"][0]["id"]  # type: ignore[attr-defined]
        last = (await client.request(request_id))["step"]
        assert last not in ("consent", "select_platform")

        def last_step_shown() -> bool:
            body = company.body  # type: ignore[attr-defined]
            return body is not None and body["requests"][0]["step"] == last

        await until(pilot, last_step_shown, timeout=5, what="the last step on the company")
        elapsed = time.monotonic() - started
        assert 1 <= reads["company"] <= 2 + elapsed / RELOAD_SECONDS, (reads, elapsed)


def test_a_my_companies_list_leaves_a_colleagues_status_changes_unread() -> None:
    event = {
        "kind": "relationship.status_changed",
        "at": "2026-12-06T07:00:00Z",
        "relationship_id": "theirs",
        "request_id": "r1",
        "payload": {"from": "Requested", "to": "In progress", "users": ["colleague"]},
    }
    assert not react([event], Criteria(user="me"), "me", {}).reload
    assert react([event], Criteria(user="all"), "me", {}).reload
    assert react([event], Criteria(user="colleague"), "me", {}).reload
    # An event that does not say whose company it is (from an older service): read.
    unsaid = {**event, "payload": {"from": "Requested", "to": "In progress"}}
    assert react([unsaid], Criteria(user="me"), "me", {}).reload


def test_a_status_change_updates_the_row_held_and_the_counts_are_read() -> None:
    row = {"id": "a", "status": "Requested", "status_label": "Requested", "latest_request_id": "r"}
    event = {
        "kind": "relationship.status_changed",
        "at": "2026-12-06T07:00:00Z",
        "relationship_id": "a",
        "request_id": "r",
        "payload": {"from": "Requested", "to": "In progress", "users": ["me"]},
    }
    reaction = react([event], Criteria(), "me", {"a": row})
    assert reaction.changes == {
        "a": {
            "status": "In progress",
            "status_label": "In progress",
            "status_at": "2026-12-06T07:00:00Z",
        }
    }
    assert reaction.reload  # the counts per status moved
    to_none = {**event, "payload": {"from": "Requested", "to": "None", "users": ["me"]}}
    assert react([to_none], Criteria(), "me", {"a": row}).changes["a"]["status"] is None


def test_steps_that_change_no_column_cost_nothing_and_others_on_a_row_held_reload() -> None:
    held = {"parent": {"id": "parent", "status": "In progress", "latest_request_id": "r"}}
    steps = [
        {"kind": kind, "at": "", "relationship_id": "parent", "request_id": "r", "payload": {}}
        for kind in ("journey.action", "connection.pending", "pull.status", "request.opened")
    ]
    assert react(steps, Criteria(), "me", held) == react([], Criteria(), "me", held)
    # A subsidiary's entity (its own company id) counts in its parent's row, found by
    # the parent's latest request.
    entity = {
        "kind": "entity.created",
        "at": "",
        "relationship_id": "subsidiary",
        "request_id": "r",
        "payload": {"entity_id": "e", "name": "Sub"},
    }
    assert react([entity], Criteria(), "me", held).reload
    elsewhere = {**entity, "relationship_id": "x", "request_id": "other"}
    assert not react([elsewhere], Criteria(), "me", held).reload
    # While a list for new criteria is read, the rows it will hold are not known yet.
    assert react([elsewhere], Criteria(), "me", held, loading=True).reload
    assert not react(steps, Criteria(), "me", held, loading=True).reload


def test_the_throttle_reloads_at_once_then_once_a_second() -> None:
    now = [100.0]
    throttle = Throttle(1.0, clock=lambda: now[0])
    assert throttle.ask() == 0.0
    throttle.ran()
    now[0] += 0.3
    assert throttle.ask() == pytest.approx(0.7)
    assert throttle.ask() is None  # asked again meanwhile: the same reload
    now[0] += 0.7
    throttle.ran()
    now[0] += 5
    assert throttle.ask() == 0.0


async def test_the_portal_reads_no_page_for_events_that_change_nothing_it_shows(  # type: ignore[no-untyped-def]
    demo_settings,
) -> None:
    """A colleague's customer stepping 40 times: no read of my list at all."""
    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PortalScreen) and app.screen.is_mounted)
        screen = app.screen
        assert isinstance(screen, PortalScreen)
        table = screen.query_one(RelationshipTable)
        await until(pilot, lambda: table.total > 0 and table.row(0) is not None)
        client = screen.client
        me = screen.session.user["id"]
        colleague = next(u["id"] for u in screen.session.users if u["id"] != me)
        token = await journey_at_platforms(client, "Aardvark Theirs", [colleague])
        await step(client, token, "view_request")
        await step(client, token, "connect")
        await pilot.pause(RELOAD_SECONDS + 0.3)
        reads = count_reads(client)
        before = reads["/v1/events"]
        for _ in range(20):
            await step(client, token, "select_platform", platform="gbol")
            await step(client, token, "back")
        await until(pilot, lambda: reads["/v1/events"] > before, what="the events polled")
        await asyncio.sleep(0.3)
        assert reads["list"] == 0

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
from tests.support.portal import text_of
from tui.app import RelportalApp
from tui.client import ServiceClient, embedded_client
from tui.listing import Criteria
from tui.live import ALSO_FOLLOWED, RELOAD_SECONDS, Following, Throttle, following, react
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
    """A colleague's customer stepping 40 times: my portal's poll (of my companies) is
    not even answered, and my list is not read; my own customer's step is."""
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
        mine = await journey_at_platforms(client, "Aardvark Mine", [me])
        await pilot.pause(RELOAD_SECONDS + 0.3)
        reads = count_reads(client)
        for _ in range(20):
            await step(client, token, "select_platform", platform="gbol")
            await step(client, token, "back")
        await asyncio.sleep(0.5)
        assert reads["list"] == 0
        assert reads["/v1/events"] == 0, "a colleague's events answered my poll"
        await step(client, mine, "view_request")
        await until(pilot, lambda: reads["/v1/events"] > 0, what="my customer's step polled")


def record_polls(client: ServiceClient) -> list[dict[str, Any]]:
    """Every long-poll the portal's client sends from now on, as asked (its scope and
    the companies it follows besides), with the events it was answered (None: not
    answered, the poll cancelled). A read that does not wait is the test's own."""
    polls: list[dict[str, Any]] = []
    send = client._call

    async def recorded(method: str, path: str, **kwargs: Any) -> Any:
        params = kwargs.get("params") or {}
        if path != "/v1/events" or not params.get("wait"):
            return await send(method, path, **kwargs)
        poll = {
            "scope": params.get("scope"),
            "also": set(params.get("relationship") or ()),
            "after": params.get("after"),
            "events": None,
        }
        polls.append(poll)
        answer = await send(method, path, **kwargs)
        poll["events"] = answer["events"]
        return answer

    client._call = recorded  # type: ignore[method-assign]
    return polls


async def portal_started(pilot: Any) -> PortalScreen:
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, PortalScreen) and app.screen.is_mounted)
    screen = app.screen
    assert isinstance(screen, PortalScreen)
    table = screen.query_one(RelationshipTable)
    await until(pilot, lambda: table.total > 0 and table.row(0) is not None)
    return screen


async def test_a_my_companies_portal_follows_my_companies_and_the_one_open(  # type: ignore[no-untyped-def]
    demo_settings,
) -> None:
    """ "My companies" polls with scope=mine; a colleague's company opened over it is
    followed besides at once (not after the waiting poll's 20 s), and follows its
    customer live; closed, the next poll leaves it out."""
    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(120, 50)) as pilot:
        portal = await portal_started(pilot)
        assert portal.criteria.user == "me"
        client = portal.client
        me = portal.session.user["id"]
        colleague = next(u["id"] for u in portal.session.users if u["id"] != me)
        token = await journey_at_platforms(client, "Aardvark Colleague", [colleague])
        theirs = next(
            r["id"]
            for r in (await client.relationships(q="Aardvark Colleague", user="all"))["items"]
        )
        polls = record_polls(client)
        await step(client, token, "view_request")  # not mine: no answer to my poll
        await pilot.pause(0.3)
        assert polls == [], "a colleague's step answered my poll"
        # One of mine opened from the list: the poll under way already follows it.
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RelationshipScreen))
        await until(pilot, lambda: app.screen.body is not None, what="my company")  # type: ignore[attr-defined]
        await pilot.pause(0.3)
        assert polls == [], "opening my own company asked anew"
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is portal)

        app.push_screen(RelationshipScreen(client, portal.session, theirs))
        company = app.screen
        assert isinstance(company, RelationshipScreen)
        await until(pilot, lambda: company.body is not None, what="the colleague's company")
        await until(pilot, lambda: bool(polls), timeout=2, what="a poll asked anew")
        assert polls[-1]["scope"] == "mine" and polls[-1]["also"] == {theirs}

        def timeline() -> str:
            return text_of(company.query_one("#timeline"))

        await step(client, token, "connect")
        await until(
            pilot,
            lambda: "Choosing software" in timeline(),
            timeout=5,
            what="the colleague's customer's step on the company",
        )
        app.pop_screen()
        await until(pilot, lambda: app.screen is portal)
        await step(client, token, "select_platform", platform="gbol")  # answers the poll
        await until(pilot, lambda: polls[-1]["also"] == set(), what="a poll without it")
        assert all(poll["scope"] == "mine" for poll in polls)


async def test_everyones_companies_follow_the_organization_and_no_event_is_lost(  # type: ignore[no-untyped-def]
    demo_settings,
) -> None:
    """Switching between my companies and everyone's while customers step: everyone's
    polls the organization at once; my customer's events each reach the portal once,
    in order, across every restart of the poll."""
    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(120, 40)) as pilot:
        portal = await portal_started(pilot)
        client = portal.client
        me = portal.session.user["id"]
        colleague = next(u["id"] for u in portal.session.users if u["id"] != me)
        mine = await journey_at_platforms(client, "Aardvark Kept", [me])
        theirs = await journey_at_platforms(client, "Aardvark Away", [colleague])
        for token in (mine, theirs):
            await step(client, token, "view_request")
            await step(client, token, "connect")
        await pilot.pause(0.5)
        head = int((await client.get("/v1/events/head"))["last_seq"])
        polls = record_polls(client)

        for _ in range(4):
            await pilot.press("u")
            await until(pilot, lambda: portal.criteria.user == "all")
            # Everyone's: the poll waiting for my companies is replaced at once.
            await until(
                pilot,
                lambda: polls and polls[-1]["scope"] == "organization",
                timeout=1,
                what="a poll of the organization",
            )
            for token in (theirs, mine):
                await step(client, token, "select_platform", platform="gbol")
                await step(client, token, "back")
            await pilot.press("u")
            await until(pilot, lambda: portal.criteria.user == "me")
            for token in (mine, theirs):
                await step(client, token, "select_platform", platform="gbol")
                await step(client, token, "back")
        kept = next(r["id"] for r in (await client.relationships(q="Aardvark Kept"))["items"])
        last = int((await client.get("/v1/events/head"))["last_seq"])
        # Each of my customer's events, as the log holds them.
        log = await client.events(head, wait=0)
        expected = [e["seq"] for e in log["events"] if e["relationship_id"] == kept]
        assert len(expected) >= 16  # one a step

        def received() -> list[int]:
            return [
                e["seq"]
                for poll in polls
                for e in poll["events"] or ()
                if e["relationship_id"] == kept and e["seq"] <= last
            ]

        await until(pilot, lambda: received()[-1:] == expected[-1:], what="my last event")
        assert received() == expected
        assert {poll["scope"] for poll in polls if poll["events"]} == {"mine", "organization"}


def test_a_portal_follows_what_it_lists_and_restarts_only_to_follow_more() -> None:
    mine = following(Criteria(user="me"), "me", {"open"})
    assert mine == Following("mine", frozenset({"open"}))
    assert following(Criteria(user="me"), "me", ()) == Following("mine")
    assert following(Criteria(user="all"), "me", {"open"}) == Following("organization")
    assert following(Criteria(user="colleague"), "me", ()) == Following("organization")
    # More open than the service follows besides: the organization's, not a refusal.
    many = {f"c{n}" for n in range(ALSO_FOLLOWED + 1)}
    assert following(Criteria(user="me"), "me", many) == Following("organization")
    # A poll under way is started again only when it asks for too little.
    assert not Following("mine").covers(Following("organization"))
    assert not Following("mine").covers(mine)
    assert mine.covers(Following("mine"))
    assert Following("organization").covers(mine)

"""Customer journeys over HTTP off the straight path: a platform refusing, closing and
resuming, links that stop working, the organization's features, platform failures, every
action refused where it does not belong, malformed requests, and shutting down while
work is queued.

The happy journeys, end to end, are in ``test_journeys_http.py``.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from journey import customer
from journey.events import EventHub
from journey.storage.base import Committed
from journey.storage.sqlite import SQLiteStore
from journey.worker import Worker
from tests.support.journeys import (
    CONNECT_XERO,
    DEMO,
    XERO,
    actions,
    last_seq,
    problem,
    refuses_everything_else,
    rm_request,
    snapshot,
    start,
    view,
)
from tests.support.service import ALL_FEATURES, Service, fast_settings, set_features

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

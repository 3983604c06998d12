"""The event long-poll under many waiters and bursts: every waiter sees every event once,
in order, in a few answers; resuming from anywhere, the ring's past included; and
``scope=mine``, which follows only the caller's companies."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from journey import events as hub_module
from journey import service
from journey.storage.sqlite import SQLiteStore
from tests.support.service import Service


async def head(svc: Service, who: str = "rm") -> int:
    response = await svc.get("/v1/events/head", who)
    assert response.status_code == 200
    return int(response.json()["last_seq"])


async def poll(svc: Service, after: int, wait: float, who: str = "rm", **params: Any) -> Any:
    response = await svc.get("/v1/events", who, params={"after": after, "wait": wait, **params})
    assert response.status_code == 200, response.text
    return response.json()


class Follower:
    """A portal following the log: polls again at once with each answer's last_seq."""

    def __init__(self, svc: Service, after: int, who: str = "rm", **params: Any) -> None:
        self.svc, self.after, self.who, self.params = svc, after, who, params
        self.seen: list[dict[str, Any]] = []
        self.answers = 0

    async def follow_until(
        self, expected: int | Callable[[list[dict[str, Any]]], bool], timeout: float = 10.0
    ) -> None:
        """Until ``expected`` events are seen (or the seen events satisfy it)."""
        enough = expected if callable(expected) else lambda seen: len(seen) >= expected
        deadline = time.monotonic() + timeout
        while not enough(self.seen) and time.monotonic() < deadline:
            body = await poll(self.svc, self.after, 5, self.who, **self.params)
            if body["events"]:
                self.answers += 1
                self.seen += body["events"]
            self.after = body["last_seq"]


async def burst(svc: Service, count: int, prefix: str, **fields: Any) -> list[dict[str, Any]]:
    """``count`` companies created at once, as many RMs' clicks would."""
    return await asyncio.gather(
        *(svc.company(name=f"{prefix} {i}", **fields) for i in range(count))
    )


async def test_fifty_waiters_each_see_every_event_of_a_burst_once_in_order_in_few_answers(
    svc: Service,
) -> None:
    start = await head(svc)
    followers = [Follower(svc, start) for _ in range(50)]
    following = [asyncio.create_task(f.follow_until(40)) for f in followers]
    await asyncio.sleep(0.2)  # every follower waits
    made = await burst(svc, 40, "Burst")
    await asyncio.wait_for(asyncio.gather(*following), 15)

    logged = (await poll(svc, start, 0, limit=1000))["events"]
    assert sorted(e["relationship_id"] for e in logged) == sorted(r["id"] for r in made)
    for follower in followers:
        assert [e["seq"] for e in follower.seen] == [e["seq"] for e in logged]
        assert follower.seen == logged  # the same events, whole
    # A burst of 40 commits reaches a follower in a handful of answers, not 40.
    answers = [f.answers for f in followers]
    assert max(answers) <= 10, answers


async def test_the_hub_reads_the_database_once_per_news_not_once_per_waiter(svc: Service) -> None:
    hub = svc.app.state.ctx.hub
    start = await head(svc)
    followers = [Follower(svc, start) for _ in range(30)]
    following = [asyncio.create_task(f.follow_until(10)) for f in followers]
    await asyncio.sleep(0.2)
    reads = hub.reads
    await burst(svc, 10, "Told")  # this process's commits: told, not read
    await asyncio.wait_for(asyncio.gather(*following), 10)
    # The 30 followers' some 100 answers cost a read every 50 ms at most (to look for
    # other processes' commits), not one per answer.
    assert hub.reads - reads <= 10
    assert all(len(f.seen) == 10 for f in followers)


async def test_resuming_from_any_point_even_before_the_ring_s_oldest_event(
    svc: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hub_module, "RING_EVENTS", 8)  # a ring of 8 (10 before a trim)
    start = await head(svc)
    for i in range(30):
        await svc.company(name=f"Resume {i}")
    logged = (await poll(svc, start, 0, limit=1000))["events"]
    seqs = [e["seq"] for e in logged]
    assert len(seqs) == 30
    hub = svc.app.state.ctx.hub
    assert hub._ring(svc.users["rm"]["org_id"]).floor > seqs[10], "the ring kept it all"

    for index, after in enumerate([start, *seqs]):
        for wait in (0, 1):
            body = await poll(svc, after, wait, limit=1000)
            assert [e["seq"] for e in body["events"]] == seqs[index:], (after, wait)
            assert body["last_seq"] == (seqs[-1] if index < len(seqs) else after)

    # One at a time from the start, across the ring's floor: each exactly once, in order.
    walked: list[int] = []
    cursor = start
    while page := (await poll(svc, cursor, 0, limit=1))["events"]:
        walked.append(page[0]["seq"])
        cursor = page[0]["seq"]
    assert walked == seqs


async def test_a_waiter_from_before_the_ring_is_answered_from_the_database(
    svc: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hub_module, "RING_EVENTS", 4)
    start = await head(svc)
    for i in range(12):
        await svc.company(name=f"Old {i}")
    body = await poll(svc, start, 5, limit=3)
    assert [e["payload"]["name"] for e in body["events"]] == ["Old 0", "Old 1", "Old 2"]


async def test_scope_mine_sees_only_the_caller_s_companies_and_their_reassignment(
    svc: Service,
) -> None:
    rm, rm2 = svc.users["rm"]["id"], svc.users["rm2"]["id"]
    start = await head(svc)
    mine_follower = Follower(svc, start, scope="mine")
    everything = Follower(svc, start)
    followed = [
        asyncio.create_task(
            mine_follower.follow_until(lambda seen: any("unassigned" in e["payload"] for e in seen))
        ),
        asyncio.create_task(everything.follow_until(5)),
    ]
    await asyncio.sleep(0.2)
    mine = await svc.company(name="Mine Ltd", users=[rm])
    theirs = await svc.company("rm2", name="Theirs Ltd", users=[rm2])
    unassigned = await svc.company("rm2", name="Nobody's Ltd", users=[])
    # Theirs is assigned to me too, then Mine is taken from me.
    for rel, users, version in ((theirs, [rm2, rm], "1"), (mine, [rm2], "1")):
        response = await svc.patch(
            f"/v1/relationships/{rel['id']}",
            "admin",
            json={"users": users},
            headers={"If-Match": version},
        )
        assert response.status_code == 200, response.text
    await asyncio.wait_for(asyncio.gather(*followed), 10)

    seen = [(e["kind"], e["relationship_id"]) for e in mine_follower.seen]
    # Theirs' creation is the caller's too if the answer came after Theirs became
    # theirs: ``mine`` is by who is assigned now.
    assert [
        kind_rel for kind_rel in seen if kind_rel[1] != theirs["id"] or "updated" in kind_rel[0]
    ] == [
        ("relationship.created", mine["id"]),
        ("relationship.updated", theirs["id"]),  # now mine
        ("relationship.updated", mine["id"]),  # no longer mine
    ]
    assert mine_follower.seen[-1]["payload"]["unassigned"] == [rm]
    assert unassigned["id"] not in str(mine_follower.seen)
    assert unassigned["id"] in [e["relationship_id"] for e in everything.seen]

    # From now on: Theirs is followed, Mine is not.
    after = mine_follower.after
    await svc.patch(
        f"/v1/relationships/{mine['id']}",
        "admin",
        json={"name": "Was Mine"},
        headers={"If-Match": "2"},
    )
    await svc.patch(
        f"/v1/relationships/{theirs['id']}",
        "admin",
        json={"name": "Ours"},
        headers={"If-Match": "2"},
    )
    body = await poll(svc, after, 5, scope="mine")
    assert [(e["relationship_id"], e["payload"].get("name")) for e in body["events"]] == [
        (theirs["id"], "Ours")
    ]
    # Resuming past what was not mine; and from the start, the same (by who is assigned now).
    assert body["last_seq"] >= body["events"][-1]["seq"]
    again = await poll(svc, start, 0, scope="mine", limit=1000)
    assert {e["relationship_id"] for e in again["events"]} == {mine["id"], theirs["id"]}
    assert unassigned["id"] not in str(again)

    # rm2's own view of the same log.
    theirs_only = await poll(svc, start, 0, "rm2", scope="mine", limit=1000)
    assert unassigned["id"] not in str(theirs_only)
    assert {e["relationship_id"] for e in theirs_only["events"]} == {mine["id"], theirs["id"]}


async def test_scope_mine_waits_through_events_that_are_not_the_caller_s(svc: Service) -> None:
    start = await head(svc)
    waiting = asyncio.create_task(poll(svc, start, 3, scope="mine"))
    await asyncio.sleep(0.1)
    await burst(svc, 5, "Not Mine", users=[])
    await asyncio.sleep(0.3)
    assert not waiting.done(), "a poll for my companies answered with others' events"
    rel = await svc.company(name="Mine At Last")
    body = await asyncio.wait_for(waiting, 5)
    assert [e["relationship_id"] for e in body["events"]] == [rel["id"]]


async def test_scope_mine_follows_the_companies_open_on_screen_too(svc: Service) -> None:
    """A portal following its own companies also follows those it has open, which may
    be another RM's."""
    start = await head(svc)
    opened = await svc.company("rm2", name="Open On Screen", users=[svc.users["rm2"]["id"]])
    closed = await svc.company("rm2", name="Not Open", users=[svc.users["rm2"]["id"]])
    for rel in (opened, closed):
        response = await svc.patch(
            f"/v1/relationships/{rel['id']}",
            "rm2",
            json={"name": "Renamed"},
            headers={"If-Match": "1"},
        )
        assert response.status_code == 200, response.text
    body = await poll(svc, start, 1, scope="mine", relationship=[opened["id"]], limit=1000)
    assert [(e["kind"], e["relationship_id"]) for e in body["events"]] == [
        ("relationship.created", opened["id"]),
        ("relationship.updated", opened["id"]),
    ]
    # Without it: none of them.
    assert (await poll(svc, start, 0, scope="mine", limit=1000))["events"] == []


async def test_following_too_many_companies_besides_one_s_own_is_refused(svc: Service) -> None:
    ids = [f"rel-{n}" for n in range(51)]
    response = await svc.get("/v1/events", params={"scope": "mine", "relationship": ids, "wait": 0})
    assert response.status_code == 422
    assert response.json()["code"] == "too_many_relationships"


async def test_an_unknown_scope_is_refused_with_the_reason(svc: Service) -> None:
    response = await svc.get("/v1/events", params={"scope": "everyone"})
    assert response.status_code == 422
    assert "scope" in response.text and "mine" in response.text


async def test_a_burst_spread_over_a_moment_reaches_a_follower_in_fewer_answers(
    svc: Service,
) -> None:
    """Customers' steps a few milliseconds apart: each waiting poll is answered a
    coalescing moment after the first of them, with all that came meanwhile."""
    start = await head(svc)
    followers = [Follower(svc, start) for _ in range(10)]
    following = [asyncio.create_task(f.follow_until(20)) for f in followers]
    await asyncio.sleep(0.2)
    for i in range(20):
        await svc.company(name=f"Trickle {i}")
        await asyncio.sleep(0.005)
    await asyncio.wait_for(asyncio.gather(*following), 10)
    assert all(len(f.seen) == 20 for f in followers)
    # 20 commits over some 150 ms: answered every 30 ms or so (measured: 6 answers
    # each; 20, one per commit, without the coalescing moment).
    assert max(f.answers for f in followers) <= 10, [f.answers for f in followers]


async def test_a_large_backlog_from_another_process_is_read_from_the_database(
    svc: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process (a bulk load, say) wrote more than the hub would catch up on by
    reading: the rings start over at the newest event, and a poll from before them
    reads the database, every event once and in order."""
    monkeypatch.setattr(hub_module, "CATCH_UP_LIMIT", 5)
    start = await head(svc)
    other_process = SQLiteStore(svc.settings.db_path, readers=1)
    try:
        user = await other_process.read(
            lambda tx: tx.get_user(svc.users["rm"]["org_id"], svc.users["rm"]["id"])
        )
        assert user is not None
        for number in range(12):
            await other_process.write(
                lambda tx, number=number: service.create_relationship(
                    tx,
                    user,
                    {"name": f"Bulk {number}", "contact_name": "B", "contact_email": "b@b.example"},
                )
            )
    finally:
        other_process.close()
    follower = Follower(svc, start)
    await follower.follow_until(12)
    assert [e["payload"]["name"] for e in follower.seen] == [f"Bulk {n}" for n in range(12)]
    hub = svc.app.state.ctx.hub
    assert hub._ring(svc.users["rm"]["org_id"]).floor > start, "the rings did not start over"
    # And from the newest on, the ring serves what follows.
    rel = await svc.company(name="After The Bulk")
    body = await poll(svc, follower.after, 5)
    assert [e["relationship_id"] for e in body["events"]] == [rel["id"]]


async def test_two_processes_writing_at_once_reach_every_follower_once_in_order(
    svc: Service,
) -> None:
    """This process's commits are kept as told, the other's are read; interleaved, with
    a commit of ours often not following on from what the hub holds. No follower may
    miss one, see one twice, or see them out of order."""
    start = await head(svc)
    followers = [Follower(svc, start) for _ in range(20)]
    following = [asyncio.create_task(f.follow_until(60, timeout=20)) for f in followers]
    await asyncio.sleep(0.2)
    other_process = SQLiteStore(svc.settings.db_path, readers=1)
    try:
        user = await other_process.read(
            lambda tx: tx.get_user(svc.users["rm"]["org_id"], svc.users["rm"]["id"])
        )
        assert user is not None

        def elsewhere() -> None:
            for number in range(30):
                other_process.write_sync(
                    lambda tx, number=number: service.create_relationship(
                        tx,
                        user,
                        {
                            "name": f"There {number}",
                            "contact_name": "T",
                            "contact_email": "t@t.example",
                        },
                    )
                )

        await asyncio.gather(
            asyncio.to_thread(elsewhere),
            *(svc.company(name=f"Here {number}") for number in range(30)),
        )
    finally:
        other_process.close()
    await asyncio.wait_for(asyncio.gather(*following), 25)
    logged = (await poll(svc, start, 0, limit=1000))["events"]
    assert len(logged) == 60
    for follower in followers:
        assert [e["seq"] for e in follower.seen] == [e["seq"] for e in logged]

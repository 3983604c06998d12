"""Long-poll fan-out of the event log.

``GET /v1/events?after=SEQ&wait=S`` returns as soon as an event newer than SEQ
exists for the caller's organization (or, with ``scope=mine``, for the caller).

One read per commit, not one per waiter: the hub keeps each organization's recent
events in memory (a ring) and a woken long-poll answers from it. The ring is filled
from the commits of this process, which tell the hub their events (no read at all),
and from one read of every organization's new events when another process sharing
the database has committed (seen by ``PRAGMA data_version`` moving, asked every
50 ms while anyone waits). Only a reader resuming from further back than its
organization's ring reads the database itself.

Fewer, fuller answers: new events are published to the waiting polls a coalescing
moment after the first of them (``COALESCE_SECONDS``), and only the polls they concern
are woken (a poll following its user's companies sleeps through the others').

Why no event is ever skipped: an event's ``seq`` is an AUTOINCREMENT key given inside
its write transaction, and writes take turns over the whole database, across
processes too (``BEGIN IMMEDIATE``). A transaction that has appended an event holds
the turn until it commits, so every event committed later has a greater ``seq``, and
a rolled-back transaction gives its numbers back. So the order of ``seq`` is the order
of commits: once the hub holds every event up to ``filled`` (one consistent read of
"every event after ``filled``", or a commit whose first event is ``filled + 1``), no
event at or below ``filled`` can turn up later. A commit's events that do not follow
on (another process committed in between) are not kept as told: the hub reads
instead (``tests/service/test_events_and_mail.py``, a commit during the hub's read;
``tests/service/test_event_fanout.py``, every waiter sees every event once, in order).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from journey.core.records import Event
from journey.storage.base import Committed, Store, Tx

# How often the database is asked whether another process committed, while anyone
# waits: the delay another process's event may take to reach this one's portals.
POLL_SECONDS = 0.05
# A woken long-poll is answered this long after the first event of a burst, so that
# one answer carries the burst (a customer's step appends several events, and other
# customers' steps commit a few milliseconds apart) rather than an answer and a new
# poll per event. Well under what a person notices, and a small share of the 250 ms
# a step may take to reach the portals.
COALESCE_SECONDS = 0.03
# When many polls are answered at each publication, the moment grows so that this
# process answers about this many polls a second at most (an answer, and the poll
# that follows it, cost 0.5-1 ms of a core: bench/RESULTS.md, "Following"):
# delivery slows down rather than the whole service, when a thousand portals follow
# a busy organization. Polls that wait through an event that is not theirs
# (``scope=mine``) cost next to nothing, and do not count.
ANSWERS_PER_SECOND = 2000
COALESCE_AT_MOST = 0.2
# Each organization's ring: its newest events, a few minutes of a busy bank's. A
# reader further back reads the database, as every reader did before the ring.
RING_EVENTS = 4096
# Events per read when filling the rings from the database.
FILL_BATCH = 2000
# A backlog larger than this (a bulk load by another process) is not read into the
# rings: they start over at the newest event, and readers behind read the database.
CATCH_UP_LIMIT = 50_000
# Whose companies the hub knows: users who follow ``scope=mine``, the least
# recently seen forgotten first. Kept up to date from the events themselves; read
# again after a while in case a write told no event (a bulk load).
AUDIENCES_KEPT = 10_000
AUDIENCE_SECONDS = 300.0
# The events that change who is assigned to a company (they name the users).
ASSIGNING = frozenset({"relationship.created", "relationship.updated", "relationship.deleted"})


class Scope(StrEnum):
    """Which events a long-poll follows."""

    ORGANIZATION = "organization"  # every event of the caller's organization
    MINE = "mine"  # those of the caller's companies, and those about the caller


async def wait_event(event: asyncio.Event, seconds: float) -> None:
    """Wait for ``event`` at most ``seconds``.

    ``asyncio.timeout`` rather than ``wait_for``: on Python 3.11 ``wait_for`` can
    swallow a cancellation that arrives as the event fires, and a task that ignores
    its cancellation never lets the service shut down.
    """
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()


async def stop_task(task: asyncio.Task[None] | None, grace: float = 5.0) -> None:
    """Cancel a background task and wait for it, but never for ever."""
    if task is None or task.done():
        return
    task.cancel()
    await asyncio.wait({task}, timeout=grace)


@dataclass
class Audience:
    """One user's companies (as of the hub's newest event), for ``scope=mine``."""

    user_id: str
    org_id: str
    relationships: set[str]
    read_at: float

    def concerns(self, event: Event) -> bool:
        """The event is about one of the user's companies, about the user, or about the
        organization the portal shows (its name, its accent)."""
        if event.relationship_id in self.relationships:
            return True
        payload = event.payload
        for key in ("users", "unassigned"):
            named = payload.get(key)
            if isinstance(named, list) and self.user_id in named:
                return True  # assigned to it, or no longer: the portal's list changes
        return payload.get("user_id") == self.user_id or event.kind == "organization.updated"

    def learn(self, event: Event) -> None:
        """Follow a change of who is assigned to a company."""
        rel_id = event.relationship_id
        if rel_id is None or event.kind not in ASSIGNING:
            return
        users = event.payload.get("users")
        if event.kind == "relationship.deleted":
            self.relationships.discard(rel_id)
            for child in event.payload.get("subsidiaries") or ():
                self.relationships.discard(child)
        elif isinstance(users, list):
            if self.user_id in users:
                self.relationships.add(rel_id)
            else:
                self.relationships.discard(rel_id)


class Interest(Protocol):
    """Whose events a poll follows, when not all of the organization's."""

    def concerns(self, event: Event) -> bool: ...


@dataclass(frozen=True)
class AlsoFollowing:
    """The user's companies and a few more: those open on the portal's screen, which
    are not always the user's."""

    audience: Audience
    relationships: frozenset[str]

    def concerns(self, event: Event) -> bool:
        return event.relationship_id in self.relationships or self.audience.concerns(event)


@dataclass
class Ring:
    """An organization's newest events, in order. Every event of the organization with
    ``floor < seq <= hub.filled`` is in ``events``."""

    floor: int
    events: list[Event] = field(default_factory=list)
    # The polls waiting for this organization's news: each one's own wake-up, and whose
    # events it follows (None: all). Only those an event concerns are woken: a
    # thousand portals following their own companies cost nothing for the others'.
    waiting: dict[asyncio.Event, Interest | None] = field(default_factory=dict)

    def newer(self, seq: int) -> list[Event]:
        return self.events[bisect.bisect_right(self.events, seq, key=lambda e: e.seq) :]

    def keep(self, event: Event) -> None:
        self.events.append(event)
        if len(self.events) > RING_EVENTS + RING_EVENTS // 4:  # trimmed now and then
            dropped = len(self.events) - RING_EVENTS
            self.floor = self.events[dropped - 1].seq
            del self.events[:dropped]

    def after(
        self, cursor: int, upto: int, limit: int, audience: Interest | None
    ) -> tuple[list[Event], int]:
        """Up to ``limit`` events in (cursor, upto] the audience is concerned with, and
        the sequence number up to which the ring was looked through."""
        found: list[Event] = []
        start = bisect.bisect_right(self.events, cursor, key=lambda e: e.seq)
        for event in self.events[start:]:
            if event.seq > upto:
                break
            if audience is None or audience.concerns(event):
                found.append(event)
                if len(found) == limit:
                    return found, event.seq
        return found, max(cursor, upto)


class EventHub:
    def __init__(self, store: Store) -> None:
        self.store = store
        # Every event up to ``filled`` is in the rings (of those above their floors);
        # long-polls are answered up to ``published`` (a coalescing moment behind).
        self.filled = 0
        self.published = 0
        self._origin = 0  # the floor of an organization not seen yet
        self._rings: dict[str, Ring] = {}
        self._touched: set[str] = set()  # organizations with unpublished events
        self._publishing: asyncio.TimerHandle | None = None
        self._audiences: OrderedDict[str, Audience] = OrderedDict()
        self._version: int | None = None  # data_version when the rings were last filled
        self._filling = asyncio.Lock()
        self._someone_waits = asyncio.Event()
        self._waiters = 0
        self._answered = 0  # polls answered from the rings since the last publication
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = False
        self.reads = 0  # the hub's reads of the database, for tests and benchmarks

    @property
    def latest(self) -> int:
        """The newest event this process knows of."""
        return self.filled

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._version = self.store.data_version()
        self.filled = self.published = self._origin = await self._read_head()
        self._task = asyncio.create_task(self._watch(), name="relportal-events")

    async def stop(self) -> None:
        self.close()
        await stop_task(self._task)

    def close(self) -> None:
        """The service is stopping: every long poll answers now, with what there is, and
        new ones do not wait. A server waits for open requests before it stops; a poll
        left waiting up to a minute would be cancelled mid-request instead, with an
        error and a traceback in the log (``tui.serving.ending_long_polls``)."""
        self._closing = True
        for ring in self._rings.values():
            self._wake(ring)

    # Filling the rings

    def committed(self, commit: Committed) -> None:
        """Called after every commit, from whichever thread wrote (``on_commit``)."""
        if commit.events and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._told, commit.events)

    def _told(self, events: Sequence[Event]) -> None:
        if events[0].seq <= self.filled + 1:
            self._keep(events)
        else:
            # Another process committed events in between: they are read, with these,
            # by the next look (data_version has moved too; this says so without it).
            self._version = None
            if self._waiters:
                self._someone_waits.set()

    def _keep(self, events: Sequence[Event]) -> None:
        for event in events:
            if event.seq <= self.filled:
                continue  # read already, or told already
            self._ring(event.org_id).keep(event)
            if event.kind in ASSIGNING and self._audiences:
                for audience in self._audiences.values():
                    if audience.org_id == event.org_id:
                        audience.learn(event)
            self.filled = event.seq
            self._touched.add(event.org_id)
        if self._touched and self._publishing is None and self._loop is not None:
            # The polls answered since the last publication: most of them answered it.
            answered = self._answered / ANSWERS_PER_SECOND
            moment = min(max(COALESCE_SECONDS, answered), COALESCE_AT_MOST)
            self._publishing = self._loop.call_later(moment, self._publish)

    def _publish(self) -> None:
        self._publishing = None
        self._answered = 0
        before, self.published = self.published, self.filled
        touched, self._touched = self._touched, set()
        for org_id in touched:
            ring = self._ring(org_id)
            news = ring.newer(before)
            for wake, audience in ring.waiting.items():
                if audience is None or any(audience.concerns(e) for e in news):
                    wake.set()

    @staticmethod
    def _wake(ring: Ring) -> None:
        """Every poll waiting for the organization's news looks again."""
        for wake in ring.waiting:
            wake.set()

    def _ring(self, org_id: str) -> Ring:
        ring = self._rings.get(org_id)
        if ring is None:
            ring = self._rings[org_id] = Ring(floor=self._origin)
        return ring

    async def _read_head(self) -> int:
        self.reads += 1
        return await self.store.read(lambda tx: tx.max_event_seq())

    async def _fill(self) -> None:
        """Read every event newer than the rings hold, if anything committed since the
        last look; one read however many wait."""
        async with self._filling:
            while True:
                version = self.store.data_version()
                if version is not None and version == self._version:
                    return
                self.reads += 1
                events, head = await self.store.read(self._newer_than(self.filled))
                if head - self.filled > CATCH_UP_LIMIT:
                    self._start_over(head)
                else:
                    self._keep(events)
                if len(events) < FILL_BATCH:
                    self._version = version
                    return

    @staticmethod
    def _newer_than(after: int) -> Callable[[Tx], tuple[list[Event], int]]:
        """Every organization's events after ``after`` and the newest's number, in one
        snapshot."""
        return lambda tx: (tx.events_since(after, FILL_BATCH), tx.max_event_seq())

    def _start_over(self, head: int) -> None:
        """Too far behind to catch up by reading: the rings start at ``head``; waiters
        from before it read the database."""
        self.filled = self.published = self._origin = head
        self._audiences.clear()  # the skipped events may have assigned companies
        for ring in self._rings.values():
            ring.events.clear()
            ring.floor = head
            self._wake(ring)

    async def _watch(self) -> None:
        """Other processes' events, looked for while anyone waits for news."""
        while True:
            if not self._waiters:
                self._someone_waits.clear()
                await self._someone_waits.wait()
                if not self._waiters:
                    continue  # the poll was answered before the watch came round
            with contextlib.suppress(Exception):  # the database is briefly unavailable
                await self._fill()
            await asyncio.sleep(POLL_SECONDS)

    # Scope

    async def audience(self, org_id: str, user_id: str) -> Audience:
        """The user's companies, read once and then followed from the events."""
        known = self._audiences.get(user_id)
        now = time.monotonic()
        if known is not None and now - known.read_at < AUDIENCE_SECONDS:
            self._audiences.move_to_end(user_id)
            return known
        self.reads += 1
        relationships, seq = await self.store.read(
            lambda tx: (tx.relationships_of_user(user_id), tx.max_event_seq())
        )
        audience = Audience(user_id, org_id, relationships, now)
        # Events kept while the read ran (after its snapshot) change it still.
        ring = self._ring(org_id)
        for event in ring.newer(seq):
            audience.learn(event)
        self._audiences[user_id] = audience
        self._audiences.move_to_end(user_id)
        while len(self._audiences) > AUDIENCES_KEPT:
            self._audiences.popitem(last=False)
        return audience

    # Waiting

    async def wait(
        self,
        org_id: str,
        after: int,
        wait: float,
        limit: int = 500,
        audience: Interest | None = None,
    ) -> tuple[list[Event], int]:
        """Events of ``org_id`` newer than ``after`` (those ``audience`` is concerned
        with, if given), waiting up to ``wait`` seconds for one; and the sequence
        number to resume from.

        That number is the last event's; with an audience, it may be further on, past
        events that were looked through and are not the audience's."""
        deadline = time.monotonic() + max(0.0, wait)
        cursor = after
        wake = asyncio.Event()
        ring = self._ring(org_id)
        waits = wait > 0
        if waits:  # the watch looks for other processes' events while anyone waits
            self._waiters += 1
            self._someone_waits.set()
        try:
            if not waits:
                # An answer now says what is committed now, by any process.
                await self._fill()
            while True:
                if cursor < ring.floor:
                    events, cursor = await self._read_back(
                        org_id, cursor, ring.floor, limit, audience
                    )
                    if events:
                        return events, cursor if audience else events[-1].seq
                    continue
                # Told of what is published from now on (no await between this and
                # the look below, so nothing is published unseen in between).
                wake.clear()
                ring.waiting[wake] = audience
                # A poll that does not wait sees what is kept; one that waits, what is
                # published, so that a burst reaches it in one answer.
                events, looked = ring.after(
                    cursor, self.published if waits else self.filled, limit, audience
                )
                if audience is not None:
                    cursor = looked
                if events:
                    self._answered += 1
                    return events, cursor if audience else events[-1].seq
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closing:
                    return [], cursor if audience else after
                await wait_event(wake, remaining)
        finally:
            ring.waiting.pop(wake, None)
            if waits:
                self._waiters -= 1

    async def _read_back(
        self, org_id: str, cursor: int, floor: int, limit: int, audience: Interest | None
    ) -> tuple[list[Event], int]:
        """From the database, for a reader behind the ring: the events after ``cursor``
        (the audience's), and how far it looked."""
        rows = await self.store.read(lambda tx: tx.events_after(org_id, cursor, limit))
        looked = rows[-1].seq if rows else cursor
        if len(rows) < limit:
            # Nothing else of the organization up to the ring's floor (it was committed
            # before this read began): the ring goes on from there.
            looked = max(floor, looked)
        if audience is not None:
            rows = [e for e in rows if audience.concerns(e)]
        return rows, looked

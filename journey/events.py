"""Long-poll fan-out of the event log.

``GET /v1/events?after=SEQ&wait=S`` returns as soon as an event newer than SEQ
exists for the caller's organization. Commits in this process tell the hub their
newest event as they happen (no read back); writes by other processes sharing the
database are seen by polling the newest sequence number (cheap: the primary key's
last entry), and only while someone waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from journey.core.records import Event
from journey.storage.base import Committed, Store

POLL_SECONDS = 0.05


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


class EventHub:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.latest = 0
        # Set (and replaced) whenever ``latest`` moves on: every waiter wakes.
        self._news = asyncio.Event()
        self._someone_waits = asyncio.Event()
        self._waiters = 0
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = False

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.latest = await self.store.read(lambda tx: tx.max_event_seq())
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
        self._news.set()
        self._news = asyncio.Event()

    def committed(self, commit: Committed) -> None:
        """Called after every commit, from whichever thread wrote (``on_commit``)."""
        if commit.newest_event and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._learned, commit.newest_event)

    def _learned(self, seq: int) -> None:
        if seq > self.latest:
            self.latest = seq
            self._news.set()
            self._news = asyncio.Event()

    async def _watch(self) -> None:
        """Other processes' events, polled while anyone waits for news."""
        while True:
            if not self._waiters:
                self._someone_waits.clear()
                await self._someone_waits.wait()
            await asyncio.sleep(POLL_SECONDS)
            if not self._waiters:
                continue  # the waiters were answered meanwhile
            try:
                latest = await self.store.read(lambda tx: tx.max_event_seq())
            except Exception:  # the database is briefly unavailable: try again
                continue
            self._learned(latest)

    async def wait(self, org_id: str, after: int, wait: float, limit: int = 500) -> list[Event]:
        """Events of ``org_id`` newer than ``after``; waits up to ``wait`` seconds for one."""
        deadline = time.monotonic() + max(0.0, wait)
        # Counted as waiting before the first read: a commit from then on is polled
        # for or told, and one from before is in the read.
        self._waiters += 1
        self._someone_waits.set()
        try:
            while True:
                news = self._news
                seen = max(self.latest, after)
                events = await self.store.read(lambda tx: tx.events_after(org_id, after, limit))
                if events:
                    return events
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closing:
                    return []
                if self.latest <= seen:  # else: news came during the read; look again
                    await wait_event(news, remaining)
        finally:
            self._waiters -= 1

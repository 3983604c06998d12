"""Long-poll fan-out of the event log.

``GET /v1/events?after=SEQ&wait=S`` returns as soon as an event newer than SEQ
exists for the caller's organization. Writes in this process wake waiters at once;
writes by other processes sharing the database are seen by polling the newest
sequence number (cheap: the primary key's last entry) while anyone waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from functools import partial

from journey.records import Event
from journey.storage.base import Store

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


IDLE_POLL_SECONDS = 1.0


class EventHub:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.latest = 0
        self._changed = asyncio.Condition()
        self._poke = asyncio.Event()
        self._waiters = 0
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.latest = await self.store.read(lambda tx: tx.max_event_seq())
        self._task = asyncio.create_task(self._watch(), name="relportal-events")

    async def stop(self) -> None:
        await stop_task(self._task)

    def committed(self) -> None:
        """Called from the store's writer thread after every commit."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._poke.set)

    async def _watch(self) -> None:
        while True:
            timeout = POLL_SECONDS if self._waiters else IDLE_POLL_SECONDS
            await wait_event(self._poke, timeout)
            self._poke.clear()
            try:
                latest = await self.store.read(lambda tx: tx.max_event_seq())
            except Exception:  # the database is briefly unavailable: try again
                await asyncio.sleep(POLL_SECONDS)
                continue
            if latest > self.latest:
                self.latest = latest
                async with self._changed:
                    self._changed.notify_all()

    def _newer_than(self, seq: int) -> bool:
        return self.latest > seq

    async def wait(self, org_id: str, after: int, wait: float, limit: int = 500) -> list[Event]:
        """Events of ``org_id`` newer than ``after``; waits up to ``wait`` seconds for one."""
        deadline = time.monotonic() + max(0.0, wait)
        while True:
            # Note the newest sequence before reading: an event committed during the read
            # then still counts as news and wakes the wait below at once.
            seen = max(self.latest, after)
            events = await self.store.read(lambda tx: tx.events_after(org_id, after, limit))
            if events:
                return events
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            self._waiters += 1
            try:
                async with self._changed:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(remaining):
                            await self._changed.wait_for(partial(self._newer_than, seen))
            finally:
                self._waiters -= 1

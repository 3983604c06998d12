"""Answers to reads, kept until the database changes.

The portal asks the same questions again and again (the first page of "my companies",
who a token belongs to) and most answers do not change between two writes. An answer
is kept with the database's data version read *before* it was computed, and served
while the version is unchanged — any commit, from this process or another sharing the
file, retires every answer at once — and for at most ``max_age`` seconds, since a few
answers also depend on the clock (a link that expires without anyone writing).

Who a token belongs to is kept by a cache of its own, against the store's auth epoch
(``AuthEpoch``) rather than the data version: a customer's step commits, and moves the
data version, many times a second, while tokens and users change seldom.

Requests that miss together share one computation (while the version holds), so a
burst after a write costs one read, not one per connection. The computation runs as
a task of its own, so a request that is given up never fails the others.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from journey.storage.base import Store

T = TypeVar("T")


class ReadCache:
    """Answers kept while ``version()`` (the store's data version unless given) holds."""

    def __init__(
        self,
        store: Store,
        *,
        entries: int = 1024,
        max_age: float = 30.0,
        version: Callable[[], int | None] | None = None,
    ) -> None:
        self.store = store
        self.entries = entries
        self.max_age = max_age
        self.version = version or store.data_version
        self._kept: OrderedDict[Hashable, tuple[int, float, Any]] = OrderedDict()
        self._pending: dict[Hashable, tuple[int, asyncio.Future[Any]]] = {}

    async def answer(
        self,
        key: Hashable,
        compute: Callable[[], Awaitable[T]],
        worth_keeping: Callable[[T], bool] = lambda value: value is not None,
    ) -> T:
        """The kept answer to ``key``, or ``compute()``'s (kept if it is worth keeping)."""
        # Read once, before anything is computed: an answer is kept with the version
        # it may be older than, never with a newer one.
        version = self.version()
        found = self._kept_at(key, version)
        if found is not None:
            return found  # type: ignore[no-any-return]
        pending = self._pending.get(key)
        # Join a computation only if it started at this version: a request made after
        # a write must see that write.
        if pending is not None and version is not None and pending[0] == version:
            computing = pending[1]
        else:
            # Its own task, not the asking request's: a request given up half-way (a
            # client that went on to something else) must not take the answer away
            # from the requests that joined it.
            computing = asyncio.ensure_future(self._compute(key, version, compute, worth_keeping))
            computing.add_done_callback(_retrieved)
            if version is not None:
                self._pending[key] = (version, computing)
        return await asyncio.shield(computing)  # type: ignore[no-any-return]

    async def _compute(
        self,
        key: Hashable,
        version: int | None,
        compute: Callable[[], Awaitable[T]],
        worth_keeping: Callable[[T], bool],
    ) -> T:
        try:
            value = await compute()
        finally:
            pending = self._pending.get(key)
            if pending is not None and pending[1] is asyncio.current_task():
                del self._pending[key]
        if version is not None and worth_keeping(value):
            self._kept[key] = (version, time.monotonic(), value)
            self._kept.move_to_end(key)
            while len(self._kept) > self.entries:
                self._kept.popitem(last=False)
        return value

    def _kept_at(self, key: Hashable, version: int | None) -> Any | None:
        """The answer kept for ``key`` if it is still good at ``version``."""
        found = self._kept.get(key)
        if found is None:
            return None
        kept_version, at, value = found
        if kept_version != version or time.monotonic() - at > self.max_age:
            del self._kept[key]
            return None
        self._kept.move_to_end(key)
        return value


class AuthEpoch:
    """The store's auth epoch, read again only when the data version has moved: one
    read per commit per process, however many requests check a token meanwhile.

    The data version is read first: an epoch read after it is at least as new as the
    commits that version counts, so a write to tokens or users is never missed; a
    commit landing between the two is seen twice at worst.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._seen: tuple[int, int | None] | None = None  # (data version, epoch then)

    def __call__(self) -> int | None:
        version = self.store.data_version()
        if version is None:
            return None  # no data version, no epoch: nothing is kept
        if self._seen is None or self._seen[0] != version:
            self._seen = (version, self.store.auth_epoch())
        return self._seen[1]


def token_holders(store: Store) -> ReadCache:
    """The cache of who each token belongs to, kept until the auth epoch moves.

    An expiry is not a write, so the token's kept expiry is checked on each use (in
    ``journey.api.deps``). ``max_age`` is a bound for safety only: nothing about a
    token changes in the database without moving the epoch.
    """
    return ReadCache(store, entries=4096, max_age=300.0, version=AuthEpoch(store))


def _retrieved(task: asyncio.Future[Any]) -> None:
    """Every asker may have gone: mark a failure as seen (each asker still gets it)."""
    if not task.cancelled():
        task.exception()

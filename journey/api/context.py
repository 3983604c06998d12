"""What every route needs: the store, the settings, the event hub, the read caches
(route dependencies are in ``journey.api.deps``)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from journey.api.cache import ReadCache
from journey.core.errors import TooManyRequests
from journey.events import EventHub
from journey.proxies import NO_PROXIES, TrustedProxies
from journey.settings import ServiceSettings
from journey.storage.base import Store


@dataclass
class LinkGuard:
    """Slows down guessing of customer links: misses per client address per minute.

    The misses are counted in the database (``link_misses``), so every process serving
    it sees the same count: a guesser gets ``per_minute`` misses whichever process
    answers, not that many per process. The count over the last minute is estimated
    from this minute's misses and the previous minute's, weighed by how much of it is
    still within the last 60 seconds.
    """

    store: Store
    per_minute: int
    clock: Callable[[], float] = time.time

    async def check(self, client: str) -> None:
        """TooManyRequests if ``client`` missed too often in the last minute."""
        now = self.clock()
        minute = int(now // 60)
        current, previous = await self.store.read(lambda tx: tx.link_misses(client, minute))
        gone = now / 60 - minute  # how much of the previous minute is over
        if current + previous * (1 - gone) < self.per_minute:
            return
        if current >= self.per_minute:
            # This minute's misses alone: until they are old enough, next minute.
            wait = 60 * (1 - gone) + 60 * (1 - self.per_minute / current)
        else:
            wait = 60 * (1 - (self.per_minute - current) / previous - gone)
        raise TooManyRequests(
            "Too many unknown links from your address; wait a minute and try again.",
            retry_after=min(max(1, math.ceil(wait)), 61),
        )

    async def miss(self, client: str) -> None:
        minute = int(self.clock() // 60)
        await self.store.write(lambda tx: tx.count_link_miss(client, minute))


@dataclass
class ServiceContext:
    store: Store
    settings: ServiceSettings
    hub: EventHub
    guard: LinkGuard
    cache: ReadCache
    # Who each token belongs to, kept until a write to tokens or users (any process's).
    token_holders: ReadCache
    trusted_proxies: TrustedProxies = NO_PROXIES

    def client(self, scope: Mapping[str, Any]) -> str:
        """The address a request is counted against (see ``client_address``)."""
        return client_address(scope, self.trusted_proxies)


def get_context(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx


async def context(request: Request) -> ServiceContext:
    """``get_context`` as a route dependency: async, because FastAPI runs a plain
    ``def`` dependency in a worker thread, a thread hop on every request."""
    return get_context(request)


def client_address(scope: Mapping[str, Any], trusted: TrustedProxies | None = None) -> str:
    """The client's address, from a request's ASGI scope (``request.scope``): the peer,
    or the address a trusted proxy forwarded for (journey.proxies)."""
    client = scope.get("client")
    peer = str(client[0]) if client else None
    if trusted is None or not trusted.networks:
        return peer or "unknown"
    forwarded_for: list[str] = []
    forwarded: list[str] = []
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-for":
            forwarded_for.append(value.decode("latin-1"))
        elif name == b"forwarded":
            forwarded.append(value.decode("latin-1"))
    return trusted.client(peer, forwarded_for, forwarded)

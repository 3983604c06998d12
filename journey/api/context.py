"""What every route needs: the store, the settings, the event hub, the read cache."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from journey import service
from journey.api.cache import ReadCache
from journey.errors import TooManyRequests, Unauthorized
from journey.events import EventHub
from journey.records import User
from journey.settings import ServiceSettings
from journey.storage.base import Store
from journey.tokens import hash_secret


@dataclass
class LinkGuard:
    """Slows down guessing of customer links: misses per client address per minute."""

    per_minute: int
    misses: dict[str, deque[float]] = field(default_factory=dict)

    def check(self, client: str) -> None:
        window = self._window(client)
        if len(window) >= self.per_minute:
            retry = max(1, int(60 - (time.monotonic() - window[0])) + 1)
            raise TooManyRequests(
                "Too many unknown links from your address; wait a minute and try again.",
                retry_after=retry,
            )

    def miss(self, client: str) -> None:
        self._window(client).append(time.monotonic())
        if len(self.misses) > 10_000:  # bounded memory under a spray of addresses
            self.misses.clear()

    def _window(self, client: str) -> deque[float]:
        window = self.misses.setdefault(client, deque())
        cutoff = time.monotonic() - 60
        while window and window[0] < cutoff:
            window.popleft()
        return window


@dataclass
class ServiceContext:
    store: Store
    settings: ServiceSettings
    hub: EventHub
    guard: LinkGuard
    cache: ReadCache


def get_context(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx


async def context(request: Request) -> ServiceContext:
    """``get_context`` as a route dependency: async, because FastAPI runs a plain
    ``def`` dependency in a worker thread, a thread hop on every request."""
    return get_context(request)


bearer = HTTPBearer(auto_error=False, description="An API token from `relportal token create`.")


async def current_user(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Send your API token as “Authorization: Bearer …”.", "token_missing")
    ctx = get_context(request)
    token = credentials.credentials
    # Kept by the token's hash (the token itself is never kept) until anything is
    # written — a revoked token is a write — so most requests skip the database.
    user: User | None = None
    if 0 < len(token) <= 200:
        user = await ctx.cache.answer(
            ("token", hash_secret(token)),
            lambda: ctx.store.read(lambda tx: service.authenticate(tx, token)),
        )
    if user is None:
        raise Unauthorized("The API token is not valid.", "token_invalid")
    return user


def client_address(scope: Mapping[str, Any]) -> str:
    """The client's address, from a request's ASGI scope (``request.scope``)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"

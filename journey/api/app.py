"""The FastAPI application: routes, problem documents, middleware and lifespan.

The same app runs under uvicorn (``relportal serve``) and embedded in the TUI through
``httpx.ASGITransport``; the embedded host must run the lifespan itself
(``lifespan_context``), since the transport does not.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.responses import PlainTextResponse, Response

from journey.api import customer, problems, routes
from journey.api.cache import ReadCache, token_holders
from journey.api.context import LinkGuard, ServiceContext
from journey.api.middleware import AccessLog, BodyLimit
from journey.events import EventHub
from journey.proxies import TrustedProxies
from journey.settings import ServiceSettings
from journey.storage.sqlite import SQLiteStore
from journey.worker import Worker

log = logging.getLogger("relportal.service")
JSON_BODY_LIMIT = 64 * 1024


def create_app(settings: ServiceSettings) -> FastAPI:
    """A journey service for ``settings``; the database opens when the lifespan starts."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = SQLiteStore(settings.db_path)
        try:
            store.check_writable()  # a read-only database: one line now, not a 500 later
        except BaseException:
            store.close()
            raise
        if settings.demo_companies:
            from journey.seed import ensure_demo

            await asyncio.to_thread(
                ensure_demo,
                store,
                settings.demo_companies,
                settings.demo_seed,
                settings.demo_anchor,
            )
        store.checkpoint_in_background()
        hub = EventHub(store)
        worker = Worker(store, settings)
        store.on_commit.append(hub.committed)
        store.on_commit.append(worker.committed)
        app.state.ctx = ServiceContext(
            store=store,
            settings=settings,
            hub=hub,
            guard=LinkGuard(store, settings.link_misses_per_minute),
            cache=ReadCache(store),
            token_holders=token_holders(store),
            trusted_proxies=TrustedProxies.parse(settings.trusted_proxies),
        )
        await hub.start()
        worker.start()
        try:
            yield
        finally:
            await worker.stop()
            await hub.stop()
            store.close()

    app = FastAPI(
        title="relportal journey service",
        version="1",
        description=(
            "Relationships, information requests and the customer's data-sharing journey. "
            "RM endpoints take a bearer token; customer endpoints take the request link's "
            "token in the path. Errors are RFC 9457 problem documents with a stable `code`."
        ),
        lifespan=lifespan,
    )
    problems.install(app)
    # The customer's routes first: a journey action, the busiest request, is then
    # matched without first trying every RM route; so are the customer's pages behind
    # the emailed link (``/j/{token}``), beside the API.
    from journey import web

    app.include_router(customer.router)
    web.install(app)
    for router in routes.ROUTERS:
        app.include_router(router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        return PlainTextResponse("ok")

    app.add_middleware(BodyLimit, json_limit=JSON_BODY_LIMIT, upload_limit=settings.max_body_bytes)
    app.add_middleware(AccessLog)
    return app

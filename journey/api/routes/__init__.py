"""The RM side of the API, one router per resource: a bearer token of a user, scoped
to the user's organization. ``router`` holds them all under ``/v1``."""

from __future__ import annotations

from fastapi import APIRouter

from journey.api.routes import (
    connections,
    events,
    organization,
    portfolio,
    relationships,
    reports,
    requests,
    simulations,
    users,
)
from journey.api.routes.common import ERRORS

router = APIRouter(prefix="/v1", responses=ERRORS)
for resource in (
    organization,
    users,
    relationships,
    requests,
    simulations,
    connections,
    reports,
    portfolio,
    events,
):
    router.include_router(resource.router)

"""Connections to accounting platforms: refresh, unlink, deauthorize."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from journey import connections
from journey.api.deps import Ctx, Me
from journey.api.routes.common import ERRORS, ok

router = APIRouter(prefix="/v1", tags=["connections"], responses=ERRORS)


@router.post(
    "/relationships/{rel_id}/refresh",
    summary="Refresh data: a new pull for every linked connection",
)
async def refresh(ctx: Ctx, user: Me, rel_id: str) -> Response:
    result = await ctx.store.write(lambda tx: connections.refresh(tx, user, rel_id))
    return ok(result, 202)


@router.post("/connections/{conn_id}/unlink", summary="Cut a connection from the RM's side")
async def unlink(ctx: Ctx, user: Me, conn_id: str) -> Response:
    return ok(await ctx.store.write(lambda tx: connections.unlink(tx, user, conn_id)))


@router.post(
    "/connections/{conn_id}/deauthorize", summary="Support: simulate the customer revoking access"
)
async def deauthorize(ctx: Ctx, user: Me, conn_id: str) -> Response:
    return ok(await ctx.store.write(lambda tx: connections.deauthorize(tx, user, conn_id)))

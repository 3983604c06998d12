"""Users of the organization."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from journey.api.deps import Ctx, Me
from journey.api.routes.common import ERRORS, ok

router = APIRouter(prefix="/v1", tags=["users"], responses=ERRORS)


@router.get("/users", summary="Users of your organization")
async def list_users(ctx: Ctx, user: Me) -> Response:
    users = await ctx.store.read(lambda tx: tx.list_users(user.org_id))
    return ok({"items": [u.to_dict() for u in users]})

"""The portfolio: companies per status, requests per type, the journey funnel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from journey.api.deps import Ctx, Me
from journey.api.routes.common import ERRORS, ok

router = APIRouter(prefix="/v1", tags=["portfolio"], responses=ERRORS)


@router.get("/portfolio", summary="Companies per status, requests per type, the journey funnel")
async def get_portfolio(
    ctx: Ctx,
    user: Me,
    user_filter: Annotated[str, Query(alias="user", max_length=64)] = "me",
    since: Annotated[
        str | None, Query(max_length=40, description="ISO date; default 30 days ago")
    ] = None,
    until: Annotated[str | None, Query(max_length=40, description="ISO date; default now")] = None,
) -> Response:
    from journey.portfolio import portfolio

    return ok(
        await ctx.store.read(
            lambda tx: portfolio(tx, user, user_filter=user_filter, since=since, until=until)
        )
    )

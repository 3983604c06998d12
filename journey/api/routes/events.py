"""The event log: its head, and a long poll for what follows."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from journey.api.deps import Ctx, Me
from journey.api.models import (
    EventsOut,
)
from journey.api.routes.common import ERRORS, ok
from journey.core.errors import Invalid
from journey.events import AlsoFollowing, Interest, Scope

# Companies a poll may follow besides its user's own: a portal's open screens.
ALSO_FOLLOWED = 50

router = APIRouter(prefix="/v1", tags=["events"], responses=ERRORS)


@router.get("/events/head", summary="The newest event's sequence number, to follow from")
async def events_head(ctx: Ctx, user: Me) -> Response:
    seq = await ctx.store.read(lambda tx: tx.last_event_seq(user.org_id))
    return ok({"last_seq": seq})


@router.get("/events", response_model=EventsOut, summary="Long-poll the event log")
async def events(
    ctx: Ctx,
    user: Me,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    wait: Annotated[float, Query(ge=0, le=60)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    scope: Annotated[
        Scope,
        Query(
            description="organization: every event of the organization; mine: those of"
            " the companies assigned to you, those that assign one to you or take it"
            " away, and those about you or the organization itself"
        ),
    ] = Scope.ORGANIZATION,
    relationship: Annotated[
        list[str] | None,
        Query(
            description="With scope=mine, the events of these companies too (those open on"
            f" the caller's screen; at most {ALSO_FOLLOWED})"
        ),
    ] = None,
) -> Response:
    also = frozenset(relationship or ())
    if len(also) > ALSO_FOLLOWED or any(len(rel_id) > 64 for rel_id in also):
        raise Invalid(
            f"Follow at most {ALSO_FOLLOWED} companies besides your own, by their ids.",
            "too_many_relationships",
        )
    interest: Interest | None = None
    if scope is Scope.MINE:
        audience = await ctx.hub.audience(user.org_id, user.id)
        interest = AlsoFollowing(audience, also) if also else audience
    found, last = await ctx.hub.wait(user.org_id, after, wait, limit, interest)
    return ok({"events": [e.to_dict() for e in found], "last_seq": last})

"""Demo requests to walk as the customer, and the transcript of a journey."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from journey import simulation
from journey.api.deps import Ctx, Me
from journey.api.models import (
    SimulationCreate,
)
from journey.api.routes.common import ERRORS, ok

router = APIRouter(prefix="/v1", tags=["simulations"], responses=ERRORS)


@router.get("/requests/{req_id}/transcript", summary="The customer's journey, action by action")
async def get_transcript(ctx: Ctx, user: Me, req_id: str) -> Response:
    return ok(await ctx.store.read(lambda tx: simulation.transcript(tx, user, req_id)))


@router.post(
    "/simulations", status_code=201, summary="A fresh demo request to walk as the customer"
)
async def create_simulation(ctx: Ctx, user: Me, body: SimulationCreate) -> Response:
    data = body.model_dump(mode="json", exclude_none=True)
    made = await ctx.store.write(
        lambda tx: simulation.create(tx, user, data, ctx.settings.public_url)
    )
    return ok(made, 201)


@router.delete(
    "/simulations", summary="Remove every customer simulation (demo requests and replays)"
)
async def clear_simulations(ctx: Ctx, user: Me) -> Response:
    return ok(await ctx.store.write(lambda tx: simulation.clear(tx, user)))

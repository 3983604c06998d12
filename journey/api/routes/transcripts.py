"""What the portal's simulation needs from the service besides the journey itself:
a transcript checked and turned into a replay plan, and the built-in sample files.

The portal's screens reach these rules only through HTTP, like every other rule of
the service (``journey.simulation``, ``journey.template``)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body
from fastapi.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from journey import simulation
from journey.api.deps import Ctx, Me
from journey.api.routes.common import ERRORS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SAMPLE_NAMES = {"valid": "suppliers-sample.xlsx", "invalid": "suppliers-with-errors.xlsx"}

router = APIRouter(prefix="/v1", tags=["simulations"], responses=ERRORS)


def _plan(transcript: Any) -> dict[str, Any]:
    plan = simulation.replay_plan(simulation.check_transcript(transcript))
    steps = [{**asdict(step), "description": step.describe()} for step in plan]
    return {"transcript": transcript, "steps": steps}


@router.post(
    "/transcripts/replay-plan",
    summary="A transcript (as exported) checked, and the actions that replay it",
)
async def post_replay_plan(user: Me, transcript: Annotated[Any, Body()]) -> Response:
    """422 ``invalid_transcript`` says what is wrong with a transcript; otherwise the
    transcript as checked and each step to replay, with the words that describe it."""
    return JSONResponse(_plan(transcript))


@router.get(
    "/requests/{req_id}/replay-plan",
    summary="A request's transcript and the actions that replay it",
)
async def get_replay_plan(ctx: Ctx, user: Me, req_id: str) -> Response:
    """As ``POST /v1/transcripts/replay-plan`` for the request's own transcript: read
    here, so a long journey is not sent back (a JSON body is at most 64 KB)."""
    transcript = await ctx.store.read(lambda tx: simulation.transcript(tx, user, req_id))
    return JSONResponse(_plan(transcript))


@router.get(
    "/samples/{kind}",
    summary="The template filled in with fictional suppliers: valid or with errors",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
)
async def get_sample(user: Me, kind: Literal["valid", "invalid"]) -> Response:
    from journey.template import sample_file  # openpyxl: only when a sample is wanted

    data = await run_in_threadpool(sample_file, valid=kind == "valid")
    return Response(
        data,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{SAMPLE_NAMES[kind]}"'},
    )

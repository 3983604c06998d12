"""The customer side of the API: authorized only by the request link's token."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from journey import customer
from journey.api.context import ServiceContext, context
from journey.api.models import JourneyActionBody, JourneyOut, Problem
from journey.core.errors import Invalid, NotFound, TooLarge

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {"application/problem+json": {}}}
    for code in (400, 404, 409, 410, 413, 422, 429)
}
router = APIRouter(prefix="/v1/journeys", responses=ERRORS, tags=["customer"])
Ctx = Annotated[ServiceContext, Depends(context)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def guarded(ctx: ServiceContext, request: Request, work: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``work`` on behalf of a link, counting unknown links against the address."""
    address = ctx.client(request.scope)
    await ctx.guard.check(address)
    try:
        return await work()
    except NotFound:
        await ctx.guard.miss(address)
        raise


def _journey_answer(body: Any) -> JSONResponse:
    """The journey as the customer's browser must not keep it."""
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


async def take_action(ctx: ServiceContext, token: str, data: dict[str, Any]) -> Any:
    """One customer action: decided and written in one write."""
    return await ctx.store.write(lambda tx: customer.act(tx, token, data))


@router.get("/{token}", response_model=JourneyOut, summary="The current step and what it allows")
async def get_journey(ctx: Ctx, request: Request, token: str) -> Response:
    body = await guarded(
        ctx, request, lambda: ctx.store.read(lambda tx: customer.get_journey(tx, token))
    )
    return _journey_answer(body)


@router.post("/{token}/actions", response_model=JourneyOut, summary="Take one action")
async def post_action(ctx: Ctx, request: Request, token: str, body: JourneyActionBody) -> Response:
    data = body.model_dump(exclude_none=True)
    return _journey_answer(await guarded(ctx, request, lambda: take_action(ctx, token, data)))


@router.get(
    "/{token}/template",
    summary="The supplier information template (xlsx)",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
)
async def get_template(ctx: Ctx, request: Request, token: str) -> Response:
    await guarded(ctx, request, lambda: ctx.store.read(lambda tx: customer.find_request(tx, token)))
    from journey.template import build_template  # openpyxl: only when a template is wanted

    data = await run_in_threadpool(build_template)
    return Response(
        data,
        media_type=XLSX,
        headers={
            "Content-Disposition": 'attachment; filename="supplier-information-template.xlsx"'
        },
    )


@router.post("/{token}/uploads", response_model=JourneyOut, summary="Upload the filled template")
async def post_upload(ctx: Ctx, request: Request, token: str, file: UploadFile) -> Response:
    # Check the link and the step before spending effort on the file.
    await guarded(
        ctx, request, lambda: ctx.store.read(lambda tx: customer.check_upload_allowed(tx, token))
    )
    # openpyxl is imported only when a file arrives: it costs the portal's start 0.1 s.
    from journey.template import MAX_UPLOAD_BYTES

    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise TooLarge("The file is larger than 1 MB.", "upload_too_large")
    result = await take_upload(ctx, token, file.filename or "upload.xlsx", data)
    return _journey_answer(result)


async def take_upload(ctx: ServiceContext, token: str, filename: str, data: bytes) -> Any:
    """Check a filled template (at most 1 MB, read already) and record it; the journey
    as it then stands. ``Invalid`` (``upload_rejected``) carries the file's row and
    column ``errors``, and the attempt is kept in the transcript all the same."""
    from journey.template import UploadRejected, parse_upload

    try:
        records = await run_in_threadpool(parse_upload, data, filename)
    except UploadRejected as rejected:
        errors = [{"row": e.row, "column": e.column, "message": e.message} for e in rejected.errors]
        await ctx.store.write(
            lambda tx: customer.record_rejected_upload(tx, token, filename, errors)
        )
        raise Invalid(str(rejected), "upload_rejected", errors=errors) from None
    rows = [r.to_dict() for r in records]
    return await ctx.store.write(
        lambda tx: customer.accept_upload(
            tx, token, filename, data, rows, ctx.settings.upload_processing_seconds
        )
    )

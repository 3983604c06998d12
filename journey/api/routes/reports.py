"""Reports of a company: status per report, one report's data, one as a file."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from journey.api.deps import Ctx, Me
from journey.api.routes.common import ERRORS, ok
from journey.core.errors import Invalid
from journey.reports import relationship_reports, report_data

router = APIRouter(prefix="/v1", tags=["reports"], responses=ERRORS)


@router.get("/relationships/{rel_id}/reports", summary="Report status per report")
async def reports(ctx: Ctx, user: Me, rel_id: str) -> Response:
    return ok(await ctx.store.read(lambda tx: relationship_reports(tx, user, rel_id)))


@router.get("/relationships/{rel_id}/reports/{kind}", summary="One report's data")
async def report(ctx: Ctx, user: Me, rel_id: str, kind: str) -> Response:
    return ok(await ctx.store.read(lambda tx: report_data(tx, user, rel_id, kind)))


@router.get(
    "/relationships/{rel_id}/reports/{kind}/download",
    summary="One report as a file: xlsx (a sheet per section), csv (the main table) or json",
    response_class=Response,
)
async def report_file(
    ctx: Ctx,
    user: Me,
    rel_id: str,
    kind: str,
    format: Annotated[str, Query(max_length=8, description="xlsx, csv or json")] = "xlsx",
) -> Response:
    from journey import exports

    if format not in exports.FORMATS:
        raise Invalid("format must be xlsx, csv or json.", "invalid_format")
    data = await ctx.store.read(lambda tx: report_data(tx, user, rel_id, kind))
    body = await run_in_threadpool(exports.render, data, format)
    name = f"{kind}.{format}"
    return Response(
        body,
        media_type=exports.FORMATS[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )

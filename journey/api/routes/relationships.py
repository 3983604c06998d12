"""Companies (relationships): the list, one company, add, edit, delete."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import JSONResponse, Response

from journey import relationship_list, service, views
from journey.api.deps import Ctx, IdempotencyKey, IfMatch, IfNoneMatch, Me
from journey.api.models import (
    RelationshipCreate,
    RelationshipListQuery,
    RelationshipOut,
    RelationshipPage,
    RelationshipPatch,
)
from journey.api.routes.common import ERRORS, if_match, matches, ok, run_once
from journey.storage.base import Tx

router = APIRouter(prefix="/v1", tags=["relationships"], responses=ERRORS)


@dataclass(frozen=True)
class RenderedPage:
    """A page of the list as sent: its JSON and the ETag naming that JSON."""

    body: bytes
    etag: str


@router.get(
    "/relationships",
    response_model=RelationshipPage,
    summary="One page of companies",
    responses={304: {"description": "Not modified: the page still has the ETag you sent"}},
)
async def list_relationships(
    ctx: Ctx,
    user: Me,
    query: Annotated[RelationshipListQuery, Query()],
    if_none_match: IfNoneMatch = None,
) -> Response:
    # The portal asks for the same pages again and again, and most do not change
    # between two writes: a page is kept, rendered, per user and query until the data
    # changes (ReadCache). The user is known by now: the token was checked first.
    async def render() -> RenderedPage:
        page = await ctx.store.read(
            lambda tx: relationship_list.relationship_page(tx, user, **query.page_args())
        )
        body = bytes(JSONResponse(page).body)
        return RenderedPage(body, f'"{hashlib.sha256(body).hexdigest()[:32]}"')

    rendered = await ctx.cache.answer(("relationships", user.id, query), render)
    # The answer depends on who asks: a shared cache must not hand it to someone else.
    headers = {"ETag": rendered.etag, "Vary": "Authorization", "Cache-Control": "private, no-cache"}
    if if_none_match is not None and matches(if_none_match, rendered.etag):
        return Response(status_code=304, headers=headers)
    return Response(rendered.body, media_type="application/json", headers=headers)


@router.post(
    "/relationships", status_code=201, response_model=RelationshipOut, summary="Add a company"
)
async def create_relationship(
    ctx: Ctx,
    user: Me,
    body: RelationshipCreate,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    data = body.model_dump()

    def create(tx: Tx) -> tuple[int, dict[str, Any]]:
        return 201, views.relationship(service.create_relationship(tx, user, data))

    status, answer, _ = await run_once(ctx, user, idempotency_key, request, data, create)
    return ok(answer, status, {"ETag": f'"{answer["version"]}"'})


@router.get("/relationships/{rel_id}", summary="A company with its requests, entities and timeline")
async def get_relationship(ctx: Ctx, user: Me, rel_id: str) -> Response:
    def detail(tx: Tx) -> dict[str, Any]:
        rel = service.get_relationship(tx, user, rel_id)
        requests = tx.requests_for_relationship(rel.id)
        latest = (
            tx.get_request(user.org_id, rel.latest_request_id) if rel.latest_request_id else None
        )
        return {
            **views.relationship(rel),
            "subsidiaries": [views.relationship(c) for c in tx.children(rel.id)],
            "requests": [views.request(r) for r in requests],
            "entities": views.entities_of(tx, latest, with_earlier_data=True) if latest else [],
            "events": [e.to_dict() for e in tx.events_for_relationship(rel.id, 100)],
        }

    body = await ctx.store.read(detail)
    return ok(body, headers={"ETag": f'"{body["version"]}"'})


@router.patch("/relationships/{rel_id}", response_model=RelationshipOut, summary="Edit a company")
async def patch_relationship(
    ctx: Ctx,
    user: Me,
    rel_id: str,
    body: RelationshipPatch,
    if_match_header: IfMatch = None,
) -> Response:
    data = body.model_dump(exclude_unset=True, exclude={"version"})
    version = if_match(if_match_header, body.version)
    rel = await ctx.store.write(
        lambda tx: service.update_relationship(tx, user, rel_id, data, version)
    )
    return ok(views.relationship(rel), headers={"ETag": f'"{rel.version}"'})


@router.delete(
    "/relationships/{rel_id}", status_code=204, summary="Delete a company and its subsidiaries"
)
async def delete_relationship(
    ctx: Ctx,
    user: Me,
    rel_id: str,
    if_match_header: IfMatch = None,
) -> Response:
    version = if_match(if_match_header, None)
    await ctx.store.write(lambda tx: service.delete_relationship(tx, user, rel_id, version))
    return Response(status_code=204)

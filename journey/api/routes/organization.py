"""The signed-in user and their organization."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from journey import service
from journey.api.deps import Ctx, IfMatch, Me
from journey.api.models import (
    OrganizationPatch,
)
from journey.api.routes.common import ERRORS, if_match, ok

router = APIRouter(prefix="/v1", tags=["organization"], responses=ERRORS)


@router.get("/me", summary="The signed-in user, their organization, features and platforms")
async def get_me(ctx: Ctx, user: Me) -> Response:
    return ok(await ctx.store.read(lambda tx: service.me(tx, user)))


@router.get("/organization", summary="Your organization: name, features, platforms, accent")
async def get_organization(ctx: Ctx, user: Me) -> Response:
    org = await ctx.store.read(lambda tx: tx.get_organization(user.org_id))
    assert org is not None  # a signed-in user's organization exists
    return ok(org.to_dict(), headers={"ETag": f'"{org.version}"'})


@router.patch(
    "/organization", summary="Admin: features, platforms, link lifetime, failures, accent"
)
async def patch_organization(
    ctx: Ctx,
    user: Me,
    body: OrganizationPatch,
    if_match_header: IfMatch = None,
) -> Response:
    changes = body.model_dump(exclude_unset=True, exclude={"version"}, mode="json")
    version = if_match(if_match_header, body.version)
    result = await ctx.store.write(
        lambda tx: service.update_organization(tx, user, changes, version)
    )
    return ok(result)

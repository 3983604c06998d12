"""Route dependencies, each named once as an ``Annotated`` type: a route asks for
``ctx: Ctx`` and ``user: Me`` and FastAPI supplies them (authentication included)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from journey import service
from journey.api.context import ServiceContext, context, get_context
from journey.core.errors import Unauthorized
from journey.core.records import User
from journey.core.tokens import ApiToken, hash_secret

bearer = HTTPBearer(auto_error=False, description="An API token from `relportal token create`.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


async def current_user(request: Request, credentials: Credentials) -> User:
    """The user of the request's bearer token; Unauthorized (401) if there is none, or
    it is unknown, revoked or expired."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Send your API token as “Authorization: Bearer …”.", "token_missing")
    ctx = get_context(request)
    token = credentials.credentials
    # Kept by the token's hash (the token itself is never kept) until tokens or users
    # are written — a revoked token or a changed role moves the auth epoch, from any
    # process — so requests skip the database however often customers' steps commit.
    # Expiry is a matter of the clock, so it is checked on every request.
    held: tuple[ApiToken, User] | None = None
    if 0 < len(token) <= 200:
        held = await ctx.token_holders.answer(
            ("token", hash_secret(token)),
            lambda: ctx.store.read(lambda tx: service.token_holder(tx, token)),
        )
    if held is None:
        raise Unauthorized("The API token is not valid.", "token_invalid")
    api_token, user = held
    refusal = api_token.refusal()
    if refusal is not None:
        code, reason = refusal
        raise Unauthorized(reason, code)
    return user


Ctx = Annotated[ServiceContext, Depends(context)]
Me = Annotated[User, Depends(current_user)]
IfMatch = Annotated[str | None, Header(alias="If-Match")]
IfNoneMatch = Annotated[str | None, Header(alias="If-None-Match")]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]

"""What the routes share: the problem responses every route may give, the JSON
answer, the version an edit was based on, and Idempotency-Key."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from journey.api.context import ServiceContext
from journey.api.models import Problem
from journey.core.errors import Invalid
from journey.core.records import User
from journey.idempotency import check_key, fingerprint, lookup_key, seal, unseal
from journey.storage.base import Tx

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {"application/problem+json": {}}}
    for code in (400, 401, 403, 404, 409, 412, 413, 422, 428)
}


def ok(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(body, status_code=status, headers=headers)


def if_match(header: str | None, body_version: int | None) -> int | None:
    """The version an edit was based on: If-Match ("3" or W/"3") or the body's version."""
    if header:
        text = header.strip().removeprefix("W/").strip('"')
        if not text.isdigit():
            raise Invalid(
                'If-Match must be the version from the ETag, like "3".', "invalid_if_match"
            )
        return int(text)
    return body_version


def matches(if_none_match: str, etag: str) -> bool:
    """Whether an If-None-Match header names ``etag`` (or is ``*``), compared weakly as
    RFC 9110 asks: ``W/"x"`` matches ``"x"``."""
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag.removeprefix("W/") in tags


async def run_once(
    ctx: ServiceContext,
    user: User,
    key: str | None,
    request: Request,
    body: dict[str, Any],
    create: Any,
) -> tuple[int, dict[str, Any], bool]:
    """Run ``create(tx) -> (status, body)`` once per Idempotency-Key."""
    key = check_key(key)
    print_ = fingerprint(request.method, request.url.path, body)

    def work(tx: Tx) -> tuple[int, dict[str, Any], bool]:
        if key is not None:
            found = tx.get_idempotent(user.id, lookup_key(user.id, key))
            if found is not None:
                stored_print, status, sealed = found
                if stored_print != print_:
                    raise Invalid(
                        "This Idempotency-Key was used for a different request.",
                        "idempotency_key_reused",
                    )
                return status, unseal(user.id, key, sealed), True
        status, answer = create(tx)
        if key is not None:
            tx.put_idempotent(
                user.id, lookup_key(user.id, key), print_, status, seal(user.id, key, answer)
            )
        return status, answer, False

    return await ctx.store.write(work)

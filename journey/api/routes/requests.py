"""Information requests: preview, create, list, show, resend, cancel, expire."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from journey import mail, service, views
from journey.api.context import ServiceContext
from journey.api.deps import Ctx, IdempotencyKey, Me
from journey.api.models import (
    IssuedRequestOut,
    RequestCreate,
    RequestOut,
    RequestPreviewBody,
    ResendBody,
)
from journey.api.routes.common import ERRORS, ok, run_once
from journey.idempotency import fingerprint, lookup_key, seal
from journey.links import emailed_link_notice
from journey.storage.base import Tx

router = APIRouter(prefix="/v1", tags=["requests"], responses=ERRORS)


@router.post("/relationships/{rel_id}/request-preview", summary="The email a request would send")
async def preview_request(ctx: Ctx, user: Me, rel_id: str, body: RequestPreviewBody) -> Response:
    data = body.model_dump(mode="json")
    return ok(await ctx.store.read(lambda tx: service.preview_request(tx, user, rel_id, data)))


def _issued(issued: service.IssuedRequest) -> dict[str, Any]:
    answer: dict[str, Any] = {"request": views.request(issued.request)}
    if issued.email is not None:
        # The RM sees the email that went out; the link inside it stays the customer's.
        email = issued.email.to_dict()
        email["text"] = email["text"].replace(issued.link, "(the customer's personal link)")
        email["link"] = "(the customer's personal link)"
        answer["email"] = email
        notice = emailed_link_notice(issued.link)
        if notice:
            answer["notice"] = notice  # an emailed link the customer cannot open
    else:
        answer["link"] = issued.link
    return answer


async def _deliver(
    ctx: ServiceContext, issued: service.IssuedRequest, answer: dict[str, Any]
) -> None:
    if issued.email is None:
        return
    outcome = await run_in_threadpool(mail.deliver, issued.email, ctx.settings)
    answer["email"]["sent"] = bool(outcome.get("sent"))
    await ctx.store.write(lambda tx: service.note_email_sent(tx, issued.request, outcome))


@router.post(
    "/relationships/{rel_id}/requests",
    status_code=201,
    response_model=IssuedRequestOut,
    summary="Request information, by email or as a link to copy",
)
async def create_request(
    ctx: Ctx,
    user: Me,
    rel_id: str,
    body: RequestCreate,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    data = body.model_dump(mode="json")
    issued_box: list[service.IssuedRequest] = []

    def create(tx: Tx) -> tuple[int, dict[str, Any]]:
        issued = service.create_request(tx, user, rel_id, data, ctx.settings.public_url)
        issued_box.append(issued)
        return 201, _issued(issued)

    status, answer, replay = await run_once(ctx, user, idempotency_key, request, data, create)
    if not replay and issued_box:
        await _deliver(ctx, issued_box[0], answer)
        if idempotency_key is not None and "email" in answer:
            # A retry must learn whether the email went out: keep the delivered answer.
            key = idempotency_key
            print_ = fingerprint(request.method, request.url.path, data)
            sealed = seal(user.id, key, answer)
            await ctx.store.write(
                lambda tx: tx.put_idempotent(
                    user.id, lookup_key(user.id, key), print_, status, sealed
                )
            )
    return ok(answer, status)


@router.get("/relationships/{rel_id}/requests", summary="A company's requests, newest first")
async def list_requests(ctx: Ctx, user: Me, rel_id: str) -> Response:
    def work(tx: Tx) -> dict[str, Any]:
        rel = service.get_relationship(tx, user, rel_id)
        return {"items": [views.request(r) for r in tx.requests_for_relationship(rel.id)]}

    return ok(await ctx.store.read(work))


@router.get("/requests/{req_id}", summary="A request with its entities and timeline")
async def get_request(ctx: Ctx, user: Me, req_id: str) -> Response:
    def work(tx: Tx) -> dict[str, Any]:
        req = service.get_request(tx, user, req_id)
        return {
            **views.request(req),
            "entities": views.entities_of(tx, req),
            "events": [e.to_dict() for e in tx.events_for_request(req.id)],
        }

    return ok(await ctx.store.read(work))


@router.post(
    "/requests/{req_id}/resend",
    response_model=IssuedRequestOut,
    summary="New link, old one revoked",
)
async def resend_request(
    ctx: Ctx, user: Me, req_id: str, body: ResendBody | None = None
) -> Response:
    data = body.model_dump(mode="json", exclude_none=True) if body else {}
    issued = await ctx.store.write(
        lambda tx: service.resend_request(tx, user, req_id, data, ctx.settings.public_url)
    )
    answer = _issued(issued)
    await _deliver(ctx, issued, answer)
    return ok(answer)


@router.post(
    "/requests/{req_id}/cancel", response_model=RequestOut, summary="Cancel; the link stops working"
)
async def cancel_request(ctx: Ctx, user: Me, req_id: str) -> Response:
    req = await ctx.store.write(lambda tx: service.cancel_request(tx, user, req_id))
    return ok(views.request(req))


@router.post(
    "/requests/{req_id}/expire", response_model=RequestOut, summary="Support: expire the link now"
)
async def expire_request(ctx: Ctx, user: Me, req_id: str) -> Response:
    req = await ctx.store.write(lambda tx: service.expire_request_now(tx, user, req_id))
    return ok(views.request(req))

"""The RM side of the API: bearer token of a user, scoped to the user's organization."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from journey import connections, mail, service, simulation
from journey.api import pages, views
from journey.api.context import ServiceContext, context, current_user
from journey.api.models import (
    EventsOut,
    IssuedRequestOut,
    OrganizationPatch,
    Problem,
    RelationshipCreate,
    RelationshipOut,
    RelationshipPage,
    RelationshipPatch,
    RequestCreate,
    RequestOut,
    RequestPreviewBody,
    ResendBody,
    SimulationCreate,
)
from journey.domain import SEARCH_MAX
from journey.errors import Invalid
from journey.idempotency import check_key, fingerprint, lookup_key, seal, unseal
from journey.links import emailed_link_notice
from journey.records import User
from journey.reports import relationship_reports, report_data
from journey.storage.base import Tx

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {"application/problem+json": {}}}
    for code in (400, 401, 403, 404, 409, 412, 413, 422, 428)
}

router = APIRouter(prefix="/v1", responses=ERRORS)
# GETs whose whole responses are kept until the database changes
# (journey/api/cache.py, KeptResponses): the relationship list, the portal's most
# asked question.
KEPT_RESPONSES = frozenset({"/v1/relationships"})
Ctx = Annotated[ServiceContext, Depends(context)]
Me = Annotated[User, Depends(current_user)]


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
    if_match_header: Annotated[str | None, Header(alias="If-Match")] = None,
) -> Response:
    changes = body.model_dump(exclude_unset=True, exclude={"version"}, mode="json")
    version = if_match(if_match_header, body.version)
    result = await ctx.store.write(
        lambda tx: service.update_organization(tx, user, changes, version)
    )
    return ok(result)


@router.get("/users", summary="Users of your organization")
async def list_users(ctx: Ctx, user: Me) -> Response:
    users = await ctx.store.read(lambda tx: tx.list_users(user.org_id))
    return ok({"items": [u.to_dict() for u in users]})


@router.get("/relationships", response_model=RelationshipPage, summary="One page of companies")
async def list_relationships(
    ctx: Ctx,
    user: Me,
    q: Annotated[str, Query(max_length=SEARCH_MAX)] = "",
    status: Annotated[str | None, Query(max_length=40)] = None,
    user_filter: Annotated[str, Query(alias="user", max_length=64)] = "me",
    sort: Annotated[
        str, Query(max_length=20, description="name, created or updated; -name descends")
    ] = "name",
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
    offset: Annotated[int, Query(ge=0, le=100_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    parent: Annotated[str | None, Query(max_length=64)] = None,
    counts: Annotated[bool, Query(description="false: rows only (total and counts null)")] = True,
) -> Response:
    asked: dict[str, Any] = dict(
        q=q,
        status=status,
        user_filter=user_filter,
        sort=sort,
        cursor=cursor,
        offset=offset,
        limit=limit,
        parent=parent,
        counts=counts,
    )
    # The portal asks for the same pages over and over: repeats are answered from
    # KEPT_RESPONSES before they reach this function.
    return ok(await ctx.store.read(lambda tx: pages.relationship_page(tx, user, **asked)))


async def _idempotent(
    ctx: Ctx,
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


@router.post(
    "/relationships", status_code=201, response_model=RelationshipOut, summary="Add a company"
)
async def create_relationship(
    ctx: Ctx,
    user: Me,
    body: RelationshipCreate,
    request: Request,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response:
    data = body.model_dump()

    def create(tx: Tx) -> tuple[int, dict[str, Any]]:
        return 201, views.relationship(service.create_relationship(tx, user, data))

    status, answer, _ = await _idempotent(ctx, user, idempotency_key, request, data, create)
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
    if_match_header: Annotated[str | None, Header(alias="If-Match")] = None,
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
    if_match_header: Annotated[str | None, Header(alias="If-Match")] = None,
) -> Response:
    version = if_match(if_match_header, None)
    await ctx.store.write(lambda tx: service.delete_relationship(tx, user, rel_id, version))
    return Response(status_code=204)


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
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response:
    data = body.model_dump(mode="json")
    issued_box: list[service.IssuedRequest] = []

    def create(tx: Tx) -> tuple[int, dict[str, Any]]:
        issued = service.create_request(tx, user, rel_id, data, ctx.settings.public_url)
        issued_box.append(issued)
        return 201, _issued(issued)

    status, answer, replay = await _idempotent(ctx, user, idempotency_key, request, data, create)
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


@router.post(
    "/requests/{req_id}/expire", response_model=RequestOut, summary="Support: expire the link now"
)
async def expire_request(ctx: Ctx, user: Me, req_id: str) -> Response:
    req = await ctx.store.write(lambda tx: service.expire_request_now(tx, user, req_id))
    return ok(views.request(req))


@router.post(
    "/relationships/{rel_id}/refresh",
    summary="Refresh data: a new pull for every linked connection",
)
async def refresh(ctx: Ctx, user: Me, rel_id: str) -> Response:
    result = await ctx.store.write(lambda tx: connections.refresh(tx, user, rel_id))
    return ok(result, 202)


@router.post("/connections/{conn_id}/unlink", summary="Cut a connection from the RM's side")
async def unlink(ctx: Ctx, user: Me, conn_id: str) -> Response:
    return ok(await ctx.store.write(lambda tx: connections.unlink(tx, user, conn_id)))


@router.post(
    "/connections/{conn_id}/deauthorize", summary="Support: simulate the customer revoking access"
)
async def deauthorize(ctx: Ctx, user: Me, conn_id: str) -> Response:
    return ok(await ctx.store.write(lambda tx: connections.deauthorize(tx, user, conn_id)))


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


@router.get("/portfolio", summary="Companies per status, requests per type, the journey funnel")
async def get_portfolio(
    ctx: Ctx,
    user: Me,
    user_filter: Annotated[str, Query(alias="user", max_length=64)] = "me",
    since: Annotated[
        str | None, Query(max_length=40, description="ISO date; default 30 days ago")
    ] = None,
    until: Annotated[str | None, Query(max_length=40, description="ISO date; default now")] = None,
) -> Response:
    from journey.portfolio import portfolio

    return ok(
        await ctx.store.read(
            lambda tx: portfolio(tx, user, user_filter=user_filter, since=since, until=until)
        )
    )


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
) -> Response:
    found = await ctx.hub.wait(user.org_id, after, wait, limit)
    last = found[-1].seq if found else after
    return ok({"events": [e.to_dict() for e in found], "last_seq": last})

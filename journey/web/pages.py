"""The customer's pages: one step, one page, plain forms (Post/Redirect/Get).

Every page is rendered from the journey as ``GET /v1/journeys/{token}`` describes it
(``journey.customer.get_journey``) and every form posts an action that goes through
the same service functions as ``POST /v1/journeys/{token}/actions``: the state
machine decides, the page shows what it decided. A GET never changes anything (mail
scanners open links before customers do); the customer's first POST opens the
request. Refusals come back as the step re-rendered with an error summary, and dead
links as pages of their own: never JSON, never a traceback.
"""

from __future__ import annotations

import urllib.parse
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from journey import customer
from journey.accent import is_accent, stylesheet
from journey.api.context import ServiceContext, get_context
from journey.api.customer import XLSX, guarded, take_action, take_upload
from journey.api.middleware import ASGIApp, Message, Scope, replaying
from journey.core.domain import Step
from journey.core.errors import Gone, Invalid, NotFound, ServiceError, TooManyRequests
from journey.core.labels import ENTITY_STATE_LABELS
from journey.core.machine import STEP_TITLES, JourneyError, JourneyState
from journey.core.prompts import EXIT_CONFIRMATION, PAGE_WORDS
from journey.template import MAX_UPLOAD_BYTES

HERE = Path(__file__).parent
STATIC_PREFIX = "/static/journey"
# A step's form is a few short fields; an upload is the file and a little multipart.
FORM_LIMIT = 16 * 1024
UPLOAD_BODY_LIMIT = MAX_UPLOAD_BYTES + 16 * 1024
SEARCH_MAX = 100

CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CSP.encode()),
    # The page's URL is the customer's capability: never sent on to anyone.
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
]
_PAGE_HEADER_NAMES = {name for name, _ in PAGE_HEADERS}

# The fields a step's form may carry to the machine; anything else posted is ignored.
ACTION_FIELDS = ("action", "method", "count", "name", "platform", "username", "password")
# Fields whose value goes back into the page when a step is refused (never a password).
KEPT_VALUES = ("name", "username")
# The username typed before a wrong password, kept by the browser across the 303.
USERNAME_COOKIE = "signin_username"
USERNAME_SECONDS = 300
FIELD_MAX = 500  # as the JSON action's username

# Which field a refusal is about, so the error summary links to it and the error
# is repeated beside it. The codes are the machine's and the upload check's.
FIELD_OF_CODE = {
    "entity_name_missing": "name",
    "entity_name_too_long": "name",
    "entity_name_bad": "name",
    "entity_name_taken": "name",
    "invalid_count": "count",
    "unknown_platform": "platform",
    "platform_not_enabled": "platform",
    "credentials_missing": "username",
    "username_bad": "username",
    "wrong_credentials": "password",
    "upload_rejected": "file",
    "upload_too_large": "file",
    "no_file": "file",
}

templates = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates are part of the installed program: compiled once, never checked
        # again (by default each render stats every template it uses).
        auto_reload=False,
    )
)
router = APIRouter(include_in_schema=False)


def install(app: FastAPI) -> None:
    """Serve the customer's pages, their stylesheet and script, with their headers."""
    app.include_router(router)
    app.mount(STATIC_PREFIX, StaticFiles(directory=HERE / "static"), name="journey_static")
    app.add_middleware(PageHeaders)


class PageHeaders:
    """The customer pages' security headers, on every answer under ``/j/`` and on
    their stylesheet and script (pure ASGI, like the service's other middleware)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(("/j/", STATIC_PREFIX)):
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() not in _PAGE_HEADER_NAMES
                ]
                message = {**message, "headers": kept + PAGE_HEADERS}
            await send(message)

        await self.app(scope, receive, sending)


# ---------------------------------------------------------------- reading requests


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The request's body, or None as soon as it is known to be over ``limit``: from
    its Content-Length, or while it streams in (never more than ``limit`` is kept)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _simple_form(body: bytes) -> dict[str, str]:
    """An url-encoded form's fields (the first of each name)."""
    fields: dict[str, str] = {}
    try:
        pairs = urllib.parse.parse_qsl(
            body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=20
        )
    except ValueError:  # more fields than any step's form has
        return fields
    for key, value in pairs:
        fields.setdefault(key, value)
    return fields


async def _multipart(request: Request, body: bytes) -> FormData | None:
    """A multipart form read from ``body`` (read already, within its limit)."""
    again = Request(request.scope, replaying(body, request.receive))
    try:
        return await again.form(max_files=1, max_fields=5)
    except HTTPException:  # not multipart, or malformed
        return None


async def _journey(ctx: ServiceContext, request: Request, token: str) -> dict[str, Any]:
    """The journey as the JSON API describes it, counting an unknown link as a miss."""

    async def read() -> dict[str, Any]:
        return await ctx.store.read(lambda tx: customer.get_journey(tx, token))

    view: dict[str, Any] = await guarded(ctx, request, read)
    return view


def _place(view: dict[str, Any]) -> str:
    """Where a page was when its form was rendered: the step, and whether closed."""
    return view["step"] + (":closed" if view["closed"] else "")


# ---------------------------------------------------------------- rendering


def _error(text: str, code: str = "") -> dict[str, str]:
    field = FIELD_OF_CODE.get(code, "")
    return {"field": field, "text": text}


def _long_date(value: str | None) -> str:
    """An ISO time as the customer reads a date: 26 March 2024."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return f"{moment.day} {moment:%B %Y}"


def _email_paragraphs(view: dict[str, Any]) -> list[str]:
    """The request email's paragraphs, without its link line (this page is the link)."""
    email = view["view"].get("email") or {}
    cta = email.get("call_to_action", "")
    return [
        p
        for p in str(email.get("text", "")).split("\n\n")
        if p.strip() and p.strip() != "—" and not p.startswith(f"{cta}:")
    ]


def _render(
    request: Request,
    token: str,
    view: dict[str, Any],
    *,
    status: int = 200,
    errors: list[dict[str, str]] | None = None,
    values: dict[str, str] | None = None,
    q: str = "",
    upload_errors: list[dict[str, Any]] | None = None,
    page: str | None = None,
) -> Response:
    """The page of the journey's current step (or ``page``), with any errors."""
    errors = list(errors or [])
    if view.get("error") and not errors:
        # Kept on the step by the machine: a wrong password, access not granted.
        errors.append(_error(view["error"]["message"], view["error"].get("code", "")))
    for error in errors:
        field = error["field"]
        error["href"] = "#" + _field_anchor(field, view) if field else ""
    step = view["step"]
    name = page or ("closed.html" if view["closed"] else f"{step}.html")
    platforms = view["view"].get("platforms", [])
    shown = [p for p in platforms if q.casefold() in p["name"].casefold()] if q else platforms
    title = view["title"]
    if step == Step.EMAIL.value and view["view"].get("email"):
        title = view["view"]["email"]["subject"]
    context = {
        "view": view,
        "title": title,
        "body": view["body"],
        "base": f"/j/{token}",
        "at": _place(view),
        "words": PAGE_WORDS,
        "allowed": {a["action"]: a for a in view["actions"]},
        "errors": errors,
        "field_errors": {e["field"]: e["text"] for e in errors if e["field"]},
        "values": values or {},
        "organization": view["request"]["organization"],
        "accent": view["request"].get("accent"),
        "company": view["request"]["company"],
        "q": q,
        "platforms": shown,
        "shown_keys": {p["key"] for p in shown},
        "upload_errors": upload_errors or [],
        "entity_states": ENTITY_STATE_LABELS,
        "exit_confirmation": EXIT_CONFIRMATION,
        "paragraphs": _email_paragraphs(view) if step == Step.EMAIL.value else [],
        "long_date": _long_date,
    }
    return templates.TemplateResponse(request, name, context, status_code=status)


def _field_anchor(field: str, view: dict[str, Any]) -> str:
    """The id of the control an error links to: a radio group's first radio."""
    if field == "count":
        return "count-single"
    if field == "platform":
        platforms = view["view"].get("platforms") or [{"key": ""}]
        return f"platform-{platforms[0]['key']}"
    return field


def _dead_link(request: Request, exc: ServiceError) -> Response:
    """The page for a link that opens no journey: unknown, gone, or guessed too often."""
    headers: dict[str, str] = {}
    if isinstance(exc, TooManyRequests):
        title = PAGE_WORDS["rate_limited_title"]
        retry = exc.extra.get("retry_after")
        if retry is not None:
            headers["Retry-After"] = str(retry)
    elif isinstance(exc, Gone):
        title = STEP_TITLES[Step(exc.extra.get("step", Step.EXPIRED.value))]
    elif isinstance(exc, NotFound):
        title = PAGE_WORDS["not_found_title"]
        exc = NotFound(PAGE_WORDS["not_found"])
    else:
        title = PAGE_WORDS["error_summary"]
    return templates.TemplateResponse(
        request,
        "end.html",
        {"title": title, "message": exc.detail, "words": PAGE_WORDS},
        status_code=exc.status,
        headers=headers,
    )


def _to_step(token: str) -> Response:
    """Post/Redirect/Get: back to the step's page, which a reload does not resend."""
    return RedirectResponse(f"/j/{token}", status_code=303)


# ---------------------------------------------------------------- routes


@router.get(STATIC_PREFIX + "/accent/{name}")
async def accent_stylesheet(name: str) -> Response:
    """The organization's accent as a stylesheet of its own (same origin: the pages'
    CSP allows no inline style). Its URL is its content, so any colour is served and
    none is looked up; the API accepts only colours white text reads on."""
    colour = "#" + name.removesuffix(".css")
    if not name.endswith(".css") or not is_accent(colour):
        return Response("Not Found", status_code=404, media_type="text/plain")
    return Response(stylesheet(colour.lower()), media_type="text/css")


@router.api_route("/j/{token}", methods=["GET", "HEAD"])
async def step_page(request: Request, token: str, q: str = "") -> Response:
    """The current step. Reads only: opening the link records nothing (nor does
    HEAD, which a link checker may send: the same answer without its body)."""
    ctx = get_context(request)
    try:
        view = await _journey(ctx, request, token)
    except ServiceError as exc:
        return _without_body_for_head(request, _dead_link(request, exc))
    values: dict[str, str] = {}
    typed = request.cookies.get(USERNAME_COOKIE)
    if typed and view["step"] == Step.PLATFORM_SIGNIN.value and view.get("error"):
        values["username"] = typed[:FIELD_MAX]
    page = _render(request, token, view, q=q[:SEARCH_MAX], values=values)
    if typed:
        page.delete_cookie(USERNAME_COOKIE, path=f"/j/{token}", httponly=True, samesite="strict")
    return _without_body_for_head(request, page)


def _without_body_for_head(request: Request, page: Response) -> Response:
    """``page`` as HEAD answers it: every header (its length too), no body."""
    if request.method != "HEAD":
        return page
    head = Response(status_code=page.status_code)
    head.raw_headers = list(page.raw_headers)
    head.body = b""
    return head


@router.post("/j/{token}")
async def take_step(request: Request, token: str) -> Response:
    """One action from a step's form; 303 back to the step, or the step with the reason."""
    ctx = get_context(request)
    body = await _read_body(request, FORM_LIMIT)
    form = _simple_form(body or b"")
    data = {key: form[key] for key in ACTION_FIELDS if key in form}
    values = {key: form[key] for key in KEPT_VALUES if key in form}
    try:
        answer = await guarded(ctx, request, lambda: _act_at(ctx, token, form.get("at"), data))
    except _StepLeft:
        # The form belongs to a step the journey has left (another tab, the back
        # button): acting on it now could do something the customer did not see.
        return await _refused(request, token, 409, _error(PAGE_WORDS["already_taken"]))
    except JourneyError as refused:
        error = _error(refused.message, refused.code)
        return await _refused(request, token, refused.status, error, values)
    except Invalid as refused:
        error = _error(refused.detail, refused.code)
        return await _refused(request, token, 422, error, values)
    except ServiceError as exc:
        return _dead_link(request, exc)
    done = _to_step(token)
    if (
        answer.get("error")
        and answer["step"] == Step.PLATFORM_SIGNIN.value
        and values.get("username")
    ):
        # A wrong password keeps the sign-in page: the username the customer typed
        # comes back in the field (never the password). The browser keeps it, for
        # this link's page only, until that page is shown once: nothing is stored.
        done.set_cookie(
            USERNAME_COOKIE,
            values["username"][:FIELD_MAX],
            max_age=USERNAME_SECONDS,
            path=f"/j/{token}",
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="strict",
        )
    return done


class _StepLeft(Exception):
    """The form was rendered at a step the journey is no longer at."""


async def _act_at(ctx: ServiceContext, token: str, at: str | None, data: dict[str, Any]) -> Any:
    """The action, if the journey is still where the form was rendered. Only where it
    is, a read of the request: the whole page is read again only when it has to be
    shown (reading it for every form cost half again a form's time)."""
    req = await ctx.store.read(lambda tx: customer.find_request(tx, token))
    state = JourneyState.from_dict(req.journey)
    if at != state.step.value + (":closed" if state.closed else ""):  # as _place says it
        raise _StepLeft
    return await take_action(ctx, token, data)


async def _refused(
    request: Request,
    token: str,
    status: int,
    error: dict[str, str],
    values: dict[str, str] | None = None,
) -> Response:
    """The step's page again, with why the form was refused (a refused action wrote
    nothing but the error the machine keeps on its step)."""
    ctx = get_context(request)
    try:
        view = await _journey(ctx, request, token)
    except ServiceError as exc:
        return _dead_link(request, exc)
    return _render(request, token, view, status=status, errors=[error], values=values)


@router.get("/j/{token}/close")
async def confirm_close(request: Request, token: str) -> Response:
    """× asks first: are you sure you want to exit? (Nothing is closed by asking.)"""
    ctx = get_context(request)
    try:
        view = await _journey(ctx, request, token)
    except ServiceError as exc:
        return _dead_link(request, exc)
    close = next((a for a in view["actions"] if a["action"] == "close"), None)
    if close is None or "confirm" not in close:
        return _to_step(token)
    return _render(request, token, view, page="confirm_close.html")


@router.get("/j/{token}/template")
async def template_file(request: Request, token: str) -> Response:
    """The supplier information template, as the API gives it."""
    ctx = get_context(request)
    try:
        await guarded(
            ctx, request, lambda: ctx.store.read(lambda tx: customer.find_request(tx, token))
        )
    except ServiceError as exc:
        return _dead_link(request, exc)
    from fastapi.concurrency import run_in_threadpool

    from journey.template import build_template

    data = await run_in_threadpool(build_template)
    disposition = 'attachment; filename="supplier-information-template.xlsx"'
    return Response(data, media_type=XLSX, headers={"Content-Disposition": disposition})


@router.post("/j/{token}/upload")
async def upload_file(request: Request, token: str) -> Response:
    """The filled template: refused past 1 MB while it streams in, checked row by row."""
    ctx = get_context(request)
    try:
        view = await _journey(ctx, request, token)
    except ServiceError as exc:
        return _dead_link(request, exc)
    too_large = [_error(PAGE_WORDS["too_large"], "upload_too_large")]
    body = await _read_body(request, UPLOAD_BODY_LIMIT)
    if body is None:
        return _render(request, token, view, status=413, errors=too_large)
    if "upload" not in {a["action"] for a in view["actions"]}:
        return _render(
            request, token, view, status=409, errors=[_error(PAGE_WORDS["already_taken"])]
        )
    form = await _multipart(request, body)
    file = form.get("file") if form is not None else None
    if not isinstance(file, UploadFile) or not file.filename:
        return _render(
            request, token, view, status=422, errors=[_error(PAGE_WORDS["no_file"], "no_file")]
        )
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return _render(request, token, view, status=413, errors=too_large)
    filename = file.filename
    try:
        await guarded(ctx, request, lambda: take_upload(ctx, token, filename, data))
    except Invalid as rejected:
        problems = rejected.extra.get("errors") or []
        error = _error(
            PAGE_WORDS["upload_problems"] if problems else rejected.detail, "upload_rejected"
        )
        return _render(request, token, view, status=422, errors=[error], upload_errors=problems)
    except JourneyError as refused:
        return _render(
            request, token, view, status=refused.status, errors=[_error(refused.message)]
        )
    except ServiceError as exc:
        return _dead_link(request, exc)
    return _to_step(token)


@router.get("/j/{rest:path}")
async def no_such_page(request: Request, rest: str) -> Response:
    """Anything else under /j/ is a page that does not exist: a page that says so."""
    return _dead_link(request, NotFound(PAGE_WORDS["not_found"]))

"""Every error as an RFC 9457 problem document with a stable ``code``; never a traceback."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from journey.core.errors import ServiceError
from journey.core.machine import JourneyError

log = logging.getLogger("relportal.api")
PROBLEM_TYPE = "https://relportal.example/problems/"
MEDIA_TYPE = "application/problem+json"

_HTTP_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    413: ("too_large", "Content too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    422: ("invalid", "Unprocessable content"),
    429: ("rate_limited", "Too many requests"),
    500: ("internal_error", "Internal error"),
}


def problem(
    status: int,
    code: str,
    detail: str,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    body = {
        "type": PROBLEM_TYPE + code,
        "title": title or _HTTP_CODES.get(status, ("", "Error"))[1],
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    return Response(
        json.dumps(body, ensure_ascii=False),
        status_code=status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def problem_bytes(status: int, code: str, detail: str) -> bytes:
    body = {
        "type": PROBLEM_TYPE + code,
        "title": _HTTP_CODES.get(status, ("", "Error"))[1],
        "status": status,
        "detail": detail,
        "code": code,
    }
    return json.dumps(body).encode()


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def service_error(_: Request, exc: ServiceError) -> Response:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if exc.status == 429 and "retry_after" in exc.extra:
            headers = {"Retry-After": str(exc.extra["retry_after"])}
        return problem(exc.status, exc.code, exc.detail, exc.title, headers, **exc.extra)

    @app.exception_handler(JourneyError)
    async def journey_error(_: Request, exc: JourneyError) -> Response:
        return problem(exc.status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> Response:
        errors = []
        for error in exc.errors()[:20]:
            errors.append({"field": _field(tuple(error.get("loc", ()))), "message": error["msg"]})
        parse_errors = ("JSON decode error", "There was an error parsing the body")
        if errors and all(e["message"].startswith(parse_errors) for e in errors):
            return problem(400, "invalid_json", "The request body is not valid JSON.")
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "Invalid request."
        return problem(422, "invalid_request", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> Response:
        code, title = _HTTP_CODES.get(exc.status_code, ("error", "Error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        if exc.status_code == 404 and detail == "Not Found":
            detail = "There is nothing at this address."
        if exc.status_code == 400 and detail == "There was an error parsing the body":
            return problem(400, "invalid_json", "The request body is not valid JSON.")
        return problem(exc.status_code, code, detail, title, dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # Logged with its type only where it could carry a secret; never sent to the client.
        log.error(
            "unexpected %s on %s %s",
            type(exc).__name__,
            request.method,
            request.scope.get("route_path", "?"),
            exc_info=exc,
        )
        return problem(
            500, "internal_error", "Something went wrong on our side; it has been logged."
        )

"""Errors the service raises on purpose. The API turns each into a problem document
(RFC 9457) with a stable machine ``code`` and a reason a person can read."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    status = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(self, detail: str, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.extra = extra


class NotFound(ServiceError):
    status = 404
    code = "not_found"
    title = "Not found"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class Unauthorized(ServiceError):
    status = 401
    code = "unauthorized"
    title = "Unauthorized"


class Conflict(ServiceError):
    status = 409
    code = "conflict"
    title = "Conflict"


class Gone(ServiceError):
    status = 410
    code = "gone"
    title = "Gone"


class PreconditionFailed(ServiceError):
    status = 412
    code = "version_mismatch"
    title = "Precondition failed"


class PreconditionRequired(ServiceError):
    status = 428
    code = "version_required"
    title = "Precondition required"


class Invalid(ServiceError):
    status = 422
    code = "invalid"
    title = "Unprocessable content"


class TooLarge(ServiceError):
    status = 413
    code = "too_large"
    title = "Content too large"


class TooManyRequests(ServiceError):
    status = 429
    code = "rate_limited"
    title = "Too many requests"

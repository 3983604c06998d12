"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs throughput under load)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from journey.api.problems import MEDIA_TYPE, problem_bytes

# The ASGI types, loosely: the middleware serves FastAPI's app but needs none of it.
Scope = dict[str, Any]
Message = dict[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

access_log = logging.getLogger("relportal.access")

# Link tokens travel in paths; they must never reach a log line.
_SECRET_PATH = re.compile(r"(/(?:j|v1/journeys)/)[^/?#]+")


def redact_path(path: str) -> str:
    if "/j/" not in path and "/journeys/" not in path:
        return path  # most paths: no token, and no regular expression to run
    return _SECRET_PATH.sub(r"\1…", path)


class BodyLimit:
    """Refuse bodies over the limit before reading them into memory (413).

    Uploads may be larger than JSON bodies; everything else is small.
    """

    def __init__(self, app: ASGIApp, *, json_limit: int, upload_limit: int) -> None:
        self.app = app
        self.json_limit = json_limit
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith("/j/"):
            # The customer's pages read their own bodies, with limits of their own,
            # and refuse with a page the customer can read rather than JSON.
            await self.app(scope, receive, send)
            return
        limit = self.upload_limit if scope["path"].endswith("/uploads") else self.json_limit
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _reject(send, 400, "bad_request", "Content-Length is not a number.")
                    return
                if declared > limit:
                    await _reject(send, 413, "too_large", _too_large(limit))
                    return
        # Read at most limit + 1 bytes, then replay them to the app.
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > limit:
                await _reject(send, 413, "too_large", _too_large(limit))
                return
            chunks.append(body)
            more = message.get("more_body", False)
        await self.app(scope, replaying(b"".join(chunks), receive), send)


def replaying(body: bytes, receive: Any) -> Any:
    """An ASGI ``receive`` for a request whose body was read already: the body once,
    then whatever the client sends next (a disconnect)."""
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # type: ignore[no-any-return]

    return replay


def _too_large(limit: int) -> str:
    return f"The request body is larger than {limit:,} bytes."


async def _reject(send: Any, status: int, code: str, detail: str) -> None:
    body = problem_bytes(status, code, detail)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class AccessLog:
    """One line per request: method, path with secrets redacted, status, milliseconds."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not access_log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def sending(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            access_log.info(
                '%s "%s %s" %s %.1fms',
                (scope.get("client") or ("-",))[0],
                scope["method"],
                redact_path(scope["path"]),
                status,
                (time.perf_counter() - started) * 1000,
            )

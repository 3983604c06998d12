"""The one client the portal uses to talk to the journey service.

Embedded (the default): the service runs in this process behind
``httpx.ASGITransport`` with its lifespan started here (the transport does not), and
the portal signs in with a session token minted for its user and revoked on exit.
Remote: a ``relportal serve`` URL and a bearer token. Either way every call goes
through HTTP, so the embedded path is the path a remote deployment takes.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

# httpx logs request URLs at INFO; customer links carry their token in the path.
logging.getLogger("httpx").setLevel(logging.WARNING)


class ServiceProblem(Exception):
    """The service refused something, with its reason (a problem document)."""

    def __init__(self, status: int, code: str, detail: str, body: dict[str, Any]) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.body = body


class ServiceUnavailable(Exception):
    """The service could not be reached."""


@dataclass(frozen=True)
class Session:
    """Who the portal is signed in as."""

    user: dict[str, Any]
    organization: dict[str, Any]
    features: list[str]
    platforms: list[dict[str, str]]
    users: list[dict[str, Any]]

    def user_name(self, user_id: str) -> str:
        for user in self.users:
            if user["id"] == user_id:
                return str(user["name"])
        return "?"


class ServiceClient:
    def __init__(self, http: httpx.AsyncClient, *, remote: bool) -> None:
        self.http = http
        self.remote = remote

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await self.http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise ServiceUnavailable(f"cannot reach the service ({type(exc).__name__})") from None
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {}
            raise ServiceProblem(
                response.status_code,
                str(body.get("code", "error")),
                str(body.get("detail", response.reason_phrase)),
                body,
            )
        if response.status_code == 204 or not response.content:
            return None
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.content

    async def get(self, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v is not None and v != ""}
        return await self._call("GET", path, params=clean)

    async def post(self, path: str, body: Any = None, **headers: str) -> Any:
        return await self._call("POST", path, json=body, headers=headers or None)

    async def patch(self, path: str, body: Any, **headers: str) -> Any:
        return await self._call("PATCH", path, json=body, headers=headers or None)

    async def delete(self, path: str, **headers: str) -> Any:
        return await self._call("DELETE", path, headers=headers or None)

    async def session(self) -> Session:
        me = await self.get("/v1/me")
        return Session(
            user=me["user"],
            organization=me["organization"],
            features=me["features"],
            platforms=me["platforms"],
            users=me["users"],
        )

    async def events(self, after: int, wait: float) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "GET",
            "/v1/events",
            params={"after": after, "wait": wait},
            timeout=wait + 10,
        )
        return result


@contextlib.asynccontextmanager
async def remote_client(url: str, token: str) -> AsyncIterator[ServiceClient]:
    async with httpx.AsyncClient(
        base_url=url.rstrip("/"),
        headers={"Authorization": f"Bearer {token}"},
        timeout=httpx.Timeout(15.0, connect=5.0),
    ) as http:
        yield ServiceClient(http, remote=True)


@contextlib.asynccontextmanager
async def embedded_client(
    settings: Any, user_email: str | None = None
) -> AsyncIterator[ServiceClient]:
    """Start the journey service in this process and sign in as ``user_email``
    (default: the demo organization's first relationship manager)."""
    from journey import service
    from journey.api import create_app
    from journey.domain import Role

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        store = app.state.ctx.store

        def sign_in(tx: Any) -> tuple[str, str]:
            user = None
            for org in tx.list_organizations():
                if user_email:
                    user = tx.get_user_by_email(org.id, user_email)
                else:
                    user = next((u for u in tx.list_users(org.id) if u.role is Role.RM), None)
                if user is not None:
                    break
            if user is None:
                wanted = user_email or "a relationship manager"
                raise ServiceProblem(404, "user_not_found", f"There is no user {wanted}.", {})
            token = service.create_token(tx, user, label="embedded portal session")
            return token, user.id

        token, _ = await store.write(sign_in)
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(
                transport=transport,
                base_url="http://relportal.embedded",
                headers={"Authorization": f"Bearer {token}"},
                timeout=httpx.Timeout(30.0),
            ) as http:
                yield ServiceClient(http, remote=False)
        finally:
            from journey.tokens import hash_secret

            await store.write(lambda tx: tx.revoke_token(hash_secret(token)))

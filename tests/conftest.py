"""Shared fixtures: isolated directories, and a journey service reached over HTTP.

Nothing here reaches the network: the service runs in-process behind
``httpx.ASGITransport`` (the embedded path the TUI uses), with its lifespan started
by the fixture, on a fresh SQLite file per test.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from journey import service
from journey.api import create_app
from journey.core.domain import Feature, Role
from journey.core.tokens import link_token_from
from journey.settings import ServiceSettings

ORG = "Larkspur Bank"
OTHER_ORG = "Quayside Credit Union"


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Config and data directories of our own: tests never touch the user's files."""
    home = tmp_path / "home"
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(home / name.lower()))
    monkeypatch.delenv("RELPORTAL_TOKEN", raising=False)
    return home


@dataclass
class Service:
    """A running journey service and a client per user."""

    app: Any
    settings: ServiceSettings
    base: httpx.AsyncClient
    tokens: dict[str, str] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def store(self) -> Any:
        return self.app.state.ctx.store

    def headers(self, who: str = "rm") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    async def get(self, url: str, who: str = "rm", **kw: Any) -> httpx.Response:
        return await self.base.get(url, headers=self.headers(who), **kw)

    async def post(self, url: str, who: str = "rm", **kw: Any) -> httpx.Response:
        return await self.base.post(
            url, headers={**self.headers(who), **kw.pop("headers", {})}, **kw
        )

    async def patch(self, url: str, who: str = "rm", **kw: Any) -> httpx.Response:
        return await self.base.patch(
            url, headers={**self.headers(who), **kw.pop("headers", {})}, **kw
        )

    async def delete(self, url: str, who: str = "rm", **kw: Any) -> httpx.Response:
        return await self.base.delete(
            url, headers={**self.headers(who), **kw.pop("headers", {})}, **kw
        )

    async def company(self, who: str = "rm", **fields: Any) -> dict[str, Any]:
        body = {
            "name": "Abra Kebabra",
            "description": "Kebabs on the go",
            "contact_name": "Larry Pepper",
            "contact_email": "larry@abra.example",
            "users": [self.users[who]["id"]] if who in self.users else [],
            **fields,
        }
        response = await self.post("/v1/relationships", who, json=body)
        assert response.status_code == 201, response.text
        return response.json()

    async def request_link(
        self, rel_id: str, data_types: list[str], who: str = "rm"
    ) -> tuple[dict[str, Any], str]:
        """Create a request delivered as a link; returns (request, link token)."""
        response = await self.post(
            f"/v1/relationships/{rel_id}/requests",
            who,
            json={"data_types": data_types, "delivery": "link"},
        )
        assert response.status_code == 201, response.text
        body = response.json()
        return body["request"], link_token_from(body["link"])

    async def act(self, token: str, action: str, **params: Any) -> httpx.Response:
        return await self.base.post(
            f"/v1/journeys/{token}/actions", json={"action": action, **params}
        )

    async def journey(self, token: str) -> httpx.Response:
        return await self.base.get(f"/v1/journeys/{token}")

    async def walk(self, token: str, *steps: tuple[str, dict[str, Any]]) -> dict[str, Any]:
        """Take several customer actions, each of which must succeed."""
        body: dict[str, Any] = {}
        for action, params in steps:
            response = await self.act(token, action, **params)
            assert response.status_code == 200, f"{action}: {response.text}"
            body = response.json()
        return body

    async def relationship(self, rel_id: str, who: str = "rm") -> dict[str, Any]:
        response = await self.get(f"/v1/relationships/{rel_id}", who)
        assert response.status_code == 200, response.text
        return response.json()

    async def eventually(self, check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
        """Wait for background work (pulls, uploads) to reach what ``check`` expects."""
        deadline = time.monotonic() + timeout
        while True:
            if await check():
                return
            if time.monotonic() > deadline:
                raise AssertionError("timed out waiting for the service")
            await asyncio.sleep(0.02)

    async def status_becomes(
        self, rel_id: str, status: str | None, timeout: float = 5.0
    ) -> dict[str, Any]:
        seen: dict[str, Any] = {}

        async def check() -> bool:
            seen.update(await self.relationship(rel_id))
            return seen["status"] == status

        try:
            await self.eventually(check, timeout)
        except AssertionError:
            raise AssertionError(
                f"status stayed {seen.get('status')!r}, wanted {status!r}"
            ) from None
        return seen


def fast_settings(tmp_path: Path, **overrides: Any) -> ServiceSettings:
    values: dict[str, Any] = {
        "db_path": tmp_path / "service.db",
        "outbox_dir": tmp_path / "outbox",
        "public_url": "http://relportal.test",
        "pull_queue_seconds": 0.0,
        "pull_fetch_seconds": 0.05,
        "upload_processing_seconds": 0.05,
        "worker_interval": 0.02,
        "demo_companies": 0,
    }
    values.update(overrides)
    return ServiceSettings(**values)


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> ServiceSettings:
    """Fast settings; a test may change some (``indirect`` parametrization)."""
    return fast_settings(tmp_path, **getattr(request, "param", {}))


@pytest.fixture
async def svc(settings: ServiceSettings) -> AsyncIterator[Service]:
    """Two organizations: Larkspur Bank (every feature) and another bank; users of each role."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        store = app.state.ctx.store

        def setup(tx: Any) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
            org = service.ensure_organization(tx, ORG)
            other = service.ensure_organization(tx, OTHER_ORG)
            people = {
                "rm": (org, "alex.morgan@larkspur.example", "Alex Morgan", Role.RM),
                "rm2": (org, "priya.shah@larkspur.example", "Priya Shah", Role.RM),
                "admin": (org, "sam.lee@larkspur.example", "Sam Lee", Role.ADMIN),
                "support": (org, "jordan.blake@larkspur.example", "Jordan Blake", Role.SUPPORT),
                "other": (other, "eve@quayside.example", "Eve Other", Role.RM),
                "other_admin": (other, "olga@quayside.example", "Olga Admin", Role.ADMIN),
            }
            tokens, users = {}, {}
            for key, (o, email, name, role) in people.items():
                user = service.ensure_user(tx, o, email, name, role)
                tokens[key] = service.create_token(tx, user, key)
                users[key] = {**user.to_dict(), "org_id": o.id}
            return tokens, users

        tokens, users = await store.write(setup)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://relportal.test") as base:
            yield Service(app=app, settings=settings, base=base, tokens=tokens, users=users)


async def set_features(svc: Service, features: list[str], **extra: Any) -> None:
    """Switch the organization's features (as its admin would)."""
    me = (await svc.get("/v1/me", "admin")).json()
    response = await svc.patch(
        "/v1/organization",
        "admin",
        json={"features": features, **extra},
        headers={"If-Match": f'"{me["organization"]["version"]}"'},
    )
    assert response.status_code == 200, response.text


ALL_FEATURES = [f.value for f in Feature]

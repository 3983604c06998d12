"""The journey service in-process, reached over HTTP as the portal reaches it: what the
``svc`` fixture (tests/conftest.py) gives a test, and the settings that make it fast."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from journey.core.domain import Feature
from journey.core.tokens import link_token_from
from journey.settings import ServiceSettings

ORG = "Larkspur Bank"
OTHER_ORG = "Quayside Credit Union"


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

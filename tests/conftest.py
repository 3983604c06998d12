"""Shared fixtures: isolated directories, a journey service reached over HTTP
(tests/support/service.py), and a headless browser.

Nothing here reaches the network: the service runs in-process behind
``httpx.ASGITransport`` (the embedded path the TUI uses), with its lifespan started
by the fixture, on a fresh SQLite file per test.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from journey import service
from journey.api import create_app
from journey.core.domain import Role
from journey.settings import ServiceSettings
from tests.support.service import ORG, OTHER_ORG, Service, fast_settings


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Config and data directories of our own: tests never touch the user's files."""
    home = tmp_path / "home"
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(home / name.lower()))
    monkeypatch.delenv("RELPORTAL_TOKEN", raising=False)
    return home


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


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright: skipped where it is missing,
    failed under CI."""
    missing = None
    if not Path(CHROMIUM).exists():
        missing = f"{CHROMIUM} is not installed (apt-get install chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "the playwright package is not installed (pip install -e '.[test]')"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(missing)
        pytest.skip(missing)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox"],  # CI runs as root, where Chromium's sandbox cannot start
        )
        yield browser
        browser.close()

"""The embedded portal (``relportal``) serves the customer pages on this machine while
it runs, so a link the RM copies opens in a browser here; hosted sessions do not."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import httpx

from journey.settings import ServiceSettings
from tests.support.portal import started
from tui.app import RelportalApp
from tui.client import embedded_client
from tui.config import load
from tui.customer_pages import CustomerPages, for_portal
from tui.hosting.hosted import Hosting


def _settings(tmp_path: Path, public_url: str) -> ServiceSettings:
    return ServiceSettings(
        db_path=tmp_path / "portal.db",
        outbox_dir=tmp_path / "outbox",
        public_url=public_url,
        demo_companies=20,
        pull_queue_seconds=0.0,
        worker_interval=0.02,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _request_link(app: RelportalApp) -> str:
    client = app.screen.client  # type: ignore[attr-defined]
    me = app.screen.session.user["id"]  # type: ignore[attr-defined]
    company = await client.post(
        "/v1/relationships",
        {
            "name": "Harbour & Co",
            "contact_name": "Ann",
            "contact_email": "ann@harbour.example",
            "users": [me],
        },
    )
    made = await client.post(
        f"/v1/relationships/{company['id']}/requests",
        {"data_types": ["financials"], "delivery": "link"},
    )
    return str(made["link"])


async def _open_in_a_browser(link: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as browser:
        return await browser.get(link)


async def test_a_copied_link_opens_over_http_while_the_portal_runs(tmp_path: Path) -> None:
    port = _free_port()
    settings = _settings(tmp_path, f"http://127.0.0.1:{port}")
    pages = CustomerPages(port)
    app = RelportalApp(lambda: embedded_client(settings, customer_pages=pages))
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot)
        link = await _request_link(app)
        assert link.startswith(f"http://127.0.0.1:{port}/j/")
        page = await _open_in_a_browser(link)
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
        assert "Harbour &amp; Co" in page.text or "Harbour" in page.text
        # Only the customer's pages: the RM's API is not on this socket.
        api = await _open_in_a_browser(f"http://127.0.0.1:{port}/v1/session")
        assert api.status_code == 404
    # Stopped with the portal (its service stops just after the app): the port is free.
    for _ in range(50):
        try:
            with socket.socket() as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(("127.0.0.1", port))
            break
        except OSError:
            await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"port {port} is still taken after the portal closed")


async def test_a_busy_port_gives_a_free_one_and_links_name_it(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        busy = int(taken.getsockname()[1])
        settings = _settings(tmp_path, f"http://localhost:{busy}")
        app = RelportalApp(lambda: embedded_client(settings, customer_pages=CustomerPages(busy)))
        async with app.run_test(size=(100, 30)) as pilot:
            await started(pilot)
            link = await _request_link(app)
            assert f":{busy}/" not in link
            page = await _open_in_a_browser(link)
            assert page.status_code == 200


async def test_a_public_address_is_kept_in_links(tmp_path: Path) -> None:
    settings = _settings(tmp_path, "https://journeys.example.com")
    app = RelportalApp(
        lambda: embedded_client(settings, customer_pages=CustomerPages(_free_port()))
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot)
        assert (await _request_link(app)).startswith("https://journeys.example.com/j/")


def _config(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return load(path, explicit=True)


def test_the_pages_use_the_configured_port_and_not_in_hosted_sessions(tmp_path: Path) -> None:
    config = _config(tmp_path, "[service]\nport = 9123\n")
    pages = for_portal(config, Hosting())
    assert pages is not None and pages.port == 9123
    linked = _config(tmp_path, '[service]\nport = 9123\npublic_url = "http://127.0.0.1:9200"\n')
    assert for_portal(linked, Hosting()).port == 9200  # type: ignore[union-attr]
    for mode in ("ssh", "web"):
        assert for_portal(config, Hosting(mode, tmp_path)) is None


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _portal_on_a_terminal(tmp_path: Path, port: int, hosted: bool) -> bool:
    """``relportal`` on a terminal, until its list shows: whether the customer pages'
    port answered meanwhile (a 404 page for an unknown link when it did)."""
    import os
    import sys
    import time

    from tests.support.ssh_terminal import ScreenTerminal

    config = tmp_path / "config.toml"
    config.write_text(
        f'[service]\nport = {port}\ndb = "{tmp_path / "portal.db"}"\n'
        f'[demo]\ncompanies = 20\n[mail]\noutbox = "{tmp_path / "outbox"}"\n'
    )
    env = dict(os.environ)
    if hosted:
        files = tmp_path / "files"
        files.mkdir()
        env.update(RELPORTAL_HOSTED="ssh", RELPORTAL_SESSION_FILES=str(files))
    relportal = str(Path(sys.executable).parent / "relportal")
    terminal = ScreenTerminal([relportal, "--config", str(config)], env)
    try:
        terminal.wait_for_text("Relationships", timeout=60)
        deadline = time.monotonic() + 10
        while not _listening(port) and time.monotonic() < deadline:
            time.sleep(0.1)  # the service starts just behind the first rows
        answered = _listening(port)
        if answered:
            page = httpx.get(f"http://127.0.0.1:{port}/j/no-such-link-here", timeout=10)
            assert page.status_code == 404 and "text/html" in page.headers["content-type"]
        terminal.type(b"\x11")  # Ctrl+Q
        assert terminal.wait_exit(30) == 0
        return answered
    finally:
        terminal.close()


def test_relportal_serves_the_pages_while_it_runs(tmp_path: Path) -> None:
    port = _free_port()
    assert _portal_on_a_terminal(tmp_path, port, hosted=False)


def test_a_hosted_session_serves_no_pages(tmp_path: Path) -> None:
    port = _free_port()
    assert not _portal_on_a_terminal(tmp_path, port, hosted=True)

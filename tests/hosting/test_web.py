"""``relportal web`` as its users meet it: a real server process on 127.0.0.1, spoken to
over HTTP and websockets, and driven in headless Chromium (Debian's package).

The server's TMPDIR is the test's own folder, so every portal session's private home
(tui/hosting/hosted.py) can be seen appearing and being removed.
"""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import openpyxl
import pyte
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.support.web import (
    AS_ROOT,
    CATCH_TERMINALS,
    SCREEN,
    WebServer,
    every_file,
    start_web,
    stop_web,
    until,
)


def sign_in(server: WebServer, client: httpx.Client) -> None:
    response = client.post("/login", data={"password": server.password})
    assert response.status_code == 303 and response.headers["location"] == "/"


# Over HTTP


def test_without_a_login_only_the_login_page_answers(web_server: WebServer) -> None:
    with web_server.client() as client:
        page = client.get("/login")
        assert page.status_code == 200
        assert "Relationship Portal" in page.text and 'type="password"' in page.text
        assert "textual" not in page.text.lower()  # our own page, no vendor's

        assert client.get("/").status_code == 303
        assert client.get("/").headers["location"] == "/login"
        for path in ("/static/js/textual.js", "/static/css/xterm.css", "/download/anything"):
            assert client.get(path).status_code == 401, path
    ws_url = web_server.url.replace("http://", "ws://") + "/ws"
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url, open_timeout=30)
    assert refused.value.response.status_code == 401
    assert web_server.homes() == []  # no portal was started for anyone


def test_a_wrong_password_is_refused_slowly_and_then_the_address_waits(
    web_server: WebServer,
) -> None:
    with web_server.client() as client:
        started = time.monotonic()
        wrong = client.post("/login", data={"password": "not-the-password"})
        assert wrong.status_code == 401
        assert time.monotonic() - started >= 1.0
        assert "That password is not right." in wrong.text
        assert "set-cookie" not in wrong.headers

        # Straight after a failure even the right password is not tried yet.
        too_soon = client.post("/login", data={"password": web_server.password})
        assert too_soon.status_code == 429 and "set-cookie" not in too_soon.headers
        assert "try again in" in too_soon.text
        wait = int(too_soon.headers["retry-after"])
        assert 1 <= wait <= 2

        time.sleep(wait)  # the wait the server asked for, not a guess
        sign_in(web_server, client)
        assert client.get("/").status_code == 200


def test_guesses_in_parallel_get_one_check(web_server: WebServer) -> None:
    def guess(n: int) -> int:
        with web_server.client() as client:
            return client.post("/login", data={"password": f"guess number {n}"}).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = sorted(pool.map(guess, range(6)))
    # One is checked (and slowed); the rest wait their turn, unchecked.
    assert answers == [401, 429, 429, 429, 429, 429]


def test_the_right_password_signs_in_and_signing_out_ends_the_login(
    web_server: WebServer,
) -> None:
    with web_server.client() as client:
        right = client.post("/login", data={"password": web_server.password})
        assert right.status_code == 303 and right.headers["location"] == "/"
        cookie = right.headers["set-cookie"]
        assert cookie.startswith("relportal_session=")
        for attribute in ("HttpOnly", "SameSite=Strict", "Max-Age=28800", "Path=/"):
            assert attribute in cookie
        assert web_server.password not in cookie

        page = client.get("/")
        assert page.status_code == 200
        assert "Relationship Portal" in page.text and "/static/js/textual.js" in page.text
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert client.get("/static/js/textual.js").status_code == 200
        assert client.get("/login").headers["location"] == "/"  # already signed in

        old = dict(client.cookies)
        out = client.post("/logout")
        assert out.status_code == 303 and out.headers["location"] == "/login"
        assert client.get("/").headers["location"] == "/login"

    # The old cookie, replayed, no longer opens anything.
    with web_server.client() as replay:
        replay.cookies.update(old)
        assert replay.get("/").status_code == 303
        assert replay.get("/static/js/textual.js").status_code == 401


def test_forms_and_the_websocket_from_another_site_are_refused(web_server: WebServer) -> None:
    elsewhere = {"Origin": "http://evil.example"}
    with web_server.client() as client:
        forged = client.post("/login", data={"password": web_server.password}, headers=elsewhere)
        assert forged.status_code == 403 and "set-cookie" not in forged.headers
        sign_in(web_server, client)
        cookie = f"relportal_session={client.cookies['relportal_session']}"
    ws_url = web_server.url.replace("http://", "ws://") + "/ws"
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url, additional_headers={"Cookie": cookie, **elsewhere}, open_timeout=30)
    assert refused.value.response.status_code == 403


def _screen_text(websocket: ClientConnection, want: bytes, timeout: float = 60) -> bytes:
    """The portal's terminal output until it contains ``want``."""
    seen = b""
    deadline = time.monotonic() + timeout
    while want not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"the portal never showed {want!r}"
        try:
            frame = websocket.recv(timeout=remaining)
        except TimeoutError:
            continue
        if isinstance(frame, bytes):
            seen += frame
    return seen


def _portal_environment(home: Path) -> dict[str, str]:
    """The environment of the portal process running in ``home`` (from /proc), or {}."""
    config = str(home / "config.toml").encode()
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and config in (proc / "cmdline").read_bytes():
                pairs = (proc / "environ").read_bytes().split(b"\0")
                return dict(p.decode().split("=", 1) for p in pairs if b"=" in p)
        except OSError:
            continue  # a process that ended meanwhile
    return {}


def test_each_tab_gets_a_private_session_removed_when_it_closes(web_server: WebServer) -> None:
    with web_server.client() as client:
        sign_in(web_server, client)
        cookie = f"relportal_session={client.cookies['relportal_session']}"
    ws_url = web_server.url.replace("http://", "ws://") + "/ws?width=120&height=40"
    with (
        connect(ws_url, additional_headers={"Cookie": cookie}, open_timeout=30) as first,
        connect(ws_url, additional_headers={"Cookie": cookie}, open_timeout=30) as second,
    ):
        for tab in (first, second):
            _screen_text(tab, b"Relationships")
        homes = web_server.homes()
        assert len(homes) == 2
        # Each its own database: nothing one viewer does reaches the other.
        assert all((home / "relportal.db").exists() for home in homes)
        for home in homes:
            environment = until(partial(_portal_environment, home), f"a portal in {home}")
            assert environment["HOME"] == str(home / "home")  # an empty folder of its own
            assert environment["TEXTUAL_ANIMATIONS"] == "none"
            assert environment["TEXTUAL_DRIVER"].endswith("WebDriver")
            assert "RELPORTAL_TEST_HOST_SECRET" not in environment
        first.close()
        until(lambda: len(web_server.homes()) == 1, "the closed tab's home removed")
    until(lambda: web_server.homes() == [], "every home removed")


def test_an_idle_portal_ends_and_so_does_an_expired_login(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[web]\nidle_seconds = 2\nlogin_seconds = 8\n")
    server = start_web(tmp_path, config=config)
    try:
        with server.client() as client:
            signed_in = time.monotonic()  # the login's clock starts after this
            sign_in(server, client)
            cookie = f"relportal_session={client.cookies['relportal_session']}"
            ws_url = server.url.replace("http://", "ws://") + "/ws"
            with connect(ws_url, additional_headers={"Cookie": cookie}, open_timeout=30) as tab:
                until(server.homes, "the portal's home")
                # Not a key from this tab: the server ends the portal and closes the socket.
                with pytest.raises(ConnectionClosed):
                    while True:
                        tab.recv(timeout=30)
                assert time.monotonic() - signed_in < 8  # idle, not the login's end
                until(lambda: server.homes() == [], "the idle portal's home removed")

        # The cookie is sent by hand: a client's jar would drop it at its Max-Age itself.
        def portal_page() -> int:
            return httpx.get(server.url, headers={"Cookie": cookie}, timeout=30).status_code

        assert portal_page() == 200
        until(lambda: portal_page() == 303, "the login's end", timeout=30)
        assert time.monotonic() - signed_in >= 8
    finally:
        stop_web(server)


def test_with_a_service_every_session_acts_as_the_tokens_user(tmp_path: Path) -> None:
    token = "rp_test-token-of-the-shared-user"
    server = start_web(tmp_path, "--service", "http://127.0.0.1:9", env={"RELPORTAL_TOKEN": token})
    try:
        with server.client() as client:
            sign_in(server, client)
            cookie = f"relportal_session={client.cookies['relportal_session']}"
        ws_url = server.url.replace("http://", "ws://") + "/ws"
        with connect(ws_url, additional_headers={"Cookie": cookie}, open_timeout=30):
            (home,) = until(server.homes, "the session's home")
            environment = until(lambda: _portal_environment(home), "the portal process")
            assert environment["RELPORTAL_TOKEN"] == token
            assert 'url = "http://127.0.0.1:9"' in (home / "config.toml").read_text()
    finally:
        stop_web(server)
    assert token not in (tmp_path / "web.log").read_text()


def test_a_password_file_is_used_and_never_printed(tmp_path: Path) -> None:
    secret = "correct horse battery staple"
    (tmp_path / "password").write_text(secret + "\n")
    server = start_web(tmp_path, "--password-file", str(tmp_path / "password"))
    try:
        assert server.password is None
        with server.client() as client:
            assert client.post("/login", data={"password": secret}).status_code == 303
    finally:
        stop_web(server)
    assert secret not in (tmp_path / "web.log").read_text()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--port", "70000"], "relportal: argument --port: must be a port number from 1 to 65535"),
        (["--port", "eighty"], "argument --port: must be a port number from 1 to 65535 (or 0"),
        (["--password-file", "{tmp}/short"], "the password must be at least 12 characters"),
        (["--password-file", "{tmp}/missing"], "cannot read the password"),
        (["--service", "ftp://x"], "--service must be an http:// or https:// URL"),
        (["--service", "http://127.0.0.1:9"], "--service needs the token"),
    ],
)
def test_bad_options_stop_with_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    (tmp_path / "short").write_text("short\n")
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli", "web", *[a.format(tmp=tmp_path) for a in args]],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")},
    )
    assert done.returncode == 2
    assert expected in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def walk_to_the_download_prompt(screen: Callable[[], str], press: Callable[[str], None]) -> str:
    """From the company list to a report's download prompt, as a user: the first company
    whose data is available, its reports (p), download (d). Returns the company's name."""
    portal = until(
        lambda: (text := screen()) and "Relationships" in text and "✔ Available" in text and text,
        "the portal",
    )
    assert "Larkspur Bank" in portal
    lines = portal.splitlines()
    header = next(i for i, line in enumerate(lines) if line.strip().startswith("Company"))
    rows = lines[header + 1 :: 2]  # two lines a company: name, then its description
    index = next(i for i, row in enumerate(rows) if "✔ Available" in row)
    company = re.split(r"\s{2,}", rows[index].strip())[0]
    for _ in range(index):
        press("ArrowDown")
    press("Enter")
    until(lambda: "Status     ✔ Available" in screen() and company in screen(), company)
    press("p")
    until(lambda: f"Reports  {company}" in screen() and "✔ Available" in screen(), "reports")
    press("d")
    until(lambda: "Save the report as" in screen(), "the download prompt")
    return company


class RawTab:
    """A tab as textual.js is one, without the browser: the websocket's terminal output
    drawn on a pyte screen, its text messages kept, keys sent as xterm.js sends them."""

    KEYS = {"ArrowDown": "\x1b[B", "Enter": "\r"}

    def __init__(self, websocket: ClientConnection, columns: int = 140, rows: int = 45) -> None:
        self.websocket = websocket
        self.screen = pyte.Screen(columns, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.messages: list[Any] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for frame in self.websocket:
                with self.lock:
                    if isinstance(frame, bytes):
                        self.stream.feed(frame)
                    else:
                        self.messages.append(json.loads(frame))
        except ConnectionClosed:
            pass

    def text(self) -> str:
        with self.lock:
            return "\n".join(self.screen.display)

    def press(self, key: str) -> None:
        self.websocket.send(json.dumps(["stdin", self.KEYS.get(key, key)]))


def test_a_download_reaches_its_own_login_only(web_server: WebServer) -> None:
    with web_server.client() as owner, web_server.client() as other:
        sign_in(web_server, owner)
        sign_in(web_server, other)
        cookie = f"relportal_session={owner.cookies['relportal_session']}"
        ws_url = web_server.url.replace("http://", "ws://") + "/ws?width=140&height=45"
        with connect(ws_url, additional_headers={"Cookie": cookie}, open_timeout=30) as ws:
            tab = RawTab(ws)
            company = walk_to_the_download_prompt(tab.text, tab.press)
            tab.press("Enter")
            (key,) = until(
                lambda: [m[1] for m in tab.messages if m[0] == "deliver_file_start"],
                "the download offered to the tab",
            )
            assert other.get(f"/download/{key}").status_code == 404  # another login's
            with httpx.Client(base_url=web_server.url) as nobody:
                assert nobody.get(f"/download/{key}").status_code == 401
            mine = owner.get(f"/download/{key}")
            assert mine.status_code == 200
            assert mine.headers["content-disposition"].startswith(
                f'attachment; filename="{company} - '
            )
            assert mine.content[:2] == b"PK"  # an xlsx: a zip
            # Single use: it is gone once delivered.
            assert owner.get(f"/download/{key}").status_code == 404


# In a browser


def test_a_browser_signs_in_sees_the_portal_and_downloads_a_report(
    web_server: WebServer, chromium: Any, tmp_path: Path
) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page = context.new_page()
    page.add_init_script(CATCH_TERMINALS)
    page.set_default_timeout(60_000)

    def screen() -> str:
        return str(page.evaluate(SCREEN))

    page.goto(web_server.url)
    assert page.url == web_server.url + "/login"
    assert page.locator("h1").inner_text() == "Relationship Portal"
    page.fill("#password", web_server.password)
    page.click("button[type=submit]")
    page.wait_for_url(web_server.url + "/")

    page.focus(".xterm-helper-textarea")  # the keyboard, without clicking a row
    company = walk_to_the_download_prompt(screen, page.keyboard.press)
    assert len(web_server.homes()) == 1
    with page.expect_download(timeout=60_000) as delivered:
        page.keyboard.press("Enter")
    download = delivered.value
    assert download.suggested_filename.startswith(company)
    assert download.suggested_filename.endswith(".xlsx")
    saved = tmp_path / "browser-downloads" / download.suggested_filename
    download.save_as(saved)
    workbook = openpyxl.load_workbook(io.BytesIO(saved.read_bytes()))
    cells = [str(c) for sheet in workbook for row in sheet.iter_rows(values_only=True) for c in row]
    assert any(company in cell for cell in cells)
    # The file went to the browser, not to the host's downloads folder.
    assert not list((tmp_path / "home").rglob("*.xlsx"))

    page.click("text=Sign out")
    page.wait_for_url(web_server.url + "/login")
    until(lambda: web_server.homes() == [], "the portal ended with the login")
    page.goto(web_server.url)
    assert page.url == web_server.url + "/login"
    context.close()


def test_a_port_in_use_stops_it_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "tui.cli", "web", "--port", str(port), *AS_ROOT],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert done.stderr == (
        f"relportal: port {port} on 127.0.0.1 is in use: stop what listens there, "
        "or give --port another port\n"
    )
    assert "password" not in done.stdout  # nothing to sign in to


# Behind a TLS proxy


def test_an_https_public_url_makes_the_cookie_secure_and_host_only(tmp_path: Path) -> None:
    server = start_web(tmp_path, "--public-url", "https://demo.example")
    try:
        with server.client() as client:
            # The origin that counts is the public one, not the Host this server sees.
            ours = {"Origin": "https://demo.example"}
            other = {"Origin": server.url}
            refused = client.post("/login", data={"password": server.password}, headers=other)
            assert refused.status_code == 403
            right = client.post("/login", data={"password": server.password}, headers=ours)
            assert right.status_code == 303
            cookie = right.headers["set-cookie"]
            assert cookie.startswith("__Host-relportal_session=")
            attributes = [a.strip().lower() for a in cookie.split(";")]
            assert "secure" in attributes and "path=/" in attributes and "httponly" in attributes
            assert not any(a.startswith("domain") for a in attributes)
            value = cookie.split(";")[0]
        # The Secure cookie, sent by hand as the proxy would pass it on.
        page = httpx.get(server.url, headers={"Cookie": value}, timeout=30)
        assert page.status_code == 200 and "Upload a file" in page.text
        plain = value.replace("__Host-relportal_session", "relportal_session")
        assert httpx.get(server.url, headers={"Cookie": plain}, timeout=30).status_code == 303
    finally:
        stop_web(server)


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        (["--public-url", "ftp://demo.example"], "--public-url must be an http:// or https:// URL"),
        ("[web]\npublic_url = 'demo.example'\n", "web.public_url must be the http:// or https://"),
        ("[web]\ntrusted_proxies = ['10.0.0.0/33']\n", "web.trusted_proxies must be a list of"),
        ("[service]\ntrusted_proxies = 'x'\n", "service.trusted_proxies must be a list of"),
    ],
)
def test_a_bad_public_url_or_proxy_list_stops_with_one_line(
    tmp_path: Path, how: list[str] | str, expected: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(how if isinstance(how, str) else "")
    args = how if isinstance(how, list) else []
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli", "--config", str(config), "web", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert expected in done.stderr
    if isinstance(how, str):
        assert done.stderr.startswith(f"relportal: {config}: ")
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def _wrong_then_right(server: WebServer, wrong_from: str, right_from: str) -> int:
    """A wrong password "from" one address, then the right one "from" another."""
    with server.client() as client:
        wrong = client.post(
            "/login", data={"password": "not the password"}, headers={"X-Forwarded-For": wrong_from}
        )
        assert wrong.status_code == 401
        right = client.post(
            "/login", data={"password": server.password}, headers={"X-Forwarded-For": right_from}
        )
        return right.status_code


def test_the_login_throttle_believes_forwarded_addresses_only_from_trusted_proxies(
    tmp_path: Path,
) -> None:
    # No proxy trusted: the header is the client's own word, and counts for nothing.
    server = start_web(tmp_path)
    try:
        assert _wrong_then_right(server, "203.0.113.1", "203.0.113.2") == 429
    finally:
        stop_web(server)

    config = tmp_path / "config.toml"
    config.write_text('[web]\ntrusted_proxies = ["127.0.0.1"]\n')
    server = start_web(tmp_path, config=config)
    try:
        # Two browsers behind the proxy: one's wrong password does not hold up the other.
        assert _wrong_then_right(server, "203.0.113.1", "203.0.113.2") == 303
        # The first is held up; writing another address before the proxy's is no way out.
        with server.client() as client:
            spoof = {"X-Forwarded-For": "198.51.100.9, 203.0.113.1"}
            again = client.post("/login", data={"password": server.password}, headers=spoof)
            assert again.status_code == 429
    finally:
        stop_web(server)


# Uploads from the browser


def open_tab(server: WebServer, client: httpx.Client) -> tuple[str, ClientConnection]:
    """The portal page's tab id and that tab's websocket (its portal running)."""
    page = client.get("/")
    tab = re.search(r'data-tab="([^"]+)"', page.text)
    assert tab, page.text
    cookie = f"relportal_session={client.cookies['relportal_session']}"
    websocket = connect(
        f"{server.url.replace('http://', 'ws://')}/ws/{tab.group(1)}?width=100&height=30",
        additional_headers={"Cookie": cookie},
        open_timeout=30,
    )
    return tab.group(1), websocket


def test_uploads_land_in_their_tabs_session_folder_under_a_flat_name(
    web_server: WebServer, tmp_path: Path
) -> None:
    with web_server.client() as client:
        sign_in(web_server, client)
        tab, websocket = open_tab(web_server, client)
        with websocket:
            _screen_text(websocket, b"Relationships")
            (home,) = web_server.homes()
            before = every_file(tmp_path)
            origin = {"Origin": web_server.url}

            def upload(name: str, body: bytes, **headers: str) -> httpx.Response:
                return client.post(
                    f"/upload/{tab}",
                    content=body,
                    headers={**origin, "X-File-Name": quote(name, safe=""), **headers},
                )

            ok = upload("../../.bashrc", b"echo hello\n")
            assert ok.status_code == 200, ok.text
            assert "Uploaded bashrc" in ok.text
            assert (home / "files" / "bashrc").read_bytes() == b"echo hello\n"
            assert (home / "files" / "bashrc").stat().st_mode & 0o777 == 0o600
            # The same name again: numbered, the first one kept.
            assert "bashrc (2)" in upload("bashrc", b"second").text
            assert (home / "files" / "bashrc").read_bytes() == b"echo hello\n"
            # Windows paths, control characters, bidi overrides: flattened, stripped.
            assert "Uploaded evil.xlsx" in upload("C:\\Users\\x\\..\\evil.xlsx", b"PK").text
            odd = upload("\x1b]52;c;aGk=\x07re\x00d\u202ecod.txt", b"x")
            assert "Uploaded ]52;c;aGk=redcod.txt" in odd.text
            assert "Uploaded upload" in upload("..", b"x").text
            long_name = upload("é" * 300 + ".csv", b"x")
            saved = long_name.text.split("Uploaded ", 1)[1].split(" (", 1)[0]
            assert saved.endswith(".csv") and len(saved.encode()) <= 120

            added = every_file(tmp_path) - before
            uploads = {p for p in added if p.parent == home / "files"}
            assert {p.name for p in uploads} == {
                "bashrc",
                "bashrc (2)",
                "evil.xlsx",
                "]52;c;aGk=redcod.txt",
                "upload",
                saved,
            }
            # Nothing else appeared outside the portal's own home (its database's journal
            # may come and go inside it).
            assert all(p.is_relative_to(home) for p in added)
            assert not list(tmp_path.rglob(".bashrc"))
    until(lambda: web_server.homes() == [], "the session's home and its uploads removed")


def test_uploads_are_refused_without_the_login_from_elsewhere_or_for_another_tab(
    web_server: WebServer,
) -> None:
    with web_server.client() as owner, web_server.client() as other:
        sign_in(web_server, owner)
        sign_in(web_server, other)
        tab, websocket = open_tab(web_server, owner)
        with websocket:
            _screen_text(websocket, b"Relationships")
            (home,) = web_server.homes()
            body = b"data"
            named = {"X-File-Name": "note.txt"}
            mine = {"Origin": web_server.url, **named}
            # Another site's page, or no Origin at all (not our page's script).
            assert (
                owner.post(
                    f"/upload/{tab}",
                    content=body,
                    headers={"Origin": "http://evil.example", **named},
                ).status_code
                == 403
            )
            assert owner.post(f"/upload/{tab}", content=body, headers=named).status_code == 403
            # Without the cookie; with another login's cookie; a tab that was never issued.
            with httpx.Client(base_url=web_server.url) as nobody:
                assert nobody.post(f"/upload/{tab}", content=body, headers=mine).status_code == 401
            assert other.post(f"/upload/{tab}", content=body, headers=mine).status_code == 404
            assert owner.post("/upload/made-up", content=body, headers=mine).status_code == 404
            # The tab's id opens one portal only.
            cookie = f"relportal_session={owner.cookies['relportal_session']}"
            ws_url = web_server.url.replace("http://", "ws://") + f"/ws/{tab}"
            with pytest.raises(InvalidStatus) as twice:
                connect(ws_url, additional_headers={"Cookie": cookie}, open_timeout=30)
            assert twice.value.response.status_code == 404
            assert list((home / "files").iterdir()) == []

            # Too large: refused by its declared length, and while streaming without one.
            big = b"x" * (5 * 1024 * 1024 + 1)
            declared = owner.post(f"/upload/{tab}", content=big, headers=mine)
            assert declared.status_code == 413 and "larger than 5 MB" in declared.text

            def chunks() -> Iterator[bytes]:
                for start in range(0, len(big), 256 * 1024):
                    yield big[start : start + 256 * 1024]

            streamed = owner.post(f"/upload/{tab}", content=chunks(), headers=mine)
            assert streamed.status_code == 413 and "larger than 5 MB" in streamed.text
            assert list((home / "files").iterdir()) == []  # nothing half-written kept
            # Exactly the limit is fine.
            fits = owner.post(f"/upload/{tab}", content=big[:-1], headers=mine)
            assert fits.status_code == 200, fits.text
        until(lambda: web_server.homes() == [], "the tab's session ended")
        # Its tab is gone with it.
        assert (
            owner.post(
                f"/upload/{tab}",
                content=b"x",
                headers={"Origin": web_server.url, "X-File-Name": "late.txt"},
            ).status_code
            == 404
        )


def test_a_file_picked_in_the_browser_lands_in_that_tabs_session_only(
    web_server: WebServer, chromium: Any, tmp_path: Path
) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(web_server.url)
    page.fill("#password", web_server.password)
    page.click("button[type=submit]")
    page.wait_for_url(web_server.url + "/")
    second = context.new_page()  # a second tab of the same login: a session of its own
    second.goto(web_server.url)
    (first_home, second_home) = until(
        lambda: len(homes := web_server.homes()) == 2 and homes, "two sessions"
    )
    picked = tmp_path / "picked" / "Supplier list.xlsx"
    picked.parent.mkdir()
    picked.write_bytes(b"PK\x03\x04 a supplier file")
    before = every_file(tmp_path)

    page.set_input_files("#upload-file", str(picked))
    page.click("#upload button[type=submit]")
    status = page.locator("#upload-status")
    status.filter(has_text="Uploaded Supplier list.xlsx").wait_for()
    landed = until(
        lambda: {p for p in every_file(tmp_path) - before if p.read_bytes() == picked.read_bytes()},
        "the upload on the server",
    )
    (saved,) = landed  # one copy, nowhere else
    assert saved.name == "Supplier list.xlsx" and saved.read_bytes() == picked.read_bytes()
    # In one of the two sessions' folders: the first tab's, not the second's.
    assert saved.parent.name == "files" and saved.parent.parent in (first_home, second_home)
    other_home = second_home if saved.parent.parent == first_home else first_home
    assert list((other_home / "files").iterdir()) == []

    # Too large: the page says so before sending, and the server refuses it anyway.
    huge = tmp_path / "picked" / "huge.csv"
    huge.write_bytes(b"x" * (5 * 1024 * 1024 + 10))
    page.set_input_files("#upload-file", str(huge))
    page.click("#upload button[type=submit]")
    status.filter(has_text="larger than 5 MB").wait_for()
    forced = page.evaluate(
        """async () => {
          const tab = document.getElementById("terminal").dataset.tab;
          const answer = await fetch("/upload/" + tab, {method: "POST",
            headers: {"X-File-Name": "huge.csv"}, body: new Blob([new Uint8Array(5242890)])});
          return [answer.status, await answer.text()];
        }"""
    )
    assert forced[0] == 413 and "larger than 5 MB" in forced[1]
    uploaded = {p for p in every_file(tmp_path) - before if p.parent.name == "files"}
    assert uploaded == {saved}
    context.close()
    until(lambda: web_server.homes() == [], "both sessions ended with their tabs")

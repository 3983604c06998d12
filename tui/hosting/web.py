"""``relportal web``: the portal in a browser, through textual-serve, behind a login.

textual-serve runs a Textual app per browser tab and relays its terminal over a
websocket; it has no login and hands every tab the host's whole environment. This
module keeps its terminal relay (``AppService``) and its download relay
(``DownloadManager``) and puts its own web server around them:

* a login page, a password for the run (kept only as a scrypt hash), a session
  cookie (HttpOnly, SameSite=Strict, expiring) and a logout; every other path,
  the websocket and the downloads included, needs the cookie;
* each websocket gets a :class:`~tui.hosting.hosted.HostedSession`: a private home with a
  fresh copy of the demo data (or a named user on a service), removed when the
  tab closes, the viewer signs out, the login expires or the portal sits idle;
* downloads reach only the login whose portal made them, always as attachments.

docs/web.md describes the login and session model.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import math
import os
import secrets
import shlex
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

import textual_serve
from aiohttp import WSMsgType, web
from textual_serve.app_service import AppService
from textual_serve.download_manager import DownloadManager

from journey.proxies import NO_PROXIES, ProxyListError, TrustedProxies
from tui.config import ConfigError
from tui.hosting.hosted import HostedOptions, HostedSession, PortalLimits, attach_from, refuse_root
from tui.hosting.pages import render
from tui.hosting.session_folder import size_text
from tui.hosting.uploads import UPLOAD_LIMIT, UploadRefused, save_upload

if TYPE_CHECKING:
    import argparse

    from tui.config import Config

log = logging.getLogger("relportal.web")

COOKIE = "relportal_session"
HTTPS_COOKIE = "__Host-relportal_session"
PASSWORD_ENV = "RELPORTAL_WEB_PASSWORD"
MIN_PASSWORD = 12
FAILED_LOGIN_DELAY = 1.0  # seconds every wrong password waits before its answer
MAX_LOCKOUT = 300.0
STATIC = Path(textual_serve.__file__).parent / "static"  # xterm.js, textual.js, the font
SWEEP_SECONDS = 15.0  # at most; shorter when the idle or login limits are
TAB_SECONDS = 300.0  # a page's tab id must open its portal within this time
MAX_WAITING_TABS = 16  # per login: pages served whose portal has not opened yet


@dataclass(frozen=True)
class WebOptions:
    host: str
    port: int
    hosted: HostedOptions
    max_sessions: int = 8
    idle_seconds: float = 900
    login_seconds: float = 8 * 3600
    # The URL browsers reach the portal at (behind a TLS proxy); "" when reached directly.
    public_url: str = ""
    trusted_proxies: TrustedProxies = NO_PROXIES

    @property
    def https(self) -> bool:
        """Browsers reach the portal over TLS (a proxy's), whatever this server speaks."""
        return self.public_url.lower().startswith("https://")

    @property
    def cookie(self) -> str:
        # __Host-: browsers keep it only if Secure, for Path=/ and no Domain, so no other
        # host (a sibling subdomain) can set or shadow it.
        return HTTPS_COOKIE if self.https else COOKIE


class Password:
    """The run's password, held only as a salted scrypt hash."""

    def __init__(self, secret: str) -> None:
        self._salt = secrets.token_bytes(16)
        self._digest = self._derive(secret)

    def _derive(self, candidate: str) -> bytes:
        return hashlib.scrypt(
            candidate.encode("utf-8"), salt=self._salt, n=2**14, r=8, p=1, dklen=32
        )

    def matches(self, candidate: str) -> bool:
        return hmac.compare_digest(self._derive(candidate), self._digest)


class Logins:
    """Signed-in browsers. The cookie is the secret; only its SHA-256 is kept, and it
    (a login's id) is what the rest of the server knows a browser by."""

    def __init__(self, lifetime: float) -> None:
        self.lifetime = lifetime
        self._expiry: dict[str, float] = {}

    @staticmethod
    def _id(cookie: str) -> str:
        return hashlib.sha256(cookie.encode("utf-8")).hexdigest()

    def start(self) -> str:
        cookie = secrets.token_urlsafe(32)
        self._expiry[self._id(cookie)] = time.monotonic() + self.lifetime
        return cookie

    def find(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        login = self._id(cookie)
        expiry = self._expiry.get(login)
        if expiry is None or expiry <= time.monotonic():
            return None
        return login

    def end(self, cookie: str | None) -> str | None:
        login = self.find(cookie)
        if login:
            del self._expiry[login]
        return login

    def sweep(self) -> None:
        now = time.monotonic()
        for login in [login for login, expiry in self._expiry.items() if expiry <= now]:
            del self._expiry[login]

    def __contains__(self, login: str) -> bool:
        return self._expiry.get(login, 0) > time.monotonic()


@dataclass
class _Failures:
    count: int = 0
    not_before: float = 0.0


class Throttle:
    """Wrong passwords slow their address down: after the n-th in a row, the address
    waits 2^(n-1) seconds (at most five minutes) before its next try is even checked."""

    def __init__(self) -> None:
        self._by_address: dict[str, _Failures] = {}

    def wait(self, address: str) -> float:
        failures = self._by_address.get(address)
        return max(0.0, failures.not_before - time.monotonic()) if failures else 0.0

    def failed(self, address: str) -> None:
        failures = self._by_address.setdefault(address, _Failures())
        failures.count += 1
        lockout = min(2.0 ** (failures.count - 1), MAX_LOCKOUT)
        failures.not_before = time.monotonic() + lockout

    def succeeded(self, address: str) -> None:
        self._by_address.pop(address, None)

    def sweep(self) -> None:
        # Forget addresses that have been quiet for a while so the table cannot grow forever.
        horizon = time.monotonic() - MAX_LOCKOUT
        for address in [a for a, f in self._by_address.items() if f.not_before < horizon]:
            del self._by_address[address]


@dataclass
class Tab:
    """A portal page served to a login; ``portal`` once its websocket is open."""

    login: str
    issued: float
    portal: BrowserPortal | None = None


class BrowserPortal(AppService):
    """One browser tab's portal: textual-serve's process relay, run in a hosted session."""

    def __init__(
        self, hosted: HostedSession, login: str, websocket: web.WebSocketResponse, **relay: Any
    ) -> None:
        super().__init__(shlex.join(hosted.command()), **relay)
        self.hosted = hosted
        self.login = login
        self.websocket = websocket
        self.last_input = time.monotonic()

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        served = super()._build_environment(width, height)
        # textual-serve starts from the host's whole environment (its secrets too); keep
        # only what it adds for the web driver, on top of the session's own environment.
        added = {
            key: value
            for key, value in served.items()
            if os.environ.get(key) != value or key in ("COLUMNS", "ROWS")
        }
        return {**added, **self.hosted.environment}

    async def end(self) -> None:
        """Ask the portal to quit, kill it if it will not, and remove its home."""
        try:
            await asyncio.wait_for(self.stop(), timeout=5)
        except TimeoutError:
            log.warning("a portal did not quit within 5 s; killing it")
        process = self._process
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()
        self.hosted.close()


class WebPortal:
    """The web server: login, pages, the portals' websockets and their downloads."""

    def __init__(self, options: WebOptions, password: Password) -> None:
        self.options = options
        self.password = password
        self.logins = Logins(options.login_seconds)
        self.throttle = Throttle()
        self._checking: set[str] = set()  # addresses whose sign-in is being checked
        self.downloads = DownloadManager()
        self.portals: set[BrowserPortal] = set()
        # Tabs the portal page was served to: id -> (login, when issued, its portal once
        # its websocket opened). The id is how an upload finds that tab's session.
        self.tabs: dict[str, Tab] = {}

    def application(self) -> web.Application:
        app = web.Application(middlewares=[self._guard])
        app.add_routes(
            [
                web.get("/login", self._login_page),
                web.post("/login", self._login),
                web.post("/logout", self._logout),
                web.get("/", self._portal_page),
                web.get("/ws", self._portal_socket),
                web.get("/ws/{tab}", self._portal_socket),
                web.post("/upload/{tab}", self._upload),
                web.get("/download/{key}", self._download),
                web.static("/static", STATIC),
            ]
        )
        app.on_response_prepare.append(self._headers)
        app.on_startup.append(self._start_sweeper)
        app.on_shutdown.append(self._close_all)
        return app

    # Guards

    @staticmethod
    async def _headers(request: web.Request, response: web.StreamResponse) -> None:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")  # no keystrokes via a frame
        # "same-origin", not "no-referrer": with no referrer policy at all, browsers send
        # "Origin: null" on our own forms, which the origin check must refuse.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers["Server"] = "relportal"

    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Everything but the login page (and signing out) needs a live login."""
        if request.path in ("/login", "/logout"):
            return await handler(request)  # type: ignore[no-any-return]
        login = self.logins.find(request.cookies.get(self.options.cookie))
        if login is None:
            if request.method == "GET" and request.path == "/":
                raise web.HTTPSeeOther("/login")
            raise web.HTTPUnauthorized(text="Sign in first: /login\n")
        request["login"] = login
        return await handler(request)  # type: ignore[no-any-return]

    def _same_origin(self, request: web.Request, *, required: bool = False) -> bool:
        """Forms, uploads and the websocket must come from our own pages (the cookie's
        SameSite already says so to browsers that honour it; this is for the rest).
        Our origin is public_url's when set (behind a proxy the Host may be rewritten),
        else the Host asked for. ``required``: a request without an Origin is refused
        (every browser sends one with a script's POST)."""
        origin = request.headers.get("Origin")
        if origin is None:
            return not required
        if self.options.public_url:
            ours = urlsplit(self.options.public_url)
            theirs = urlsplit(origin)
            return (theirs.scheme, theirs.netloc) == (ours.scheme, ours.netloc)
        return urlsplit(origin).netloc == request.host

    def _client(self, request: web.Request) -> str:
        """The browser's address: the peer, or whom a trusted proxy forwarded for."""
        return self.options.trusted_proxies.client(
            request.remote,
            request.headers.getall("X-Forwarded-For", []),
            request.headers.getall("Forwarded", []),
        )

    # Login and logout

    async def _login_page(self, request: web.Request) -> web.StreamResponse:
        if self.logins.find(request.cookies.get(self.options.cookie)):
            raise web.HTTPSeeOther("/")
        return _page("web_login.html", message="")

    async def _login(self, request: web.Request) -> web.StreamResponse:
        if not self._same_origin(request):
            raise web.HTTPForbidden(text="Sign in from the login page.\n")
        address = self._client(request)
        # One try at a time per address, so parallel guesses cannot all pass the check
        # below before the first of them fails.
        wait = 1.0 if address in self._checking else self.throttle.wait(address)
        if wait > 0:
            seconds = math.ceil(wait)
            response = _page(
                "web_login.html",
                message=f"Too many wrong passwords: try again in {seconds} s.",
                status=429,
            )
            response.headers["Retry-After"] = str(seconds)
            return response
        self._checking.add(address)
        try:
            form = await request.post()
            candidate = form.get("password")
            ok = isinstance(candidate, str) and await asyncio.to_thread(
                self.password.matches, candidate
            )
            if not ok:
                log.warning("a wrong password from %s", address)
                await asyncio.sleep(FAILED_LOGIN_DELAY)
                self.throttle.failed(address)
                return _page("web_login.html", message="That password is not right.", status=401)
        finally:
            self._checking.discard(address)
        self.throttle.succeeded(address)
        log.info("signed in from %s", address)
        response = web.HTTPSeeOther("/")
        response.set_cookie(
            self.options.cookie,
            self.logins.start(),
            max_age=int(self.options.login_seconds),
            path="/",
            httponly=True,
            samesite="Strict",
            secure=self.options.https or request.secure,
        )
        raise response

    async def _logout(self, request: web.Request) -> web.StreamResponse:
        if not self._same_origin(request):
            raise web.HTTPForbidden(text="Sign out from the portal page.\n")
        login = self.logins.end(request.cookies.get(self.options.cookie))
        if login:
            log.info("signed out")
            await self._close_portals([p for p in self.portals if p.login == login])
        response = web.HTTPSeeOther("/login")
        response.del_cookie(self.options.cookie, path="/", secure=self.options.https)
        raise response

    # The portal

    async def _portal_page(self, request: web.Request) -> web.StreamResponse:
        login = request["login"]
        waiting = sorted(
            (tab.issued, tab_id)
            for tab_id, tab in self.tabs.items()
            if tab.login == login and tab.portal is None
        )
        for _, tab_id in waiting[: max(0, len(waiting) - MAX_WAITING_TABS + 1)]:
            del self.tabs[tab_id]  # pages opened and never connected: keep a few
        tab_id = secrets.token_urlsafe(18)
        self.tabs[tab_id] = Tab(login, time.monotonic())
        return _page("web_portal.html", tab=tab_id, upload_limit=str(UPLOAD_LIMIT))

    async def _portal_socket(self, request: web.Request) -> web.StreamResponse:
        if not self._same_origin(request):
            raise web.HTTPForbidden(text="Open the portal from its own page.\n")
        tab: Tab | None = None
        if "tab" in request.match_info:
            # The page's own tab: the only kind that takes uploads. Its id was issued to
            # this login and opens one portal, once.
            tab = self.tabs.get(request.match_info["tab"])
            if tab is None or tab.login != request["login"] or tab.portal is not None:
                raise web.HTTPNotFound(text="No such tab: reload the portal page.\n")
        websocket = web.WebSocketResponse(heartbeat=15, max_msg_size=1 << 20)
        await websocket.prepare(request)
        if len(self.portals) >= self.options.max_sessions:
            await websocket.send_bytes(
                b"\r\n  The portal is busy: every session is in use. Try again later.\r\n"
            )
            await websocket.close()
            return websocket
        width = _clamp(request.query.get("width"), 80)
        height = _clamp(request.query.get("height"), 24)
        hosted = HostedSession(self.options.hosted, mode="web", terminal={"COLORTERM": "truecolor"})
        portal = BrowserPortal(
            hosted,
            request["login"],
            websocket,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.downloads,
        )
        self.portals.add(portal)
        if tab is not None:
            tab.portal = portal
        log.info("a portal started (%d running)", len(self.portals))
        try:
            await portal.start(width, height)
            await self._relay(websocket, portal)
        finally:
            self.portals.discard(portal)
            if tab is not None:
                self.tabs.pop(request.match_info["tab"], None)
            await portal.end()
            log.info("a portal ended (%d running)", len(self.portals))
        return websocket

    async def _relay(self, websocket: web.WebSocketResponse, portal: BrowserPortal) -> None:
        """The browser's keys, sizes and focus to the portal (textual.js's messages)."""
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                kind, *rest = json.loads(message.data)
            except (ValueError, TypeError):
                continue  # not textual.js: ignored rather than ending the session
            data = rest[0] if rest else None
            if kind == "stdin" and isinstance(data, str):
                portal.last_input = time.monotonic()
                await portal.send_bytes(data.encode("utf-8"))
            elif kind == "resize" and isinstance(data, dict):
                await portal.set_terminal_size(
                    _clamp(data.get("width"), 80), _clamp(data.get("height"), 24)
                )
            elif kind == "ping" and isinstance(data, str):
                await websocket.send_json(["pong", data])
            elif kind == "blur":
                await portal.blur()
            elif kind == "focus":
                await portal.focus()

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        """A file the viewer picked in the browser, into that tab's session folder.

        Only from our own page (an Origin is required), with the login's cookie, for a
        tab of this login whose portal is running; the body is streamed to the folder
        and refused as soon as it passes the limit. The viewer names only the file, and
        only its base name is kept, under the folder's one name rule (tui/hosting/uploads.py,
        tui/hosting/session_folder.py)."""
        if not self._same_origin(request, required=True):
            raise web.HTTPForbidden(text="Upload from the portal page.\n")
        tab = self.tabs.get(request.match_info["tab"])
        portal = tab.portal if tab is not None and tab.login == request["login"] else None
        if portal is None or portal not in self.portals:
            raise web.HTTPNotFound(text="That portal session has ended: reload the page.\n")
        try:
            saved = await save_upload(
                portal.hosted.files,
                unquote(request.headers.get("X-File-Name", "")),
                request.content,
                request.content_length,
            )
        except UploadRefused as refused:
            log.info("an upload refused (%s)", refused.reason)
            status = 413 if refused.too_large else 400
            # Connection: close, as the rest of a refused body is not read.
            return web.Response(status=status, text=f"{refused}\n", headers={"Connection": "close"})
        portal.last_input = time.monotonic()
        log.info("an upload saved (%d bytes)", saved.size)
        return web.Response(
            text=f"Uploaded {saved.name} ({size_text(saved.size)}): choose it in the portal "
            "from your files.\n",
            headers={"Cache-Control": "no-store"},
        )

    async def _download(self, request: web.Request) -> web.StreamResponse:
        """A file the portal delivered (``App.deliver_binary``), to its own login only."""
        key = request.match_info["key"]
        try:
            delivery = await self.downloads.get_download_metadata(key)
        except KeyError:
            raise web.HTTPNotFound(text="No such download.\n") from None
        portal = delivery.app_service
        if not isinstance(portal, BrowserPortal) or portal.login != request["login"]:
            raise web.HTTPNotFound(text="No such download.\n")
        content_type = delivery.mime_type
        if delivery.encoding:
            content_type += f"; charset={delivery.encoding}"
        response = web.StreamResponse(
            headers={
                "Content-Type": content_type,
                # Always an attachment: nothing a portal delivers runs as a page here.
                "Content-Disposition": _attachment(delivery.file_name),
                "Cache-Control": "no-store",
            }
        )
        await response.prepare(request)
        async for chunk in self.downloads.download(key):
            await response.write(chunk)
        await response.write_eof()
        return response

    # Housekeeping

    @staticmethod
    async def _close_portals(portals: list[BrowserPortal]) -> None:
        """Closing the websocket ends the relay; its handler ends the portal."""
        for portal in portals:
            await portal.websocket.close()

    async def _start_sweeper(self, app: web.Application) -> None:
        app["sweeper"] = asyncio.create_task(self._sweep_forever())

    async def _sweep_forever(self) -> None:
        limits = (SWEEP_SECONDS, self.options.idle_seconds / 2, self.options.login_seconds / 2)
        while True:
            await asyncio.sleep(min(limits))
            self.logins.sweep()
            self.throttle.sweep()
            stale = time.monotonic() - TAB_SECONDS
            for tab_id in [
                t for t, tab in self.tabs.items() if tab.portal is None and tab.issued < stale
            ]:
                del self.tabs[tab_id]
            idle_since = time.monotonic() - self.options.idle_seconds
            await self._close_portals(
                [p for p in self.portals if p.login not in self.logins or p.last_input < idle_since]
            )

    async def _close_all(self, app: web.Application) -> None:
        app["sweeper"].cancel()
        await self._close_portals(list(self.portals))


def _clamp(value: object, default: int) -> int:
    try:
        number = int(str(value))
    except ValueError:
        return default
    return min(max(number, 1), 1000)


def _attachment(name: str) -> str:
    """A Content-Disposition any browser reads: a plain-ASCII name and the UTF-8 one."""
    plain = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name)}"


def _page(template: str, *, status: int = 200, **values: str) -> web.Response:
    nonce = secrets.token_urlsafe(16)
    text = render(template, nonce=nonce, **values)
    response = web.Response(text=text, status=status, content_type="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self' 'unsafe-inline'; "  # xterm.js styles its own elements
        "img-src 'self' data:; "
        "form-action 'self'; "
        "frame-ancestors 'none'; "
        "base-uri 'none'"
    )
    return response


# Starting and stopping


def _password(args: argparse.Namespace, config: Config) -> tuple[str, bool]:
    """The run's password and whether it was made up here (then it is printed)."""
    configured = config.get("web", "password_file")
    path = args.password_file or (Path(configured).expanduser() if configured else None)
    if path:
        try:
            secret = path.read_text(encoding="utf-8").splitlines()[0].strip()
        except IndexError:
            secret = ""
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or "not UTF-8 text"
            raise ConfigError(f"{path}: cannot read the password ({reason})") from None
        where = str(path)
    elif os.environ.get(PASSWORD_ENV):
        secret, where = os.environ[PASSWORD_ENV].strip(), PASSWORD_ENV
    else:
        return secrets.token_urlsafe(18), True
    if len(secret) < MIN_PASSWORD:
        raise ConfigError(f"{where}: the password must be at least {MIN_PASSWORD} characters")
    return secret, False


def _options(args: argparse.Namespace, config: Config) -> WebOptions:
    port = config.get("web", "port") if args.port is None else args.port
    if not 0 <= port <= 65535:
        raise ConfigError("--port must be from 1 to 65535 (or 0: any free port)")
    attach = attach_from(getattr(args, "service", None), config)
    web_config = config.values["web"]
    public_url = web_config["public_url"] if args.public_url is None else args.public_url
    if public_url and not public_url.lower().startswith(("http://", "https://")):
        raise ConfigError(f"--public-url must be an http:// or https:// URL, not {public_url!r}")
    try:
        trusted = TrustedProxies.parse(web_config["trusted_proxies"])
    except ProxyListError as bad:  # tui.config checked them; this is for the type checker
        raise ConfigError(f"web.trusted_proxies: {bad} is not an address or network") from None
    return WebOptions(
        host=args.host or web_config["host"],
        port=port,
        hosted=HostedOptions(
            demo_companies=web_config["demo_companies"],
            attach=attach,
            limits=PortalLimits.from_config(config),
        ),
        max_sessions=web_config["max_sessions"],
        idle_seconds=float(web_config["idle_seconds"]),
        login_seconds=float(web_config["login_seconds"]),
        public_url=public_url.rstrip("/"),
        trusted_proxies=trusted,
    )


def cmd_web(args: argparse.Namespace, config: Config) -> int:
    """``relportal web``: serve until interrupted. Bad options raise ConfigError."""
    options = _options(args, config)
    secret, generated = _password(args, config)
    refuse_root("web", getattr(args, "allow_root", False))
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    password = Password(secret)
    # Handed over in a list that _serve empties, so once it is printed no reference to
    # the password is left: only its hash, for the whole run.
    to_print = [secret] if generated else []
    del secret
    asyncio.run(_serve(options, password, to_print))
    return 0


async def _serve(options: WebOptions, password: Password, to_print: list[str]) -> None:
    runner = web.AppRunner(
        WebPortal(options, password).application(),
        access_log=None,  # ours names addresses and events, never cookies or forms
        handle_signals=False,
        shutdown_timeout=5,
    )
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, options.host, options.port).start()
        except OSError as exc:
            from tui.serving import cannot_listen

            raise ConfigError(cannot_listen(options.host, options.port, exc)) from None
        host, port = runner.addresses[0][:2]
        shown_host = f"[{host}]" if ":" in host else host
        attach = options.hosted.attach
        sessions = (
            f"every viewer acts as one user of {attach.url}"
            if attach
            else "each viewer gets a private copy of the demo data"
        )
        print(f"relportal: the portal in a browser on http://{shown_host}:{port} ({sessions})")
        if options.public_url:
            print(f"relportal: browsers reach it at {options.public_url}")
        if to_print:
            print("relportal: the password for this run (it changes each start): " + to_print.pop())
        sys.stdout.flush()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()

"""The customer's pages, served by the embedded portal while it runs.

``relportal`` (the embedded portal) runs the journey service in its own process
behind ``httpx.ASGITransport``: no socket, so a link the RM copies would open
nothing. While the portal runs, this serves the same application's customer pages
(``/j/…`` and their stylesheet and script, nothing of the RM's API) on 127.0.0.1:
on the configured port, or on a free one if that is taken (a ``relportal serve``
on the same machine, another portal). A loopback ``public_url`` then becomes that
address, so the links the portal shows and sends are the ones that open.

Not in hosted sessions (``ssh-serve``, ``web``): a viewer's browser is on another
machine, and their private demo has no customer to reach.

The server is uvicorn on the portal's own event loop, sharing the service's store,
hub and worker; it is stopped when the portal's service stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from journey.links import loopback_host, only_this_computer
from tui.hosting.hosted import Hosting

if TYPE_CHECKING:
    from journey.settings import ServiceSettings
    from tui.config import Config

HOST = "127.0.0.1"
# What a customer's browser needs: the pages and their own static files.
SERVED_PREFIXES = ("/j/", "/static/journey/")
STOP_SECONDS = 2.0


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        # As uvicorn does: a port left in TIME_WAIT by the last portal is free again,
        # and one something listens on is still refused.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def listen(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:``port``, or on a free port if that one is
    taken or not ours to use."""
    try:
        return _bind(port)
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise
    return _bind(0)


class OnlyCustomerPages:
    """The service's app as a customer's browser may see it: the pages and their
    files; everything else (the RM's API, its docs) is not found on this socket."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(SERVED_PREFIXES):
            await send(
                {
                    "type": "http.response.start",
                    "status": 404,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8")],
                }
            )
            await send({"type": "http.response.body", "body": b"Not Found"})
            return
        if scope["type"] not in ("http", "websocket"):
            return  # lifespan: the portal runs the service's own
        await self.app(scope, receive, send)


@dataclass
class CustomerPages:
    """Where the embedded portal serves the customer pages (``port`` is the one
    asked for: the configured one; the socket may be on another)."""

    port: int
    _socket: socket.socket | None = None
    _server: Any = None
    _task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """The address the pages answer at (known once ``open``)."""
        assert self._socket is not None
        return f"http://{HOST}:{self._socket.getsockname()[1]}"

    def open(self, settings: ServiceSettings) -> ServiceSettings:
        """Take the port now (before the service is made, so its links can name it);
        ``settings`` with their ``public_url`` on it when that was a loopback address."""
        try:
            self._socket = listen(self.port)
        except OSError:
            return settings  # no loopback to listen on: the portal runs without the pages
        if only_this_computer(settings.public_url):
            return replace(settings, public_url=self.url)
        return settings  # a public address (a proxy, a tunnel): links keep it

    async def start(self, app: Any) -> None:
        """Serve ``app``'s customer pages on the socket, on this event loop."""
        import uvicorn

        class Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                # The portal owns its process's signals (Ctrl+C is a key to Textual).
                yield

        if self._socket is None:
            return
        config = uvicorn.Config(
            OnlyCustomerPages(app),
            lifespan="off",  # the portal runs the service's lifespan itself
            log_config=None,  # nothing may print over the portal's screen
            log_level="critical",
            access_log=False,
            proxy_headers=False,
            timeout_graceful_shutdown=1,
        )
        self._server = Server(config)
        self._task = asyncio.create_task(
            self._server.serve(sockets=[self._socket]), name="customer pages"
        )

    async def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, STOP_SECONDS + 1)
        if self._socket is not None:
            self._socket.close()


def for_portal(config: Config, hosting: Hosting) -> CustomerPages | None:
    """The customer pages the embedded portal serves: on ``[service] public_url``'s
    port when that is a loopback address, else ``[service] port``; none in a hosted
    session."""
    if hosting.hosted:
        return None
    port = int(config.get("service", "port"))
    public = urlsplit(config.get("service", "public_url") or "")
    if public.hostname and loopback_host(public.hostname) and public.port:
        port = public.port
    return CustomerPages(port)

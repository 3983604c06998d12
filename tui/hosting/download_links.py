"""ssh-serve's download links: each live session's files folder, over HTTP.

A viewer's portal saves files (reports, templates, exports) by name into its
session's own folder (``HostedSession.files``). Over SSH there is no way to hand a
file to the viewer's machine, so ssh-serve offers each folder at a link of its own,
``{base}/d/{token}/`` (a listing) and ``{base}/d/{token}/{name}`` (one file, as an
attachment). The token is 32 random bytes, made per session and never logged; the
link works while the session runs and answers 404 from the moment it ends.

What is listed and served is the folder's own files as :mod:`tui.hosting.session_folder`
gives them, under its one name rule (no ``/``, no leading ``.``, no control or
invisible characters): opened relative to the folder with ``O_NOFOLLOW``, regular
files only. This module is only the HTTP side. Every refusal is the same 404, so a
wrong token and a missing file look alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from tui.hosting.pages import render
from tui.hosting.session_folder import FileRefused, SessionFolder, size_text

log = logging.getLogger("relportal.ssh")

TOKEN_BYTES = 32
CHUNK = 256 * 1024
NOT_FOUND = "Not found: the link is wrong, or its session has ended.\n"


class DownloadLinks:
    """The live sessions' folders by token, and the HTTP server that offers them."""

    def __init__(self, base_url: str | None) -> None:
        # base_url: where viewers reach this server ("http://host:port"); None: off.
        self.base_url = base_url.rstrip("/") if base_url else None
        self._folders: dict[str, Path | None] = {}
        self._runner: web.AppRunner | None = None

    @property
    def enabled(self) -> bool:
        return self.base_url is not None

    def reserve(self) -> tuple[str, str]:
        """A new token and its link, before the session's folder exists."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        self._folders[token] = None
        return token, f"{self.base_url}/d/{token}/"

    def open(self, token: str, folder: Path) -> None:
        self._folders[token] = folder

    def close(self, token: str) -> None:
        """The session ended: its links answer 404 from now on."""
        self._folders.pop(token, None)

    def _folder(self, request: web.Request) -> SessionFolder:
        folder = self._folders.get(request.match_info["token"])
        if folder is None:
            raise web.HTTPNotFound(text=NOT_FOUND)
        return SessionFolder(folder)

    def application(self) -> web.Application:
        app = web.Application()
        app.add_routes(
            [
                web.get("/d/{token}/", self._list),
                web.get("/d/{token}/{name}", self._file),
            ]
        )
        app.on_response_prepare.append(self._headers)
        return app

    @staticmethod
    async def _headers(request: web.Request, response: web.StreamResponse) -> None:
        # The links are secrets: not cached, not sent on as a referrer, not framed;
        # a file is never run as a page.
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response.headers["Server"] = "relportal"

    async def _list(self, request: web.Request) -> web.Response:
        folder = self._folder(request)
        try:
            entries = folder.entries()
        except OSError:  # the folder is gone (the session is ending): nothing to offer
            entries = []
        body = render(
            "download_list.html",
            entries=[
                {"href": quote(e.name), "name": e.name, "size": size_text(e.size)} for e in entries
            ],
        )
        return web.Response(text=body, content_type="text/html")

    async def _file(self, request: web.Request) -> web.StreamResponse:
        folder = self._folder(request)
        name = request.match_info["name"]
        with contextlib.ExitStack() as opened:
            try:
                fd, size = opened.enter_context(folder.open_to_send(name))
            except (FileRefused, OSError):  # only the opening: once sending, it is no 404
                raise web.HTTPNotFound(text=NOT_FOUND) from None
            return await self._send(request, name, fd, size)

    @staticmethod
    async def _send(request: web.Request, name: str, fd: int, size: int) -> web.StreamResponse:
        """The file open at ``fd`` as an attachment called ``name``: ``size`` bytes, what
        it held when opened (a file that grows stops there)."""
        response = web.StreamResponse(
            headers={
                "Content-Type": "application/octet-stream",
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            }
        )
        response.content_length = size
        await response.prepare(request)
        loop = asyncio.get_running_loop()
        left = size
        while left > 0:
            chunk = await loop.run_in_executor(None, os.read, fd, min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            await response.write(chunk)
        await response.write_eof()
        return response

    async def start(self, host: str, port: int) -> None:
        """Listen on ``host:port``; OSError if it cannot."""
        self._runner = web.AppRunner(self.application(), access_log=None)  # tokens in paths
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, host, port).start()
        except OSError:
            await self._runner.cleanup()
            self._runner = None
            raise

    async def stop(self) -> None:
        self._folders.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

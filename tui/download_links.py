"""ssh-serve's download links: each live session's files folder, over HTTP.

A viewer's portal saves files (reports, templates, exports) by name into its
session's own folder (``HostedSession.files``). Over SSH there is no way to hand a
file to the viewer's machine, so ssh-serve offers each folder at a link of its own,
``{base}/d/{token}/`` (a listing) and ``{base}/d/{token}/{name}`` (one file, as an
attachment). The token is 32 random bytes, made per session and never logged; the
link works while the session runs and answers 404 from the moment it ends.

Only plain names inside the folder are served: no ``/``, no leading ``.``, no NUL;
opened relative to the folder with ``O_NOFOLLOW``, and only regular files. Every
refusal is the same 404, so a wrong token and a missing file look alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import os
import secrets
import stat
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

log = logging.getLogger("relportal.ssh")

TOKEN_BYTES = 32
CHUNK = 256 * 1024
NOT_FOUND = "Not found: the link is wrong, or its session has ended.\n"


def safe_name(name: str) -> bool:
    """A plain file name of the folder itself: nothing that could lead out of it."""
    return (
        0 < len(name) <= 255
        and "/" not in name
        and "\0" not in name
        and "\\" not in name
        and not name.startswith(".")
    )


def _open_in(folder: Path, name: str) -> tuple[int, os.stat_result] | None:
    """``name`` in ``folder`` opened for reading, if it is a regular file there (a
    symlink, in the name or as the folder, is never followed)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        directory = os.open(folder, flags | os.O_DIRECTORY)
    except OSError:
        return None
    try:
        fd = os.open(name, flags | os.O_NONBLOCK, dir_fd=directory)  # no hang on a FIFO
    except OSError:
        return None
    finally:
        os.close(directory)
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        return None
    return fd, info


def _listing(folder: Path) -> list[tuple[str, int]]:
    """The folder's regular files (not followed through links), by name."""
    files: list[tuple[str, int]] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return files
    for entry in entries:
        if not safe_name(entry.name):
            continue
        with contextlib.suppress(OSError):
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode):
                files.append((entry.name, info.st_size))
    return sorted(files)


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

    def _folder(self, request: web.Request) -> Path:
        folder = self._folders.get(request.match_info["token"])
        if folder is None:
            raise web.HTTPNotFound(text=NOT_FOUND)
        return folder

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
        rows = "".join(
            f'<li><a href="{html.escape(quote(name))}">{html.escape(name)}</a> '
            f"({size:,} bytes)</li>\n"
            for name, size in _listing(folder)
        )
        body = (
            '<!doctype html>\n<html lang="en"><meta charset="utf-8">'
            "<title>Your portal's files</title>\n<h1>Your portal's files</h1>\n"
            + (f"<ul>\n{rows}</ul>\n" if rows else "<p>No files saved yet.</p>\n")
        )
        return web.Response(text=body, content_type="text/html")

    async def _file(self, request: web.Request) -> web.StreamResponse:
        folder = self._folder(request)
        name = request.match_info["name"]
        opened = _open_in(folder, name) if safe_name(name) else None
        if opened is None:
            raise web.HTTPNotFound(text=NOT_FOUND)
        fd, info = opened
        with open(fd, "rb") as file:
            response = web.StreamResponse(
                headers={
                    "Content-Type": "application/octet-stream",
                    "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
                }
            )
            response.content_length = info.st_size
            await response.prepare(request)
            loop = asyncio.get_running_loop()
            left = info.st_size  # what it held when opened: a growing file stops there
            while left > 0:
                chunk = await loop.run_in_executor(None, file.read, min(CHUNK, left))
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

"""Files a browser viewer uploads into their session's own folder (``relportal web``).

The viewer names only the file, never a place: whatever name the browser (or anyone
posting by hand) sends is cut to a plain base name, and the file is created inside
the session's files folder, opened by a descriptor, with ``O_CREAT|O_EXCL|O_NOFOLLOW``
so that nothing already there (a file, a link planted by the portal) is followed or
replaced; a name in use gets a number. The body is streamed to disk and refused as
soon as it passes the limit, so no upload is ever held in memory whole.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

UPLOAD_LIMIT = 5 * 1024 * 1024  # bytes in one upload
FOLDER_LIMIT = 50 * 1024 * 1024  # bytes in one session's files folder, uploads included
NAME_BYTES = 120  # of a kept name, in UTF-8 (file systems allow 255)
FALLBACK_NAME = "upload"
CHUNK = 64 * 1024


class UploadRefused(Exception):
    """An upload not saved: one sentence for the viewer."""

    def __init__(self, message: str, *, too_large: bool = False, reason: str = "") -> None:
        super().__init__(message)
        self.too_large = too_large
        self.reason = reason or message


class Body(Protocol):
    """The request body as aiohttp streams it (``request.content``)."""

    def iter_chunked(self, n: int) -> AsyncIterator[bytes]: ...


@dataclass(frozen=True)
class Saved:
    name: str
    size: int


def upload_name(sent: str) -> str:
    """A safe base name for a file named ``sent`` by the browser: the last part of any
    path (``/`` or ``\\``), without control or format characters (NUL, ESC, bidi
    overrides), without leading dots or spaces, at most NAME_BYTES long, keeping a
    short extension; ``upload`` if nothing is left."""
    name = sent.replace("\\", "/").rsplit("/", 1)[-1]
    # Category C: controls, format characters (bidi overrides, zero widths), surrogates,
    # private use and unassigned code points.
    name = "".join(c for c in name if not unicodedata.category(c).startswith("C"))
    name = name.strip().lstrip(". ").rstrip()
    if not name or name in (".", ".."):
        return FALLBACK_NAME
    if len(name.encode("utf-8")) > NAME_BYTES:
        stem, dot, extension = name.rpartition(".")
        if not dot or not stem or len(extension) > 10:
            stem, extension = name, ""
        suffix = f".{extension}" if extension else ""
        room = NAME_BYTES - len(suffix.encode("utf-8"))
        stem = stem.encode("utf-8")[:room].decode("utf-8", "ignore").rstrip()
        name = stem + suffix
    return name


def _numbered(name: str, number: int) -> str:
    """``report.xlsx``, then ``report (2).xlsx``, ``report (3).xlsx``…"""
    if number == 1:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        return f"{name} ({number})"
    return f"{stem} ({number}).{extension}"


def folder_bytes(folder: Path) -> int:
    """Bytes in the folder's regular files (not following links)."""
    total = 0
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_file(follow_symlinks=False):
                total += entry.stat(follow_symlinks=False).st_size
    return total


async def save_upload(folder: Path, sent_name: str, body: Body, declared: int | None) -> Saved:
    """Stream ``body`` into a new file in ``folder`` named after ``sent_name``.

    ``declared`` is the request's Content-Length, if it gave one: a body declared too
    large is refused before a byte is read. UploadRefused says why nothing was kept."""
    room = FOLDER_LIMIT - folder_bytes(folder)
    limit = min(UPLOAD_LIMIT, room)

    def refusal() -> UploadRefused:
        if limit < UPLOAD_LIMIT:
            return UploadRefused(
                "This session's files take all the room it has: nothing was kept.",
                too_large=True,
                reason="the session folder is full",
            )
        return UploadRefused(
            f"The file is larger than {UPLOAD_LIMIT // (1024 * 1024)} MB, the most one "
            "upload may be: nothing was kept.",
            too_large=True,
            reason="over the upload limit",
        )

    if limit <= 0 or (declared is not None and declared > limit):
        raise refusal()
    name = upload_name(sent_name)
    directory = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        for number in range(1, 1000):
            candidate = _numbered(name, number)
            try:
                file = os.open(
                    candidate,
                    os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                    0o600,
                    dir_fd=directory,
                )
                break
            except FileExistsError:
                continue
        else:
            raise UploadRefused(f"Too many files named {name}: nothing was kept.")
        size = 0
        try:
            try:
                async for chunk in body.iter_chunked(CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise refusal()
                    view = memoryview(chunk)
                    while view:
                        view = view[os.write(file, view) :]
            finally:
                os.close(file)
        except BaseException:
            os.unlink(candidate, dir_fd=directory)  # nothing half-written is left behind
            raise
        return Saved(candidate, size)
    finally:
        os.close(directory)

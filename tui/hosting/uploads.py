"""Files a browser viewer uploads into their session's own folder (``relportal web``).

The viewer names only the file, never a place: whatever name the browser (or anyone
posting by hand) sends is flattened to a plain name (:func:`tui.hosting.session_folder.
upload_name`, the folder's one name rule), and the file is created in the session's
folder as every file there is (:meth:`tui.hosting.session_folder.SessionFolder.create`: by
descriptor, ``O_CREAT|O_EXCL|O_NOFOLLOW``, a numbered name when one is in use). This
module is the streaming part: the body goes to disk as it arrives and is refused as
soon as it passes the limit (one upload's, or the room left in the folder), so no
upload is ever held in memory whole and nothing half-written is kept.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tui.hosting.session_folder import FileRefused, SessionFolder, upload_name

UPLOAD_LIMIT = 5 * 1024 * 1024  # bytes in one upload
FOLDER_LIMIT = 50 * 1024 * 1024  # bytes in one session's files folder, uploads included
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


async def save_upload(folder: Path, sent_name: str, body: Body, declared: int | None) -> Saved:
    """Stream ``body`` into a new file in ``folder`` named after ``sent_name``.

    ``declared`` is the request's Content-Length, if it gave one: a body declared too
    large is refused before a byte is read. UploadRefused says why nothing was kept."""
    session = SessionFolder(folder)
    room = FOLDER_LIMIT - session.total_bytes()
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
    size = 0
    try:
        # create() removes the file again when the body is refused or cut off.
        with session.create(upload_name(sent_name)) as (file, name):
            async for chunk in body.iter_chunked(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise refusal()
                view = memoryview(chunk)
                while view:
                    view = view[os.write(file, view) :]
    except FileRefused as refused:
        # The reason is logged: it says what happened, not the viewer's file name.
        raise UploadRefused(
            f"{refused} Nothing was kept.", reason="refused by the folder"
        ) from None
    return Saved(name, size)

"""Writing files the user asked for: whole or not at all."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.app import App


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, so a
    failure (a full disk, a closed app) never leaves half a file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".relportal-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def hand_over(app: App[Any], path: Path, data: bytes, *, saved: str, title: str) -> None:
    """Give the user a file they downloaded: in a browser (``relportal web``) the
    browser saves it as ``path``'s name; in a terminal it is written to ``path``. The
    user is told either way it failed, and ``saved`` with ``title`` when it is written."""
    if app.is_web:
        app.deliver_binary(io.BytesIO(data), save_filename=path.name)
        return
    try:
        write_atomically(path, data)
    except OSError as exc:
        app.notify(f"Cannot write {path}: {exc.strerror}.", title="Not saved", severity="error")
        return
    app.notify(saved, title=title)

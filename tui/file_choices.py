"""What the portal's file dialogs are given and answer: a place to save a file, a
built-in sample to open, and whether this process hosts a viewer (then no path is
ever asked for or completed). Below the screens: the dialogs and the file desk
(``tui.files``) both use it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from tui.config import ConfigError
from tui.hosting.hosted import hosting_from_environment


def hosted_process() -> bool:
    """Whether the host said this process is a viewer's session (read from the
    environment, not the app, so a path input built by mistake still completes nothing)."""
    try:
        return hosting_from_environment().hosted
    except ConfigError:
        return True  # a half-set hosting is a broken host: confine


@dataclass(frozen=True)
class SaveTarget:
    """Where a file the user saves goes: a local ``path``, or (hosted) a ``name`` to
    deliver to the browser or write in the session's folder; ``copy`` puts short text
    on the viewer's clipboard instead."""

    name: str
    path: Path | None = None
    copy: bool = False


@dataclass(frozen=True)
class Sample:
    """A built-in file the user may pick to open (asked of the service when picked:
    never a file on disk)."""

    name: str
    label: str
    make: Callable[[], Awaitable[bytes]]

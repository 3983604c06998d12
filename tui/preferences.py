"""Preferences the app saves for the user (theme, list choices), apart from config.

Written with tomli-w to a file of their own, atomically, so that the user's
config.toml is never rewritten. A damaged preferences file is set aside, not fatal:
the app made it, the app can do without it; but the user's choices are gone, so the
portal tells them, and where the damaged copy is (``read``'s notice).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import tomli_w


@dataclass
class Preferences:
    theme: str = "textual-dark"
    users: str = "me"  # the portal's default: "me" or "all"
    sort: str = "name"
    descending: bool = False


def load(path: Path) -> Preferences:
    return read(path)[0]


def damaged_notice(path: Path, set_aside: Path | None) -> str:
    """What the user is told when their preferences file could not be read."""
    kept = (
        f"The damaged file is kept as {set_aside}."
        if set_aside
        else "It could not be moved aside, so it will be replaced when a choice is saved."
    )
    return (
        f"{path} could not be read, so the theme and list choices are back to their "
        f"defaults. {kept}"
    )


def read(path: Path) -> tuple[Preferences, str | None]:
    """The saved preferences, and a notice for the user if the file was damaged: it is
    then set aside as ``preferences.toml.damaged`` (never silently: the choices the
    user made have gone back to the defaults, and they should know why)."""
    try:
        with open(path, "rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        return Preferences(), None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        aside: Path | None = path.with_suffix(".toml.damaged")
        try:
            path.replace(aside)  # type: ignore[arg-type]
        except OSError:
            aside = None
        return Preferences(), damaged_notice(path, aside)
    defaults = Preferences()
    values: dict[str, Any] = {}
    for field in fields(Preferences):
        value = raw.get(field.name, getattr(defaults, field.name))
        values[field.name] = (
            value
            if isinstance(value, type(getattr(defaults, field.name)))
            else getattr(defaults, field.name)
        )
    if values["users"] not in ("me", "all"):
        values["users"] = "me"
    if values["sort"] not in ("name", "created", "updated"):
        values["sort"] = "name"
    return Preferences(**values), None


def save(path: Path, preferences: Preferences) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".preferences-", suffix=".toml")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(b"# Saved by relportal; your settings belong in config.toml.\n")
            tomli_w.dump(asdict(preferences), handle)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)

"""Where relportal keeps things (platformdirs; ``relportal locate`` prints them)."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_config_dir, user_data_dir, user_downloads_dir

APP = "relportal"


def config_dir() -> Path:
    return Path(user_config_dir(APP))


def data_dir() -> Path:
    return Path(user_data_dir(APP))


def default_config_file() -> Path:
    return config_dir() / "config.toml"


def preferences_file() -> Path:
    """App-managed preferences (theme, columns, filters), written with tomli-w."""
    return config_dir() / "preferences.toml"


def default_database() -> Path:
    return data_dir() / "relportal.db"


def default_outbox() -> Path:
    return data_dir() / "outbox"


def default_downloads() -> Path:
    return Path(user_downloads_dir())

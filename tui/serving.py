"""``relportal serve --workers N``: the journey service in several processes.

One Python process runs on one core at a time (the GIL), so a service under load
keeps one core busy and leaves the rest idle. uvicorn can start several worker
processes on one listening socket; each builds its own application here, from the
same config file and database as the command that started them (passed in the
environment as paths only: secrets stay in the config file).

Everything the service keeps in memory is a cache of the database or
per-process by nature, so processes need no coordination beyond SQLite's: answers
are kept until the database's data version changes (any process's commit), long
polls see other processes' events by polling, the background worker's passes are
safe side by side, and writers take turns on a lock file
(``journey.storage.sqlite.WriterTurns``). The customer-link guard counts misses
per process, so with N workers a guesser gets N times the misses a minute.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

ENVIRONMENT = "RELPORTAL_SERVE"


def handover(config_path: Path | None, db_path: Path) -> None:
    """What each worker needs to build the same service, for ``app`` to read."""
    os.environ[ENVIRONMENT] = json.dumps(
        {"config": str(config_path) if config_path else "", "db": str(db_path)}
    )


def app() -> FastAPI:
    """The application factory uvicorn calls in each worker process."""
    from journey.api import create_app
    from tui.cli import service_settings
    from tui.config import load

    asked = json.loads(os.environ[ENVIRONMENT])
    config_path = Path(asked["config"]) if asked["config"] else None
    config = load(config_path, explicit=config_path is not None)
    # The demo, if any, was made before the workers started: none of them makes it.
    return create_app(service_settings(config, Path(asked["db"]), demo=0))

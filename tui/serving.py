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

import atexit
import json
import logging
import logging.handlers
import os
import queue
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

ENVIRONMENT = "RELPORTAL_SERVE"


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _Handover(logging.handlers.QueueHandler):
    """Hands records over as they are: the listener's thread formats them (the
    access log's arguments are plain values, safe to format later)."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


def configure_logging() -> None:
    """The service's log to standard error, written by a thread of its own: the event
    loop only queues each line (one per request, in the access log) and never waits
    on the terminal or the pipe it goes to. Once per process, workers included."""
    root = logging.getLogger()
    if any(isinstance(handler, _Handover) for handler in root.handlers):
        return
    lines: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    out = logging.StreamHandler(sys.stderr)
    out.setFormatter(logging.Formatter(LOG_FORMAT))
    listener = logging.handlers.QueueListener(lines, out)
    listener.start()
    atexit.register(listener.stop)  # what is queued is written before the process ends
    root.addHandler(_Handover(lines))
    root.setLevel(logging.INFO)


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

    configure_logging()
    asked = json.loads(os.environ[ENVIRONMENT])
    config_path = Path(asked["config"]) if asked["config"] else None
    config = load(config_path, explicit=config_path is not None)
    # The demo, if any, was made before the workers started: none of them makes it.
    return create_app(service_settings(config, Path(asked["db"]), demo=0))

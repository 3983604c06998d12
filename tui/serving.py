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
(``journey.storage.sqlite.writer.WriterLock``). The customer-link guard counts misses
in the database, so a guesser gets the same misses a minute with any number of workers.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import errno
import json
import logging
import logging.handlers
import os
import queue
import signal
import socket
import sys
import threading
import time
import urllib.request
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from fastapi import FastAPI

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

ENVIRONMENT = "RELPORTAL_SERVE"


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
GATHER_SECONDS = 0.05


class _Handover(logging.handlers.QueueHandler):
    """Hands records over as they are: the writer's thread formats them (the
    access log's arguments are plain values, safe to format later)."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


class _LogWriter:
    """Writes the queued records to a stream from a thread of its own, a batch at a
    time: it wakes for a line, lets the lines of the next 50 ms gather, then writes
    them all at once. A thread woken for every line took the GIL from the event loop
    for each: with the access log on, a kept list page was answered at half the rate
    (5,600 against 13,000 a second, one process)."""

    def __init__(self, lines: queue.SimpleQueue[logging.LogRecord | None], stream: TextIO) -> None:
        self._lines = lines
        self._stream = stream
        self._format = logging.Formatter(LOG_FORMAT).format
        self._thread = threading.Thread(target=self._run, name="log-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Write what is queued, then end."""
        self._lines.put(None)
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            waiting = [self._lines.get()]
            time.sleep(GATHER_SECONDS)  # let the lines of a busy moment gather
            while True:
                try:
                    waiting.append(self._lines.get_nowait())
                except queue.Empty:
                    break
            records = [record for record in waiting if record is not None]
            if records:
                text = "".join(self._format(record) + "\n" for record in records)
                try:
                    self._stream.write(text)
                    self._stream.flush()
                except (OSError, ValueError):
                    pass  # a closed or broken stderr loses the log, never the service
            if len(records) < len(waiting):
                return


def configure_logging() -> None:
    """The service's log to standard error, written by a thread of its own: the event
    loop only queues each line (one per request, in the access log) and never waits
    on the terminal or the pipe it goes to. Once per process, workers included."""
    root = logging.getLogger()
    if any(isinstance(handler, _Handover) for handler in root.handlers):
        return
    lines: queue.SimpleQueue[logging.LogRecord | None] = queue.SimpleQueue()
    writer = _LogWriter(lines, sys.stderr)
    writer.start()
    atexit.register(writer.stop)  # what is queued is written before the process ends
    root.addHandler(_Handover(lines))  # type: ignore[arg-type]
    root.setLevel(logging.INFO)


BACKLOG = 2048  # uvicorn's default


def listening_socket(host: str, port: int) -> socket.socket:
    """The service's socket, bound and listening before anything is announced: a port
    that is taken is one line (ConfigError), never uvicorn's error after a line that
    claimed the service was up. Workers inherit it (``--workers``)."""
    from tui.config import ConfigError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        sock.bind((host.strip("[]"), port))
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise ConfigError(cannot_listen(host, port, exc)) from None
    sock.set_inheritable(True)
    return sock


def cannot_listen(host: str, port: int, exc: OSError, flag: str = "--port") -> str:
    """Why ``serve``, ``ssh-serve`` or ``web`` cannot listen on ``host``:``port``, in
    the same words for all three, with what to do."""
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is in use: stop what listens there, or give {flag} another port"
        )
    if exc.errno == errno.EACCES:
        return f"port {port} on {host}: permission denied (ports below 1024 need privileges)"
    reason = exc.strerror or str(exc)
    return f"cannot listen on {host} port {port} ({reason}): give --host an address of this machine"


def answering(url: str) -> Callable[[], bool]:
    """Whether the service at ``url`` answers its health check (a worker is up)."""

    def ask() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer:
                return bool(answer.status == 200)
        except (OSError, ValueError):
            return False

    return ask


def announce_when(ready: Callable[[], bool], line: str, *, seconds: float = 600.0) -> None:
    """Print ``line`` once ``ready()``, from a thread: "listening" is said when it is
    true (the service has started, the demo made), and never for a service that
    failed to start."""

    def wait() -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if ready():
                print(line, file=sys.stderr, flush=True)
                return
            time.sleep(0.05)

    threading.Thread(target=wait, name="announce", daemon=True).start()


def ending_long_polls(app: FastAPI) -> FastAPI:
    """``app``, whose long polls (``GET /v1/events?wait=``) end as soon as the server
    is told to stop (SIGINT, SIGTERM), so that stopping waits for no request and
    cancels none: uvicorn would otherwise wait out its grace period, then cancel the
    poll and log "Cancel 1 running task(s)" and a traceback. uvicorn's own handlers
    are in place before the lifespan starts (``Server.capture_signals``); these run
    first, then hand over to them."""
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with inner(application) as state:
            if threading.current_thread() is not threading.main_thread():
                yield state
                return
            loop = asyncio.get_running_loop()
            hub = application.state.ctx.hub
            before: dict[int, Any] = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}

            def stopping(signum: int, frame: FrameType | None) -> None:
                loop.call_soon_threadsafe(hub.close)
                handler = before[signum]
                if callable(handler):
                    handler(signum, frame)

            for signum in STOP_SIGNALS:
                signal.signal(signum, stopping)
            try:
                yield state
            finally:
                for stopped, handler in before.items():
                    signal.signal(stopped, handler)

    app.router.lifespan_context = lifespan
    return app


def handover(config_path: Path | None, db_path: Path, public_url: str = "") -> None:
    """What each worker needs to build the same service, for ``app`` to read (the
    links' ``public_url`` too: it may come from the command's --host/--port)."""
    os.environ[ENVIRONMENT] = json.dumps(
        {
            "config": str(config_path) if config_path else "",
            "db": str(db_path),
            "public_url": public_url,
        }
    )


def app() -> FastAPI:
    """The application factory uvicorn calls in each worker process."""
    from journey.api import create_app
    from tui.config import load, service_settings

    configure_logging()
    asked = json.loads(os.environ[ENVIRONMENT])
    config_path = Path(asked["config"]) if asked["config"] else None
    config = load(config_path, explicit=config_path is not None)
    # The demo, if any, was made before the workers started: none of them makes it.
    settings = service_settings(config, Path(asked["db"]), demo=0)
    if asked.get("public_url"):
        settings = replace(settings, public_url=asked["public_url"])
    return ending_long_polls(create_app(settings))

"""Taking turns to write, across processes (``WriterLock``), and copying the WAL into
the database from a thread of its own (``BackgroundCheckpoints``).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading

from journey.storage.sqlite.connection import connect

log = logging.getLogger("relportal.store")


# With checkpoints in the background, the WAL's size in pages at which a writer still
# checkpoints in its own commit, so that the WAL starts over (checkpoint_in_background).
WRITER_CHECKPOINT_PAGES = 10_000


class WriterLock:
    """Writers of several processes sharing a database take turns on a lock file
    (``<database>-writer.lock``) before they begin.

    SQLite makes a writer that finds the database locked sleep and retry, sleeping
    longer each time: with two busy service processes that is tens of milliseconds
    lost per collision and a tail of seconds. Waiting for the lock file instead wakes
    the next writer the moment the last one commits. SQLite's own lock still guards
    the data; programs that write without this lock (``relportal seed``) are simply
    waited for the old way. Where there is no ``fcntl`` (Windows), turns are taken
    only within the process.
    """

    def __init__(self, db_path: str) -> None:
        self._fd: int | None = None
        if db_path == ":memory:":
            return
        try:
            import fcntl
        except ImportError:
            return
        self._flock = fcntl.flock
        self._exclusive, self._unlock = fcntl.LOCK_EX, fcntl.LOCK_UN
        try:
            self._fd = os.open(f"{db_path}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            # A folder this process may not write (a read-only database, which
            # SQLiteStore.check_writable reports): turns are then taken in-process only.
            self._fd = None

    def acquire(self) -> None:
        """Wait for the turn and take it."""
        if self._fd is not None:
            self._flock(self._fd, self._exclusive)

    def release(self) -> None:
        if self._fd is not None:
            self._flock(self._fd, self._unlock)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class BackgroundCheckpoints:
    """Copies the WAL into the database file from a thread of its own
    (``SQLiteStore.checkpoint_in_background``)."""

    # How often the thread looks for commits to copy. Often, so that a writer's own
    # checkpoint (when the WAL starts over) finds little left to copy and fsync:
    # 20 ms rather than 100 cut the actions' p99 in five of six pairs (bench/RESULTS.md).
    EVERY_SECONDS = 0.02

    def __init__(self, path: str) -> None:
        self._conn = connect(path)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="store-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        copied_at = None
        while not self._stop.wait(self.EVERY_SECONDS):
            try:
                # data_version moves whenever another connection commits: an idle
                # database costs one cheap question per tick.
                version = self._conn.execute("PRAGMA data_version").fetchone()[0]
                if version != copied_at:
                    copied_at = version
                    # PASSIVE: never waits for readers or writers, nor makes them wait.
                    self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error as exc:
                # The writers' own checkpoints still bound the WAL; say why, and go on.
                log.warning("background checkpoint failed: %s", exc)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._conn.close()

"""The SQLite store: WAL, foreign keys, one writer, a few readers, off the event loop.

Write transactions start with ``BEGIN IMMEDIATE`` so that concurrent writers (other
processes sharing the file) take turns before they begin (``WriterLock``) instead of
failing with "database is locked" half way through a read-then-write.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from journey.storage.base import Committed
from journey.storage.sqlite.bulk import BulkWriter
from journey.storage.sqlite.connection import (
    BUSY_TIMEOUT_MS,
    StorageError,
    busy_error,
    connect,
    error_code,
    is_busy,
    migrate,
    read_only,
    unusable,
)
from journey.storage.sqlite.transaction import SQLiteTx
from journey.storage.sqlite.writer import WRITER_CHECKPOINT_PAGES, BackgroundCheckpoints, WriterLock

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

T = TypeVar("T")


class SQLiteStore:
    """The SQLite implementation of ``journey.storage.base.Store``."""

    def __init__(self, path: str | Path, readers: int = 3) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            if Path(self.path).is_dir():
                raise StorageError(
                    f"{self.path} is a folder, not a database file: give the path of a "
                    "file, such as relportal.db in that folder"
                )
            try:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(
                    f"{self.path}: cannot create its folder ({exc.strerror or exc})"
                ) from None
        try:
            setup = connect(self.path)
            migrate(setup)
        except sqlite3.DatabaseError as exc:
            raise StorageError(unusable(self.path, exc)) from None
        self._writer = setup
        # The writer never sleeps in SQLite's busy handler: writers of this process and
        # of the others take turns on the writer lock first (WriterLock), and a writer
        # that finds SQLite's lock held anyway is told at once (_begin_if_free).
        setup.execute("PRAGMA busy_timeout = 0")
        self._write_lock = threading.Lock()
        self._lock_file = WriterLock(self.path)
        self._readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._all = [setup]
        for _ in range(readers):
            conn = connect(self.path)
            self._readers.put(conn)
            self._all.append(conn)
        self._reader_threads = max(readers, 1)
        self._threads: tuple[ThreadPoolExecutor, ThreadPoolExecutor] | None = None
        # Called after each commit, in the thread that wrote (the writer thread, or
        # the caller's for ``write_sync``).
        self.on_commit: list[Callable[[Committed], None]] = []
        # Asked only for PRAGMA data_version: it changes whenever another connection,
        # this process's writer or another process's, has committed.
        self._watch = None if self.path == ":memory:" else connect(self.path)
        if self._watch is not None:
            self._all.append(self._watch)
        self._checkpoints: BackgroundCheckpoints | None = None

    def check_writable(self) -> None:
        """StorageError now if the database cannot be written (a read-only file, folder
        or mount; SQLite then opens it for reading without a word): one line at start
        rather than a failure at the first write. Writes nothing."""
        if self.path == ":memory:":
            return
        with self._write_lock:
            self._lock_file.acquire()
            try:
                self._writer.execute("BEGIN IMMEDIATE")
                try:
                    version = int(self._writer.execute("PRAGMA user_version").fetchone()[0])
                    # The same value again: a write to the header, rolled back.
                    self._writer.execute(f"PRAGMA user_version = {version}")
                finally:
                    self._writer.execute("ROLLBACK")
            except sqlite3.OperationalError as exc:
                if error_code(exc) == sqlite3.SQLITE_READONLY:
                    raise StorageError(read_only(self.path)) from None
                if not is_busy(exc):  # busy: another program writes, so can we
                    raise StorageError(unusable(self.path, exc)) from None
            finally:
                self._lock_file.release()

    def checkpoint_in_background(self, writer_pages: int = WRITER_CHECKPOINT_PAGES) -> None:
        """Copy the WAL into the database from a thread, not in the writers' commits.

        SQLite checkpoints in the commit that takes the WAL past 1,000 pages, with an
        fsync of the WAL and one of the database, and that writer still holds its
        turn meanwhile: under load, every writer of every process waited 5–15 ms for
        it several times a second (bench/RESULTS.md). The thread copies what was
        committed every 20 ms, without holding anyone up. A checkpoint that others
        write past never reaches the WAL's end, though, and the WAL only starts over
        after one that did: so a writer still checkpoints in its own commit once the
        WAL holds ``writer_pages``, by then with little left to copy.
        """
        if self._checkpoints is None and self.path != ":memory:":
            self._writer.execute(f"PRAGMA wal_autocheckpoint = {int(writer_pages)}")
            self._checkpoints = BackgroundCheckpoints(self.path)

    def data_version(self) -> int | None:
        """A number that changes whenever anything commits to the database (None: no
        such number, for an in-memory database). Cheap enough to ask on the event
        loop: SQLite reads it from the shared WAL index, not from the file."""
        if self._watch is None:
            return None
        return int(self._watch.execute("PRAGMA data_version").fetchone()[0])

    def auth_epoch(self) -> int | None:
        """The count the triggers on users and API tokens move (schema version 11), read
        on the watch connection: a one-row table, quick enough for the event loop when
        asked once per commit; each statement there sees the newest commit."""
        if self._watch is None:
            return None
        return int(self._watch.execute("SELECT n FROM auth_epoch").fetchone()[0])

    # Running work off the loop

    def _executors(self) -> tuple[ThreadPoolExecutor, ThreadPoolExecutor]:
        """The reader threads and the writer thread, made on first use. asyncio and
        concurrent.futures are imported here, not with the module: the CLI's commands
        and the portal's opening answers (``tui/opening.py``, which races Textual's
        import to the first frame) only ever read and write synchronously."""
        if self._threads is None:
            from concurrent.futures import ThreadPoolExecutor

            self._threads = (
                ThreadPoolExecutor(self._reader_threads, thread_name_prefix="store"),
                # Writes take turns anyway (one writer per SQLite file): one thread
                # queues them, where threads waiting on the write lock would pass the
                # GIL to and fro.
                ThreadPoolExecutor(1, thread_name_prefix="store-write"),
            )
        return self._threads

    async def read(self, fn: Callable[[SQLiteTx], T]) -> T:
        import asyncio  # loaded already: this runs in an event loop

        readers, _ = self._executors()
        return await asyncio.get_running_loop().run_in_executor(readers, self.read_sync, fn)

    async def write(self, fn: Callable[[SQLiteTx], T]) -> T:
        """Run ``fn`` in a write transaction, off the event loop in the writer thread."""
        import asyncio

        _, writer = self._executors()
        return await asyncio.get_running_loop().run_in_executor(writer, self.write_sync, fn)

    def read_sync(self, fn: Callable[[SQLiteTx], T]) -> T:
        conn = self._readers.get()
        try:
            return self._in_snapshot(conn, fn)
        finally:
            self._readers.put(conn)

    @staticmethod
    def _in_snapshot(conn: sqlite3.Connection, fn: Callable[[SQLiteTx], T]) -> T:
        # A deferred transaction gives every read in fn one consistent snapshot.
        conn.execute("BEGIN")
        try:
            return fn(SQLiteTx(conn))
        finally:
            conn.execute("COMMIT")

    def write_sync(self, fn: Callable[[SQLiteTx], T]) -> T:
        self._write_lock.acquire()
        try:
            self._lock_file.acquire()
            self._begin_immediate(self._writer)
        except BaseException:
            self._release_writer()
            raise
        return self._run_begun(fn)

    def _release_writer(self) -> None:
        self._lock_file.release()
        self._write_lock.release()

    def _run_begun(self, fn: Callable[[SQLiteTx], T]) -> T:
        """``fn`` in the writer's begun transaction, committed if it returns; the
        turn is given back either way, then the listeners are told."""
        conn = self._writer
        tx = SQLiteTx(conn)
        try:
            result = fn(tx)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            self._release_writer()
        committed = Committed(tx.newest_event, tx.queued_work, tuple(tx.appended))
        for callback in self.on_commit:
            callback(committed)
        return result

    @staticmethod
    def _begin_if_free(conn: sqlite3.Connection) -> bool:
        """BEGIN IMMEDIATE without waiting: False if another writer holds the lock
        (the writer's busy timeout is 0)."""
        try:
            conn.execute("BEGIN IMMEDIATE")
            return True
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise
            return False

    @classmethod
    def _begin_immediate(cls, conn: sqlite3.Connection) -> None:
        """BEGIN IMMEDIATE, waiting (off the loop) for a writer that takes no turns,
        so that "database is locked" never reaches a client under ordinary contention."""
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000 * 3
        pause = 0.001
        while not cls._begin_if_free(conn):
            if time.monotonic() > deadline:
                raise busy_error()
            time.sleep(pause)
            pause = min(pause * 2, 0.02)

    def bulk_load(self, fn: Callable[[BulkWriter], T]) -> T:
        """``fn`` with a bulk writer on this store's writer connection, holding the
        writer's turn meanwhile (a seed of the first-run demo; ``relportal seed`` on a
        file of its own uses ``BulkWriter.open``). ``fn`` begins and ends its
        transaction (``BulkWriter.transaction``); the listeners are not told."""
        with self._write_lock:
            self._lock_file.acquire()
            try:
                return fn(BulkWriter(self._writer))
            finally:
                self._lock_file.release()

    def close(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.close()
            self._checkpoints = None
        if self._threads is not None:
            readers, writer = self._threads
            writer.shutdown(wait=True)
            readers.shutdown(wait=True)
        for conn in self._all:
            conn.close()
        self._lock_file.close()

    def integrity_check(self) -> str:
        return str(self._writer.execute("PRAGMA integrity_check").fetchone()[0])

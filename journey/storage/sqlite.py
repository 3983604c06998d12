"""The SQLite store: WAL, foreign keys, one writer, a few readers, off the event loop
(but for brief writes: ``SQLiteStore.write``).

Write transactions start with ``BEGIN IMMEDIATE`` so that concurrent writers (other
processes sharing the file) take turns before they begin (``WriterTurns``) instead of
failing with "database is locked" half way through a read-then-write.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from journey.domain import (
    CompanyStatus,
    ConnectionStatus,
    DataType,
    Delivery,
    Feature,
    PullStatus,
    RequestState,
    Role,
    UploadStatus,
)
from journey.records import (
    Connection,
    DataPull,
    Event,
    InformationRequest,
    LegalEntity,
    Organization,
    Relationship,
    Upload,
    User,
    dumps,
)
from journey.storage.base import Committed, Page, RelationshipQuery
from journey.storage.schema import MIGRATIONS, SCHEMA_VERSION
from journey.tokens import ApiToken, new_id

log = logging.getLogger("relportal.store")

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

T = TypeVar("T")

SORT_COLUMNS = {"name": "name_key", "created": "created_at", "updated": "status_at"}
SORT_INDEXES = {"name": "rel_org_name", "created": "rel_org_created", "updated": "rel_org_updated"}
MANY_MATCHES = 20_000  # matches beyond which walking a sort index beats sorting them all
FEW_MATCHES = 20_000  # "my companies": matches few enough to look up one by one
# Offsets past this, in the back half of the list, are read from the other end: an
# OFFSET walks every row it skips, so the last page of a million would walk them all.
DEEP_OFFSET = 10_000
USER_SORT_INDEXES = {
    "name": "ru_user_name",
    "created": "ru_user_created",
    "updated": "ru_user_updated",
}
BUSY_TIMEOUT_MS = 10_000
# With checkpoints in the background, the WAL's size in pages at which a writer still
# checkpoints in its own commit, so that the WAL starts over (checkpoint_in_background).
WRITER_CHECKPOINT_PAGES = 10_000


class StorageError(Exception):
    """The database cannot be used (wrong file, newer schema, corrupt)."""


class WriterTurns:
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

    def take(self) -> None:
        """Wait for the turn and take it."""
        if self._fd is not None:
            self._flock(self._fd, self._exclusive)

    def give_back(self) -> None:
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
        self._conn = _connect(path)
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


def utc_now() -> str:
    """Timestamps are ISO 8601 UTC strings with milliseconds: they sort as text."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA cache_size = -8000")
    return conn


def migrate(conn: sqlite3.Connection) -> int:
    """Upgrade the database in place to the current schema; returns the old version."""
    # Larger pages: fewer, shallower B-tree levels for a million-row table (a new file
    # only; an existing database keeps its page size).
    conn.execute("PRAGMA page_size = 8192")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"the database has schema version {version}, newer than this relportal "
                f"understands ({SCHEMA_VERSION}); upgrade relportal"
            )
        for number in range(version, SCHEMA_VERSION):
            for statement in _split_sql(MIGRATIONS[number]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number + 1}")
        conn.execute("COMMIT")
        return int(version)
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements (executescript would commit on its own)."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--") and not buffer.strip():
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


def _read_only(path: str) -> str:
    return (
        f"{path} is read-only, and relportal writes to its database (sign-ins, tokens, "
        "requests): make the file and its folder writable, or copy it somewhere writable "
        "and use that"
    )


def _unusable(path: str, exc: sqlite3.DatabaseError) -> str:
    """Why the database at ``path`` cannot be opened, in one line that names it once."""
    reason = str(exc)
    if "readonly" in reason:
        return _read_only(path)
    if "unable to open" in reason:
        folder = Path(path).parent
        if Path(path).exists() and not os.access(folder, os.W_OK):
            return _read_only(path)  # WAL needs its -shm file beside the database
        if not os.access(folder, os.W_OK):
            return (
                f"{path}: cannot create the database, its folder {folder} is read-only: "
                "give a path in a folder you can write"
            )
        return f"{path}: cannot open the database file ({reason})"
    return f"{path}: {reason}"


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
            setup = _connect(self.path)
            migrate(setup)
        except sqlite3.DatabaseError as exc:
            raise StorageError(_unusable(self.path, exc)) from None
        self._writer = setup
        # The writer never sleeps in SQLite's busy handler: writers of this process and
        # of the others take turns first (WriterTurns), and a writer that finds the
        # lock held anyway is told at once (see _begin_if_free, _begin_immediate).
        setup.execute("PRAGMA busy_timeout = 0")
        self._write_lock = threading.Lock()
        self._turns = WriterTurns(self.path)
        self._readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._all = [setup]
        for _ in range(readers):
            conn = _connect(self.path)
            self._readers.put(conn)
            self._all.append(conn)
        self._reader_threads = max(readers, 1)
        self._brief_reader: sqlite3.Connection | None = None  # made on first use
        self._brief_lock = threading.Lock()
        self._threads: tuple[ThreadPoolExecutor, ThreadPoolExecutor] | None = None
        # Called after each commit, in the thread that wrote: the writer thread, or the
        # event loop's for a brief write.
        self.on_commit: list[Callable[[Committed], None]] = []
        # Asked only for PRAGMA data_version: it changes whenever another connection,
        # this process's writer or another process's, has committed.
        self._watch = None if self.path == ":memory:" else _connect(self.path)
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
            self._turns.take()
            try:
                self._writer.execute("BEGIN IMMEDIATE")
                try:
                    version = int(self._writer.execute("PRAGMA user_version").fetchone()[0])
                    # The same value again: a write to the header, rolled back.
                    self._writer.execute(f"PRAGMA user_version = {version}")
                finally:
                    self._writer.execute("ROLLBACK")
            except sqlite3.OperationalError as exc:
                if "readonly" in str(exc) or "read-only" in str(exc):
                    raise StorageError(_read_only(self.path)) from None
                if "locked" not in str(exc):  # busy: another program writes, so can we
                    raise StorageError(_unusable(self.path, exc)) from None
            finally:
                self._turns.give_back()

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

    async def write(self, fn: Callable[[SQLiteTx], T], *, brief: bool = False) -> T:
        """Run ``fn`` in a write transaction, off the event loop in the writer thread.

        ``brief``: the caller knows ``fn`` is a short transaction (a customer's step,
        one record changed); it then runs here, on the loop. A journey action is
        about 0.3 ms of work, and handing it to the writer thread and back cost as
        much again, with the two threads taking the GIL from each other (1,200 →
        1,650 actions/s on two processes, bench/RESULTS.md). It waits on the loop
        only for another process's turn, which is one transaction long; if this
        process's writer thread is busy (a background pass, an upload), or a program
        that takes no turns holds SQLite's lock, it waits in the writer thread.
        """
        if brief and self._write_lock.acquire(blocking=False):
            try:
                self._turns.take()
                begun = self._begin_if_free(self._writer)
            except BaseException:
                self._give_back_turn()
                raise
            if begun:
                return self._run_begun(fn)
            self._give_back_turn()
        import asyncio

        _, writer = self._executors()
        return await asyncio.get_running_loop().run_in_executor(writer, self.write_sync, fn)

    def read_sync(self, fn: Callable[[SQLiteTx], T]) -> T:
        conn = self._readers.get()
        try:
            return self._in_snapshot(conn, fn)
        finally:
            self._readers.put(conn)

    def read_brief(self, fn: Callable[[SQLiteTx], T]) -> T:
        """``read_sync`` for a few indexed lookups, on the calling thread (the event
        loop's), where handing them to a reader thread would cost more than the read.
        It has a connection of its own, so it never waits for a reader's: they may
        all be out on long list pages."""
        if not self._brief_lock.acquire(blocking=False):
            return self.read_sync(fn)  # another thread is reading briefly too
        try:
            if self._brief_reader is None:
                self._brief_reader = _connect(self.path)
                self._all.append(self._brief_reader)
            return self._in_snapshot(self._brief_reader, fn)
        finally:
            self._brief_lock.release()

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
            self._turns.take()
            self._begin_immediate(self._writer)
        except BaseException:
            self._give_back_turn()
            raise
        return self._run_begun(fn)

    def _give_back_turn(self) -> None:
        self._turns.give_back()
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
            self._give_back_turn()
        committed = Committed(tx.newest_event, tx.queued_work)
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
            if "locked" not in str(exc) and "busy" not in str(exc):
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
                raise sqlite3.OperationalError("database is locked")
            time.sleep(pause)
            pause = min(pause * 2, 0.02)

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
        self._turns.close()

    def integrity_check(self) -> str:
        return str(self._writer.execute("PRAGMA integrity_check").fetchone()[0])


def _total_of(query: RelationshipQuery, counts: dict[str, int]) -> int:
    """The query's total from its per-status counts (which ignore the status filter)."""
    return counts.get(query.status.value, 0) if query.status else sum(counts.values())


def _csv(values: str) -> tuple[str, ...]:
    return tuple(v for v in values.split(",") if v)


def _org(row: sqlite3.Row) -> Organization:
    return Organization(
        id=row["id"],
        name=row["name"],
        features=frozenset(Feature(f) for f in json.loads(row["features"])),
        platforms=tuple(json.loads(row["platforms"])),
        link_lifetime_days=row["link_lifetime_days"],
        simulated_failures=json.loads(row["simulated_failures"]),
        created_at=row["created_at"],
        version=row["version"],
        accent=row["accent"],
    )


def _api_token(row: sqlite3.Row) -> ApiToken:
    return ApiToken(
        id=row["id"],
        prefix=row["prefix"],
        user_id=row["user_id"],
        label=row["label"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
    )


def _user(row: sqlite3.Row) -> User:
    return User(
        id=row["id"],
        org_id=row["org_id"],
        email=row["email"],
        name=row["name"],
        role=Role(row["role"]),
        created_at=row["created_at"],
    )


def _relationship(row: sqlite3.Row, users: tuple[str, ...] = ()) -> Relationship:
    return Relationship(
        id=row["id"],
        org_id=row["org_id"],
        parent_id=row["parent_id"],
        name=row["name"],
        description=row["description"],
        contact_name=row["contact_name"],
        contact_email=row["contact_email"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
        status=CompanyStatus(row["status"]),
        status_at=row["status_at"],
        requested=tuple(DataType(d) for d in _csv(row["requested"])),
        entities_linked=row["entities_linked"],
        entities_total=row["entities_total"],
        platforms=_csv(row["platforms"]),
        latest_request_id=row["latest_request_id"],
        users=users,
    )


def _request(row: sqlite3.Row) -> InformationRequest:
    return InformationRequest(
        id=row["id"],
        org_id=row["org_id"],
        relationship_id=row["relationship_id"],
        data_types=frozenset(DataType(d) for d in _csv(row["data_types"])),
        delivery=Delivery(row["delivery"]),
        created_by=row["created_by"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        state=RequestState(row["state"]),
        state_at=row["state_at"],
        opened_at=row["opened_at"],
        completed_at=row["completed_at"],
        journey=json.loads(row["journey"]),
        link_issued_at=row["link_issued_at"],
        version=row["version"],
        features=None
        if row["features"] is None
        else frozenset(Feature(f) for f in _csv(row["features"])),
        superseded_by=row["superseded_by"],
    )


def _entity(row: sqlite3.Row) -> LegalEntity:
    return LegalEntity(
        id=row["id"],
        org_id=row["org_id"],
        request_id=row["request_id"],
        relationship_id=row["relationship_id"],
        name=row["name"],
        is_company=bool(row["is_company"]),
        denied=bool(row["denied"]),
        created_at=row["created_at"],
    )


def _connection(row: sqlite3.Row) -> Connection:
    return Connection(
        id=row["id"],
        org_id=row["org_id"],
        entity_id=row["entity_id"],
        platform=row["platform"],
        status=ConnectionStatus(row["status"]),
        created_at=row["created_at"],
        status_at=row["status_at"],
        last_sync_at=row["last_sync_at"],
    )


def _pull(row: sqlite3.Row) -> DataPull:
    return DataPull(
        id=row["id"],
        org_id=row["org_id"],
        connection_id=row["connection_id"],
        status=PullStatus(row["status"]),
        requested_at=row["requested_at"],
        status_at=row["status_at"],
        completed_at=row["completed_at"],
        error=row["error"],
        summary=json.loads(row["summary"]) if row["summary"] else None,
    )


def _upload(row: sqlite3.Row) -> Upload:
    return Upload(
        id=row["id"],
        org_id=row["org_id"],
        entity_id=row["entity_id"],
        filename=row["filename"],
        size=row["size"],
        sha256=row["sha256"],
        row_count=row["row_count"],
        status=UploadStatus(row["status"]),
        uploaded_at=row["uploaded_at"],
        process_after=row["process_after"],
        processed_at=row["processed_at"],
    )


def _event(row: sqlite3.Row) -> Event:
    return Event(
        seq=row["seq"],
        org_id=row["org_id"],
        at=row["at"],
        actor=row["actor"],
        kind=row["kind"],
        relationship_id=row["relationship_id"],
        request_id=row["request_id"],
        payload=json.loads(row["payload"]),
    )


def _stored(value: Any) -> Any:
    """Python values as the columns hold them."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dict):
        return dumps(value)
    if isinstance(value, (list, tuple, frozenset, set)):
        return ",".join(sorted(str(v) for v in value))
    return value


_UPDATABLE = {
    "organizations": {
        "features",
        "platforms",
        "link_lifetime_days",
        "simulated_failures",
        "accent",
        "version",
    },
    "relationships": {
        "name",
        "name_key",
        "description",
        "contact_name",
        "contact_email",
        "updated_at",
        "version",
        "status",
        "status_at",
        "requested",
        "entities_linked",
        "entities_total",
        "platforms",
        "latest_request_id",
    },
    "requests": {
        "state",
        "state_at",
        "opened_at",
        "completed_at",
        "journey",
        "link_hash",
        "link_issued_at",
        "expires_at",
        "version",
        "superseded_by",
    },
    "legal_entities": {"denied", "name"},
    "connections": {"status", "status_at", "last_sync_at", "platform"},
    "data_pulls": {"status", "status_at", "completed_at", "error", "summary"},
    "uploads": {"status", "processed_at"},
}


def fts_phrase(q: str) -> str:
    """A user's search text as one FTS5 phrase (never FTS syntax)."""
    return '"' + q.replace('"', '""') + '"'


class SQLiteTx:
    """The repository for one SQLite transaction (``journey.storage.base.Tx``)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        # What the store's listeners are told on commit (``Committed``).
        self.newest_event = 0
        self.queued_work = False

    def now(self) -> str:
        return utc_now()

    def _one(self, sql: str, *args: Any) -> sqlite3.Row | None:
        return self.conn.execute(sql, args).fetchone()

    def _all(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        return self.conn.execute(sql, args).fetchall()

    def _update(self, table: str, key: str, key_value: str, fields: dict[str, Any]) -> None:
        if fields:
            assignments, values = self._assignments(table, fields)
            self.conn.execute(
                f"UPDATE {table} SET {assignments} WHERE {key} = ?", (*values, key_value)
            )

    @staticmethod
    def _assignments(table: str, fields: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
        """``column = ?, …`` and the values, as stored, for an UPDATE of ``fields``."""
        unknown = set(fields) - _UPDATABLE[table]
        if unknown:
            raise ValueError(f"cannot update {table}.{', '.join(sorted(unknown))}")
        if table == "organizations":
            fields = {
                k: json.dumps(sorted(v) if k == "features" else list(v))
                if k in ("features", "platforms")
                else _stored(v)
                for k, v in fields.items()
            }
        else:
            fields = {k: _stored(v) for k, v in fields.items()}
        return ", ".join(f"{column} = ?" for column in fields), tuple(fields.values())

    # Organizations and users

    def insert_organization(self, org: Organization) -> None:
        self.conn.execute(
            "INSERT INTO organizations (id, name, features, platforms, link_lifetime_days,"
            " simulated_failures, created_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                org.id,
                org.name,
                json.dumps(sorted(f.value for f in org.features)),
                json.dumps(list(org.platforms)),
                org.link_lifetime_days,
                dumps(org.simulated_failures),
                org.created_at,
                org.version,
            ),
        )

    def get_organization(self, org_id: str) -> Organization | None:
        row = self._one("SELECT * FROM organizations WHERE id = ?", org_id)
        return _org(row) if row else None

    def get_organization_by_name(self, name: str) -> Organization | None:
        row = self._one("SELECT * FROM organizations WHERE name = ?", name)
        return _org(row) if row else None

    def update_organization(self, org_id: str, fields: dict[str, Any]) -> None:
        self._update("organizations", "id", org_id, fields)

    def list_organizations(self) -> list[Organization]:
        return [_org(r) for r in self._all("SELECT * FROM organizations ORDER BY created_at")]

    def insert_user(self, user: User) -> None:
        self.conn.execute(
            "INSERT INTO users (id, org_id, email, name, role, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (user.id, user.org_id, user.email, user.name, user.role.value, user.created_at),
        )

    def get_user(self, org_id: str, user_id: str) -> User | None:
        row = self._one("SELECT * FROM users WHERE id = ? AND org_id = ?", user_id, org_id)
        return _user(row) if row else None

    def get_user_by_email(self, org_id: str, email: str) -> User | None:
        row = self._one(
            "SELECT * FROM users WHERE org_id = ? AND email = ? COLLATE NOCASE", org_id, email
        )
        return _user(row) if row else None

    def list_users(self, org_id: str) -> list[User]:
        return [
            _user(r)
            for r in self._all("SELECT * FROM users WHERE org_id = ? ORDER BY name", org_id)
        ]

    def insert_token(
        self,
        token_hash: str,
        user_id: str,
        label: str,
        *,
        token_id: str | None = None,
        prefix: str = "",
        expires_at: str | None = None,
    ) -> None:
        self.conn.execute(
            "INSERT INTO api_tokens (token_hash, user_id, label, created_at, id, prefix,"
            " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (token_hash, user_id, label, utc_now(), token_id or new_id(), prefix, expires_at),
        )

    def revoke_token(self, token_hash: str) -> None:
        self.conn.execute(
            "UPDATE api_tokens SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL",
            (utc_now(), token_hash),
        )

    def revoke_token_by_id(self, token_id: str) -> ApiToken | None:
        """Revoke the token ``token_id`` (if not already); the token as it now is, or None."""
        self.conn.execute(
            "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (utc_now(), token_id),
        )
        row = self._one("SELECT * FROM api_tokens WHERE id = ?", token_id)
        return _api_token(row) if row else None

    def user_for_token(self, token_hash: str) -> User | None:
        row = self._one(
            "SELECT u.* FROM api_tokens t JOIN users u ON u.id = t.user_id"
            " WHERE t.token_hash = ? AND t.revoked_at IS NULL"
            " AND (t.expires_at IS NULL OR t.expires_at > ?)",
            token_hash,
            utc_now(),
        )
        return _user(row) if row else None

    def token_and_user(self, token_hash: str) -> tuple[ApiToken, User] | None:
        """The token with this hash and its user, revoked or expired alike."""
        token = self._one("SELECT * FROM api_tokens WHERE token_hash = ?", token_hash)
        if token is None:
            return None
        user = self._one("SELECT * FROM users WHERE id = ?", token["user_id"])
        return (_api_token(token), _user(user)) if user else None

    def list_tokens(self, org_id: str | None = None) -> list[tuple[ApiToken, User]]:
        """Every token (of one organization's users), oldest first."""
        rows = self._all(
            "SELECT t.id AS t_id, t.prefix, t.user_id, t.label, t.created_at AS t_created,"
            " t.expires_at, t.revoked_at, u.* FROM api_tokens t JOIN users u ON u.id = t.user_id"
            " WHERE ? IS NULL OR u.org_id = ? ORDER BY t.created_at, t.id",
            org_id,
            org_id,
        )
        return [
            (
                ApiToken(
                    id=row["t_id"],
                    prefix=row["prefix"],
                    user_id=row["user_id"],
                    label=row["label"],
                    created_at=row["t_created"],
                    expires_at=row["expires_at"],
                    revoked_at=row["revoked_at"],
                ),
                _user(row),
            )
            for row in rows
        ]

    # Customer-link misses, per client address and minute (journey.api.context.LinkGuard)

    def link_misses(self, address: str, minute: int) -> tuple[int, int]:
        """Misses from ``address`` in ``minute`` and in the minute before it."""
        rows = self._all(
            "SELECT minute, misses FROM link_misses WHERE minute IN (?, ?) AND address = ?",
            minute - 1,
            minute,
            address,
        )
        counts = {row["minute"]: row["misses"] for row in rows}
        return counts.get(minute, 0), counts.get(minute - 1, 0)

    def count_link_miss(self, address: str, minute: int) -> None:
        self.conn.execute(
            "INSERT INTO link_misses (minute, address, misses) VALUES (?, ?, 1)"
            " ON CONFLICT DO UPDATE SET misses = misses + 1",
            (minute, address),
        )
        # Older minutes count no more: forgotten, so the table stays a few rows long.
        self.conn.execute("DELETE FROM link_misses WHERE minute < ?", (minute - 1,))

    # Relationships

    def insert_relationship(self, rel: Relationship) -> None:
        self.conn.execute(
            "INSERT INTO relationships (id, org_id, parent_id, name, name_key, description,"
            " contact_name, contact_email, created_at, updated_at, version, status, status_at,"
            " requested, entities_linked, entities_total, platforms, latest_request_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                rel.id,
                rel.org_id,
                rel.parent_id,
                rel.name,
                rel.name.casefold(),
                rel.description,
                rel.contact_name,
                rel.contact_email,
                rel.created_at,
                rel.updated_at,
                rel.version,
                rel.status.value,
                rel.status_at,
                _stored(rel.requested),
                rel.entities_linked,
                rel.entities_total,
                _stored(rel.platforms),
                rel.latest_request_id,
            ),
        )

    def _users_of(self, rel_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        if not rel_ids:
            return {}
        marks = ",".join("?" * len(rel_ids))
        found: dict[str, list[str]] = {}
        for row in self._all(
            f"SELECT relationship_id, user_id FROM relationship_users"
            f" WHERE relationship_id IN ({marks}) ORDER BY user_id",
            *rel_ids,
        ):
            found.setdefault(row[0], []).append(row[1])
        return {k: tuple(v) for k, v in found.items()}

    def get_relationship(self, org_id: str, rel_id: str) -> Relationship | None:
        row = self._one("SELECT * FROM relationships WHERE id = ? AND org_id = ?", rel_id, org_id)
        if row is None:
            return None
        return _relationship(row, self._users_of([rel_id]).get(rel_id, ()))

    def update_relationship(self, rel_id: str, fields: dict[str, Any]) -> None:
        if "name" in fields:
            fields = {**fields, "name_key": str(fields["name"]).casefold()}
        self._update("relationships", "id", rel_id, fields)

    def delete_relationship(self, rel_id: str) -> None:
        self.conn.execute("DELETE FROM relationships WHERE id = ?", (rel_id,))

    def set_relationship_users(self, rel: Relationship, user_ids: Sequence[str]) -> None:
        current = set(self._users_of([rel.id]).get(rel.id, ()))
        wanted = set(user_ids)
        for user_id in current - wanted:
            self.conn.execute(
                "DELETE FROM relationship_users WHERE relationship_id = ? AND user_id = ?",
                (rel.id, user_id),
            )
        row = self._one(
            "SELECT status, name_key, created_at, status_at, rowid FROM relationships WHERE id = ?",
            rel.id,
        )
        assert row is not None
        for user_id in sorted(wanted - current):
            self.conn.execute(
                "INSERT INTO relationship_users (relationship_id, user_id, org_id, status,"
                " name_key, created_at, status_at, rel_rowid) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (rel.id, user_id, rel.org_id, row[0], row[1], row[2], row[3], row[4]),
            )

    def children(self, rel_id: str) -> list[Relationship]:
        rows = self._all(
            "SELECT * FROM relationships WHERE parent_id = ? ORDER BY name_key", rel_id
        )
        users = self._users_of([r["id"] for r in rows])
        return [_relationship(r, users.get(r["id"], ())) for r in rows]

    def _search_clause(
        self, q: str, alias: str, name_alias: str | None = None
    ) -> tuple[str, list[Any]]:
        """The search as SQL. ``name_alias`` is where ``name_key`` is read for short
        searches: the assignment table has its own copy, and ranging over it with the
        user's index is what makes "my companies" starting with "h" quick."""
        # Control characters can never match a name; they would only upset FTS5.
        q = " ".join("".join(ch for ch in q if ch.isprintable()).split())
        if not q:
            return "", []
        if "@" in q:
            column = f"{alias}.contact_email COLLATE NOCASE"
            return f" AND {column} >= ? AND {column} < ?", [q, q + "\U0010ffff"]
        if len(q) >= 3:
            return (
                f" AND {alias}.rowid IN (SELECT rowid FROM relationships_fts"
                " WHERE relationships_fts MATCH ?)",
                [fts_phrase(q)],
            )
        # Trigrams need three characters; shorter text matches the start of the name.
        prefix = q.casefold()
        named = name_alias or alias
        return f" AND {named}.name_key >= ? AND {named}.name_key < ?", [
            prefix,
            prefix + "\U0010ffff",
        ]

    def list_relationships(self, query: RelationshipQuery) -> Page:
        column = SORT_COLUMNS[query.sort]
        search_sql, search_args = self._search_clause(query.q, "r")
        counts: dict[str, int] | None = None
        total: int | None = None
        if query.with_counts:
            counts = self.status_counts(query)
            total = _total_of(query, counts)
        descending, offset, limit = query.descending, max(query.offset, 0), query.limit
        whole = 0
        flipped = False
        if query.after is None and offset > DEEP_OFFSET:
            whole = total if total is not None else _total_of(query, self.status_counts(query))
            remaining = max(whole - offset, 0)
            if remaining < offset:
                # The same rows, counted from the end in the opposite order.
                flipped, descending = True, not descending
                limit = min(query.limit, remaining)
                offset = max(remaining - query.limit, 0)
        order = "DESC" if descending else "ASC"
        compare = "<" if descending else ">"
        if total is not None:
            matches = total
        elif "rowid IN" in search_sql:
            matches = self._one(
                "SELECT count(*) FROM relationships_fts WHERE relationships_fts MATCH ?",
                *search_args,
            )[0]  # type: ignore[index]
        else:
            matches = 0
        args: list[Any]
        if query.user_id is None:
            # Covering-index pass for the ids first; rows are fetched for one page only.
            # Ties are broken by rowid, the implicit last column of every index.
            source = "relationships r"
            if "rowid IN" in search_sql and matches > MANY_MATCHES:
                # Thousands of matches: walking the sort index and keeping the matches
                # finds a page sooner than fetching and sorting every match.
                source += f" INDEXED BY {SORT_INDEXES[query.sort]}"
            sql = f"SELECT r.id, r.{column}, r.rowid FROM {source} WHERE r.org_id = ?"
            args = [query.org_id]
            if query.status is not None:
                sql += " AND r.status = ?"
                args.append(query.status.value)
            if query.parent_id is not None:
                sql += " AND r.parent_id = ?"
                args.append(query.parent_id)
            sql += search_sql
            args += search_args
            if query.after is not None:
                if not query.after[1].isdigit():
                    raise ValueError("cursor from another filter")
                sql += f" AND (r.{column}, r.rowid) {compare} (?, ?)"
                args += [query.after[0], int(query.after[1])]
            sql += f" ORDER BY r.{column} {order}, r.rowid {order} LIMIT ? OFFSET ?"
        else:
            search_sql, search_args = self._search_clause(query.q, "r", name_alias="u")
            source, user_term = "relationship_users u", "u.user_id = ?"
            if "rowid IN" in search_sql and matches <= FEW_MATCHES:
                # Up to some thousands of matches: look each up among the assignments
                # by its rowid, then sort those few.
                search_sql = search_sql.replace("r.rowid IN", "u.rel_rowid IN")
                source += " INDEXED BY ru_rowid_user"
            elif "rowid IN" in search_sql:
                # Many: walk the user's sort index (it ends with the company's rowid),
                # keeping the entries whose rowid the search matched.
                search_sql = search_sql.replace("r.rowid IN", "u.rel_rowid IN")
                source += f" INDEXED BY {USER_SORT_INDEXES[query.sort]}"
            elif "r." in search_sql:
                source += " JOIN relationships r ON r.id = u.relationship_id"
            sql = (
                f"SELECT u.relationship_id, u.{column}, u.rel_rowid FROM {source} WHERE {user_term}"
            )
            args = [query.user_id]
            if query.status is not None:
                sql += " AND u.status = ?"
                args.append(query.status.value)
            if query.parent_id is not None:
                sql += (
                    " AND u.relationship_id IN (SELECT id FROM relationships WHERE parent_id = ?)"
                )
                args.append(query.parent_id)
            sql += search_sql
            args += search_args
            if query.after is not None:
                if not query.after[1].isdigit():
                    raise ValueError("cursor from another filter")
                sql += f" AND (u.{column}, u.rel_rowid) {compare} (?, ?)"
                args += [query.after[0], int(query.after[1])]
            sql += f" ORDER BY u.{column} {order}, u.rel_rowid {order} LIMIT ? OFFSET ?"
        args += [limit + 1, offset]
        keys = self._all(sql, *args) if limit else []
        more = len(keys) > limit
        keys = keys[:limit]
        if flipped:
            keys.reverse()
            more = query.offset + len(keys) < whole
        ids = [k[0] for k in keys]
        rows_by_id: dict[str, sqlite3.Row] = {}
        if ids:
            marks = ",".join("?" * len(ids))
            for row in self._all(f"SELECT * FROM relationships WHERE id IN ({marks})", *ids):
                rows_by_id[row["id"]] = row
        users = self._users_of(ids)
        rows = [_relationship(rows_by_id[i], users.get(i, ())) for i in ids if i in rows_by_id]
        next_after = (str(keys[-1][1]), str(keys[-1][2])) if more and keys else None
        return Page(rows=rows, next_after=next_after, counts=counts, total=total)

    def status_counts(self, query: RelationshipQuery) -> dict[str, int]:
        """Companies per status for the query's filters other than status itself."""
        if not query.q.strip() and query.parent_id is None:
            rows = self._all(
                "SELECT status, n FROM status_counts WHERE org_id = ? AND user_id = ? AND n > 0",
                query.org_id,
                query.user_id or "",
            )
            return {r[0]: r[1] for r in rows}
        search_sql, search_args = self._search_clause(query.q, "r")
        if query.user_id is None and query.parent_id is None and "rowid IN" in search_sql:
            sql = (
                "SELECT k.status, count(*) FROM relationship_keys k WHERE k.org_id = ?"
                + search_sql.replace("r.rowid", "k.rowid")
                + " GROUP BY k.status"
            )
            return {r[0]: r[1] for r in self._all(sql, query.org_id, *search_args)}
        if query.user_id is None:
            sql = (
                "SELECT k.status, count(*) FROM relationships r"
                " JOIN relationship_keys k ON k.rowid = r.rowid WHERE r.org_id = ?"
            )
            args: list[Any] = [query.org_id]
        else:
            # The assignment rows carry status and name: join the companies only when
            # the search or the parent filter needs them.
            search_sql, search_args = self._search_clause(query.q, "r", name_alias="u")
            needs_rows = "r." in search_sql or query.parent_id is not None
            sql = (
                "SELECT u.status, count(*) FROM relationship_users u"
                + (" JOIN relationships r ON r.id = u.relationship_id" if needs_rows else "")
                + " WHERE u.user_id = ?"
            )
            args = [query.user_id]
        if query.parent_id is not None:
            sql += " AND r.parent_id = ?"
            args.append(query.parent_id)
        group = "k.status" if query.user_id is None else "u.status"
        sql += search_sql + f" GROUP BY {group}"
        return {r[0]: r[1] for r in self._all(sql, *args, *search_args)}

    # Requests

    def insert_request(self, req: InformationRequest, link_hash: str | None) -> None:
        self.conn.execute(
            "INSERT INTO requests (id, org_id, relationship_id, data_types, delivery, created_by,"
            " created_at, expires_at, state, state_at, opened_at, completed_at, journey,"
            " link_hash, link_issued_at, version, features)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                req.id,
                req.org_id,
                req.relationship_id,
                _stored(req.data_types),
                req.delivery.value,
                req.created_by,
                req.created_at,
                req.expires_at,
                req.state.value,
                req.state_at,
                req.opened_at,
                req.completed_at,
                dumps(req.journey),
                link_hash,
                req.link_issued_at,
                req.version,
                None if req.features is None else _stored(req.features),
            ),
        )

    def get_request(self, org_id: str, req_id: str) -> InformationRequest | None:
        row = self._one("SELECT * FROM requests WHERE id = ? AND org_id = ?", req_id, org_id)
        return _request(row) if row else None

    def request_by_link_hash(self, link_hash: str) -> InformationRequest | None:
        row = self._one("SELECT * FROM requests WHERE link_hash = ?", link_hash)
        return _request(row) if row else None

    def update_request(self, req_id: str, fields: dict[str, Any]) -> None:
        self._update("requests", "id", req_id, fields)

    def update_request_at_version(self, req_id: str, version: int, fields: dict[str, Any]) -> bool:
        """``update_request`` if the request is still at ``version``; False, having
        written nothing, if something changed it since it was read."""
        assignments, values = self._assignments("requests", fields)
        cursor = self.conn.execute(
            f"UPDATE requests SET {assignments} WHERE id = ? AND version = ?",
            (*values, req_id, version),
        )
        return cursor.rowcount == 1

    def revoke_link(self, req_id: str, reason: str) -> None:
        self.conn.execute(
            "INSERT OR IGNORE INTO link_revocations (link_hash, request_id, reason, revoked_at)"
            " SELECT link_hash, id, ?, ? FROM requests WHERE id = ? AND link_hash IS NOT NULL",
            (reason, utc_now(), req_id),
        )
        self.conn.execute("UPDATE requests SET link_hash = NULL WHERE id = ?", (req_id,))

    def link_revocation(self, link_hash: str) -> str | None:
        row = self._one("SELECT reason FROM link_revocations WHERE link_hash = ?", link_hash)
        return str(row[0]) if row else None

    def requests_for_relationship(self, rel_id: str) -> list[InformationRequest]:
        rows = self._all(
            "SELECT * FROM requests WHERE relationship_id = ? ORDER BY created_at DESC", rel_id
        )
        return [_request(r) for r in rows]

    def latest_live_request(self, rel_id: str) -> InformationRequest | None:
        row = self._one(
            "SELECT * FROM requests WHERE relationship_id = ? AND state != 'Cancelled'"
            " ORDER BY created_at DESC, rowid DESC LIMIT 1",
            rel_id,
        )
        return _request(row) if row else None

    def requests_expiring(self, now: str, limit: int) -> list[InformationRequest]:
        rows = self._all(
            "SELECT * FROM requests WHERE state IN ('Sent', 'Opened') AND expires_at <= ?"
            " ORDER BY expires_at LIMIT ?",
            now,
            limit,
        )
        return [_request(r) for r in rows]

    # Entities, connections, pulls, uploads, reports

    def insert_entity(self, entity: LegalEntity) -> None:
        self.conn.execute(
            "INSERT INTO legal_entities (id, org_id, request_id, relationship_id, name,"
            " is_company, denied, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entity.id,
                entity.org_id,
                entity.request_id,
                entity.relationship_id,
                entity.name,
                int(entity.is_company),
                int(entity.denied),
                entity.created_at,
            ),
        )

    def get_entity(self, entity_id: str) -> LegalEntity | None:
        row = self._one("SELECT * FROM legal_entities WHERE id = ?", entity_id)
        return _entity(row) if row else None

    def update_entity(self, entity_id: str, fields: dict[str, Any]) -> None:
        self._update("legal_entities", "id", entity_id, fields)

    def delete_entity(self, entity_id: str) -> None:
        self.conn.execute("DELETE FROM legal_entities WHERE id = ?", (entity_id,))

    def entities_for_request(self, req_id: str) -> list[LegalEntity]:
        rows = self._all(
            "SELECT * FROM legal_entities WHERE request_id = ? ORDER BY created_at, rowid", req_id
        )
        return [_entity(r) for r in rows]

    def entities_for_relationship(self, rel_id: str) -> list[LegalEntity]:
        rows = self._all(
            "SELECT * FROM legal_entities WHERE relationship_id = ? ORDER BY created_at, rowid",
            rel_id,
        )
        return [_entity(r) for r in rows]

    def insert_connection(self, conn: Connection) -> None:
        self.conn.execute(
            "INSERT INTO connections (id, org_id, entity_id, platform, status, created_at,"
            " status_at, last_sync_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                conn.id,
                conn.org_id,
                conn.entity_id,
                conn.platform,
                conn.status.value,
                conn.created_at,
                conn.status_at,
                conn.last_sync_at,
            ),
        )

    def get_connection(self, org_id: str, conn_id: str) -> Connection | None:
        row = self._one("SELECT * FROM connections WHERE id = ? AND org_id = ?", conn_id, org_id)
        return _connection(row) if row else None

    def update_connection(self, conn_id: str, fields: dict[str, Any]) -> None:
        self._update("connections", "id", conn_id, fields)

    def connection_for_entity(self, entity_id: str) -> Connection | None:
        row = self._one(
            "SELECT * FROM connections WHERE entity_id = ? ORDER BY created_at DESC, rowid DESC"
            " LIMIT 1",
            entity_id,
        )
        return _connection(row) if row else None

    def insert_pull(self, pull: DataPull) -> None:
        self.queued_work = True
        self.conn.execute(
            "INSERT INTO data_pulls (id, org_id, connection_id, status, requested_at, status_at,"
            " completed_at, error, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                pull.id,
                pull.org_id,
                pull.connection_id,
                pull.status.value,
                pull.requested_at,
                pull.status_at,
                pull.completed_at,
                pull.error,
                dumps(pull.summary) if pull.summary is not None else None,
            ),
        )

    def update_pull(self, pull_id: str, fields: dict[str, Any]) -> None:
        self._update("data_pulls", "id", pull_id, fields)

    def pulls_for_connection(self, conn_id: str) -> list[DataPull]:
        rows = self._all(
            "SELECT * FROM data_pulls WHERE connection_id = ?"
            " ORDER BY requested_at DESC, rowid DESC",
            conn_id,
        )
        return [_pull(r) for r in rows]

    def active_pulls(self, limit: int) -> list[DataPull]:
        rows = self._all(
            "SELECT * FROM data_pulls WHERE status IN ('Queued', 'Fetching')"
            " ORDER BY status_at LIMIT ?",
            limit,
        )
        return [_pull(r) for r in rows]

    def insert_upload(self, upload: Upload, records: list[dict[str, Any]]) -> None:
        self.queued_work = True
        self.conn.execute(
            "INSERT INTO uploads (id, org_id, entity_id, filename, size, sha256, row_count,"
            " records, status, uploaded_at, process_after, processed_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                upload.id,
                upload.org_id,
                upload.entity_id,
                upload.filename,
                upload.size,
                upload.sha256,
                upload.row_count,
                json.dumps(records, separators=(",", ":")),
                upload.status.value,
                upload.uploaded_at,
                upload.process_after,
                upload.processed_at,
            ),
        )

    def update_upload(self, upload_id: str, fields: dict[str, Any]) -> None:
        self._update("uploads", "id", upload_id, fields)

    def uploads_for_entity(self, entity_id: str) -> list[Upload]:
        rows = self._all(
            "SELECT * FROM uploads WHERE entity_id = ? ORDER BY uploaded_at DESC, rowid DESC",
            entity_id,
        )
        return [_upload(r) for r in rows]

    def upload_records(self, upload_id: str) -> list[dict[str, Any]]:
        row = self._one("SELECT records FROM uploads WHERE id = ?", upload_id)
        return json.loads(row[0]) if row else []

    def processing_uploads(self, now: str, limit: int) -> list[Upload]:
        rows = self._all(
            "SELECT * FROM uploads WHERE status = 'Processing' AND process_after <= ?"
            " ORDER BY process_after LIMIT ?",
            now,
            limit,
        )
        return [_upload(r) for r in rows]

    # Events

    def append_event(
        self,
        org_id: str,
        actor: str,
        kind: str,
        payload: dict[str, Any],
        relationship_id: str | None = None,
        request_id: str | None = None,
    ) -> Event:
        at = utc_now()
        cursor = self.conn.execute(
            "INSERT INTO events (org_id, at, actor, kind, relationship_id, request_id, payload)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (org_id, at, actor, kind, relationship_id, request_id, dumps(payload)),
        )
        seq = int(cursor.lastrowid or 0)
        self.newest_event = max(self.newest_event, seq)
        return Event(
            seq=seq,
            org_id=org_id,
            at=at,
            actor=actor,
            kind=kind,
            relationship_id=relationship_id,
            request_id=request_id,
            payload=payload,
        )

    def events_after(self, org_id: str, after: int, limit: int) -> list[Event]:
        rows = self._all(
            "SELECT * FROM events WHERE org_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            org_id,
            after,
            limit,
        )
        return [_event(r) for r in rows]

    def request_facts_in_period(
        self, org_id: str, user_id: str | None, since: str, until: str
    ) -> list[dict[str, Any]]:
        """Per request created in [since, until) (of ``user_id``'s companies, or all):
        its data types, when it was opened, completed and first had data, where its
        journey stands, the steps it reached and whether a connection was linked."""
        mine = (
            " AND r.relationship_id IN (SELECT relationship_id FROM relationship_users"
            " WHERE user_id = ?)"
            if user_id
            else ""
        )
        args: list[Any] = [org_id, since, until, *([user_id] if user_id else [])]
        rows = self._all(
            "SELECT r.id, r.data_types, r.created_at, r.opened_at, r.completed_at, r.state,"
            " json_extract(r.journey, '$.step') AS step,"
            " (SELECT group_concat(DISTINCT json_extract(e.payload, '$.to')) FROM events e"
            "   WHERE e.request_id = r.id AND e.kind = 'journey.action') AS reached,"
            # Connected and data from the records themselves (seeded demos have no
            # per-step history; the records are the truth either way).
            " EXISTS (SELECT 1 FROM legal_entities le JOIN connections c ON c.entity_id = le.id"
            "   WHERE le.request_id = r.id AND c.status != 'PendingAuth') AS linked,"
            " (SELECT min(t) FROM ("
            "   SELECT p.completed_at AS t FROM legal_entities le"
            "   JOIN connections c ON c.entity_id = le.id"
            "   JOIN data_pulls p ON p.connection_id = c.id"
            "   WHERE le.request_id = r.id AND p.status = 'Complete'"
            "   UNION ALL SELECT u.processed_at FROM legal_entities le"
            "   JOIN uploads u ON u.entity_id = le.id"
            "   WHERE le.request_id = r.id AND u.status = 'Processed')) AS data_at,"
            " r.journey, r.features"
            " FROM requests r WHERE r.org_id = ? AND r.created_at >= ? AND r.created_at < ?" + mine,
            *args,
        )
        return [
            {
                "id": row["id"],
                "data_types": _csv(row["data_types"]),
                "created_at": row["created_at"],
                "opened_at": row["opened_at"],
                "completed_at": row["completed_at"],
                "state": row["state"],
                "step": row["step"],
                "reached": tuple((row["reached"] or "").split(",")) if row["reached"] else (),
                "linked": bool(row["linked"]),
                "data_at": row["data_at"],
                "journey": json.loads(row["journey"]),
                "features": None
                if row["features"] is None
                else frozenset(Feature(f) for f in _csv(row["features"])),
            }
            for row in rows
        ]

    def events_for_request(self, req_id: str) -> list[Event]:
        return [
            _event(r)
            for r in self._all("SELECT * FROM events WHERE request_id = ? ORDER BY seq", req_id)
        ]

    def events_for_relationship(self, rel_id: str, limit: int) -> list[Event]:
        rows = self._all(
            "SELECT * FROM events WHERE relationship_id = ? ORDER BY seq DESC LIMIT ?",
            rel_id,
            limit,
        )
        return [_event(r) for r in reversed(rows)]

    def last_event_seq(self, org_id: str) -> int:
        row = self._one("SELECT max(seq) FROM events WHERE org_id = ?", org_id)
        return int(row[0] or 0) if row else 0

    def max_event_seq(self) -> int:
        row = self._one("SELECT max(seq) FROM events")
        return int(row[0] or 0) if row else 0

    # Idempotency

    def get_idempotent(self, user_id: str, key: str) -> tuple[str, int, str] | None:
        row = self._one(
            "SELECT fingerprint, status_code, body FROM idempotency_keys"
            " WHERE user_id = ? AND key = ?",
            user_id,
            key,
        )
        return (row[0], row[1], row[2]) if row else None

    def put_idempotent(
        self, user_id: str, key: str, fingerprint: str, status: int, body: str
    ) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO idempotency_keys"
            " (user_id, key, fingerprint, status_code, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (user_id, key, fingerprint, status, body, utc_now()),
        )

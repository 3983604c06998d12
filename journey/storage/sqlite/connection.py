"""Opening a SQLite database: the connection's pragmas, the schema migrations, and
the one-line reasons a database cannot be used.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from journey.storage.schema import MIGRATIONS, SCHEMA_VERSION

BUSY_TIMEOUT_MS = 10_000


class StorageError(Exception):
    """The database cannot be used (wrong file, newer schema, corrupt)."""


def utc_now() -> str:
    """Timestamps are ISO 8601 UTC strings with milliseconds: they sort as text."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def connect(path: str) -> sqlite3.Connection:
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
            for statement in split_sql(MIGRATIONS[number]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number + 1}")
        conn.execute("COMMIT")
        return int(version)
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def split_sql(script: str) -> list[str]:
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


def error_code(exc: sqlite3.Error) -> int:
    """SQLite's primary result code for ``exc`` (``sqlite3.SQLITE_BUSY``, …): the low
    byte of its extended code; 0 for an error SQLite did not raise."""
    return int(getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF


def is_busy(exc: sqlite3.Error) -> bool:
    """Another connection holds the lock ("database is locked")."""
    return error_code(exc) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def busy_error() -> sqlite3.OperationalError:
    """The error SQLite gives a writer that could not take the lock, made here."""
    exc = sqlite3.OperationalError("database is locked")
    exc.sqlite_errorcode = sqlite3.SQLITE_BUSY
    exc.sqlite_errorname = "SQLITE_BUSY"
    return exc


def read_only(path: str) -> str:
    return (
        f"{path} is read-only, and relportal writes to its database (sign-ins, tokens, "
        "requests): make the file and its folder writable, or copy it somewhere writable "
        "and use that"
    )


def unusable(path: str, exc: sqlite3.DatabaseError) -> str:
    """Why the database at ``path`` cannot be opened, in one line that names it once."""
    reason, code = str(exc), error_code(exc)
    if code == sqlite3.SQLITE_READONLY:
        return read_only(path)
    if code == sqlite3.SQLITE_CANTOPEN:
        folder = Path(path).parent
        if Path(path).exists() and not os.access(folder, os.W_OK):
            return read_only(path)  # WAL needs its -shm file beside the database
        if not os.access(folder, os.W_OK):
            return (
                f"{path}: cannot create the database, its folder {folder} is read-only: "
                "give a path in a folder you can write"
            )
        return f"{path}: cannot open the database file ({reason})"
    return f"{path}: {reason}"

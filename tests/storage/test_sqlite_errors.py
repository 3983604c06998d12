"""SQLite's errors told apart by their result code (``sqlite_errorcode``), never by
the words of their message."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from journey.storage.sqlite import SQLiteStore
from journey.storage.sqlite.connection import (
    busy_error,
    error_code,
    is_busy,
    read_only,
    unusable,
)


def test_a_held_lock_is_busy_and_an_error_that_only_says_locked_is_not(tmp_path: Path) -> None:
    path = tmp_path / "lock.db"
    SQLiteStore(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError) as held:
            other.execute("BEGIN IMMEDIATE")
        assert is_busy(held.value)
        assert error_code(held.value) == sqlite3.SQLITE_BUSY
        # "no such table: locked" says "locked" but is no lock at all.
        with pytest.raises(sqlite3.OperationalError) as missing:
            other.execute("SELECT * FROM locked")
        assert "locked" in str(missing.value)
        assert not is_busy(missing.value)
    finally:
        holder.close()
        other.close()


def test_the_store_s_own_busy_error_carries_sqlite_s_code() -> None:
    made = busy_error()
    assert is_busy(made) and made.sqlite_errorname == "SQLITE_BUSY"
    assert not is_busy(sqlite3.OperationalError("database is locked"))  # no code: not SQLite's


def test_a_write_refused_as_read_only_is_named_read_only(tmp_path: Path) -> None:
    path = tmp_path / "ro.db"
    SQLiteStore(path).close()
    reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        with pytest.raises(sqlite3.OperationalError) as refused:
            reader.execute("PRAGMA user_version = 1")
        assert error_code(refused.value) == sqlite3.SQLITE_READONLY
        assert unusable(str(path), refused.value) == read_only(str(path))
    finally:
        reader.close()

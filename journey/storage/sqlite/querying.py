"""What every query module of the SQLite transaction shares: its connection, one-row
and all-rows reads, and checked updates.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from journey.core.records import Event
from journey.storage.sqlite.connection import utc_now
from journey.storage.sqlite.rows import UPDATABLE, stored


class TxBase:
    """The connection of one transaction and the helpers the query modules share."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        # What the store's listeners are told on commit (``Committed``).
        self.newest_event = 0
        self.queued_work = False
        self.appended: list[Event] = []

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
        unknown = set(fields) - UPDATABLE[table]
        if unknown:
            raise ValueError(f"cannot update {table}.{', '.join(sorted(unknown))}")
        if table == "organizations":
            fields = {
                k: json.dumps(sorted(v) if k == "features" else list(v))
                if k in ("features", "platforms")
                else stored(v)
                for k, v in fields.items()
            }
        else:
            fields = {k: stored(v) for k, v in fields.items()}
        return ", ".join(f"{column} = ?" for column in fields), tuple(fields.values())

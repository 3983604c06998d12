"""The bulk writer ``relportal seed`` loads demo companies through: many rows in one
transaction, with the indexes whose keys arrive in random order, and the triggers
that keep the search index and the counts, set aside while it fills and rebuilt
after from the database's own definitions (``sqlite_master``), so that no copy of
the schema is kept here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from journey.storage.schema import TRIGGER_NAMES
from journey.storage.sqlite.transaction import SQLiteTx

# Indexes whose keys arrive in random order: dropped for a big load, built after.
# Indexes on ids or sequence numbers are left in place: seeded ids grow as rows are
# generated, so those entries land at the end of their index, which is cheaper than
# building the index again afterwards.
DEFERRED_INDEXES = (
    "rel_org_name",
    "rel_org_created",
    "rel_org_updated",
    "rel_org_status_updated",
    "rel_org_email",
    "ru_user_name",
    "ru_user_created",
    "ru_user_updated",
    "ru_rowid_user",
    # Requests are made in company order, but their times are laid out at random.
    "req_org_created",
    "req_open_expiry",
)

# SQLite's defaults for the full-text index's merging.
FTS_AUTOMERGE, FTS_CRISISMERGE = 4, 16

Rows = Sequence[tuple[Any, ...]]


class BulkWriter:
    """Inserts of many rows into one open transaction of ``conn``.

    ``add`` takes each table's rows as tuples in the column order of its INSERT
    below; relationships come without their rowid, which is given here so that the
    assignments can carry it (schema V3) without a lookup per row.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        # The ordinary repository on the same connection, for the few single rows
        # (the organization, its users) a load also needs.
        self.tx = SQLiteTx(conn)
        self._deferred: list[str] = []

    @classmethod
    @contextmanager
    def open(cls, path: str | Path, *, exclusive: bool = False) -> Iterator[BulkWriter]:
        """A bulk writer on its own connection to the database at ``path`` (made and
        migrated already: ``SQLiteStore(path, readers=0).close()``).

        ``exclusive``: try to have the file to itself, its journal in memory: pages
        then go straight into the database instead of through the WAL and again at
        checkpoint. If another process has it open, the load still works, slower.
        """
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=30)
        conn.row_factory = sqlite3.Row  # as the repository (``tx``) reads rows
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA busy_timeout = 30000")
            in_memory = False
            if exclusive:
                try:
                    mode = conn.execute("PRAGMA journal_mode = MEMORY").fetchone()[0]
                    in_memory = mode == "memory"
                except sqlite3.OperationalError:
                    in_memory = False
            try:
                yield cls(conn)
            finally:
                if in_memory:
                    conn.execute("PRAGMA journal_mode = WAL")
        finally:
            conn.close()

    @contextmanager
    def transaction(self, *, big: bool) -> Iterator[None]:
        """One write transaction, committed if the block ends, rolled back if it raises.
        ``big``: a large page cache and sorter threads let the index builds sort in
        memory; a load can always be run again, so it skips fsyncs meanwhile."""
        conn = self.conn
        if big:
            conn.execute("PRAGMA cache_size = -1000000")
            conn.execute("PRAGMA synchronous = OFF")
            conn.execute("PRAGMA threads = 2")
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA cache_size = -8000")

    def scalar(self, sql: str, *args: Any) -> Any:
        return self.conn.execute(sql, args).fetchone()[0]

    def defer_indexes(self) -> None:
        """Drop the triggers and the randomly keyed indexes until ``rebuild``, keeping
        their definitions as the database holds them."""
        names = (*TRIGGER_NAMES, *DEFERRED_INDEXES)
        marks = ",".join("?" * len(names))
        self._deferred = [
            sql
            for (sql,) in self.conn.execute(
                # In the order they were made: triggers on one table fire in that order.
                f"SELECT sql FROM sqlite_master WHERE name IN ({marks})"
                " AND type IN ('index', 'trigger') ORDER BY rowid",
                names,
            )
            if sql
        ]
        for trigger in TRIGGER_NAMES:
            self.conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        for index in DEFERRED_INDEXES:
            self.conn.execute(f"DROP INDEX IF EXISTS {index}")

    def add(
        self,
        *,
        relationships: Rows = (),
        users: Rows = (),
        requests: Rows = (),
        entities: Rows = (),
        connections: Rows = (),
        pulls: Rows = (),
        uploads: Rows = (),
        events: Rows = (),
    ) -> None:
        conn = self.conn
        base = conn.execute("SELECT coalesce(max(rowid), 0) + 1 FROM relationships").fetchone()[0]
        rowids = {row[0]: base + i for i, row in enumerate(relationships)}
        conn.executemany(
            "INSERT INTO relationships (rowid, id, org_id, parent_id, name, name_key, description,"
            " contact_name, contact_email, created_at, updated_at, version, status, status_at,"
            " requested, entities_linked, entities_total, platforms, latest_request_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((base + i, *row) for i, row in enumerate(relationships)),
        )
        conn.executemany(
            "INSERT INTO relationship_users (relationship_id, user_id, org_id, status, name_key,"
            " created_at, status_at, rel_rowid) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            ((*user, rowids[user[0]]) for user in users),
        )
        conn.executemany(
            "INSERT INTO requests (id, org_id, relationship_id, data_types, delivery, created_by,"
            " created_at, expires_at, state, state_at, opened_at, completed_at, journey, link_hash,"
            " link_issued_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            requests,
        )
        conn.executemany(
            "INSERT INTO legal_entities (id, org_id, request_id, relationship_id, name, is_company,"
            " denied, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            entities,
        )
        conn.executemany(
            "INSERT INTO connections (id, org_id, entity_id, platform, status, created_at,"
            " status_at, last_sync_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            connections,
        )
        conn.executemany(
            "INSERT INTO data_pulls (id, org_id, connection_id, status, requested_at, status_at,"
            " completed_at, error, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            pulls,
        )
        conn.executemany(
            "INSERT INTO uploads (id, org_id, entity_id, filename, size, sha256, row_count,"
            " records, status, uploaded_at, process_after, processed_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            uploads,
        )
        conn.executemany(
            "INSERT INTO events (org_id, at, actor, kind, relationship_id, request_id, payload)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            events,
        )

    def rebuild(
        self, org_id: str, after_rowid: int, counts: Iterable[tuple[str, str, int]]
    ) -> None:
        """After a deferred load: the indexes and the search index for the companies
        past ``after_rowid``, their status keys, the ``counts`` (user id or "" for
        everyone, status, companies) added to the status counts, and the triggers."""
        conn = self.conn
        deferred, self._deferred = self._deferred, []
        for statement in deferred:
            if statement.lstrip().upper().startswith("CREATE INDEX"):
                conn.execute(statement)
        self._fill_search_index(after_rowid)
        conn.execute(
            "INSERT INTO relationship_keys (rowid, org_id, status)"
            " SELECT rowid, org_id, status FROM relationships WHERE rowid > ? AND simulated = 0",
            (after_rowid,),
        )
        conn.executemany(
            "INSERT INTO status_counts (org_id, user_id, status, n) VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO UPDATE SET n = n + excluded.n",
            [(org_id, user, status, n) for user, status, n in counts],
        )
        for statement in deferred:
            if not statement.lstrip().upper().startswith("CREATE INDEX"):
                conn.execute(statement)

    def _fill_search_index(self, after_rowid: int) -> None:
        """Index the new companies' names for search, in bulk: the full-text index's
        segments are left unmerged while it fills and merged once at the end (5.4 s
        instead of 7.6 s for a million companies, and one segment to search after), then
        it goes back to merging as it goes, as live inserts need."""
        conn = self.conn
        settings = "INSERT INTO relationships_fts (relationships_fts, rank) VALUES (?, ?)"
        conn.execute(settings, ("automerge", 0))
        conn.execute(settings, ("crisismerge", 2000))
        conn.execute(
            "INSERT INTO relationships_fts (rowid, name, contact_name)"
            " SELECT rowid, name, contact_name FROM relationships WHERE rowid > ?",
            (after_rowid,),
        )
        conn.execute("INSERT INTO relationships_fts (relationships_fts) VALUES ('optimize')")
        conn.execute(settings, ("automerge", FTS_AUTOMERGE))
        conn.execute(settings, ("crisismerge", FTS_CRISISMERGE))

    def analyze(self) -> None:
        """Sampled statistics: enough for the planner, seconds cheaper than a full
        ANALYZE. Outside the load's transaction."""
        self.conn.execute("PRAGMA analysis_limit = 400")
        self.conn.execute("ANALYZE")

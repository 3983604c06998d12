"""Demo seeding: every status, consistent with the status rules, deterministic."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from journey import derive
from journey.domain import CompanyStatus
from journey.seed import DEMO_ORG, seed_connection, seed_file
from journey.storage.sqlite import SQLiteStore


def _snapshot(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT id, name, parent_id, status, status_at, requested, entities_linked,"
            " entities_total, platforms, latest_request_id FROM relationships ORDER BY id"
        ).fetchall()


def test_seed_covers_every_status_with_subsidiaries(tmp_path: Path) -> None:
    result = seed_file(tmp_path / "demo.db", 600, 3)
    assert result.companies == 600 and result.subsidiaries > 0
    rows = _snapshot(tmp_path / "demo.db")
    statuses = {row[3] for row in rows}
    assert statuses == {s.value for s in CompanyStatus}
    names = {row[0]: row[1] for row in rows}
    children = [row for row in rows if row[2] is not None]
    assert children
    for child in children:
        assert child[1].startswith(names[child[2]] + " - ")


def test_seed_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    seed_file(tmp_path / "a.db", 300, 11)
    seed_file(tmp_path / "b.db", 300, 11)
    seed_file(tmp_path / "c.db", 300, 12)
    assert _snapshot(tmp_path / "a.db") == _snapshot(tmp_path / "b.db")
    assert _snapshot(tmp_path / "a.db") != _snapshot(tmp_path / "c.db")


def test_bulk_path_writes_the_same_rows_and_rebuilds_search_and_counts(tmp_path: Path) -> None:
    for name, bulk in (("plain.db", False), ("bulk.db", True)):
        SQLiteStore(tmp_path / name, readers=0).close()
        conn = sqlite3.connect(tmp_path / name, isolation_level=None)
        seed_connection(conn, 250, 5, DEMO_ORG, None, bulk=bulk)
        conn.close()
    assert _snapshot(tmp_path / "plain.db") == _snapshot(tmp_path / "bulk.db")
    # Every index dropped for the bulk path is back, as the schema defines it.
    index_sql = "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
    with (
        sqlite3.connect(tmp_path / "plain.db") as plain,
        sqlite3.connect(tmp_path / "bulk.db") as bulk,
    ):
        assert [name for name, _ in plain.execute(index_sql)] == [
            name for name, _ in bulk.execute(index_sql)
        ]
        # The search index is whole, and merges again as live inserts need.
        bulk.execute("INSERT INTO relationships_fts (relationships_fts) VALUES ('integrity-check')")
        merging = dict(bulk.execute("SELECT k, v FROM relationships_fts_config"))
        assert (merging.get("automerge", 4), merging.get("crisismerge", 16)) == (4, 16)
    store = SQLiteStore(tmp_path / "bulk.db")
    try:
        with sqlite3.connect(tmp_path / "bulk.db") as conn:
            name = conn.execute("SELECT name FROM relationships LIMIT 1 OFFSET 7").fetchone()[0]
            counted = dict(
                conn.execute("SELECT status, count(*) FROM relationships GROUP BY status")
            )
            kept = dict(
                conn.execute("SELECT status, n FROM status_counts WHERE user_id = '' AND n > 0")
            )
        assert kept == counted
        with sqlite3.connect(tmp_path / "bulk.db") as conn:
            per_user = set(
                conn.execute(
                    "SELECT user_id, status, count(*) FROM relationship_users"
                    " GROUP BY user_id, status"
                )
            )
            kept_per_user = set(
                conn.execute("SELECT user_id, status, n FROM status_counts WHERE user_id != ''")
            )
        assert per_user == kept_per_user
        found = store.read_sync(
            lambda tx: tx.conn.execute(
                "SELECT count(*) FROM relationships_fts WHERE relationships_fts MATCH ?",
                (f'"{name[:12]}"',),
            ).fetchone()[0]
        )
        assert found >= 1
        # The triggers are back: a new company is counted and searchable.
        assert store.integrity_check() == "ok"
    finally:
        store.close()


def test_seeded_statuses_follow_the_status_rules(tmp_path: Path) -> None:
    """Re-deriving every seeded company changes nothing: the seed tells no lies."""
    seed_file(tmp_path / "demo.db", 400, 9)
    before = _snapshot(tmp_path / "demo.db")
    store = SQLiteStore(tmp_path / "demo.db")
    try:

        def rederive(tx):  # type: ignore[no-untyped-def]
            org_id = tx.get_organization_by_name(DEMO_ORG).id
            ids = [r[0] for r in tx.conn.execute("SELECT id FROM relationships")]
            seq = tx.max_event_seq()
            changed = []
            for rel_id in ids:
                old = tx.get_relationship(org_id, rel_id)
                new_status = derive.recompute(tx, org_id, rel_id)
                if new_status is not old.status:
                    changed.append((old.name, old.status.value, new_status.value))
            assert tx.max_event_seq() == seq, "re-deriving appended status events"
            return changed

        assert store.write_sync(rederive) == []
    finally:
        store.close()
    assert _snapshot(tmp_path / "demo.db") == before

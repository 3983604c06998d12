"""The SQLite store: migrations in place, append-only events, off-loop, shared files."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from journey import service
from journey.core.domain import CompanyStatus, Role
from journey.storage.base import RelationshipQuery
from journey.storage.schema import MIGRATIONS, SCHEMA_VERSION
from journey.storage.sqlite import SQLiteStore, StorageError
from journey.storage.sqlite.connection import split_sql
from journey.storage.sqlite.writer import WriterLock


def _v1_database(path: Path) -> None:
    """A database as the first released schema left it, with a company in it."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    for statement in split_sql(MIGRATIONS[0]):
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO organizations (id, name, features, platforms, created_at)"
        " VALUES ('o1', 'Old Bank', '[]', '[\"gbol\"]', '2025-01-01T00:00:00.000Z')"
    )
    conn.execute(
        "INSERT INTO relationships (id, org_id, name, name_key, contact_name, contact_email,"
        " created_at, updated_at, status, status_at) VALUES ('r1', 'o1', 'Harbour Lights Bakery',"
        " 'harbour lights bakery', 'Ann Lee', 'ann@harbour.example', '2025-01-01T00:00:00.000Z',"
        " '2025-01-01T00:00:00.000Z', 'Requested', '2025-01-01T00:00:00.000Z')"
    )
    conn.execute(
        "INSERT INTO users (id, org_id, email, name, role, created_at) VALUES"
        " ('u1', 'o1', 'rm@old.example', 'Old RM', 'rm', '2025-01-01T00:00:00.000Z')"
    )
    conn.execute(
        "INSERT INTO relationship_users (relationship_id, user_id, org_id, status, name_key,"
        " created_at, status_at) VALUES ('r1', 'u1', 'o1', 'Requested', 'harbour lights bakery',"
        " '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z')"
    )
    conn.close()


def test_an_older_database_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _v1_database(path)
    store = SQLiteStore(path)
    try:
        version = store.read_sync(lambda tx: tx.conn.execute("PRAGMA user_version").fetchone()[0])
        assert version == SCHEMA_VERSION
        found = store.read_sync(
            lambda tx: tx.conn.execute(
                "SELECT r.name FROM relationships_fts f JOIN relationships r ON r.rowid = f.rowid"
                " WHERE relationships_fts MATCH '\"lights\"'"
            ).fetchall()
        )
        assert [row[0] for row in found] == ["Harbour Lights Bakery"]
        counts = store.read_sync(
            lambda tx: dict(tx.conn.execute("SELECT status, n FROM status_counts").fetchall())
        )
        assert counts == {"Requested": 1}
        # V3: the assignment carries its company's rowid, and "my companies" finds it
        # by a full-text search.
        carried = store.read_sync(
            lambda tx: tx.conn.execute(
                "SELECT u.rel_rowid = r.rowid FROM relationship_users u"
                " JOIN relationships r ON r.id = u.relationship_id"
            ).fetchall()
        )
        assert [tuple(row) for row in carried] == [(1,)]
        mine = store.read_sync(
            lambda tx: tx.list_relationships(
                RelationshipQuery(org_id="o1", user_id="u1", q="lights", with_counts=False)
            )
        )
        assert [r.name for r in mine.rows] == ["Harbour Lights Bakery"]
        assert store.integrity_check() == "ok"
    finally:
        store.close()
    # Opening again is a no-op: nothing to migrate twice.
    SQLiteStore(path).close()


def test_the_auth_epoch_moves_for_any_writer_of_users_or_tokens_in_any_process(
    tmp_path: Path,
) -> None:
    """The epoch is kept by triggers, so writes the Store has no method for count too:
    a role changed or a user removed by an administrator's own SQL, and the users an
    organization's deletion takes with it; each seen by another store on the file."""
    path = tmp_path / "shared.db"
    _v1_database(path)  # upgraded: an existing database starts counting too
    store = SQLiteStore(path)
    outside = sqlite3.connect(path, isolation_level=None)
    outside.execute("PRAGMA foreign_keys = ON")  # as every relportal connection has it
    try:
        start = store.auth_epoch()
        assert start is not None
        outside.execute("UPDATE users SET role = 'support' WHERE id = 'u1'")
        after_role = store.auth_epoch()
        assert after_role is not None and after_role > start
        outside.execute(
            "INSERT INTO users (id, org_id, email, name, role, created_at) VALUES"
            " ('u2', 'o1', 'two@old.example', 'Two', 'rm', '2025-01-01T00:00:00.000Z')"
        )
        outside.execute("DELETE FROM users WHERE id = 'u2'")
        after_delete = store.auth_epoch()
        assert after_delete is not None and after_delete == after_role + 2
        outside.execute("DELETE FROM organizations WHERE id = 'o1'")  # its users cascade
        gone = store.auth_epoch()
        assert gone is not None and gone > after_delete
        assert store.read_sync(lambda tx: tx.list_users("o1")) == []
        # Other tables leave it be.
        outside.execute("UPDATE status_counts SET n = n")
        assert store.auth_epoch() == gone
    finally:
        outside.close()
        store.close()


def test_a_newer_database_is_refused_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    SQLiteStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StorageError, match="newer than this relportal"):
        SQLiteStore(path)


def test_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("this is not sqlite " * 100)
    with pytest.raises(StorageError):
        SQLiteStore(path)


def test_events_are_append_only(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "e.db")
    try:
        store.write_sync(lambda tx: service.ensure_organization(tx, "Bank"))
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            store.write_sync(lambda tx: tx.conn.execute("UPDATE events SET kind = 'x'"))
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            store.write_sync(lambda tx: tx.conn.execute("DELETE FROM events"))
        # The failed write left nothing half done.
        assert store.read_sync(lambda tx: tx.max_event_seq()) == 1
    finally:
        store.close()


class LoopTicks:
    """Counts 10 ms ticks of the running event loop: a count near the time elapsed
    shows the loop was free meanwhile."""

    def __init__(self) -> None:
        self.ticks = 0
        self._task = asyncio.create_task(self._tick())

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(0.01)
            self.ticks += 1

    def stop(self) -> None:
        self._task.cancel()


async def test_database_work_does_not_block_the_event_loop(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "loop.db")
    loop = LoopTicks()
    try:
        await store.write(lambda tx: time.sleep(0.3))
        assert loop.ticks >= 10
    finally:
        loop.stop()
        store.close()


async def test_a_write_commits_tells_the_listeners_and_a_failed_one_rolls_back(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "write.db")
    told: list[int] = []
    store.on_commit.append(lambda committed: told.append(committed.newest_event))
    try:
        ran_in = await store.write(lambda tx: tx.append_event("org", "someone", "note", {}))
        assert ran_in.seq == 1
        assert told == [1]  # committed, and the listeners told
        assert store.read_sync(lambda tx: tx.max_event_seq()) == 1
        # A write that fails rolls back and leaves the next one free to begin.
        with pytest.raises(ZeroDivisionError):
            await store.write(lambda tx: (tx.append_event("org", "x", "y", {}), 1 / 0))
        await store.write(lambda tx: tx.append_event("org", "someone", "note", {}))
        assert store.read_sync(lambda tx: tx.max_event_seq()) == 2
        assert told == [1, 2]
    finally:
        store.close()


async def test_a_write_waits_off_the_loop_while_this_process_is_writing(
    tmp_path: Path,
) -> None:
    """A long write (a background pass) holds the writer thread: the next write
    queues behind it there, and the loop carries on meanwhile."""
    store = SQLiteStore(tmp_path / "busy.db")
    loop = LoopTicks()
    try:
        long = asyncio.create_task(store.write(lambda tx: time.sleep(0.3)))
        await asyncio.sleep(0.05)  # the long write has begun
        short = await store.write(lambda tx: threading.current_thread().name)
        assert short.startswith("store-write")
        assert long.done()  # it waited its turn
        assert loop.ticks >= 10
    finally:
        loop.stop()
        store.close()


async def test_a_write_never_waits_on_the_loop_for_a_writer_that_takes_no_turns(
    tmp_path: Path,
) -> None:
    """A program writing without the lock file (an ad-hoc script) holds SQLite's own
    lock: the write waits for it in the writer thread."""
    path = tmp_path / "foreign.db"
    store = SQLiteStore(path)
    foreign = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    foreign.execute("BEGIN IMMEDIATE")
    loop = LoopTicks()
    try:
        threading.Timer(0.3, lambda: foreign.execute("COMMIT")).start()
        written = await store.write(lambda tx: tx.append_event("org", "someone", "note", {}))
        assert written.seq == 1
        assert loop.ticks >= 10  # the loop ran while the foreign writer held the lock
    finally:
        loop.stop()
        foreign.close()
        store.close()


def test_a_read_sees_every_commit_of_another_process(tmp_path: Path) -> None:
    path = tmp_path / "read.db"
    store, other_process = SQLiteStore(path), SQLiteStore(path)
    try:
        assert store.read_sync(lambda tx: tx.max_event_seq()) == 0
        other_process.write_sync(lambda tx: tx.append_event("org", "someone", "note", {}))
        assert store.read_sync(lambda tx: tx.max_event_seq()) == 1  # a new snapshot
    finally:
        store.close()
        other_process.close()


def _events_in_database_file(path: Path, tmp_path: Path) -> int:
    """The events a copy of the database file holds on its own, without its WAL."""
    copy = tmp_path / "file-only.db"
    copy.write_bytes(path.read_bytes())
    with sqlite3.connect(copy) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
        except sqlite3.OperationalError:  # not even the schema has been copied yet
            return 0


def test_commits_reach_the_database_file_without_a_writer_checkpointing(tmp_path: Path) -> None:
    path = tmp_path / "copied.db"
    store = SQLiteStore(path)
    store.checkpoint_in_background()
    try:
        for n in range(50):  # far fewer pages than any writer checkpoints at
            store.write_sync(lambda tx, n=n: tx.append_event("org", "someone", "note", {"n": n}))
        assert _events_in_database_file(path, tmp_path) < 50  # still in the WAL only
        deadline = time.monotonic() + 5
        while _events_in_database_file(path, tmp_path) < 50:
            assert time.monotonic() < deadline, "the background checkpoint never copied them"
            time.sleep(0.05)
    finally:
        store.close()


def test_the_wal_starts_over_while_writers_keep_writing(tmp_path: Path) -> None:
    """A background checkpoint never reaches the end of a WAL that two stores keep
    writing to; their own checkpoints, at a few pages here, let it start over."""
    path = tmp_path / "busy-wal.db"
    first, second = SQLiteStore(path), SQLiteStore(path)
    for store in (first, second):
        store.checkpoint_in_background(writer_pages=64)

    def writer(store: SQLiteStore) -> None:
        for n in range(600):
            store.write_sync(lambda tx, n=n: tx.append_event("org", "someone", "note", {"n": n}))

    try:
        threads = [threading.Thread(target=writer, args=(store,)) for store in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # The WAL header's checkpoint sequence number (bytes 12-15) counts its new
        # starts. 1,200 commits of a few 8 KB pages each pass 64 pages dozens of times;
        # a few skipped turns (the other store's thread copying at that moment) are fine.
        wal = Path(f"{path}-wal").read_bytes()[:16]
        assert int.from_bytes(wal[12:16], "big") >= 5
        # Without a new start, the file would pass 20 MB; its high-water mark stays well under.
        assert Path(f"{path}-wal").stat().st_size < 12 * 1024 * 1024
        assert first.read_sync(lambda tx: tx.max_event_seq()) == 1200
    finally:
        first.close()
        second.close()


def test_two_stores_on_one_file_write_concurrently_without_locking_errors(tmp_path: Path) -> None:
    """Like two processes (a server and a CLI) sharing the database."""
    path = tmp_path / "shared.db"
    first, second = SQLiteStore(path), SQLiteStore(path)
    org = first.write_sync(lambda tx: service.ensure_organization(tx, "Bank"))
    user = first.write_sync(
        lambda tx: service.ensure_user(tx, org, "rm@bank.example", "R M", Role.RM)
    )
    errors: list[BaseException] = []

    def writer(store: SQLiteStore, prefix: str) -> None:
        try:
            for n in range(40):
                store.write_sync(
                    lambda tx, n=n: service.create_relationship(
                        tx,
                        user,
                        {
                            "name": f"{prefix} {n}",
                            "contact_name": "C",
                            "contact_email": "c@x.example",
                        },
                    )
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=writer, args=(s, p)) for s, p in ((first, "A"), (second, "B"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        count = first.read_sync(
            lambda tx: tx.conn.execute("SELECT count(*) FROM relationships").fetchone()[0]
        )
        assert count == 80
        assert first.integrity_check() == "ok"
    finally:
        first.close()
        second.close()


def _every_page(store: SQLiteStore, org_id: str, user: str | None, q: str, sort: str) -> list[str]:
    """Company ids of a search, seven a page, following the cursors to the end."""
    seen: list[str] = []
    after = None
    while True:
        query = RelationshipQuery(
            org_id=org_id,
            user_id=user,
            q=q,
            sort=sort.lstrip("-"),
            descending=sort.startswith("-"),
            after=after,
            limit=7,
            with_counts=False,
        )
        page = store.read_sync(lambda tx, query=query: tx.list_relationships(query))
        seen += [row.id for row in page.rows]
        if page.next_after is None:
            return seen
        after = page.next_after


@pytest.mark.parametrize("sort", ["name", "-name", "created", "-updated"])
def test_both_search_plans_give_the_same_pages(tmp_path: Path, sort: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Many matches walk the sort index; few fetch the matches: the rows are the same."""
    from journey.seed import DEMO_ORG, seed_file
    from journey.storage.sqlite import listing as store_module

    db = tmp_path / "plans.db"
    seed_file(db, 400, 2)
    store = SQLiteStore(db)
    try:
        org_id = store.read_sync(lambda tx: tx.get_organization_by_name(DEMO_ORG).id)

        def walk(q: str) -> list[str]:
            return _every_page(store, org_id, None, q, sort)

        for q in ("bakery", "oak", "har", "ale"):
            monkeypatch.setattr(store_module, "MANY_MATCHES", 10**9)
            few = walk(q)
            monkeypatch.setattr(store_module, "MANY_MATCHES", 0)
            many = walk(q)
            assert few == many, q
            assert len(few) == len(set(few))
    finally:
        store.close()


def test_my_companies_search_agrees_with_everyone_filtered_to_me(tmp_path: Path) -> None:
    """The assignment table's own copy of names and statuses answers the same as the
    companies themselves, for short (prefix) and long (full-text) searches."""
    from journey.seed import DEMO_ORG, seed_file
    from journey.storage.base import RelationshipQuery

    db = tmp_path / "mine.db"
    seed_file(db, 300, 4)
    store = SQLiteStore(db)
    try:
        org_id, user_id = store.read_sync(
            lambda tx: (
                tx.get_organization_by_name(DEMO_ORG).id,
                next(
                    u.id
                    for u in tx.list_users(tx.get_organization_by_name(DEMO_ORG).id)
                    if u.role.value == "rm"
                ),
            )
        )
        for q in ("b", "Be", "har", "oak", "bakery", "ab"):
            mine = store.read_sync(
                lambda tx, q=q: tx.list_relationships(
                    RelationshipQuery(org_id=org_id, user_id=user_id, q=q, limit=500)
                )
            )
            everyone = store.read_sync(
                lambda tx, q=q: tx.list_relationships(
                    RelationshipQuery(org_id=org_id, q=q, limit=500)
                )
            )
            expected = [r.id for r in everyone.rows if user_id in r.users]
            assert [r.id for r in mine.rows] == expected, q
            statuses: dict[str, int] = {}
            for row in everyone.rows:
                if user_id in row.users:
                    statuses[row.status.value] = statuses.get(row.status.value, 0) + 1
            assert mine.counts == statuses, q
    finally:
        store.close()


@pytest.mark.parametrize("sort", ["name", "-name", "created", "-updated"])
def test_my_companies_search_plans_page_alike(tmp_path: Path, sort: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """ "My companies" with a search: a few matches are looked up one by one, many walk
    the user's sort index; page by page (cursors) both give the same companies, which
    are everyone's matches assigned to the user, in the same order."""
    from journey.seed import DEMO_ORG, seed_file
    from journey.storage.sqlite import listing as store_module

    db = tmp_path / "mine-plans.db"
    seed_file(db, 400, 5)  # rows, subsidiaries included: enough matches for each plan
    store = SQLiteStore(db)
    try:
        org = store.read_sync(lambda tx: tx.get_organization_by_name(DEMO_ORG))
        user_id = store.read_sync(
            lambda tx: next(u.id for u in tx.list_users(org.id) if u.role is Role.RM)
        )
        # An assignment made the ordinary way (not by the seed) is found as well.
        rm = store.read_sync(lambda tx: tx.get_user(org.id, user_id))
        other = store.read_sync(
            lambda tx: tx.list_relationships(
                RelationshipQuery(org_id=org.id, limit=500, with_counts=False)
            )
        )
        stranger = next(r for r in other.rows if user_id not in r.users)
        word = max(stranger.name.split(), key=len)
        store.write_sync(
            lambda tx: service.update_relationship(
                tx, rm, stranger.id, {"users": [*stranger.users, user_id]}, stranger.version
            )
        )

        def pages(q: str, user: str | None) -> list[str]:
            return _every_page(store, org.id, user, q, sort)

        found = 0
        for q in ("bakery", "oak", "har", "ale"):
            monkeypatch.setattr(store_module, "FEW_MATCHES", 10**9)
            one_by_one = pages(q, user_id)
            monkeypatch.setattr(store_module, "FEW_MATCHES", 0)
            walked = pages(q, user_id)
            mine = set(
                store.read_sync(
                    lambda tx: [
                        row[0]
                        for row in tx.conn.execute(
                            "SELECT relationship_id FROM relationship_users WHERE user_id = ?",
                            (user_id,),
                        )
                    ]
                )
            )
            expected = [i for i in pages(q, None) if i in mine]
            assert one_by_one == walked == expected, q
            found += len(expected)
        assert found > 20  # the searches did find companies
        assert stranger.id in pages(word, user_id)
    finally:
        store.close()


@pytest.mark.parametrize("sort", ["name", "-name", "-updated"])
def test_deep_offsets_read_from_the_end_give_the_same_rows(
    tmp_path: Path, sort: str, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """A page in the back half of the list is read from the other end (an OFFSET walks
    every row it skips; the portal's jump to the last row would walk them all): every
    offset gives the rows the forward walk gives, and says rightly whether more follow,
    for everyone and for "my companies", with a filter and a search."""
    from journey.seed import DEMO_ORG, seed_file
    from journey.storage.sqlite import listing as store_module

    db = tmp_path / "deep.db"
    seed_file(db, 150, 6)
    store = SQLiteStore(db)
    try:
        org = store.read_sync(lambda tx: tx.get_organization_by_name(DEMO_ORG))
        user_id = store.read_sync(
            lambda tx: next(u.id for u in tx.list_users(org.id) if u.role is Role.RM)
        )

        def page(offset: int, **filters: Any) -> tuple[list[str], bool]:
            query = RelationshipQuery(
                org_id=org.id,
                sort=sort.lstrip("-"),
                descending=sort.startswith("-"),
                offset=offset,
                limit=9,
                **filters,
            )
            found = store.read_sync(lambda tx: tx.list_relationships(query))
            return [row.id for row in found.rows], found.next_after is not None

        for filters in (
            {},
            {"user_id": user_id},
            {"status": CompanyStatus.AVAILABLE},
            {"q": "pe", "with_counts": False},
            {"user_id": user_id, "q": "bakery"},
        ):
            monkeypatch.setattr(store_module, "DEEP_OFFSET", 10**9)
            forward = [page(offset, **filters) for offset in range(0, 200, 4)]
            monkeypatch.setattr(store_module, "DEEP_OFFSET", 0)
            flipped = [page(offset, **filters) for offset in range(0, 200, 4)]
            assert flipped == forward, filters
            assert any(rows for rows, _ in forward), filters
    finally:
        store.close()


def test_writers_sharing_a_file_take_turns_on_its_lock_file(tmp_path: Path) -> None:
    """Two stores on one database (as two service processes would be): while one
    holds its writer's turn, the other's write waits for it, then goes through."""
    path = tmp_path / "turns.db"
    first, second = SQLiteStore(path), SQLiteStore(path)
    try:
        assert (tmp_path / "turns.db-writer.lock").exists()
        done = threading.Event()

        def write() -> None:
            second.write_sync(lambda tx: tx.max_event_seq())
            done.set()

        lock = WriterLock(str(path))  # the first process's lock file, held
        lock.acquire()
        writer = threading.Thread(target=write)
        writer.start()
        assert not done.wait(0.3)  # waiting for its turn
        lock.release()
        assert done.wait(5)  # the turn passed on at once
        writer.join()
    finally:
        lock.close()
        first.close()
        second.close()

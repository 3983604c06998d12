"""Demo seeding: every status, consistent with the status rules, deterministic."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from journey import derive, service
from journey.api import create_app
from journey.core.domain import CompanyStatus
from journey.core.tokens import link_token_from
from journey.seed import DEMO_ORG, DEMO_PORTAL_USER, seed_bulk, seed_file
from journey.simulation import replay_plan
from journey.storage.sqlite import SQLiteStore
from journey.storage.sqlite.bulk import BulkWriter
from journey.template import sample_file
from tests.support.service import fast_settings


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
        with BulkWriter.open(tmp_path / name) as writer:
            seed_bulk(writer, 250, 5, DEMO_ORG, None, bulk=bulk)
    assert _snapshot(tmp_path / "plain.db") == _snapshot(tmp_path / "bulk.db")
    # Every index and trigger dropped for the bulk path is back, as the schema
    # defines it, and each table's triggers in the order they were made (the order
    # they fire; the auth epoch's, on users and tokens, are never dropped, so the
    # rebuilt ones come after them in the file, not on their tables).
    index_sql = "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
    trigger_sql = (
        "SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'trigger'"
        " ORDER BY tbl_name, rowid"
    )
    with (
        sqlite3.connect(tmp_path / "plain.db") as plain,
        sqlite3.connect(tmp_path / "bulk.db") as bulk,
    ):
        assert list(plain.execute(index_sql)) == list(bulk.execute(index_sql))
        assert list(plain.execute(trigger_sql)) == list(bulk.execute(trigger_sql))
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


# The demo as a relationship manager meets it, checked over HTTP (issue 18, finding 31).


def _good(entity: dict[str, Any]) -> bool:
    """The entity's data is in and current: its latest pull completed, or its upload
    was processed (and its connection, if any, was not cut)."""
    conn = entity["connection"]
    if conn is not None:
        pulls = conn["pulls"]
        return conn["status"] == "Linked" and bool(pulls) and pulls[0]["status"] == "Complete"
    return bool(entity["uploads"]) and entity["uploads"][0]["status"] == "Processed"


def _failed(entity: dict[str, Any]) -> bool:
    conn = entity["connection"] or {}
    pulls = conn.get("pulls") or []
    return entity["state"] == "denied" or bool(pulls and pulls[0]["status"].endswith("Error"))


def _by_the_legend(status: str | None, entities: list[dict[str, Any]]) -> bool:
    """The help screen's legend, read plainly: Warning is some entities well and some
    not; Error is a failure with no entity well, so a company whose only entity failed."""
    good = [e for e in entities if _good(e)]
    failed = [e for e in entities if _failed(e)]
    if status == "Available":
        return len(good) == len(entities) > 0
    if status == "Warning":
        return 0 < len(good) < len(entities)
    if status == "Error":
        return not good and bool(failed)
    if status == "Deauthorized":
        return all((e["connection"] or {}).get("status") == "Deauthorized" for e in entities)
    if status == "Uploaded":
        return bool(entities) and all(e["uploads"] for e in entities) and not good
    return not good and not failed


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, int]]:
    """A fresh service with the demo seeded as on first start, and the demo RM's token."""
    settings = fast_settings(tmp_path, demo_companies=300)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        store = app.state.ctx.store

        def token(tx: Any) -> str:
            org = tx.get_organization_by_name(DEMO_ORG)
            user = next(u for u in tx.list_users(org.id) if u.email == DEMO_PORTAL_USER)
            return service.create_token(tx, user, "test")

        headers = {"Authorization": f"Bearer {await store.write(token)}"}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://relportal.test", headers=headers
        ) as client:
            yield client, settings.demo_companies


async def _everyone(client: httpx.AsyncClient) -> tuple[int, list[dict[str, Any]]]:
    rows: list[dict[str, Any]] = []
    total, cursor = 0, None
    while True:
        params: dict[str, Any] = {"user": "all", "limit": 500}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/relationships", params=params)).json()
        total = page["total"] or total
        rows += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return total, rows


async def test_the_demo_agrees_with_itself(demo: tuple[httpx.AsyncClient, int]) -> None:
    client, configured = demo
    total, rows = await _everyone(client)
    # "All" counts what [demo] companies says, and the list has that many rows.
    assert total == configured == len(rows)
    assert any(row["parent_id"] for row in rows)  # subsidiaries are among them
    disagree, disorder, silent = [], [], []
    for row in rows:
        body = (await client.get(f"/v1/relationships/{row['id']}")).json()
        entities = [
            e for e in body["entities"] if not row["parent_id"] or e["relationship_id"] == row["id"]
        ]
        if not _by_the_legend(row["status"], entities):
            disagree.append((row["name"], row["status"]))
        # Times in order: made, asked, opened, completed; entities and connections in
        # the journey; pulls after the link, failures after the syncs they follow;
        # the status time is the last thing that changed it.
        moments: list[str] = [body["created_at"]]
        for req in body["requests"]:
            assert req["created_at"] >= body["created_at"] or row["parent_id"]
            opened, completed = req["opened_at"], req["completed_at"]
            if opened and not opened >= req["created_at"]:
                disorder.append((row["name"], "opened before sent"))
            if completed and not completed >= (opened or ""):
                disorder.append((row["name"], "completed before opened"))
            if req["state"] == "Complete":
                assert req["state_at"] == completed
        for entity in entities:
            conn = entity["connection"]
            if conn is None:
                continue
            pulls = [p["status_at"] for p in reversed(conn["pulls"])]
            if pulls != sorted(pulls) or (pulls and pulls[0] < conn["created_at"]):
                disorder.append((row["name"], "pulls out of order"))
            failure_after_sync = conn["last_sync_at"] and conn["pulls"][0]["status"] != "Complete"
            if failure_after_sync and conn["pulls"][0]["status_at"] <= conn["last_sync_at"]:
                disorder.append((row["name"], "failure before the sync it follows"))
            moments += [*pulls, conn["status_at"]]
        # The status time is when it last changed: nothing that could change it came
        # later (only an Available company's further syncs, which change nothing).
        later = [m for m in moments if m > row["status_at"]]
        if row["status"] in ("Error", "Deauthorized") and later:
            disorder.append((row["name"], f"status at {row['status_at']} before {later}"))
        # ...nor before the entities it speaks of (a Warning: the first two of them).
        made = sorted(e["created_at"] for e in entities)[
            : 2 if row["status"] == "Warning" else None
        ]
        if made and row["status_at"] < made[-1]:
            disorder.append((row["name"], row["status"], "status before its entities"))
        requests = {req["id"]: req for req in body["requests"]}
        for event in body["events"]:
            req = requests.get(event["request_id"] or "")
            if req and event["at"] < req["created_at"]:
                disorder.append((row["name"], f"{event['kind']} before its request"))
        # The status events tell the company's story: each from where the last left
        # it, in time order, ending at its status at its status time.
        changes = sorted(
            (e for e in body["events"] if e["kind"] == "relationship.status_changed"),
            key=lambda e: e["seq"],
        )
        story = [("None", None)] + [(e["payload"]["to"], e["at"]) for e in changes]
        for (before, at), change in zip(story, changes, strict=False):
            if change["payload"]["from"] != before or (at and change["at"] < at):
                disorder.append((row["name"], "status events out of order"))
        if row["status"] and story[-1] != (row["status"], row["status_at"]):
            disorder.append((row["name"], f"status events end at {story[-1]}"))
        # ...and it starts where every request starts, not at the end of the journey.
        if body["requests"] and not row["parent_id"] and story[1][0] != "Requested":
            disorder.append((row["name"], f"status story starts at {story[1][0]}"))
        # A processed upload's report lists the rows its file had.
        for entity in entities:
            if entity["uploads"] and entity["uploads"][0]["status"] == "Processed":
                report = await client.get(f"/v1/relationships/{row['id']}/reports/spend_analysis")
                (shown,) = report.json()["entities"]
                if shown["summary"]["suppliers_count"] != entity["uploads"][0]["rows"]:
                    disorder.append((row["name"], "an upload's rows are not in its report"))
        # A journey the customer opened has its transcript: the actions it took.
        latest = body["requests"][0] if body["requests"] else None
        if latest and latest["opened_at"] and not row["parent_id"]:
            transcript = (await client.get(f"/v1/requests/{latest['id']}/transcript")).json()
            steps = transcript["steps"]
            if not steps or steps[-1]["to"] != latest["step"]:
                silent.append(row["name"])
            elif steps[0]["at"] != latest["opened_at"]:
                disorder.append((row["name"], "transcript starts before the link was opened"))
    assert disagree == [], disagree
    assert disorder == [], disorder
    assert silent == [], silent
    seen = {row["status"] for row in rows}
    assert {"Warning", "Error", "Available", "In progress", "Expired"} <= seen


async def test_seeded_transcripts_replay_in_a_simulation(
    demo: tuple[httpx.AsyncClient, int],
) -> None:
    """A seeded journey's transcript, replayed as support would (``v`` then replay),
    takes a fresh simulation down the very same path, step for step."""
    client, _ = demo
    _, rows = await _everyone(client)
    picked: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["parent_id"] is None and row["status"] not in (None, "Requested", "Expired"):
            picked.setdefault(row["status"], row)
    assert {"Available", "Uploaded", "Warning", "Error", "In progress"} <= set(picked)
    for status, row in picked.items():
        req_id = row["latest_request_id"]
        original = (await client.get(f"/v1/requests/{req_id}/transcript")).json()
        made = await client.post("/v1/simulations", json={"from_request": req_id})
        assert made.status_code == 201, made.text
        copy = made.json()
        token = link_token_from(copy["link"])
        for step in replay_plan(original):
            if step.upload:
                file = sample_file(valid=step.upload == "valid")
                await client.post(
                    f"/v1/journeys/{token}/uploads",
                    files={"file": ("suppliers.xlsx", file, "application/octet-stream")},
                )
            else:
                await client.post(
                    f"/v1/journeys/{token}/actions", json={"action": step.action, **step.params}
                )
        replayed = (await client.get(f"/v1/requests/{copy['request_id']}/transcript")).json()

        def path(transcript: dict[str, Any]) -> list[tuple[Any, ...]]:
            return [(s["action"], s["from"], s["to"], s["error"]) for s in transcript["steps"]]

        assert path(original), status
        assert path(replayed) == path(original), status

"""The portal's opening answers: the same answers the service gives, read before it loads.

They let the first rows paint while FastAPI imports (tui/opening.py); these tests hold
them to the HTTP answers, and hold the portal to missing nothing that happens between
the snapshot and the live service.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from journey import service
from journey.seed import ensure_demo
from journey.settings import ServiceSettings
from journey.storage.sqlite import SQLiteStore
from screens.portal import PortalScreen
from tui.app import RelportalApp
from tui.client import embedded_client
from tui.listing import Criteria, answer_key
from tui.opening import Opening
from tui.preferences import Preferences
from widgets.relationship_table import RelationshipTable


@pytest.fixture
def settings(tmp_path: Path) -> ServiceSettings:
    settings = ServiceSettings(
        db_path=tmp_path / "opening.db",
        outbox_dir=tmp_path / "outbox",
        demo_companies=80,
        worker_interval=0.02,
    )
    store = SQLiteStore(settings.db_path)
    ensure_demo(store, settings.demo_companies, settings.demo_seed, settings.demo_anchor)
    store.close()
    return settings


READERS = pytest.mark.parametrize(
    "in_process", [False, True], ids=["read by a child process", "read by a thread"]
)


@READERS
@pytest.mark.parametrize(
    "saved",
    [Preferences(), Preferences(users="all", sort="created", descending=True)],
    ids=["my companies by name", "everyone by created, descending"],
)
async def test_opening_answers_are_the_services_answers(settings, saved, in_process) -> None:  # type: ignore[no-untyped-def]
    criteria = Criteria.saved(saved)
    first = {k: v for k, v in criteria.first_page().items() if v not in (None, "")}
    async with embedded_client(settings) as client:  # no answers: every call is HTTP
        me = await client.get("/v1/me")  # the service is up (signing in wrote an event)
        opening = Opening(settings.db_path, None, criteria, in_process=in_process).start()
        answers = await asyncio.to_thread(opening.answers, 10)
        assert answers is not None and len(answers) == 3
        assert answers[answer_key("/v1/me", {})] == me
        assert answers[answer_key("/v1/events/head", {})] == await client.get("/v1/events/head")
        page = answers[answer_key("/v1/relationships", first)]
        assert page == await client.get("/v1/relationships", **first)
        assert page["items"] and page["total"] > 0


@READERS
def test_no_answers_before_the_demo_exists_and_one_line_for_a_bad_database(  # type: ignore[no-untyped-def]
    tmp_path, in_process
) -> None:
    empty = Opening(tmp_path / "new.db", None, Criteria(), in_process=in_process).start()
    assert empty.store_problem() is None
    assert empty.answers(timeout=10) is None  # first run: the service makes the demo
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    broken = Opening(junk, None, Criteria(), in_process=in_process).start()
    problem = broken.store_problem()
    assert problem is not None and str(junk) in problem and "\n" not in problem


async def test_portal_paints_from_the_answers_then_misses_nothing(settings) -> None:  # type: ignore[no-untyped-def]
    answers = Opening(settings.db_path, None, Criteria()).start().answers(timeout=10)
    assert answers is not None
    first_row = answers[
        answer_key("/v1/relationships", {"user": "me", "sort": "name", "limit": 100})
    ]["items"][0]
    # A change lands after the snapshot and before the service is up.
    store = SQLiteStore(settings.db_path)
    rm = store.read_sync(lambda tx: service.embedded_user(tx))
    store.write_sync(
        lambda tx: service.update_relationship(
            tx, rm, first_row["id"], {"name": "Aardvark Renamed Ltd"}, first_row["version"]
        )
    )
    store.close()

    app = RelportalApp(lambda: embedded_client(settings, None, answers))
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 10
        while not isinstance(app.screen, PortalScreen) or not _first_name(app):
            assert time.monotonic() < deadline
            await pilot.pause(0.01)
        client = app.screen.client
        # The first rows come from the snapshot, before the service answered anything.
        assert client.http is None
        assert _first_name(app) == first_row["name"]
        # Then the service starts, the live feed resumes from the snapshot's event,
        # and the rename made in between shows.
        while _first_name(app) != "Aardvark Renamed Ltd":
            assert time.monotonic() < deadline, "the change made in between never showed"
            await pilot.pause(0.05)
        assert client.http is not None
        # And the portal works as ever: a search goes to the service.
        await pilot.press("slash", *"aardvark")
        table = app.screen.query_one(RelationshipTable)
        while not (table.total == 1 and _first_name(app) == "Aardvark Renamed Ltd"):
            assert time.monotonic() < deadline
            await pilot.pause(0.05)


def _first_name(app: Any) -> str | None:
    table = app.screen.query_one(RelationshipTable)
    row = table.row(0) if table.total else None
    return None if row is None else str(row["name"])


def test_a_child_that_fails_leaves_the_portal_to_ask_the_service(settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.executable", "/bin/false")
    opening = Opening(settings.db_path, None, Criteria()).start()
    assert opening.store_problem() is None
    assert opening.answers(timeout=10) is None


def test_where_no_child_can_start_a_thread_reads_the_answers(settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.executable", str(settings.db_path.parent / "no-such-python"))
    answers = Opening(settings.db_path, None, Criteria()).start().answers(timeout=10)
    assert answers is not None and len(answers) == 3

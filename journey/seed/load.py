"""Seeding a store or a database file: the demo organization and users, then the
generated rows through the storage's bulk writer.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from journey.core.domain import Feature, Role
from journey.core.platforms import DEFAULT_PLATFORMS
from journey.core.records import Organization, User, dumps
from journey.demo_bank import DEMO_DOMAIN, DEMO_ORG, DEMO_USERS
from journey.seed.blocks import (
    Plan,
    Trace,
    rows_of,
)
from journey.seed.demo import (
    TABLES,
    Rows,
    SeedResult,
    iso_time,
    seeded_id,
)
from journey.storage.sqlite import SQLiteStore
from journey.storage.sqlite.bulk import BulkWriter


def _flush(writer: BulkWriter, rows: Rows) -> None:
    writer.add(**{name: getattr(rows, name) for name in TABLES})


def _demo_org(
    writer: BulkWriter, org_name: str, rng: random.Random, now: str
) -> tuple[str, list[str]]:
    tx = writer.tx
    org = tx.get_organization_by_name(org_name)
    if org is None:
        org_id = seeded_id(rng)
        tx.insert_organization(
            Organization(
                id=org_id,
                name=org_name,
                features=frozenset(Feature),
                platforms=tuple(DEFAULT_PLATFORMS),
                link_lifetime_days=7,
                simulated_failures={},
                created_at=now,
                version=1,
            )
        )
        # Made at the seed's own "now", as every seeded row is.
        writer.add(
            events=[
                (
                    org_id,
                    now,
                    "system",
                    "organization.created",
                    None,
                    None,
                    dumps({"name": org_name}),
                )
            ]
        )
    else:
        org_id = org.id
    rm_ids = []
    for full_name, local, role in DEMO_USERS:
        email = f"{local}@{DEMO_DOMAIN}"
        found = tx.get_user_by_email(org_id, email)
        user_id = found.id if found else seeded_id(rng)
        if not found:
            tx.insert_user(User(user_id, org_id, email, full_name, role, now))
        if role is Role.RM:
            rm_ids.append(user_id)
    return org_id, rm_ids


def seed(
    store: SQLiteStore,
    companies: int,
    seed_value: int = 7,
    *,
    org_name: str = DEMO_ORG,
    progress: Callable[[int], None] | None = None,
    anchor: float | None = None,
) -> SeedResult:
    """Add demo companies through an open store (small seeds: the first-run demo)."""
    return store.bulk_load(
        lambda writer: seed_bulk(writer, companies, seed_value, org_name, progress, anchor=anchor)
    )


def seed_file(
    path: str | Path,
    companies: int,
    seed_value: int = 7,
    *,
    org_name: str = DEMO_ORG,
    progress: Callable[[int], None] | None = None,
) -> SeedResult:
    """Add demo companies to a database file (``relportal seed``).

    Big seeds want the file to themselves (``BulkWriter.open``'s ``exclusive``).
    """
    SQLiteStore(path, readers=0).close()  # create or upgrade the schema
    with BulkWriter.open(path, exclusive=companies >= BIG_SEED) as writer:
        return seed_bulk(writer, companies, seed_value, org_name, progress)


BIG_SEED = 50_000


def seed_bulk(
    writer: BulkWriter,
    companies: int,
    seed_value: int,
    org_name: str,
    progress: Callable[[int], None] | None,
    *,
    bulk: bool | None = None,
    anchor: float | None = None,
) -> SeedResult:
    """Generate and insert ``companies`` companies (plus subsidiaries) in one transaction.

    ``bulk`` (default: for big seeds) takes indexes and triggers out of the way and
    rebuilds them after; the rows are the same either way.
    """
    started = time.perf_counter()
    if anchor is None:
        anchor = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    rng = random.Random(seed_value)
    big = companies >= BIG_SEED if bulk is None else bulk
    trace = Trace(os.environ.get("RELPORTAL_SEED_TRACE") == "1")
    with writer.transaction(big=big):
        org_id, rm_ids = _demo_org(writer, org_name, rng, iso_time(anchor))
        # Subsidiaries are rows of the list like any company: ``companies`` counts them.
        first = writer.scalar("SELECT count(*) FROM relationships WHERE org_id = ?", org_id)
        max_rowid = writer.scalar("SELECT coalesce(max(rowid), 0) FROM relationships")
        if big:
            writer.defer_indexes()
        plan = Plan(seed_value, org_id, tuple(rm_ids), anchor, first, companies, not big)
        subsidiaries = 0
        counts: Counter[tuple[str, str]] = Counter()
        waited = flushing = 0.0
        clock = time.perf_counter()
        for rows in rows_of(plan, parallel=big):
            waited += time.perf_counter() - clock
            clock = time.perf_counter()
            _flush(writer, rows)
            flushing += time.perf_counter() - clock
            clock = time.perf_counter()
            subsidiaries += rows.subsidiaries
            counts.update(rows.counts)
            if progress:
                progress(len(rows.relationships))
        trace(f"rows (waiting {waited:.1f} s, inserting {flushing:.1f} s)")
        if big:
            # Counted while generating: cheaper than grouping a million rows again.
            writer.rebuild(
                org_id, max_rowid, [(user, status, n) for (user, status), n in counts.items()]
            )
            trace("indexes, search and counts")
    trace("commit")
    if big:
        writer.analyze()
        trace("analyze")
    return SeedResult(org_id, companies, subsidiaries, time.perf_counter() - started)


def ensure_demo(
    store: SQLiteStore, companies: int, seed_value: int = 7, anchor: float | None = None
) -> bool:
    """On first start: the demo organization with ``companies`` companies. True if created."""
    exists = store.read_sync(lambda tx: tx.get_organization_by_name(DEMO_ORG))
    if exists is not None:
        return False
    seed(store, companies, seed_value, anchor=anchor)
    return True

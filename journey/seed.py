"""Demo data, fast enough for a million companies and deterministic for a seed.

Rows are generated directly (not through the journey service) in one transaction
with secondary indexes and triggers out of the way, then indexes, full-text search
and per-status counters are rebuilt. Every seeded company is consistent with the
status rules: ``tests/test_seed.py`` re-derives each status and finds no change.

Times are laid out backwards from the start of the current UTC day, so a seed is
identical on the same day and open links are still live when it runs.
"""

from __future__ import annotations

import bisect
import itertools
import json
import marshal
import multiprocessing
import os
import random
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from journey import names
from journey.domain import Feature, Role
from journey.platforms import DEFAULT_PLATFORMS
from journey.records import dumps
from journey.storage.schema import TRIGGER_NAMES, TRIGGERS, V3_TRIGGERS
from journey.storage.sqlite import SQLiteStore
from journey.tokens import RANDOM_BITS, id_from

DEMO_ORG = "Larkspur Bank"
DEMO_DOMAIN = "larkspurbank.example"
DEMO_USERS = (
    ("Alex Morgan", "alex.morgan", Role.RM),
    ("Priya Shah", "priya.shah", Role.RM),
    ("Tom Okafor", "tom.okafor", Role.RM),
    ("Dana Whitfield", "dana.whitfield", Role.RM),
    ("Sam Lee", "sam.lee", Role.ADMIN),
    ("Jordan Blake", "jordan.blake", Role.SUPPORT),
)
# Who the embedded portal signs in as unless config's [portal] user says otherwise: the
# demo's first relationship manager, by name, never whoever sorts first.
DEMO_PORTAL_USER = f"{DEMO_USERS[0][1]}@{DEMO_DOMAIN}"

# How often each portal status occurs in the demo (weights).
SCENARIOS = (
    ("none", 9),
    ("requested", 17),
    ("in_progress", 12),
    ("uploaded", 4),
    ("available", 30),
    ("warning", 8),
    ("error", 7),
    ("deauthorized", 5),
    ("expired", 8),
)
SUBSIDIARY_SHARE = 0.04  # of companies that shared data, how many have subsidiaries

CHUNK = 20_000

# Indexes whose keys arrive in random order: dropped for a big seed, built after.
_SECONDARY_INDEXES = {
    "rel_org_name": "relationships (org_id, name_key)",
    "rel_org_created": "relationships (org_id, created_at)",
    "rel_org_updated": "relationships (org_id, status_at)",
    "rel_org_status_updated": "relationships (org_id, status, status_at)",
    "rel_org_email": "relationships (org_id, contact_email COLLATE NOCASE)",
    "ru_user_name": "relationship_users (user_id, name_key, rel_rowid)",
    "ru_user_created": "relationship_users (user_id, created_at, rel_rowid)",
    "ru_user_updated": "relationship_users (user_id, status_at, rel_rowid)",
    "ru_rowid_user": "relationship_users (rel_rowid, user_id)",
    # Requests are made in company order, but their times are laid out at random.
    "req_org_created": "requests (org_id, created_at)",
    "req_open_expiry": "requests (expires_at) WHERE state IN ('Sent', 'Opened')",
}
# Indexes on ids or sequence numbers are left in place: seeded ids grow as rows are
# generated, so those entries land at the end of their index, which is cheaper than
# building the index again afterwards.


@dataclass
class Rows:
    relationships: list[tuple[Any, ...]] = field(default_factory=list)
    users: list[tuple[Any, ...]] = field(default_factory=list)
    requests: list[tuple[Any, ...]] = field(default_factory=list)
    entities: list[tuple[Any, ...]] = field(default_factory=list)
    connections: list[tuple[Any, ...]] = field(default_factory=list)
    pulls: list[tuple[Any, ...]] = field(default_factory=list)
    uploads: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    subsidiaries: int = 0
    # Companies per (user id or "" for everyone, status): the status_counts to add.
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)

    def size(self) -> int:
        return len(self.relationships) + len(self.events) + len(self.requests)

    def packed(self) -> bytes:
        """For the trip from a generator process: marshal writes and reads these
        plain lists of tuples two to three times as fast as pickle."""
        tables = [getattr(self, name) for name in TABLES]
        return marshal.dumps((tables, self.subsidiaries, dict(self.counts)))

    @classmethod
    def unpacked(cls, packed: bytes) -> Rows:
        tables, subsidiaries, counts = marshal.loads(packed)
        rows = cls(subsidiaries=subsidiaries, counts=Counter(counts))
        for name, table in zip(TABLES, tables, strict=True):
            setattr(rows, name, table)
        return rows


TABLES = (
    "relationships",
    "users",
    "requests",
    "entities",
    "connections",
    "pulls",
    "uploads",
    "events",
)


@dataclass(frozen=True)
class SeedResult:
    organization_id: str
    companies: int
    subsidiaries: int
    seconds: float


_DAYS: dict[int, str] = {}
_CLOCK = [f"{s // 3600:02}:{s // 60 % 60:02}:{s % 60:02}" for s in range(86400)]
_MILLIS = [f".{m:03}Z" for m in range(1000)]


MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0


def _iso(moment: float) -> str:
    """Epoch seconds as ISO 8601 UTC with milliseconds, like the service writes.

    The generator keeps times as floats: datetime arithmetic is several times slower,
    and a million companies need millions of timestamps, so the pieces are cached.
    """
    day_number, millis = divmod(int(moment * 1000), 86_400_000)
    day = _DAYS.get(day_number)
    if day is None:
        day = _DAYS[day_number] = datetime.fromtimestamp(day_number * 86400, UTC).strftime(
            "%Y-%m-%dT"
        )
    second, millis = divmod(millis, 1000)
    return day + _CLOCK[second] + _MILLIS[millis]


# Journey states a seeded request can be in (stored as the request's journey JSON).
def _journey(step: str, **extra: Any) -> str:
    """A seeded journey state; keys left out take JourneyState's defaults."""
    return dumps({"step": step, **extra})


J_EMAIL = _journey("email")
J_SUMMARY_CONNECT = _journey("summary", method="connect", entity_mode="single")
J_SUMMARY_MULTI = _journey("summary", method="connect", entity_mode="multiple")
J_SUMMARY_UPLOAD = _journey("summary", method="upload")
J_IN_PROGRESS_SPEND = (
    _journey("choose_method"),
    _journey("choose_method", closed=True),
    _journey("entity_count", method="connect"),
)
J_IN_PROGRESS_FIN = (
    _journey("share_accounting", entity_mode="single"),
    _journey("select_platform", entity_mode="single"),
    _journey("select_platform", entity_mode="single", closed=True),
)
DENIED_ERROR = {
    "code": "access_denied",
    "message": "Access was not granted. Choose your accounting software to try again.",
}
J_DENIED = _journey("select_platform", entity_mode="single", error=DENIED_ERROR)

FIN = "financials"
SPEND = "spend_analysis"
REPORTS = {FIN: ("balance_sheet", "profit_and_loss"), SPEND: ("spend_analysis",)}


class _Generator:
    def __init__(
        self, seed: int, org_id: str, user_ids: list[str], anchor: float, first: int = 0
    ) -> None:
        # Seeding the same database twice must not repeat ids: start from where it is.
        self.rng = random.Random(f"{seed}:{first}")
        self.sequence = first * 64
        self.org_id = org_id
        self.rms = user_ids
        self.anchor = anchor
        self.scenarios = [s for s, _ in SCENARIOS]
        self.cumulative = list(itertools.accumulate(w for _, w in SCENARIOS))
        self.total = self.cumulative[-1]
        self.subsidiaries = 0
        # A status event per company gives small seeds (the demo) a history to show; a
        # big seed skips it: the status and its time are on the rows either way.
        self.history = True

    def uid(self) -> str:
        self.sequence += 1
        return seeded_id(self.rng, self.sequence)

    def ago(self, days_min: float, days_max: float) -> float:
        return self.anchor - (self.rng.uniform(days_min, days_max) * 86400)

    def event(
        self, rows: Rows, at: str, actor: str, kind: str, payload: str, rel: str, req: str | None
    ) -> None:
        rows.events.append((self.org_id, at, actor, kind, rel, req, payload))

    def company(self, index: int, rows: Rows) -> None:
        rng = self.rng
        name, description = names.company(index)
        contact_name, local = names.contact(index)
        email = f"{local}@{names.domain_for(name)}"
        rel_id = self.uid()
        created = self.ago(20, 420)
        assigned = [self.rms[index % len(self.rms)]]
        if rng.random() < 0.15:
            assigned.append(self.rms[(index + 1) % len(self.rms)])
        if rng.random() < 0.05:
            assigned = []
        scenario = self.scenarios[bisect.bisect(self.cumulative, rng.random() * self.total)]
        company = _Company(rel_id, name, description, contact_name, email, created, assigned, index)
        getattr(self, f"_{scenario}")(company, rows)

    # Each scenario writes a request and its consequences, then the company row(s).

    def _types(self, spend_only_share: float = 0.4) -> tuple[str, ...]:
        roll = self.rng.random()
        if roll < spend_only_share:
            return (SPEND,)
        if roll < spend_only_share + 0.3:
            return (FIN,)
        return (FIN, SPEND)

    def _request(
        self,
        c: _Company,
        rows: Rows,
        types: tuple[str, ...],
        state: str,
        journey: str,
        created: float,
        *,
        opened: float | None = None,
        completed: float | None = None,
        expires: float | None = None,
    ) -> str:
        req_id = self.uid()
        created_s = _iso(created)
        expires_at = expires or created + (7) * DAY
        state_at = completed or opened or created
        rows.requests.append(
            (
                req_id,
                self.org_id,
                c.id,
                ",".join(sorted(types)),
                "email" if self.rng.random() < 0.8 else "link",
                c.sender(self.rms),
                created_s,
                _iso(expires_at),
                state,
                _iso(state_at),
                _iso(opened) if opened else None,
                _iso(completed) if completed else None,
                journey,
                None,  # the seeded link was never handed out: resend to get one
                created_s,
                1,
            )
        )
        return req_id

    def _entity(
        self,
        rows: Rows,
        req_id: str,
        rel_id: str,
        name: str,
        at: float,
        *,
        is_company: bool,
        denied: bool = False,
    ) -> str:
        entity_id = self.uid()
        rows.entities.append(
            (entity_id, self.org_id, req_id, rel_id, name, int(is_company), int(denied), _iso(at))
        )
        return entity_id

    def _connection(
        self,
        rows: Rows,
        entity_id: str,
        platform: str,
        status: str,
        at: float,
        pulls: tuple[str, ...],
        types: tuple[str, ...],
    ) -> None:
        conn_id = self.uid()
        last_sync = None
        moment = at
        for pull_status in pulls:
            moment = moment + (self.rng.randint(1, 60 * 24 * 10)) * MINUTE
            if moment > self.anchor:
                moment = self.anchor - (1) * MINUTE
            stamp = _iso(moment)
            rows.pulls.append(
                (
                    self.uid(),
                    self.org_id,
                    conn_id,
                    pull_status,
                    stamp,
                    stamp,
                    stamp,
                    None if pull_status == "Complete" else "The platform did not answer in time.",
                    None,
                )
            )
            if pull_status == "Complete":
                last_sync = stamp
        rows.connections.append(
            (conn_id, self.org_id, entity_id, platform, status, _iso(at), _iso(moment), last_sync)
        )

    def _platform(self) -> str:
        return self.rng.choice(DEFAULT_PLATFORMS)

    def _status_event(
        self, rows: Rows, c: _Company, rel_id: str, name: str, status: str, at: str, req: str | None
    ) -> None:
        payload = _status_payload(name, status)
        self.event(rows, at, "system", "relationship.status_changed", payload, rel_id, req)

    def _finish(
        self,
        c: _Company,
        rows: Rows,
        status: str,
        status_at: float,
        types: tuple[str, ...] = (),
        linked: int = 0,
        total: int = 0,
        platforms: tuple[str, ...] = (),
        req_id: str | None = None,
        parent_id: str | None = None,
        rel_id: str | None = None,
        name: str | None = None,
        created: float | None = None,
    ) -> None:
        rel_id = rel_id or c.id
        name = name or c.name
        created_s = _iso(created or c.created)
        at = _iso(status_at) if status != "None" else created_s
        name_key = name.casefold()
        rows.relationships.append(
            (
                rel_id,
                self.org_id,
                parent_id,
                name,
                name_key,
                c.description,
                c.contact_name,
                c.email,
                created_s,
                created_s,
                1,
                status,
                at,
                ",".join(types),  # already in sorted order
                linked,
                total,
                ",".join(platforms),
                req_id,
            )
        )
        rows.counts["", status] += 1
        for user_id in c.users:
            rows.counts[user_id, status] += 1
            rows.users.append((rel_id, user_id, self.org_id, status, name_key, created_s, at))
        if status != "None" and self.history:
            self._status_event(rows, c, rel_id, name, status, at, req_id)

    def _none(self, c: _Company, rows: Rows) -> None:
        self._finish(c, rows, "None", c.created)

    def _requested(self, c: _Company, rows: Rows) -> None:
        types = self._types()
        sent = self.ago(0.05, 6)
        req = self._request(c, rows, types, "Sent", J_EMAIL, sent)
        self._finish(c, rows, "Requested", sent, types, req_id=req)

    def _in_progress(self, c: _Company, rows: Rows) -> None:
        types = self._types()
        sent = self.ago(0.5, 6)
        opened = sent + (self.rng.uniform(0.1, 10)) * HOUR
        opened = min(opened, self.anchor - (5) * MINUTE)
        options = J_IN_PROGRESS_SPEND if types == (SPEND,) else J_IN_PROGRESS_FIN
        journey = self.rng.choice(options)
        req = self._request(c, rows, types, "Opened", journey, sent, opened=opened)
        self._finish(c, rows, "In progress", opened, types, req_id=req)

    def _uploaded(self, c: _Company, rows: Rows) -> None:
        types = (SPEND,)
        sent = self.ago(1, 6)
        done = sent + (self.rng.uniform(1, 20)) * HOUR
        req = self._request(
            c,
            rows,
            types,
            "Complete",
            J_SUMMARY_UPLOAD,
            sent,
            opened=sent + (30) * MINUTE,
            completed=done,
        )
        entity = self._entity(rows, req, c.id, c.name, done, is_company=True)
        self._upload(rows, entity, done, processed=False)
        self._finish(c, rows, "Uploaded", done, types, linked=1, total=1, req_id=req)

    def _upload(self, rows: Rows, entity_id: str, at: float, *, processed: bool) -> None:
        count = self.rng.randint(5, 60)
        stamp = _iso(at)
        # Awaiting processing: due far ahead, so the demo keeps companies in Uploaded.
        due = stamp if processed else _iso(at + (3650) * DAY)
        rows.uploads.append(
            (
                self.uid(),
                self.org_id,
                entity_id,
                "supplier-information.xlsx",
                self.rng.randint(9_000, 60_000),
                "0" * 64,
                count,
                "[]",
                "Processed" if processed else "Processing",
                stamp,
                due,
                stamp if processed else None,
            )
        )

    def _complete_request(
        self, c: _Company, rows: Rows, types: tuple[str, ...], journey: str
    ) -> tuple[str, float, float]:
        sent = self.ago(8, 300)
        sent = max(sent, c.created + (1) * HOUR)
        done = sent + (self.rng.uniform(0.5, 72)) * HOUR
        req = self._request(
            c,
            rows,
            types,
            "Complete",
            journey,
            sent,
            opened=sent + (20) * MINUTE,
            completed=done,
        )
        return req, sent, done

    def _available(self, c: _Company, rows: Rows) -> None:
        types = self._types()
        if types == (SPEND,) and self.rng.random() < SUBSIDIARY_SHARE * 5:
            self._multi_entity(c, rows, types, all_linked=True)
            return
        if types == (SPEND,) and self.rng.random() < 0.2:
            req, _, done = self._complete_request(c, rows, types, J_SUMMARY_UPLOAD)
            entity = self._entity(rows, req, c.id, c.name, done, is_company=True)
            self._upload(rows, entity, done, processed=True)
            self._finish(c, rows, "Available", done, types, linked=1, total=1, req_id=req)
            return
        req, _, done = self._complete_request(c, rows, types, J_SUMMARY_CONNECT)
        entity = self._entity(rows, req, c.id, c.name, done, is_company=True)
        platform = self._platform()
        pulls = ("Complete",) * self.rng.randint(1, 3)
        self._connection(rows, entity, platform, "Linked", done, pulls, types)
        status_at = done + (2) * MINUTE
        self._finish(c, rows, "Available", status_at, types, 1, 1, (platform,), req)

    def _warning(self, c: _Company, rows: Rows) -> None:
        # Warning is "some entities' data is in, others' is not": it takes several
        # entities (a company whose only entity failed is an Error).
        self._multi_entity(c, rows, (SPEND,), all_linked=False)

    def _error(self, c: _Company, rows: Rows) -> None:
        types = self._types(spend_only_share=0.0)
        if self.rng.random() < 0.5:
            # The customer cancelled at the platform's consent page.
            sent = self.ago(1, 6)
            opened = sent + (15) * MINUTE
            req = self._request(c, rows, types, "Opened", J_DENIED, sent, opened=opened)
            entity = self._entity(rows, req, c.id, c.name, opened, is_company=True, denied=True)
            self._connection(rows, entity, self._platform(), "PendingAuth", opened, (), types)
            self._finish(c, rows, "Error", opened + (3) * MINUTE, types, 0, 1, (), req)
            return
        req, _, done = self._complete_request(c, rows, types, J_SUMMARY_CONNECT)
        entity = self._entity(rows, req, c.id, c.name, done, is_company=True)
        platform = self._platform()
        self._connection(rows, entity, platform, "Linked", done, ("FetchError",), types)
        self._finish(c, rows, "Error", done + (5) * MINUTE, types, 1, 1, (platform,), req)

    def _deauthorized(self, c: _Company, rows: Rows) -> None:
        types = self._types()
        req, _, done = self._complete_request(c, rows, types, J_SUMMARY_CONNECT)
        entity = self._entity(rows, req, c.id, c.name, done, is_company=True)
        self._connection(rows, entity, self._platform(), "Deauthorized", done, ("Complete",), types)
        self._finish(c, rows, "Deauthorized", done + (20) * DAY, types, 0, 1, (), req)

    def _expired(self, c: _Company, rows: Rows) -> None:
        types = self._types()
        sent = self.ago(8, 120)
        sent = max(sent, c.created + (1) * HOUR)
        expires = sent + (7) * DAY
        opened = sent + (2) * HOUR if self.rng.random() < 0.4 else None
        journey = self.rng.choice(J_IN_PROGRESS_FIN) if opened else J_EMAIL
        req = self._request(
            c, rows, types, "Expired", journey, sent, opened=opened, expires=expires
        )
        self._finish(c, rows, "Expired", expires, types, req_id=req)

    def _multi_entity(
        self, c: _Company, rows: Rows, types: tuple[str, ...], *, all_linked: bool
    ) -> None:
        req, _, done = self._complete_request(c, rows, types, J_SUMMARY_MULTI)
        count = self.rng.randint(2, 3)
        places = self.rng.sample(names.SUBSIDIARY_PLACES, count)
        plan = [
            (place, self._platform() if all_linked or position == 0 else None)
            for position, place in enumerate(places)
        ]
        linked_platforms = list(dict.fromkeys(p for _, p in plan if p))
        linked = sum(1 for _, p in plan if p)
        # The parent row first: its subsidiaries point at it.
        status = "Available" if all_linked else "Warning"
        self._finish(
            c,
            rows,
            status,
            done + (2) * MINUTE,
            types,
            linked,
            count,
            tuple(linked_platforms),
            req,
        )
        for position, (place, platform) in enumerate(plan):
            child_name = f"{c.name.split(' ')[0]} {place}"
            child_id = self.uid()
            moment = done - (10 * (count - position)) * MINUTE
            entity = self._entity(rows, req, child_id, child_name, moment, is_company=False)
            if platform:
                self._connection(rows, entity, platform, "Linked", moment, ("Complete",), types)
                child_status, child_linked = "Available", 1
                child_platforms: tuple[str, ...] = (platform,)
            else:
                child_status, child_linked, child_platforms = "In progress", 0, ()
            self.subsidiaries += 1
            self._finish(
                c,
                rows,
                child_status,
                moment + (2) * MINUTE,
                types,
                child_linked,
                1,
                child_platforms,
                req,
                parent_id=c.id,
                rel_id=child_id,
                name=f"{c.name} - {child_name}",
                created=moment,
            )


def _status_payload(name: str, status: str) -> str:
    # The same JSON as dumps() for these keys; demo names need no escaping beyond dumps'.
    return '{"from":"None","name":' + json.dumps(name) + ',"to":"' + status + '"}'


@dataclass
class _Company:
    id: str
    name: str
    description: str
    contact_name: str
    email: str
    created: float
    users: list[str]
    index: int

    def sender(self, rms: list[str]) -> str:
        return self.users[0] if self.users else rms[self.index % len(rms)]


def _flush(conn: sqlite3.Connection, rows: Rows) -> None:
    # Rowids given, not drawn, so the assignments can carry them (schema V3) without
    # a lookup per row.
    base = conn.execute("SELECT coalesce(max(rowid), 0) + 1 FROM relationships").fetchone()[0]
    rowids = {row[0]: base + i for i, row in enumerate(rows.relationships)}
    conn.executemany(
        "INSERT INTO relationships (rowid, id, org_id, parent_id, name, name_key, description,"
        " contact_name, contact_email, created_at, updated_at, version, status, status_at,"
        " requested, entities_linked, entities_total, platforms, latest_request_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ((base + i, *row) for i, row in enumerate(rows.relationships)),
    )
    conn.executemany(
        "INSERT INTO relationship_users (relationship_id, user_id, org_id, status, name_key,"
        " created_at, status_at, rel_rowid) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        ((*user, rowids[user[0]]) for user in rows.users),
    )
    conn.executemany(
        "INSERT INTO requests (id, org_id, relationship_id, data_types, delivery, created_by,"
        " created_at, expires_at, state, state_at, opened_at, completed_at, journey, link_hash,"
        " link_issued_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows.requests,
    )
    conn.executemany(
        "INSERT INTO legal_entities (id, org_id, request_id, relationship_id, name, is_company,"
        " denied, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows.entities,
    )
    conn.executemany(
        "INSERT INTO connections (id, org_id, entity_id, platform, status, created_at, status_at,"
        " last_sync_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows.connections,
    )
    conn.executemany(
        "INSERT INTO data_pulls (id, org_id, connection_id, status, requested_at, status_at,"
        " completed_at, error, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows.pulls,
    )
    conn.executemany(
        "INSERT INTO uploads (id, org_id, entity_id, filename, size, sha256, row_count, records,"
        " status, uploaded_at, process_after, processed_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows.uploads,
    )
    conn.executemany(
        "INSERT INTO events (org_id, at, actor, kind, relationship_id, request_id, payload)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows.events,
    )


def _demo_org(
    conn: sqlite3.Connection, org_name: str, rng: random.Random, now: str
) -> tuple[str, list[str]]:
    row = conn.execute("SELECT id FROM organizations WHERE name = ?", (org_name,)).fetchone()
    if row is None:
        org_id = seeded_id(rng)
        conn.execute(
            "INSERT INTO organizations (id, name, features, platforms, link_lifetime_days,"
            " simulated_failures, created_at, version) VALUES (?, ?, ?, ?, 7, '{}', ?, 1)",
            (
                org_id,
                org_name,
                json.dumps(sorted(f.value for f in Feature)),
                json.dumps(list(DEFAULT_PLATFORMS)),
                now,
            ),
        )
        conn.execute(
            "INSERT INTO events (org_id, at, actor, kind, payload) VALUES (?, ?, 'system',"
            " 'organization.created', ?)",
            (org_id, now, dumps({"name": org_name})),
        )
    else:
        org_id = row[0]
    rm_ids = []
    for full_name, local, role in DEMO_USERS:
        email = f"{local}@{DEMO_DOMAIN}"
        found = conn.execute(
            "SELECT id FROM users WHERE org_id = ? AND email = ?", (org_id, email)
        ).fetchone()
        user_id = found[0] if found else seeded_id(rng)
        if not found:
            conn.execute(
                "INSERT INTO users (id, org_id, email, name, role, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (user_id, org_id, email, full_name, role.value, now),
            )
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
    with store._write_lock:  # seeding owns the store's writer for its one transaction
        return seed_connection(
            store._writer, companies, seed_value, org_name, progress, anchor=anchor
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

    Big seeds want the file to themselves: pages then go straight into the database
    instead of through the WAL and again at checkpoint. If another process has it
    open, the seed still works, only slower.
    """
    SQLiteStore(path, readers=0).close()  # create or upgrade the schema
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=30)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA busy_timeout = 30000")
        exclusive = False
        if companies >= BIG_SEED:
            try:
                exclusive = conn.execute("PRAGMA journal_mode = MEMORY").fetchone()[0] == "memory"
            except sqlite3.OperationalError:
                exclusive = False
        try:
            return seed_connection(conn, companies, seed_value, org_name, progress)
        finally:
            if exclusive:
                conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()


BIG_SEED = 50_000


def seed_connection(
    conn: sqlite3.Connection,
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
    trace = _Trace(os.environ.get("RELPORTAL_SEED_TRACE") == "1")
    if big:
        # A large page cache and sorter threads let the index builds sort in memory; a
        # seed can always be run again, so it skips fsyncs meanwhile.
        conn.execute("PRAGMA cache_size = -1000000")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA threads = 2")
    conn.execute("BEGIN IMMEDIATE")
    try:
        org_id, rm_ids = _demo_org(conn, org_name, rng, _iso(anchor))
        first = conn.execute(
            "SELECT count(*) FROM relationships WHERE org_id = ? AND parent_id IS NULL",
            (org_id,),
        ).fetchone()[0]
        max_rowid = conn.execute("SELECT coalesce(max(rowid), 0) FROM relationships").fetchone()[0]
        if big:
            for trigger in TRIGGER_NAMES:
                conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
            for index in _SECONDARY_INDEXES:
                conn.execute(f"DROP INDEX IF EXISTS {index}")
        plan = _Plan(seed_value, org_id, tuple(rm_ids), anchor, first, companies, not big)
        subsidiaries = 0
        counts: Counter[tuple[str, str]] = Counter()
        waited = flushing = 0.0
        clock = time.perf_counter()
        for rows in _chunks(plan, parallel=big):
            waited += time.perf_counter() - clock
            clock = time.perf_counter()
            _flush(conn, rows)
            flushing += time.perf_counter() - clock
            clock = time.perf_counter()
            subsidiaries += rows.subsidiaries
            counts.update(rows.counts)
            if progress:
                progress(len(rows.relationships))
        trace(f"rows (waiting {waited:.1f} s, inserting {flushing:.1f} s)")
        if big:
            for index, target in _SECONDARY_INDEXES.items():
                conn.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {target}")
            trace("indexes")
            _fill_search_index(conn, max_rowid)
            conn.execute(
                "INSERT INTO relationship_keys (rowid, org_id, status)"
                " SELECT rowid, org_id, status FROM relationships WHERE rowid > ?",
                (max_rowid,),
            )
            trace("search")
            # Counted while generating: cheaper than grouping a million rows again.
            conn.executemany(
                "INSERT INTO status_counts (org_id, user_id, status, n) VALUES (?, ?, ?, ?)"
                " ON CONFLICT DO UPDATE SET n = n + excluded.n",
                [(org_id, user, status, n) for (user, status), n in counts.items()],
            )
            for statement in _triggers():
                conn.execute(statement)
        trace("counts")
        conn.execute("COMMIT")
        trace("commit")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    finally:
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA cache_size = -8000")
    if big:
        # Sampled statistics: enough for the planner, seconds cheaper than a full ANALYZE.
        conn.execute("PRAGMA analysis_limit = 400")
        conn.execute("ANALYZE")
        trace("analyze")
    return SeedResult(org_id, companies, subsidiaries, time.perf_counter() - started)


def _fill_search_index(conn: sqlite3.Connection, max_rowid: int) -> None:
    """Index the new companies' names for search, in bulk: the full-text index's
    segments are left unmerged while it fills and merged once at the end (5.4 s
    instead of 7.6 s for a million companies, and one segment to search after), then
    it goes back to merging as it goes, as live inserts need."""
    settings = "INSERT INTO relationships_fts (relationships_fts, rank) VALUES (?, ?)"
    conn.execute(settings, ("automerge", 0))
    conn.execute(settings, ("crisismerge", 2000))
    conn.execute(
        "INSERT INTO relationships_fts (rowid, name, contact_name)"
        " SELECT rowid, name, contact_name FROM relationships WHERE rowid > ?",
        (max_rowid,),
    )
    conn.execute("INSERT INTO relationships_fts (relationships_fts) VALUES ('optimize')")
    conn.execute(settings, ("automerge", FTS_AUTOMERGE))
    conn.execute(settings, ("crisismerge", FTS_CRISISMERGE))


# SQLite's defaults for the full-text index's merging.
FTS_AUTOMERGE, FTS_CRISISMERGE = 4, 16

# Seeded ids count up from here (2009, in id time): before any live id, never "-…".
SEED_EPOCH = 1_234_567_890_123


def seeded_id(rng: random.Random, sequence: int = 0) -> str:
    """Like ``journey.tokens.new_id``, from a seeded generator: a sequence number in
    place of the time, so seeded rows too arrive in id order."""
    return id_from(SEED_EPOCH + sequence, rng.getrandbits(RANDOM_BITS))


class _Trace:
    """Phase timings on stderr (RELPORTAL_SEED_TRACE=1), for tuning big seeds."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.last = time.perf_counter()

    def __call__(self, phase: str) -> None:
        if self.enabled:
            now = time.perf_counter()
            print(f"seed: {phase} {now - self.last:.1f} s", file=sys.stderr)
            self.last = now


@dataclass(frozen=True)
class _Plan:
    seed_value: int
    org_id: str
    rm_ids: tuple[str, ...]
    anchor: float
    first: int
    companies: int
    history: bool = True


BLOCK = 25_000  # companies per block; each block has its own random stream
WORKERS = 2


def _blocks(plan: _Plan) -> list[tuple[int, int]]:
    """(first company, count) per block. Blocks, not processes, own the randomness, so
    the rows are the same however many processes generate them."""
    end = plan.first + plan.companies
    return [(start, min(BLOCK, end - start)) for start in range(plan.first, end, BLOCK)]


def _generate_block(plan: _Plan, start: int, count: int) -> Iterator[Rows]:
    generator = _Generator(plan.seed_value, plan.org_id, list(plan.rm_ids), plan.anchor, start)
    generator.history = plan.history
    rows = Rows()
    for number in range(start, start + count):
        generator.company(number, rows)
        if len(rows.relationships) >= CHUNK:
            rows.subsidiaries, generator.subsidiaries = generator.subsidiaries, 0
            yield rows
            rows = Rows()
    rows.subsidiaries = generator.subsidiaries
    yield rows


def _produce(plan: _Plan, blocks: list[tuple[int, int]], chunks: Any) -> None:
    """In a worker process: generate some blocks, handing rows over chunk by chunk.
    ``None`` ends each block."""
    try:
        for start, count in blocks:
            for rows in _generate_block(plan, start, count):
                chunks.put(rows.packed())
            chunks.put(None)
    except BaseException as exc:  # the parent raises it
        chunks.put(exc)


def _chunks(plan: _Plan, *, parallel: bool) -> Iterator[Rows]:
    """The plan's rows, block by block in order.

    A big seed generates them in worker processes while this process inserts: the
    inserting alone keeps one core busy, so generation is spread over two workers
    sharing the other one and the idle moments of this.
    """
    blocks = _blocks(plan)
    if not parallel:
        for start, count in blocks:
            yield from _generate_block(plan, start, count)
        return
    context = multiprocessing.get_context("spawn")
    queues = [context.Queue(maxsize=3) for _ in range(WORKERS)]
    workers = [
        context.Process(target=_produce, args=(plan, blocks[n::WORKERS], queues[n]), daemon=True)
        for n in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    try:
        for number in range(len(blocks)):
            source = queues[number % WORKERS]
            while (item := source.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield Rows.unpacked(item)
    finally:
        for worker in workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.kill()


def _triggers() -> Iterator[str]:
    from journey.storage.sqlite import _split_sql

    yield from _split_sql(TRIGGERS)
    yield from _split_sql(V3_TRIGGERS)


def ensure_demo(
    store: SQLiteStore, companies: int, seed_value: int = 7, anchor: float | None = None
) -> bool:
    """On first start: the demo organization with ``companies`` companies. True if created."""
    exists = store.read_sync(lambda tx: tx.get_organization_by_name(DEMO_ORG))
    if exists is not None:
        return False
    seed(store, companies, seed_value, anchor=anchor)
    return True

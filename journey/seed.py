"""Demo data, fast enough for a million companies and deterministic for a seed.

Rows are generated directly (not through the journey service) in one transaction
with secondary indexes and triggers out of the way, then indexes, full-text search
and per-status counters are rebuilt. Every seeded company is consistent with the
status rules: ``tests/test_seed.py`` re-derives each status and finds no change.

Each customer's journey is walked through the journey's own state machine, so a
request ends where the machine says, and (in small seeds, the demo) its customer
actions are the ``journey.action`` events real journeys write: its transcript shows
them and replays. ``companies`` counts every row of the list, subsidiaries included.

Times are laid out backwards from the start of the current UTC day, so a seed is
identical on the same day and open links are still live when it runs. Within a
company they are in order: sent, opened, each action, linked, pulled, failed, cut;
the status time is that of the event that last changed the status.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import json
import marshal
import multiprocessing
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from journey import machine, names
from journey.customer import _action_event as action_event
from journey.customer import _answer as customer_answer
from journey.domain import Action, DataType, Feature, Role
from journey.machine import (
    AcceptUpload,
    CompleteJourney,
    CreateEntity,
    DenyConnection,
    EntityState,
    EntityView,
    JourneyContext,
    JourneyState,
    LinkConnection,
    StartConnection,
)
from journey.platforms import DEFAULT_PLATFORMS, DEMO_PASSWORD, DEMO_USERNAME
from journey.records import Organization, User, dumps
from journey.storage.sqlite import SQLiteStore
from journey.storage.sqlite.bulk import BulkWriter
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


# The journey state of a request the customer has not opened yet.
J_EMAIL = dumps({"step": "email"})

FIN = "financials"
SPEND = "spend_analysis"
REPORTS = {FIN: ("balance_sheet", "profit_and_loss"), SPEND: ("spend_analysis",)}
ALL_FEATURES = frozenset(Feature)
FETCH_FAILED = "The platform did not answer in time."

# A script step: the customer's action, its parameters (as (name, value) pairs), and
# the entity the action creates. Entities, and the names the customer gives them, are
# stand-ins ("entity-0", "Entity0") that the walk replaces with each company's own:
# companies then share their paths through the machine, which is decided once each.
ScriptStep = tuple[Action, tuple[tuple[str, Any], ...], str]


@dataclass(frozen=True)
class _Path:
    """What the journey's state machine made of one script, with stand-ins for the
    ids and names it was given: each action's ``journey.action`` payload, the step
    at which each entity was created or linked and the journey was completed, and
    the journey state it ended in. Seeding takes the same few paths again and again,
    so each is decided once (a million companies would otherwise spend most of
    their time in the machine)."""

    payloads: tuple[str, ...]
    created: tuple[tuple[str, int], ...]
    linked: tuple[tuple[str, int], ...]
    completed: int | None
    journey: str


@functools.lru_cache(maxsize=4096)
def _path(types: tuple[str, ...], script: tuple[ScriptStep, ...]) -> _Path:
    state = JourneyState()
    ctx = JourneyContext(
        data_types=frozenset(DataType(t) for t in types),
        features=ALL_FEATURES,
        platforms=DEFAULT_PLATFORMS,
        company_name="the company",
    )
    payloads = []
    created: dict[str, int] = {}
    linked: dict[str, int] = {}
    completed = None
    for number, (action, items, new_id) in enumerate(script):
        params = dict(items)
        transition = machine.decide(state, replace(ctx, new_entity_id=new_id), action, params)
        entities = {e.id: e for e in ctx.entities}
        for effect in transition.effects:
            if isinstance(effect, CreateEntity):
                entities[effect.entity_id] = EntityView(
                    effect.entity_id, effect.name, EntityState.PENDING, None, not effect.subsidiary
                )
                created[effect.entity_id] = number
            elif isinstance(effect, AcceptUpload):
                entities[effect.entity_id] = EntityView(
                    effect.entity_id, ctx.company_name, EntityState.UPLOADED, None, True
                )
                created.setdefault(effect.entity_id, number)
            elif isinstance(effect, StartConnection | LinkConnection | DenyConnection):
                entity = entities[effect.entity_id]
                entities[effect.entity_id] = replace(
                    entity, state=_ENTITY_STATES[type(effect)], platform=effect.platform
                )
                if isinstance(effect, LinkConnection):
                    linked[effect.entity_id] = number
            elif isinstance(effect, CompleteJourney):
                completed = number
        ctx = replace(ctx, entities=tuple(entities.values()))
        if action is Action.UPLOAD:
            answer = {"filename": UPLOAD_NAME, "rows": params["rows"]}
        else:
            answer = customer_answer(action, params)
        payloads.append(dumps(action_event(state, transition, action, answer)))
        state = transition.state
    return _Path(
        tuple(payloads),
        tuple(created.items()),
        tuple(linked.items()),
        completed,
        dumps(state.to_dict()),
    )


_ENTITY_STATES = {
    StartConnection: EntityState.CONNECTING,
    LinkConnection: EntityState.LINKED,
    DenyConnection: EntityState.DENIED,
}


class _Walk:
    """One customer's way through the journey, as the journey's own state machine
    decides it: the seeded request ends where the machine says, and its transcript
    (the ``journey.action`` events real journeys write) replays in a simulation."""

    def __init__(self, types: tuple[str, ...]) -> None:
        self.types = types
        self.path = _Path((), (), (), None, J_EMAIL)
        self.back: dict[str, str] = {}  # stand-in -> the real id or name, as in JSON
        self.times: list[float] = []  # of each action
        self.completed: float | None = None
        self.created: dict[str, float] = {}  # entity id -> when the journey created it
        self.linked: dict[str, float] = {}  # entity id -> when its connection was linked
        self.journey = J_EMAIL

    def walk(
        self,
        start: float,
        end: float,
        script: list[ScriptStep],
        close_at: float | None = None,
        real: dict[str, str] | None = None,
    ) -> None:
        """Take the script's actions evenly spread from ``start`` to ``end`` (and close
        the completion page at ``close_at``); ``real``: the stand-ins' real ids and names."""
        if close_at is not None:
            script = [*script, (Action.CLOSE, (), "")]
        gap = (end - start) / max(len(script) - (2 if close_at is not None else 1), 1)
        times = [start + number * gap for number in range(len(script))]
        if close_at is not None:
            times[-1] = close_at
        self.path = path = _path(self.types, tuple(script))
        real = real or {}
        self.back = {stand_in: json.dumps(value)[1:-1] for stand_in, value in real.items()}
        self.times = times
        self.created = {real.get(e, e): times[n] for e, n in path.created}
        self.linked = {real.get(e, e): times[n] for e, n in path.linked}
        self.completed = None if path.completed is None else times[path.completed]
        self.journey = self.filled(path.journey)

    def filled(self, text: str) -> str:
        """``text`` with the real ids and names in place of their stand-ins."""
        for stand_in, value in self.back.items():
            text = text.replace(stand_in, value)
        return text

    def actions(self) -> list[tuple[float, str]]:
        """(time, ``journey.action`` payload) of each action: the transcript."""
        return [(at, self.filled(p)) for at, p in zip(self.times, self.path.payloads, strict=True)]


UPLOAD_NAME = "supplier-information.xlsx"
SIGN_IN = (("password", DEMO_PASSWORD), ("username", DEMO_USERNAME))
COMPANY = "entity-0"  # the stand-in for the company's own entity


def _opening(
    types: tuple[str, ...], method: str = "connect", count: str = "single"
) -> list[ScriptStep]:
    """From the email to sharing accounting data (or the upload), as the switches lead:
    every seeded organization has every feature, so spend-only requests ask first."""
    script: list[ScriptStep] = [(Action.VIEW_REQUEST, (), "")]
    if types == (SPEND,):
        script.append((Action.CHOOSE_METHOD, (("method", method),), ""))
        if method == "connect":
            script.append((Action.CHOOSE_ENTITIES, (("count", count),), ""))
    return script


def _connecting(platform: str, entity: str = "") -> list[ScriptStep]:
    """Choose a platform and consent; ``entity``: the company's own entity, made here."""
    return [
        (Action.CONNECT, (), ""),
        (Action.SELECT_PLATFORM, (("platform", platform),), ""),
        (Action.CONSENT, (), entity),
    ]


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
        # A status event and the customer's actions per company give small seeds (the
        # demo) a history and transcripts to show; a big seed skips them: the status
        # and its time are on the rows either way.
        self.history = True
        self.events: list[tuple[Any, ...]] = []  # this company's, put in time order

    def uid(self) -> str:
        self.sequence += 1
        return seeded_id(self.rng, self.sequence)

    def ago(self, days_min: float, days_max: float) -> float:
        return self.anchor - (self.rng.uniform(days_min, days_max) * 86400)

    def event(
        self, at: str, actor: str, kind: str, payload: str, rel: str, req: str | None
    ) -> None:
        self.events.append((self.org_id, at, actor, kind, rel, req, payload))

    def company(self, index: int, rows: Rows, room: int) -> int:
        """Generate company ``index`` with at most ``room`` rows (subsidiaries are rows
        of the list too); returns the rows it took."""
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
        company = _Company(
            rel_id, name, description, contact_name, email, created, assigned, index, room
        )
        before = len(rows.relationships)
        getattr(self, f"_{scenario}")(company, rows)
        if self.events:
            self.events.sort(key=lambda event: event[1])
            rows.events.extend(self.events)
            self.events = []
        return len(rows.relationships) - before

    # Each scenario walks the customer's journey, writes the request and its
    # consequences in time order, then the company row(s).

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
        created: float,
        walk: _Walk | None = None,
        *,
        expires: float | None = None,
    ) -> str:
        req_id = self.uid()
        created_s = _iso(created)
        opened = walk.times[0] if walk and walk.times else None
        completed = walk.completed if walk else None
        expires_at = expires or created + (7) * DAY
        state_at = expires_at if state == "Expired" else completed or opened or created
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
                walk.journey if walk else J_EMAIL,
                None,  # the seeded link was never handed out: resend to get one
                created_s,
                1,
            )
        )
        if walk and self.history:
            actor = f"customer:{req_id}"
            for at, payload in walk.actions():
                self.event(_iso(at), actor, "journey.action", payload, c.id, req_id)
        return req_id

    def _entity(
        self,
        rows: Rows,
        entity_id: str,
        req_id: str,
        rel_id: str,
        name: str,
        at: float,
        *,
        is_company: bool,
        denied: bool = False,
    ) -> None:
        rows.entities.append(
            (entity_id, self.org_id, req_id, rel_id, name, int(is_company), int(denied), _iso(at))
        )

    def _connection(
        self,
        rows: Rows,
        entity_id: str,
        platform: str,
        status: str,
        at: float,
        linked: float | None,
        pulls: tuple[str, ...],
    ) -> list[float]:
        """A connection made at ``at`` and its data pulls, in order after it was
        linked, all before now. Returns the pulls' times, and last, for a connection
        that was cut, when it was cut."""
        conn_id = self.uid()
        last_sync = None
        moment = linked or at
        times = []
        for number, pull_status in enumerate(pulls):
            # Each pull leaves room for the ones after it (and a deauthorization).
            room = (self.anchor - moment) / (len(pulls) - number + 1)
            moment += (
                self.rng.uniform(0.5, 1) * min(room, 10 * DAY)
                if number
                else min(self.rng.uniform(1, 30) * MINUTE, room)
            )
            times.append(moment)
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
                    None if pull_status == "Complete" else FETCH_FAILED,
                    None,
                )
            )
            if pull_status == "Complete":
                last_sync = stamp
        status_at = moment
        if status == "Deauthorized":
            status_at = moment + (self.anchor - moment) * self.rng.uniform(0.2, 0.8)
            times.append(status_at)
        rows.connections.append(
            (
                conn_id,
                self.org_id,
                entity_id,
                platform,
                status,
                _iso(at),
                _iso(status_at),
                last_sync,
            )
        )
        return times

    def _platform(self) -> str:
        return self.rng.choice(DEFAULT_PLATFORMS)

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
            payload = _status_payload(name, status)
            self.event(at, "system", "relationship.status_changed", payload, rel_id, req_id)

    def _none(self, c: _Company, rows: Rows) -> None:
        self._finish(c, rows, "None", c.created)

    def _requested(self, c: _Company, rows: Rows) -> None:
        types = self._types()
        sent = self.ago(0.05, 6)
        req = self._request(c, rows, types, "Sent", sent)
        self._finish(c, rows, "Requested", sent, types, req_id=req)

    def _part_way(self, types: tuple[str, ...]) -> list[ScriptStep]:
        """Where an unfinished journey stopped: the first steps, sometimes closed."""
        script = _opening(types)[:1]
        roll = self.rng.random()
        if types == (SPEND,):
            if roll < 1 / 3:
                script.append((Action.CLOSE, (), ""))
            elif roll < 2 / 3:
                script.append((Action.CHOOSE_METHOD, (("method", "connect"),), ""))
        elif roll < 2 / 3:
            script.append((Action.CONNECT, (), ""))
            if roll < 1 / 3:
                script.append((Action.CLOSE, (), ""))
        return script

    def _in_progress(self, c: _Company, rows: Rows) -> None:
        types = self._types()
        sent = self.ago(0.5, 6)
        opened = sent + (self.rng.uniform(0.1, 10)) * HOUR
        opened = min(opened, self.anchor - (30) * MINUTE)
        walk = _Walk(types)
        walk.walk(opened, opened + self.rng.uniform(1, 20) * MINUTE, self._part_way(types))
        req = self._request(c, rows, types, "Opened", sent, walk)
        self._finish(c, rows, "In progress", opened, types, req_id=req)

    def _completed(
        self,
        c: _Company,
        types: tuple[str, ...],
        script: list[ScriptStep],
        real: dict[str, str],
        recent: bool = False,
    ) -> tuple[float, _Walk]:
        """A journey the customer finished: when the request was sent, and the walk.
        The customer closes the completion page a minute after."""
        sent = self.ago(1, 6) if recent else self.ago(8, 300)
        sent = max(sent, c.created + (1) * HOUR)
        opened = min(sent + self.rng.uniform(10, 600) * MINUTE, self.anchor - (2) * HOUR)
        done = min(opened + (self.rng.uniform(0.1, 72)) * HOUR, self.anchor - (30) * MINUTE)
        walk = _Walk(types)
        close = done + self.rng.uniform(1, 5) * MINUTE
        walk.walk(opened, done, script, close_at=close, real=real)
        return sent, walk

    def _upload_journey(self, c: _Company, rows: Rows, *, processed: bool) -> None:
        types = (SPEND,)
        entity = self.uid()
        rows_uploaded = self.rng.randint(5, 60)
        script = [
            *_opening(types, method="upload"),
            (Action.UPLOAD, (("rows", rows_uploaded),), COMPANY),
        ]
        sent, walk = self._completed(c, types, script, {COMPANY: entity}, recent=not processed)
        req = self._request(c, rows, types, "Complete", sent, walk)
        done = walk.created[entity]
        self._entity(rows, entity, req, c.id, c.name, done, is_company=True)
        self._upload(rows, entity, done, rows_uploaded, processed=processed)
        status = "Available" if processed else "Uploaded"
        # Processing takes a moment; a pending upload's status time is the upload.
        status_at = done + (2) * MINUTE if processed else done
        self._finish(c, rows, status, status_at, types, linked=1, total=1, req_id=req)

    def _uploaded(self, c: _Company, rows: Rows) -> None:
        self._upload_journey(c, rows, processed=False)

    def _upload(
        self, rows: Rows, entity_id: str, at: float, count: int, *, processed: bool
    ) -> None:
        stamp = _iso(at)
        # Awaiting processing: due far ahead, so the demo keeps companies in Uploaded.
        due = stamp if processed else _iso(at + (3650) * DAY)
        done = _iso(at + (2) * MINUTE)
        rows.uploads.append(
            (
                self.uid(),
                self.org_id,
                entity_id,
                UPLOAD_NAME,
                self.rng.randint(9_000, 60_000),
                "0" * 64,
                count,
                "[]",
                "Processed" if processed else "Processing",
                stamp,
                due,
                done if processed else None,
            )
        )

    def _single_connection(
        self, c: _Company, rows: Rows, types: tuple[str, ...], pulls: tuple[str, ...], status: str
    ) -> tuple[str, str, list[float]]:
        """A finished journey that linked the company itself to one platform, and its
        pulls; the request, the platform and the pulls' times."""
        entity = self.uid()
        platform = self._platform()
        script = [
            *_opening(types),
            *_connecting(platform, COMPANY),
            (Action.AUTHORIZE, SIGN_IN, ""),
        ]
        sent, walk = self._completed(c, types, script, {COMPANY: entity})
        req = self._request(c, rows, types, "Complete", sent, walk)
        made = walk.created[entity]
        self._entity(rows, entity, req, c.id, c.name, made, is_company=True)
        times = self._connection(rows, entity, platform, status, made, walk.linked[entity], pulls)
        return req, platform, times

    def _available(self, c: _Company, rows: Rows) -> None:
        types = self._types()
        if types == (SPEND,) and c.room >= 3 and self.rng.random() < SUBSIDIARY_SHARE * 5:
            self._multi_entity(c, rows, types, all_linked=True)
            return
        if types == (SPEND,) and self.rng.random() < 0.2:
            self._upload_journey(c, rows, processed=True)
            return
        pulls = ("Complete",) * self.rng.randint(1, 3)
        req, platform, times = self._single_connection(c, rows, types, pulls, "Linked")
        # Available from the first pull that completed.
        self._finish(c, rows, "Available", times[0], types, 1, 1, (platform,), req)

    def _warning(self, c: _Company, rows: Rows) -> None:
        # Warning is "some entities' data is in, others' is not": it takes several
        # entities; with no room for them, the only entity failing is an Error.
        if c.room >= 3:
            self._multi_entity(c, rows, (SPEND,), all_linked=False)
        else:
            self._error(c, rows)

    def _error(self, c: _Company, rows: Rows) -> None:
        types = self._types(spend_only_share=0.0)
        roll = self.rng.random()
        if roll < 0.5:
            # The customer cancelled at the platform's consent page.
            entity = self.uid()
            platform = self._platform()
            sent = self.ago(1, 6)
            opened = sent + (15) * MINUTE
            walk = _Walk(types)
            script = [*_opening(types), *_connecting(platform, COMPANY), (Action.DENY, (), "")]
            ended = opened + self.rng.uniform(3, 20) * MINUTE
            walk.walk(opened, ended, script, real={COMPANY: entity})
            req = self._request(c, rows, types, "Opened", sent, walk)
            made = walk.created[entity]
            self._entity(rows, entity, req, c.id, c.name, made, is_company=True, denied=True)
            self._connection(rows, entity, platform, "PendingAuth", made, None, ())
            self._finish(c, rows, "Error", walk.times[-1], types, 0, 1, (), req)
            return
        # The only pull failed, or the latest failed after earlier ones completed.
        pulls = ("FetchError",) if roll < 0.75 else ("Complete", "FetchError")
        req, platform, times = self._single_connection(c, rows, types, pulls, "Linked")
        self._finish(c, rows, "Error", times[-1], types, 1, 1, (platform,), req)

    def _deauthorized(self, c: _Company, rows: Rows) -> None:
        types = self._types()
        req, _, times = self._single_connection(c, rows, types, ("Complete",), "Deauthorized")
        self._finish(c, rows, "Deauthorized", times[-1], types, 0, 1, (), req)

    def _expired(self, c: _Company, rows: Rows) -> None:
        types = self._types()
        sent = self.ago(8, 120)
        sent = max(sent, c.created + (1) * HOUR)
        expires = sent + (7) * DAY
        walk = None
        if self.rng.random() < 0.4:
            opened = sent + (2) * HOUR
            walk = _Walk(types)
            walk.walk(opened, opened + self.rng.uniform(1, 20) * MINUTE, self._part_way(types))
        req = self._request(c, rows, types, "Expired", sent, walk, expires=expires)
        self._finish(c, rows, "Expired", expires, types, req_id=req)

    def _multi_entity(
        self, c: _Company, rows: Rows, types: tuple[str, ...], *, all_linked: bool
    ) -> None:
        """Several legal entities, each a subsidiary of its own in the list. When not
        all are well, the first entity's data is in and the others' pulls failed."""
        count = min(self.rng.randint(2, 3), c.room - 1)
        places = self.rng.sample(names.SUBSIDIARY_PLACES, count)
        entities = [self.uid() for _ in places]
        platforms = [self._platform() for _ in places]
        child_names = [f"{c.name.split(' ')[0]} {place}" for place in places]
        script = _opening(types, count="multiple")
        real: dict[str, str] = {}  # the stand-ins' real names and ids
        for position, (entity, platform, child) in enumerate(
            zip(entities, platforms, child_names, strict=True)
        ):
            if position:
                script.append((Action.ADD_ENTITY, (), ""))
            name, made_id = f"Entity{position}", f"entity-{position}"
            real[name], real[made_id] = child, entity
            script.append((Action.NAME_ENTITY, (("name", name),), made_id))
            script += [*_connecting(platform), (Action.AUTHORIZE, SIGN_IN, "")]
        script.append((Action.FINISH, (), ""))
        sent, walk = self._completed(c, types, script, real)
        req = self._request(c, rows, types, "Complete", sent, walk)
        children = []
        for position, (entity, platform, child) in enumerate(
            zip(entities, platforms, child_names, strict=True)
        ):
            made = walk.created[entity]
            child_id = self.uid()
            self._entity(rows, entity, req, child_id, child, made, is_company=False)
            well = all_linked or position == 0
            pulls = ("Complete",) if well else ("FetchError",)
            times = self._connection(
                rows, entity, platform, "Linked", made, walk.linked[entity], pulls
            )
            children.append((child_id, child, made, platform, well, times[0]))
        linked_platforms = tuple(dict.fromkeys(platforms))
        # Available once the last entity's data is in. Warning once the first entity's
        # data is in and a second entity is there (before that it was Available, or
        # In progress, or Error while only the second had failed).
        firsts = [first for *_, well, first in children if well]
        status, status_at = (
            ("Available", max(firsts))
            if all_linked
            else ("Warning", max(firsts[0], children[1][2]))
        )
        # The parent row first: its subsidiaries point at it.
        self._finish(c, rows, status, status_at, types, count, count, linked_platforms, req)
        for child_id, child, made, platform, well, first in children:
            self.subsidiaries += 1
            self._finish(
                c,
                rows,
                "Available" if well else "Error",
                first,
                types,
                1,
                1,
                (platform,),
                req,
                parent_id=c.id,
                rel_id=child_id,
                name=f"{c.name} - {child}",
                created=made,
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
    room: int  # rows this company may take, with its subsidiaries

    def sender(self, rms: list[str]) -> str:
        return self.users[0] if self.users else rms[self.index % len(rms)]


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
    trace = _Trace(os.environ.get("RELPORTAL_SEED_TRACE") == "1")
    with writer.transaction(big=big):
        org_id, rm_ids = _demo_org(writer, org_name, rng, _iso(anchor))
        # Subsidiaries are rows of the list like any company: ``companies`` counts them.
        first = writer.scalar("SELECT count(*) FROM relationships WHERE org_id = ?", org_id)
        max_rowid = writer.scalar("SELECT coalesce(max(rowid), 0) FROM relationships")
        if big:
            writer.defer_indexes()
        plan = _Plan(seed_value, org_id, tuple(rm_ids), anchor, first, companies, not big)
        subsidiaries = 0
        counts: Counter[tuple[str, str]] = Counter()
        waited = flushing = 0.0
        clock = time.perf_counter()
        for rows in _chunks(plan, parallel=big):
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
    number, end = start, start + count
    while number < end:
        number += generator.company(number, rows, end - number)
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


def ensure_demo(
    store: SQLiteStore, companies: int, seed_value: int = 7, anchor: float | None = None
) -> bool:
    """On first start: the demo organization with ``companies`` companies. True if created."""
    exists = store.read_sync(lambda tx: tx.get_organization_by_name(DEMO_ORG))
    if exists is not None:
        return False
    seed(store, companies, seed_value, anchor=anchor)
    return True

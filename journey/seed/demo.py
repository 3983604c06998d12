"""The demo bank, its mix of statuses, the rows a seed generates and how seeded
times and ids are written.
"""

from __future__ import annotations

import marshal
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from journey.core.domain import Feature
from journey.core.records import dumps
from journey.core.tokens import RANDOM_BITS, id_from

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


def iso_time(moment: float) -> str:
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


# Seeded ids count up from here (2009, in id time): before any live id, never "-…".
SEED_EPOCH = 1_234_567_890_123


def seeded_id(rng: random.Random, sequence: int = 0) -> str:
    """Like ``journey.core.tokens.new_id``, from a seeded generator: a sequence number in
    place of the time, so seeded rows too arrive in id order."""
    return id_from(SEED_EPOCH + sequence, rng.getrandbits(RANDOM_BITS))

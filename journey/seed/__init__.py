"""Demo data, fast enough for a million companies and deterministic for a seed.

Rows are generated directly (not through the journey service) in one transaction
with secondary indexes and triggers out of the way, then indexes, full-text search
and per-status counters are rebuilt. Every seeded company is consistent with the
status rules: ``tests/service/test_seed.py`` re-derives each status and finds no change.

Each customer's journey is walked through the journey's own state machine, so a
request ends where the machine says, and (in small seeds, the demo) its customer
actions are the ``journey.action`` events real journeys write: its transcript shows
them and replays. ``companies`` counts every row of the list, subsidiaries included.

Times are laid out backwards from the start of the current UTC day, so a seed is
identical on the same day and open links are still live when it runs. Within a
company they are in order: sent, opened, each action, linked, pulled, failed, cut;
the status time is that of the event that last changed the status.

The package, by section: ``demo`` (the status mix, the rows; the bank itself is
``journey.demo_bank``), ``paths`` (journeys through the state machine), ``generator``
(a company's rows), ``blocks`` (blocks and worker processes), ``load`` (seeding through
the bulk writer).
"""

from journey.demo_bank import DEMO_DOMAIN, DEMO_ORG, DEMO_PORTAL_USER, DEMO_USERS
from journey.seed.demo import (
    SeedResult,
    seeded_id,
)
from journey.seed.load import BIG_SEED, ensure_demo, seed, seed_bulk, seed_file

__all__ = [
    "BIG_SEED",
    "DEMO_DOMAIN",
    "DEMO_ORG",
    "DEMO_PORTAL_USER",
    "DEMO_USERS",
    "SeedResult",
    "ensure_demo",
    "seed",
    "seed_bulk",
    "seed_file",
    "seeded_id",
]

"""Seeding: ``relportal seed --companies 1000000`` into a new file, wall time and size.

The database it makes is the one the scale and service benchmarks then use.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from bench.common import Section, relportal_command


def seed(db: Path, companies: int, env: dict[str, str], checkout: Path | None = None) -> float:
    """Seconds to seed ``companies`` into a new ``db`` with the installed command (or
    another checkout's)."""
    for leftover in db.parent.glob(db.name + "*"):
        leftover.unlink()
    relportal = str(relportal_command(checkout))
    started = time.perf_counter()
    subprocess.run(
        [relportal, "seed", "--companies", str(companies), "--db", str(db)],
        env={**env, "RELPORTAL_SEED_TRACE": "1"},
        check=True,
    )
    return time.perf_counter() - started


def run(db: Path, env: dict[str, str]) -> Section:
    section = Section("Seeding a million companies", "python -m bench --only seed")
    seconds = seed(db, 1_000_000, env)
    size = db.stat().st_size / 1e6
    section.add(
        "relportal seed --companies 1000000: wall time",
        f"{seconds:.1f} s",
        "under 60 s",
        seconds < 60,
    )
    section.add("database size", f"{size:,.0f} MB")
    section.notes.append(
        "1,000,000 companies (about 200,000 of them subsidiaries), in every status, with "
        "their requests, entities, connections, pulls, uploads and events; the phases are "
        "printed as it runs (RELPORTAL_SEED_TRACE=1)."
    )
    return section

"""How fast the relationship list answers at scale, through the HTTP API in-process.

    python bench/list_page.py --db PATH [--repeat 30]

Seeds PATH with a million companies first if it has none (`relportal seed`), then
times GET /v1/relationships for the queries the portal makes (first page, next
page by cursor, user filter, status filter, search, sort, deep offset) against a
trivial endpoint in the same run, and prints median and p95 in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import httpx

from journey import service
from journey.api import create_app
from journey.seed import DEMO_ORG, seed_file
from journey.settings import ServiceSettings
from journey.storage.sqlite import SQLiteStore


def _token(db: Path) -> str:
    store = SQLiteStore(db)
    try:

        def make(tx):  # type: ignore[no-untyped-def]
            org = tx.get_organization_by_name(DEMO_ORG)
            user = next(u for u in tx.list_users(org.id) if u.role.value == "rm")
            return service.create_token(tx, user, "bench")

        return store.write_sync(make)
    finally:
        store.close()


async def _measure(db: Path, repeat: int) -> list[tuple[str, float, float]]:
    settings = ServiceSettings(db_path=db, outbox_dir=db.parent / "outbox")
    app = create_app(settings)
    token = _token(db)
    results = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://bench",
            headers={"Authorization": f"Bearer {token}"},
        ) as client:
            first = (await client.get("/v1/relationships", params={"user": "all"})).json()
            cursor = first["next_cursor"]
            me = (await client.get("/v1/me")).json()
            queries = {
                "trivial endpoint (/healthz)": ("/healthz", {}),
                "first page, my companies": ("/v1/relationships", {}),
                "first page, everyone": ("/v1/relationships", {"user": "all"}),
                "next page by cursor": ("/v1/relationships", {"user": "all", "cursor": cursor}),
                "another user": ("/v1/relationships", {"user": me["users"][1]["id"]}),
                "status filter (Warning)": (
                    "/v1/relationships",
                    {"user": "all", "status": "Warning"},
                ),
                "status filter, rare (Uploaded)": (
                    "/v1/relationships",
                    {"user": "all", "status": "Uploaded"},
                ),
                "search 'bakery'": ("/v1/relationships", {"user": "all", "q": "bakery"}),
                "search 'oak lane'": ("/v1/relationships", {"user": "all", "q": "oak lane"}),
                "search 2 chars 'Ha'": ("/v1/relationships", {"user": "all", "q": "Ha"}),
                "sort by status time, descending": (
                    "/v1/relationships",
                    {"user": "all", "sort": "-updated"},
                ),
                "my companies by created": ("/v1/relationships", {"sort": "created"}),
                "last page (descending sort)": (
                    "/v1/relationships",
                    {"user": "all", "sort": "-name"},
                ),
                "offset 500,000": ("/v1/relationships", {"user": "all", "offset": 500_000}),
            }
            for label, (path, params) in queries.items():
                timings = []
                for _ in range(repeat):
                    started = time.perf_counter()
                    response = await client.get(path, params=params)
                    timings.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, response.text
                timings.sort()
                p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
                results.append((label, statistics.median(timings), p95))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--companies", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    if not args.db.exists():
        result = seed_file(args.db, args.companies)
        print(f"seeded {result.companies:,} companies in {result.seconds:.1f} s", file=sys.stderr)
    results = asyncio.run(_measure(args.db, args.repeat))
    print(f"{'query':<36} {'median ms':>10} {'p95 ms':>8}")
    for label, median, p95 in results:
        print(f"{label:<36} {median:>10.2f} {p95:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Concurrency and crashes against a real `relportal serve` on 127.0.0.1.

Fifty customers walk their journeys while five RMs add companies, request data,
retry with the same Idempotency-Key and edit the same company at once. Then the
server is killed (-9) in the middle of a second wave and started again: the
database passes its integrity check, every write the server acknowledged is there,
and a client that follows the event feed misses nothing.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from journey.core.tokens import link_token_from
from tests.support.cli import run
from tests.support.serve import Server

pytestmark = pytest.mark.e2e
RMS = 5
CUSTOMERS = 50
JOURNEY = (
    {"action": "view_request"},
    {"action": "connect"},
    {"action": "select_platform", "platform": "gbol"},
    {"action": "consent"},
    {"action": "authorize", "username": "demo", "password": "demo"},
)


@pytest.fixture
def server(tmp_path: Path) -> Any:
    config = tmp_path / "config.toml"
    config.write_text(
        "[service]\npublic_url = 'http://portal.test'\n"
        "[demo]\ncompanies = 0\n"
        "[mail]\noutbox = '" + str(tmp_path / "outbox") + "'\n"
        "[simulation]\npull_queue_seconds = 0.05\npull_fetch_seconds = 0.1\n"
        "upload_processing_seconds = 0.1\n"
    )
    db = tmp_path / "load.db"
    tokens = []
    for number in range(RMS):
        made = run(
            "--config",
            str(config),
            "token",
            "create",
            f"rm{number}@larkspur.example",
            "--new-user",
            "--db",
            str(db),
        )
        assert made.returncode == 0, made.stderr
        tokens.append(made.stdout.strip())
    running = Server(config, db, tmp_path / "serve.log")
    try:
        yield running, tokens, db
    finally:
        running.stop()


def _no_server_error(response: httpx.Response) -> httpx.Response:
    assert response.status_code < 500, response.text
    assert "locked" not in response.text.lower(), response.text
    return response


async def _walk(client: httpx.AsyncClient, token: str) -> list[int]:
    codes = []
    for body in JOURNEY:
        response = _no_server_error(await client.post(f"/v1/journeys/{token}/actions", json=body))
        codes.append(response.status_code)
    return codes


async def test_fifty_customers_and_five_rms_at_once(server: Any) -> None:
    running, tokens, db = server
    rms = [
        httpx.AsyncClient(
            base_url=running.url, headers={"Authorization": f"Bearer {t}"}, timeout=30
        )
        for t in tokens
    ]
    customer = httpx.AsyncClient(base_url=running.url, timeout=30)
    try:
        me = [(await rm.get("/v1/me")).json()["user"]["id"] for rm in rms]

        async def add_companies(index: int) -> list[str]:
            ids = []
            for n in range(CUSTOMERS // RMS):
                body = {
                    "name": f"Load {index}-{n}",
                    "contact_name": "Ann Lee",
                    "contact_email": f"ann{index}{n}@load.example",
                    "users": [me[index]],
                }
                response = _no_server_error(await rms[index].post("/v1/relationships", json=body))
                assert response.status_code == 201
                ids.append(response.json()["id"])
            return ids

        companies = await asyncio.gather(*(add_companies(i) for i in range(RMS)))

        async def request(index: int, rel_id: str) -> str:
            # A retried request with the same key: one request, the same answer twice.
            key = str(uuid.uuid4())
            body = {"data_types": ["financials"], "delivery": "link"}
            first, again = await asyncio.gather(
                rms[index].post(
                    f"/v1/relationships/{rel_id}/requests",
                    json=body,
                    headers={"Idempotency-Key": key},
                ),
                rms[index].post(
                    f"/v1/relationships/{rel_id}/requests",
                    json=body,
                    headers={"Idempotency-Key": key},
                ),
            )
            _no_server_error(first), _no_server_error(again)
            assert first.status_code == again.status_code == 201
            assert first.json()["request"]["id"] == again.json()["request"]["id"]
            return link_token_from(first.json()["link"])

        links = await asyncio.gather(
            *(request(i, rel) for i, ids in enumerate(companies) for rel in ids)
        )

        async def conflicting_edits(index: int) -> list[int]:
            """Two edits of one company from the same version, at once."""
            rel_id = companies[index][0]
            version = (await rms[index].get(f"/v1/relationships/{rel_id}")).json()["version"]
            answers = await asyncio.gather(
                *(
                    rms[index].patch(
                        f"/v1/relationships/{rel_id}",
                        json={"description": f"edit {n}"},
                        headers={"If-Match": f'"{version}"'},
                    )
                    for n in range(2)
                )
            )
            return sorted(_no_server_error(a).status_code for a in answers)

        walks, edits = await asyncio.gather(
            asyncio.gather(*(_walk(customer, link) for link in links)),
            asyncio.gather(*(conflicting_edits(i) for i in range(RMS))),
        )
        assert all(codes == [200] * len(JOURNEY) for codes in walks)
        assert all(pair == [200, 412] for pair in edits), edits  # no lost update
        for link in links:
            journey = (await customer.get(f"/v1/journeys/{link}")).json()
            assert journey["step"] == "complete" and len(journey["entities"]) == 1
    finally:
        for client in (*rms, customer):
            await client.aclose()
    with sqlite3.connect(db) as conn:
        seqs = [row[0] for row in conn.execute("SELECT seq FROM events ORDER BY seq")]
        assert len(seqs) == len(set(seqs))
        per_request = conn.execute(
            "SELECT count(*) FROM events WHERE kind = 'journey.action' GROUP BY request_id"
        ).fetchall()
        assert len(per_request) == CUSTOMERS and {n for (n,) in per_request} == {len(JOURNEY)}
        entities = conn.execute(
            "SELECT count(*) FROM legal_entities GROUP BY request_id"
        ).fetchall()
        assert {n for (n,) in entities} == {1}  # no duplicate entity
        requests = conn.execute("SELECT count(*) FROM requests").fetchone()[0]
        assert requests == CUSTOMERS  # the retries made none


async def test_a_kill_mid_load_loses_no_acknowledged_write(server: Any) -> None:
    running, tokens, db = server
    rm = httpx.AsyncClient(
        base_url=running.url, headers={"Authorization": f"Bearer {tokens[0]}"}, timeout=10
    )
    acknowledged: list[str] = []
    head = (await rm.get("/v1/events/head")).json()["last_seq"]

    async def writer(number: int) -> None:
        for n in range(1000):
            body = {
                "name": f"Crash {number}-{n}",
                "contact_name": "Ann Lee",
                "contact_email": "ann@crash.example",
            }
            try:
                response = await rm.post("/v1/relationships", json=body)
            except httpx.TransportError:
                return  # the server died under us: this write was never acknowledged
            _no_server_error(response)
            if response.status_code == 201:
                acknowledged.append(response.json()["id"])

    try:
        tasks = [asyncio.create_task(writer(i)) for i in range(8)]
        while len(acknowledged) < 60:
            await asyncio.sleep(0.01)
        running.process.kill()  # -9: no shutdown, no checkpoint
        running.process.wait()
        await asyncio.gather(*tasks)
        running.start()
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = set()
        cursor = None
        while True:
            page = (
                await rm.get(
                    "/v1/relationships",
                    params={"user": "all", "limit": 500, "cursor": cursor or ""},
                )
            ).json()
            stored |= {r["id"] for r in page["items"]}
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert set(acknowledged) <= stored, "an acknowledged company was lost"
        # The event feed, resumed from before the crash, has every creation once.
        events = (
            await rm.get("/v1/events", params={"after": head, "wait": 0, "limit": 1000})
        ).json()
        created = [
            e["relationship_id"] for e in events["events"] if e["kind"] == "relationship.created"
        ]
        assert set(acknowledged) <= set(created) and len(created) == len(set(created))
    finally:
        await rm.aclose()

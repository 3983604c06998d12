"""API tokens expire and can be revoked by id; the unknown-link guard is one count per
client for every process on a database, and a proxy's forwarded address counts only
when the proxy is trusted. All through HTTP (and the CLI by subprocess)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from journey import service
from journey.api import create_app
from journey.core.domain import Role
from journey.core.tokens import hash_secret
from journey.proxies import TrustedProxies
from journey.settings import ServiceSettings
from journey.storage.schema import MIGRATIONS
from journey.storage.sqlite import SQLiteStore
from journey.storage.sqlite.connection import split_sql
from tests.support.journeys import CONNECT_XERO
from tests.support.service import Service, fast_settings


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ},
    )


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body


# Expiry and revocation


async def test_a_new_token_lives_90_days_and_an_expired_one_answers_401_with_why(
    svc: Service,
) -> None:
    token = svc.tokens["rm"]
    row = svc.store.read_sync(
        lambda tx: tx.conn.execute(
            "SELECT expires_at FROM api_tokens WHERE token_hash = ?", (hash_secret(token),)
        ).fetchone()
    )
    expires = datetime.fromisoformat(row[0])
    assert abs(expires - (datetime.now(UTC) + timedelta(days=90))) < timedelta(minutes=1)
    assert (await svc.get("/v1/me")).status_code == 200  # kept by the read cache now

    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    await svc.store.write(
        lambda tx: tx.conn.execute(
            "UPDATE api_tokens SET expires_at = ? WHERE token_hash = ?", (past, hash_secret(token))
        )
    )
    refused = problem(await svc.get("/v1/me"), 401)
    assert refused["code"] == "token_expired"
    assert "expired" in refused["detail"] and "relportal token create" in refused["detail"]
    # Others' tokens are untouched; a made-up one is simply not valid.
    assert (await svc.get("/v1/me", "rm2")).status_code == 200
    made_up = await svc.base.get("/v1/me", headers={"Authorization": "Bearer rp_made-up"})
    assert problem(made_up, 401)["code"] == "token_invalid"


async def test_expiry_is_checked_on_every_request_not_only_after_a_write(svc: Service) -> None:
    """The read cache keeps who a token belongs to until the next write; a token that
    expires meanwhile (no one writing) must be refused anyway."""
    soon = (datetime.now(UTC) + timedelta(seconds=1.5)).isoformat().replace("+00:00", "Z")
    token = svc.tokens["rm"]
    await svc.store.write(
        lambda tx: tx.conn.execute(
            "UPDATE api_tokens SET expires_at = ? WHERE token_hash = ?", (soon, hash_secret(token))
        )
    )
    assert (await svc.get("/v1/me")).status_code == 200
    import asyncio

    reads = token_reads(svc.store)
    await asyncio.sleep(1.6)
    assert problem(await svc.get("/v1/me"), 401)["code"] == "token_expired"
    assert reads == []  # refused by the kept expiry: nothing was written, nothing read


async def test_token_revoke_by_another_process_refuses_the_token_at_once(svc: Service) -> None:
    assert (await svc.get("/v1/me")).status_code == 200  # kept by the read cache
    listed = run("token", "list", "--db", str(svc.settings.db_path))
    assert listed.returncode == 0, listed.stderr
    line = next(x for x in listed.stdout.splitlines() if "alex.morgan@larkspur.example" in x)
    token_id = line.split()[0]
    revoked = run("token", "revoke", token_id, "--db", str(svc.settings.db_path))
    assert revoked.returncode == 0, revoked.stderr
    assert f"revoked token {token_id}" in revoked.stdout
    refused = problem(await svc.get("/v1/me"), 401)
    assert refused["code"] == "token_revoked"
    assert (await svc.get("/v1/me", "rm2")).status_code == 200
    again = run("token", "list", "--db", str(svc.settings.db_path))
    line = next(x for x in again.stdout.splitlines() if x.startswith(token_id))
    assert line.endswith("(revoked)")


# Who a token belongs to is kept until tokens or users change, not until any commit


def token_reads(store: SQLiteStore) -> list[str]:
    """Every read of the tokens table the store's connections make from now on, as
    SQLite runs them (its trace callback): a real store, counted."""
    seen: list[str] = []

    def traced(statement: str) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "api_tokens" in statement:
            seen.append(statement)

    for conn in store._all:
        conn.set_trace_callback(traced)
    return seen


async def test_customer_steps_do_not_make_the_service_read_tokens_again(svc: Service) -> None:
    """Issue 20: every customer's step commits; an RM's long-poll after each must not
    read the RM's token again, while a revocation is still read, once, and refused."""
    rel = await svc.company(name="Harbour Bakery")
    _, link = await svc.request_link(rel["id"], ["financials"])
    assert (await svc.get("/v1/events", params={"wait": 0})).status_code == 200
    reads = token_reads(svc.store)
    version = svc.store.data_version()
    steps = (("view_request", {}), *CONNECT_XERO)
    for step in steps:
        await svc.walk(link, step)
        polled = await svc.get("/v1/events", params={"wait": 0})
        assert polled.status_code == 200
        assert (await svc.get("/v1/relationships?user=me")).status_code == 200
    assert svc.store.data_version() != version  # the steps did commit
    assert reads == []
    await svc.store.write(lambda tx: tx.revoke_token(hash_secret(svc.tokens["rm"])))
    refused = problem(await svc.get("/v1/events", params={"wait": 0}), 401)
    assert refused["code"] == "token_revoked"
    assert len(reads) == 1
    assert (await svc.get("/v1/me", "rm2")).status_code == 200  # others' tokens read again


async def test_a_revocation_or_role_change_in_another_process_counts_on_its_next_request(
    svc: Service,
) -> None:
    """Two service processes on one file (as ``serve --workers 2``): what one writes to
    tokens or users, the other honours on the very next request, kept answers or not."""
    async with serving(svc.settings) as other:

        async def me(who: str) -> httpx.Response:
            return await other.get("/v1/me", headers=svc.headers(who))

        assert (await me("rm")).status_code == 200
        assert (await me("rm2")).json()["user"]["role"] == "rm"
        await svc.company(name="Harbour Bakery")  # a commit that leaves tokens be
        assert (await me("rm")).status_code == 200

        await svc.store.write(lambda tx: tx.revoke_token(hash_secret(svc.tokens["rm"])))
        assert problem(await me("rm"), 401)["code"] == "token_revoked"

        rm2 = svc.users["rm2"]["id"]
        await svc.store.write(
            lambda tx: tx.conn.execute("UPDATE users SET role = 'support' WHERE id = ?", (rm2,))
        )
        assert (await me("rm2")).json()["user"]["role"] == "support"
        made = await other.post(
            "/v1/relationships",
            headers=svc.headers("rm2"),
            json={"name": "Oak Joinery", "contact_name": "Ann Lee", "contact_email": "a@oak.ex"},
        )
        assert problem(made, 403)["code"]


def test_token_list_shows_who_and_when_but_never_the_secret_or_its_hash(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    first = run("token", "create", "nia@larkspur.example", "--new-user", "--db", db)
    second = run(
        "token",
        "create",
        "ops@quay.example",
        "--org",
        "Quay",
        "--new-user",
        "--days",
        "7",
        "--db",
        db,
    )
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert "for 7 days" in second.stderr
    secrets = [first.stdout.strip(), second.stdout.strip()]

    listed = run("token", "list", "--db", db)
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split() == ["ID", "PREFIX", "EMAIL", "ROLE", "CREATED", "EXPIRES"]
    assert len(rows) == 2
    today = datetime.now(UTC)
    in_90 = (today + timedelta(days=90)).date().isoformat()
    in_7 = (today + timedelta(days=7)).date().isoformat()
    assert "nia@larkspur.example" in rows[0] and " rm " in rows[0] and rows[0].endswith(in_90)
    assert "ops@quay.example" in rows[1] and rows[1].endswith(in_7)
    for secret in secrets:
        assert secret not in listed.stdout
        assert hash_secret(secret) not in listed.stdout
        assert hash_secret(secret)[:12] not in listed.stdout
    assert rows[0].split()[1] == secrets[0][:8] + "…"  # enough to tell them apart

    only_quay = run("token", "list", "--org", "Quay", "--db", db)
    assert only_quay.returncode == 0
    assert "ops@quay.example" in only_quay.stdout and "nia@" not in only_quay.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["create", "a@b.example", "--days", "0"], "--days 0: give a number of days from 1 to"),
        (["create", "a@b.example", "--days", "3651"], "--days 3651: give a number of days"),
        (["create", "a@b.example", "--days", "ninety"], "invalid int value: 'ninety'"),
        (["revoke", "no-such-id"], "There is no API token no-such-id."),
        (["list", "--org", "Nobody"], "--org 'Nobody': there is no such organization"),
    ],
)
def test_bad_token_commands_stop_with_one_line(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    done = run("token", *args, "--db", str(tmp_path / "x.db"))
    assert done.returncode == 2
    assert expected in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_a_database_from_before_expiry_upgrades_and_its_tokens_expire_in_90_days(
    tmp_path: Path,
) -> None:
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db, isolation_level=None)
    for number, migration in enumerate(MIGRATIONS[:6]):
        for statement in split_sql(migration):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {number + 1}")
    conn.execute(
        "INSERT INTO organizations (id, name, features, platforms, created_at)"
        " VALUES ('o1', 'Old Bank', '[]', '[]', '2024-01-01T00:00:00.000Z')"
    )
    conn.execute(
        "INSERT INTO users (id, org_id, email, name, role, created_at)"
        " VALUES ('u1', 'o1', 'old@bank.example', 'Old', 'rm', '2024-01-01T00:00:00.000Z')"
    )
    old_token = "rp_a-token-from-before-expiry-existed"
    conn.execute(
        "INSERT INTO api_tokens (token_hash, user_id, created_at) VALUES (?, 'u1', ?)",
        (hash_secret(old_token), "2024-01-01T00:00:00.000Z"),
    )
    conn.close()

    store = SQLiteStore(db)
    try:
        user = store.read_sync(lambda tx: service.authenticate(tx, old_token))
        assert user is not None and user.email == "old@bank.example"
        ((token, _),) = store.read_sync(lambda tx: tx.list_tokens())
        assert token.id and token.prefix == ""
        assert token.expires_at is not None
        expires = datetime.fromisoformat(token.expires_at)
        assert abs(expires - (datetime.now(UTC) + timedelta(days=90))) < timedelta(minutes=1)
    finally:
        store.close()
    listed = run("token", "list", "--db", str(db))
    assert "old@bank.example" in listed.stdout and old_token not in listed.stdout


# The unknown-link guard


@asynccontextmanager
async def serving(settings: ServiceSettings) -> AsyncIterator[httpx.AsyncClient]:
    """One service process's app on ``settings``, spoken to over HTTP from 127.0.0.1."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://relportal.test") as c:
            yield c


async def guess(client: httpx.AsyncClient, **headers: str) -> int:
    response = await client.get(f"/v1/journeys/{uuid.uuid4().hex}", headers=headers)
    return response.status_code


async def test_misses_counted_by_one_process_are_seen_by_another(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path, link_misses_per_minute=6)
    async with serving(settings) as first, serving(settings) as second:
        assert [await guess(first) for _ in range(4)] == [404] * 4
        assert [await guess(second) for _ in range(2)] == [404] * 2
        # Six misses between them: both now refuse this address.
        assert await guess(first) == 429
        assert await guess(second) == 429
    # A restart forgets nothing: the count is in the database.
    async with serving(settings) as third:
        assert await guess(third) == 429


async def test_forwarded_addresses_count_only_from_a_trusted_proxy(tmp_path: Path) -> None:
    limit = 3
    direct = fast_settings(tmp_path, link_misses_per_minute=limit)
    async with serving(direct) as client:
        # Not a trusted proxy: a client cannot dodge the guard by naming new addresses.
        codes = [await guess(client, **{"X-Forwarded-For": f"198.51.100.{n}"}) for n in range(5)]
        assert codes == [404] * limit + [429] * 2

    proxied = fast_settings(
        tmp_path,
        db_path=tmp_path / "proxied.db",
        link_misses_per_minute=limit,
        trusted_proxies=("127.0.0.0/8",),
    )
    async with serving(proxied) as proxy:
        first = {"X-Forwarded-For": "203.0.113.7"}
        assert [await guess(proxy, **first) for _ in range(limit + 1)] == [404] * limit + [429]
        # Another client behind the same proxy has its own count.
        assert await guess(proxy, **{"X-Forwarded-For": "203.0.113.8"}) == 404
        # A client that writes its own X-Forwarded-For is still counted by the address the
        # proxy appended (the rightmost untrusted hop), so the spoof changes nothing.
        spoof = {"X-Forwarded-For": "192.0.2.99, 203.0.113.7"}
        assert await guess(proxy, **spoof) == 429
        # RFC 7239 Forwarded, when no X-Forwarded-For came.
        assert await guess(proxy, Forwarded='for="[2001:db8::5]:4711";proto=https') == 404


def test_the_rightmost_untrusted_hop_is_the_client() -> None:
    trusted = TrustedProxies.parse(["10.0.0.0/8", "127.0.0.1"])
    assert trusted.client("127.0.0.1", ["1.2.3.4, 10.1.1.1"]) == "1.2.3.4"
    assert trusted.client("127.0.0.1", ["6.6.6.6, 1.2.3.4"]) == "1.2.3.4"
    assert trusted.client("127.0.0.1", ["6.6.6.6", "1.2.3.4:5555"]) == "1.2.3.4"
    assert trusted.client("127.0.0.1", ["garbage"]) == "127.0.0.1"  # not believed
    assert trusted.client("127.0.0.1", [], ["for=1.2.3.4, for=10.0.0.2"]) == "1.2.3.4"
    assert trusted.client("192.0.2.1", ["1.2.3.4"]) == "192.0.2.1"  # not a proxy of ours
    assert TrustedProxies().client("127.0.0.1", ["1.2.3.4"]) == "127.0.0.1"


# --service over plain http


@pytest.mark.parametrize(
    "command",
    [
        ["--service", "http://192.0.2.10:8765"],
        ["ssh-serve", "--demo-password", "--service", "http://192.0.2.10:8765"],
        ["web", "--port", "0", "--service", "http://portal.example:8765"],
        ["--service", "http://portal.example:8765", "web", "--port", "0"],
    ],
)
def test_a_cleartext_service_off_this_machine_is_refused_in_one_line(command: list[str]) -> None:
    done = run(*command)
    assert done.returncode == 2
    assert done.stderr.startswith("relportal: http://")
    assert "the API token would travel in clear" in done.stderr and "--insecure" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "url",
    [
        "https://portal.example",
        "http://127.0.0.1:9",
        "http://127.3.4.5:9",
        "http://[::1]:9",
        "http://localhost:9",
    ],
)
def test_https_or_loopback_services_and_insecure_go_on(url: str) -> None:
    # With no token to act with, it stops right after the service URL was accepted.
    done = run("web", "--service", url)
    assert done.returncode == 2 and "--service needs the token" in done.stderr, done.stderr
    insecure = run("web", "--service", "http://192.0.2.10", "--insecure")
    assert "--service needs the token" in insecure.stderr, insecure.stderr


def test_create_token_refuses_lifetimes_out_of_range(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "t.db")
    try:

        def make(days: int) -> str:
            def inner(tx: Any) -> str:
                org = service.ensure_organization(tx, "Bank")
                user = service.ensure_user(tx, org, "a@bank.example", "A", Role.RM)
                return service.create_token(tx, user, days=days)

            return store.write_sync(inner)

        assert make(3650).startswith("rp_")
        with pytest.raises(ValueError, match="from 1 to 3650 days"):
            make(0)
    finally:
        store.close()

"""The event log as a long-poll, the request emails, and where link tokens may (not) go."""

from __future__ import annotations

import asyncio
import email
import email.policy
import itertools
import logging
import re
import sqlite3
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from journey import service
from journey.core.tokens import hash_secret, link_token_from
from journey.storage.sqlite import SQLiteStore, SQLiteTx
from tests.support.service import Service

LINK = re.compile(r"http://relportal\.test/j/[A-Za-z0-9_\-]+")


async def last_seq(svc: Service, who: str = "rm") -> int:
    response = await svc.get("/v1/events", who, params={"after": 0, "limit": 1000})
    assert response.status_code == 200
    return int(response.json()["last_seq"])


async def poll(svc: Service, after: int, wait: float, who: str = "rm", **params: Any) -> Any:
    response = await svc.get("/v1/events", who, params={"after": after, "wait": wait, **params})
    assert response.status_code == 200, response.text
    return response.json()


# Long-poll


async def test_long_poll_waits_when_nothing_is_new(svc: Service) -> None:
    after = await last_seq(svc)
    started = time.monotonic()
    body = await poll(svc, after, 0.6)
    elapsed = time.monotonic() - started
    assert body["events"] == []
    assert body["last_seq"] == after
    assert 0.5 <= elapsed < 2.0


async def test_long_poll_returns_promptly_with_a_new_event(svc: Service) -> None:
    after = await last_seq(svc)
    waiting = asyncio.create_task(poll(svc, after, 5))
    await asyncio.sleep(0.2)
    assert not waiting.done(), "the long-poll returned although nothing happened"
    written = time.monotonic()
    rel = await svc.company(name="Live Update Ltd")
    body = await asyncio.wait_for(waiting, 5)
    assert time.monotonic() - written < 0.5
    kinds = [(e["kind"], e["relationship_id"]) for e in body["events"]]
    assert ("relationship.created", rel["id"]) in kinds
    assert body["last_seq"] == body["events"][-1]["seq"]
    assert all(e["seq"] > after for e in body["events"])


async def test_long_poll_does_not_miss_an_event_committed_during_the_hub_s_read(
    svc: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow read (a busy disk, a loaded machine) must not make a wait miss an event.

    Another process commits an event, so the hub reads; this process commits another
    before that read returns (its event does not follow on from what the hub holds).
    Both must reach the long-poll, once each, in order, and promptly.
    """
    after = await last_seq(svc)
    original = SQLiteTx.events_since
    looked = threading.Event()

    def slow_first_look(self: SQLiteTx, after_seq: int, limit: int) -> Any:
        rows = original(self, after_seq, limit)
        if not looked.is_set():
            looked.set()
            time.sleep(0.4)
        return rows

    other_process = SQLiteStore(svc.settings.db_path, readers=1)
    try:
        user = await other_process.read(
            lambda tx: tx.get_user(svc.users["rm"]["org_id"], svc.users["rm"]["id"])
        )
        assert user is not None
        elsewhere = await other_process.write(
            lambda tx: service.create_relationship(
                tx,
                user,
                {"name": "Elsewhere", "contact_name": "A", "contact_email": "a@b.example"},
            )
        )
    finally:
        other_process.close()
    monkeypatch.setattr(SQLiteTx, "events_since", slow_first_look)
    waiting = asyncio.create_task(poll(svc, after, 2.5))
    assert await asyncio.to_thread(looked.wait, 2)
    written = time.monotonic()
    rel = await svc.company(name="Committed Mid-Read")
    seen: list[dict[str, Any]] = (await asyncio.wait_for(waiting, 6))["events"]
    while rel["id"] not in [e["relationship_id"] for e in seen]:
        assert time.monotonic() - written < 1.5, "the event waited for the long-poll's timeout"
        seen += (await poll(svc, seen[-1]["seq"], 2.5))["events"]
    created = [e["relationship_id"] for e in seen if e["kind"] == "relationship.created"]
    assert created == [elsewhere.id, rel["id"]]
    assert [e["seq"] for e in seen] == sorted({e["seq"] for e in seen})


async def test_long_poll_sees_events_written_by_another_process(svc: Service) -> None:
    """Another process on the same database (a CLI, a second server) writes an event."""
    after = await last_seq(svc)
    other_process = SQLiteStore(svc.settings.db_path, readers=1)
    try:
        user = await other_process.read(
            lambda tx: tx.get_user(svc.users["rm"]["org_id"], svc.users["rm"]["id"])
        )
        assert user is not None
        waiting = asyncio.create_task(poll(svc, after, 5))
        await asyncio.sleep(0.2)
        assert not waiting.done()
        written = time.monotonic()
        rel = await other_process.write(
            lambda tx: service.create_relationship(
                tx,
                user,
                {
                    "name": "Written Elsewhere",
                    "contact_name": "Ann Other",
                    "contact_email": "ann@elsewhere.example",
                    "users": [],
                },
            )
        )
        body = await asyncio.wait_for(waiting, 5)
        assert time.monotonic() - written < 1.0
        assert rel.id in [e["relationship_id"] for e in body["events"]]
    finally:
        other_process.close()


async def test_events_of_another_organization_are_never_returned(svc: Service) -> None:
    after = await last_seq(svc)
    other_after = await last_seq(svc, "other")
    waiting = asyncio.create_task(poll(svc, after, 1.0))
    await asyncio.sleep(0.1)
    theirs = await svc.company("other", name="Quayside Private", users=[])
    body = await waiting
    assert body["events"] == [], "another organization's event reached this one"
    assert "Quayside" not in str(body)

    their_body = await poll(svc, other_after, 0, "other")
    assert theirs["id"] in [e["relationship_id"] for e in their_body["events"]]

    everything = await poll(svc, 0, 0, limit=1000)
    assert theirs["id"] not in str(everything)
    assert all("Quayside" not in str(e["payload"]) for e in everything["events"])


async def test_after_resumes_exactly_and_events_are_well_formed(svc: Service) -> None:
    start = await last_seq(svc)
    rels = [await svc.company(name=f"Resume {i}") for i in range(3)]
    await svc.patch(
        f"/v1/relationships/{rels[0]['id']}", json={"name": "Resumed"}, headers={"If-Match": "1"}
    )
    body = await poll(svc, start, 0)
    events = body["events"]
    assert len(events) == 4
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert [e["kind"] for e in events] == ["relationship.created"] * 3 + ["relationship.updated"]
    rm_actor = f"user:{svc.users['rm']['id']}"
    for event in events:
        assert set(event) >= {"seq", "at", "actor", "kind", "payload"}
        assert isinstance(event["seq"], int)
        assert datetime.fromisoformat(event["at"].replace("Z", "+00:00")).tzinfo is not None
        assert event["actor"] == rm_actor
        assert isinstance(event["payload"], dict)
    assert events[0]["payload"]["name"] == "Resume 0"
    assert events[3]["payload"]["name"] == "Resumed"
    ats = [e["at"] for e in events]
    assert ats == sorted(ats)

    middle = seqs[1]
    rest = await poll(svc, middle, 0)
    assert [e["seq"] for e in rest["events"]] == seqs[2:]
    assert (await poll(svc, seqs[-1], 0))["events"] == []

    # One at a time: each event exactly once, in order.
    walked: list[int] = []
    cursor = start
    for _ in range(10):
        page = await poll(svc, cursor, 0, limit=1)
        if not page["events"]:
            break
        assert len(page["events"]) == 1
        walked.append(page["events"][0]["seq"])
        cursor = page["last_seq"]
    assert walked == seqs


async def test_event_sequence_strictly_increases_across_many_writers(svc: Service) -> None:
    start = await last_seq(svc)
    await asyncio.gather(*(svc.company(name=f"Burst {i}") for i in range(12)))
    events = (await poll(svc, start, 0, limit=1000))["events"]
    seqs = [e["seq"] for e in events]
    assert len(events) == 12
    assert all(a < b for a, b in itertools.pairwise(seqs))


# Mail


def outbox(svc: Service) -> list[Path]:
    folder = Path(svc.settings.outbox_dir)
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def read_mail(path: Path) -> email.message.EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    return message


def body_text(message: email.message.EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


async def send_by_email(svc: Service, rel_id: str, data_types: list[str]) -> httpx.Response:
    response = await svc.post(
        f"/v1/relationships/{rel_id}/requests",
        json={"data_types": data_types, "delivery": "email"},
    )
    assert response.status_code == 201, response.text
    return response


@pytest.mark.parametrize(
    ("data_types", "subject_has", "subject_lacks", "cta"),
    [
        (["spend_analysis"], "supplier information", "financial", "View request"),
        (["financials"], "financial", "supplier", "Securely connect"),
        (["financials", "spend_analysis"], "financial", None, "Securely connect"),
    ],
    ids=["spend only", "financials", "both"],
)
async def test_request_email_lands_in_the_outbox(
    svc: Service,
    data_types: list[str],
    subject_has: str,
    subject_lacks: str | None,
    cta: str,
) -> None:
    rel = await svc.company(contact_name="Larry Pepper", contact_email="larry@abra.example")
    assert outbox(svc) == []
    response = await send_by_email(svc, rel["id"], data_types)
    files = outbox(svc)
    assert len(files) == 1
    message = read_mail(files[0])
    assert message["To"].addresses[0].addr_spec == "larry@abra.example"
    assert message["To"].addresses[0].display_name == "Larry Pepper"
    assert subject_has in message["Subject"].lower()
    if subject_lacks:
        assert subject_lacks not in message["Subject"].lower()
    text = body_text(message)
    assert cta in text
    other_cta = {"View request", "Securely connect"} - {cta}
    assert other_cta.pop() not in text
    assert "Larry Pepper" in text
    links = LINK.findall(text)
    assert len(links) == 1
    token = link_token_from(links[0])
    opened = await svc.journey(token)
    assert opened.status_code == 200, opened.text
    assert opened.json()["step"] == "email"

    # The RM sees the email that went out, but not the customer's secret.
    answer = response.json()
    assert answer["email"]["subject"] == message["Subject"]
    assert cta in answer["email"]["text"]
    assert answer["email"]["to_address"] == "larry@abra.example"
    assert answer["email"].get("sent") is True
    assert token not in response.text
    assert not answer.get("link")
    # ... nor later, reading the request or the company.
    req_id = answer["request"]["id"]
    assert token not in (await svc.get(f"/v1/requests/{req_id}")).text
    assert token not in (await svc.get(f"/v1/relationships/{rel['id']}")).text


async def test_spend_and_financial_emails_differ(svc: Service) -> None:
    spend = await svc.company(name="Spend Co", contact_email="s@spend.example")
    fin = await svc.company(name="Fin Co", contact_email="f@fin.example")
    await send_by_email(svc, spend["id"], ["spend_analysis"])
    await send_by_email(svc, fin["id"], ["financials"])
    by_to = {read_mail(p)["To"].addresses[0].addr_spec: read_mail(p) for p in outbox(svc)}
    assert set(by_to) == {"s@spend.example", "f@fin.example"}
    assert by_to["s@spend.example"]["Subject"] != by_to["f@fin.example"]["Subject"]
    assert "View request" in body_text(by_to["s@spend.example"])
    assert "Securely connect" in body_text(by_to["f@fin.example"])


async def test_preview_shows_the_email_without_sending(svc: Service) -> None:
    rel = await svc.company()
    before = await last_seq(svc)
    for data_types, cta in (
        (["spend_analysis"], "View request"),
        (["financials"], "Securely connect"),
    ):
        response = await svc.post(
            f"/v1/relationships/{rel['id']}/request-preview", json={"data_types": data_types}
        )
        assert response.status_code == 200, response.text
        preview = response.json()["email"]
        assert preview["to_address"] == "larry@abra.example"
        assert cta in preview["text"]
        assert preview["subject"]
        assert not LINK.search(preview["text"])
    assert outbox(svc) == []
    assert (await svc.get(f"/v1/relationships/{rel['id']}/requests")).json()["items"] == []
    detail = await svc.relationship(rel["id"])
    assert detail["status"] is None and detail["latest_request_id"] is None
    assert await last_seq(svc) == before

    # The email sent afterwards is the one previewed, link aside.
    response = await svc.post(
        f"/v1/relationships/{rel['id']}/request-preview", json={"data_types": ["financials"]}
    )
    preview = response.json()["email"]
    await send_by_email(svc, rel["id"], ["financials"])
    sent = read_mail(outbox(svc)[0])
    assert sent["Subject"] == preview["subject"]
    preview_lines = [line for line in preview["text"].splitlines() if "{link}" not in line]
    sent_lines = [line for line in body_text(sent).splitlines() if not LINK.search(line)]
    assert preview_lines == sent_lines


async def test_preview_validates_like_the_real_thing(svc: Service) -> None:
    rel = await svc.company()
    url = f"/v1/relationships/{rel['id']}/request-preview"
    for body in ({"data_types": []}, {"data_types": ["cash"]}, {}, {"data_types": "financials"}):
        response = await svc.post(url, json=body)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert outbox(svc) == []


async def test_resend_by_email_sends_a_new_link_and_revokes_the_old(svc: Service) -> None:
    rel = await svc.company()
    response = await send_by_email(svc, rel["id"], ["financials"])
    req_id = response.json()["request"]["id"]
    [first] = outbox(svc)
    old_token = link_token_from(LINK.findall(body_text(read_mail(first)))[0])
    assert (await svc.journey(old_token)).status_code == 200

    resent = await svc.post(f"/v1/requests/{req_id}/resend", json={})
    assert resent.status_code == 200, resent.text
    files = outbox(svc)
    assert len(files) == 2
    [second] = [p for p in files if p != first]
    message = read_mail(second)
    assert message["To"].addresses[0].addr_spec == "larry@abra.example"
    new_token = link_token_from(LINK.findall(body_text(message))[0])
    assert new_token != old_token
    assert new_token not in resent.text and old_token not in resent.text

    gone = await svc.journey(old_token)
    assert gone.status_code == 410, gone.text
    assert gone.headers["content-type"].startswith("application/problem+json")
    assert old_token not in gone.text
    assert (await svc.journey(new_token)).status_code == 200
    assert (await svc.act(old_token, "view_request")).status_code == 410


async def test_a_new_request_revokes_the_previous_link(svc: Service) -> None:
    rel = await svc.company()
    await send_by_email(svc, rel["id"], ["financials"])
    first_token = link_token_from(LINK.findall(body_text(read_mail(outbox(svc)[0])))[0])
    _, second_token = await svc.request_link(rel["id"], ["spend_analysis"])
    assert (await svc.journey(first_token)).status_code == 410
    assert (await svc.journey(second_token)).status_code == 200


# Where link tokens must never go


async def full_journey(svc: Service) -> tuple[list[str], list[httpx.Response]]:
    """A customer's journey with its detours; returns every link token and error answer."""
    errors: list[httpx.Response] = []
    rel = await svc.company()
    response = await send_by_email(svc, rel["id"], ["financials"])
    req_id = response.json()["request"]["id"]
    first = link_token_from(LINK.findall(body_text(read_mail(outbox(svc)[0])))[0])
    await svc.walk(first, ("view_request", {}))
    # Resent as a link to copy: the old one is revoked.
    resent = await svc.post(f"/v1/requests/{req_id}/resend", json={"delivery": "link"})
    assert resent.status_code == 200, resent.text
    token = link_token_from(resent.json()["link"])
    errors.append(await svc.journey(first))
    errors.append(await svc.act(first, "connect"))
    errors.append(await svc.journey(first + "x"))
    errors.append(await svc.act(token, "finish"))  # not allowed at this step
    errors.append(await svc.act(token, "select_platform", platform="gbol"))
    await svc.walk(token, ("connect", {}))
    errors.append(await svc.act(token, "select_platform", platform="nonesuch"))
    errors.append(await svc.act(token, "select_platform", platform="gbol", colour="red"))
    await svc.walk(token, ("select_platform", {"platform": "gbol"}), ("consent", {}))
    errors.append(await svc.act(token, "authorize", username="demo", password="wrong"))
    await svc.walk(token, ("authorize", {"username": "demo", "password": "demo"}))
    template = await svc.base.get(f"/v1/journeys/{token}/template")
    assert template.status_code == 200
    errors.append(
        await svc.base.post(
            f"/v1/journeys/{token}/uploads",
            files={"file": ("s.xlsx", b"not a workbook", "application/x")},
        )
    )
    errors.append(await svc.base.post(f"/v1/journeys/{token}/actions", content=b"{"))

    async def available() -> bool:
        return (await svc.relationship(rel["id"]))["status"] == "Available"

    await svc.eventually(available)
    # A second company, its request delivered as a link with an Idempotency-Key.
    rel2 = await svc.company(name="Second Co")
    keyed = await svc.post(
        f"/v1/relationships/{rel2['id']}/requests",
        json={"data_types": ["spend_analysis"], "delivery": "link"},
        headers={"Idempotency-Key": "secret-link-request"},
    )
    assert keyed.status_code == 201
    third = link_token_from(keyed.json()["link"])
    await svc.walk(third, ("view_request", {}))
    cancelled = await svc.post(f"/v1/requests/{keyed.json()['request']['id']}/cancel")
    assert cancelled.status_code == 200
    errors.append(await svc.journey(third))
    return [first, token, third], [e for e in errors if e.status_code >= 400]


async def test_link_tokens_never_reach_logs_or_error_answers(
    svc: Service, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    tokens, errors = await full_journey(svc)
    assert len(errors) >= 8
    for response in errors:
        assert response.headers["content-type"].startswith("application/problem+json")
        for token in tokens:
            assert token not in response.text, (response.status_code, response.text)

    # The service's own log lines: the test's HTTP client (httpx) is not the service.
    service_records = [
        r for r in caplog.records if not r.name.startswith(("httpx", "httpcore", "asyncio"))
    ]
    journey_lines = [r.getMessage() for r in service_records if "/v1/journeys/" in r.getMessage()]
    assert journey_lines, "no access log line was captured; the check would prove nothing"
    for record in service_records:
        text = record.getMessage() + (record.exc_text or "") + str(record.args)
        for token in tokens:
            assert token not in text, f"{record.name}: {text}"


async def test_only_token_hashes_are_stored(svc: Service) -> None:
    tokens, _ = await full_journey(svc)
    api_tokens = list(svc.tokens.values())
    secrets = tokens + api_tokens
    db_path = Path(svc.settings.db_path)

    found: dict[str, list[str]] = {}
    hashes_seen: set[str] = set()
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        tables = [
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        assert {"api_tokens", "requests", "link_revocations", "idempotency_keys"} <= set(tables)
        for table in tables:
            try:
                rows = conn.execute(f'SELECT * FROM "{table}"').fetchall()
            except sqlite3.DatabaseError:
                continue
            for row in rows:
                for value in row:
                    if isinstance(value, bytes):
                        value = value.decode("latin-1")
                    if not isinstance(value, str):
                        continue
                    hashes_seen.add(value)
                    for secret in secrets:
                        if secret in value:
                            found.setdefault(secret[:6] + "…", []).append(table)
    assert found == {}, f"raw tokens stored in: {found}"
    # The hashes are what is kept: an API token and the live and revoked link hashes.
    for token in api_tokens:
        assert hash_secret(token) in hashes_seen
    assert hash_secret(tokens[0]) in hashes_seen  # revoked: kept to answer 410
    assert hash_secret(tokens[1]) in hashes_seen  # live

    # Nor anywhere in the files, write-ahead log included.
    for path in db_path.parent.glob(db_path.name + "*"):
        raw = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in raw, f"raw token in {path.name}"

"""Background progress the customer does not drive: data pulls at the simulated
platforms, processing of uploaded files, and links reaching their expiry.

Each pass is one short write transaction; several processes sharing a database
can run passes side by side because every step re-reads the row it moves on.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from journey import derive, service
from journey.core.domain import ConnectionStatus, PullStatus, UploadStatus
from journey.core.records import DataPull
from journey.events import stop_task, wait_event
from journey.settings import ServiceSettings
from journey.storage.base import Committed, Store, Tx

log = logging.getLogger("relportal.worker")
BATCH = 200


def _age(stamp: str, now: datetime) -> float:
    return (now - derive.parse_time(stamp)).total_seconds()


def advance_pulls(tx: Tx, settings: ServiceSettings, now: datetime) -> int:
    """Move due pulls one status on. Returns how many moved."""
    moved = 0
    for pull in tx.active_pulls(BATCH):
        if (
            pull.status is PullStatus.QUEUED
            and _age(pull.status_at, now) >= settings.pull_queue_seconds
        ):
            _move_pull(tx, pull, PullStatus.FETCHING)
            moved += 1
        elif (
            pull.status is PullStatus.FETCHING
            and _age(pull.status_at, now) >= settings.pull_fetch_seconds
        ):
            _finish_pull(tx, pull, now)
            moved += 1
    return moved


def _context(tx: Tx, pull: DataPull):  # type: ignore[no-untyped-def]
    conn = tx.get_connection(pull.org_id, pull.connection_id)
    entity = tx.get_entity(conn.entity_id) if conn else None
    req = tx.get_request(pull.org_id, entity.request_id) if entity else None
    return conn, entity, req


def _move_pull(tx: Tx, pull: DataPull, status: PullStatus, **extra: object) -> None:
    conn, entity, req = _context(tx, pull)
    now = tx.now()
    fields: dict[str, object] = {"status": status.value, "status_at": now, **extra}
    if status.finished:
        fields["completed_at"] = now
    tx.update_pull(pull.id, fields)
    payload: dict[str, object] = {
        "pull_id": pull.id,
        "status": status.value,
        "platform": conn.platform if conn else None,
    }
    if extra.get("error"):
        payload["error"] = extra["error"]
    tx.append_event(
        pull.org_id,
        "system",
        "pull.status",
        payload,
        entity.relationship_id if entity else None,
        req.id if req else None,
    )


def _finish_pull(tx: Tx, pull: DataPull, now: datetime) -> None:
    conn, entity, req = _context(tx, pull)
    if conn is None or entity is None or req is None:
        tx.update_pull(pull.id, {"status": PullStatus.FETCH_ERROR.value, "status_at": tx.now()})
        return
    org = tx.get_organization(pull.org_id)
    failure = org.simulated_failures.get(conn.platform) if org else None
    stamp = tx.now()
    if conn.status is not ConnectionStatus.LINKED:
        _move_pull(tx, pull, PullStatus.FETCH_ERROR, error="The connection is no longer linked.")
    elif failure == "AuthError":
        _move_pull(
            tx, pull, PullStatus.AUTH_ERROR, error="The platform no longer accepts the credentials."
        )
        tx.update_connection(
            conn.id, {"status": ConnectionStatus.DEAUTHORIZED.value, "status_at": stamp}
        )
        tx.append_event(
            pull.org_id,
            "system",
            "connection.deauthorized",
            {"connection_id": conn.id, "platform": conn.platform, "entity": entity.name},
            entity.relationship_id,
            req.id,
        )
    elif failure == "FetchError":
        _move_pull(tx, pull, PullStatus.FETCH_ERROR, error="The platform did not answer in time.")
    else:
        from journey.ledger import (  # only when a pull finishes
            generate_ledger,
            ledger_key,
            ledger_period_end,
            ledger_summary,
        )

        ledger = generate_ledger(
            ledger_key(entity.name, conn.platform), period_end=ledger_period_end(now)
        )
        _move_pull(tx, pull, PullStatus.COMPLETE, summary=ledger_summary(ledger))
        tx.update_connection(conn.id, {"last_sync_at": stamp})
    derive.recompute_for_request(tx, req)


def process_uploads(tx: Tx, settings: ServiceSettings, now: datetime) -> int:
    moved = 0
    for upload in tx.processing_uploads(service.iso(now), BATCH):
        stamp = tx.now()
        tx.update_upload(upload.id, {"status": UploadStatus.PROCESSED.value, "processed_at": stamp})
        entity = tx.get_entity(upload.entity_id)
        req = tx.get_request(upload.org_id, entity.request_id) if entity else None
        if entity is None or req is None:
            continue
        tx.append_event(
            upload.org_id,
            "system",
            "upload.processed",
            {"upload_id": upload.id, "rows": upload.row_count},
            entity.relationship_id,
            req.id,
        )
        derive.recompute_for_request(tx, req)
        moved += 1
    return moved


def expire_links(tx: Tx, now: datetime) -> int:
    due = tx.requests_expiring(service.iso(now), BATCH)
    for req in due:
        service.mark_expired(tx, req)
    return len(due)


def work_is_due(tx: Tx, settings: ServiceSettings, now: datetime) -> bool:
    """A cheap read: is any pass worth a write transaction?"""
    for pull in tx.active_pulls(BATCH):
        wait = (
            settings.pull_queue_seconds
            if pull.status is PullStatus.QUEUED
            else settings.pull_fetch_seconds
        )
        if _age(pull.status_at, now) >= wait:
            return True
    if tx.processing_uploads(service.iso(now), 1):
        return True
    return bool(tx.requests_expiring(service.iso(now), 1))


def run_once(tx: Tx, settings: ServiceSettings, now: datetime | None = None) -> int:
    """One pass over everything due; returns how many things moved."""
    now = now or datetime.now(UTC)
    return (
        advance_pulls(tx, settings, now)
        + process_uploads(tx, settings, now)
        + expire_links(tx, now)
    )


class Worker:
    """Runs passes on the service's event loop, off-loop in the store's threads."""

    def __init__(self, store: Store, settings: ServiceSettings) -> None:
        self.store = store
        self.settings = settings
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def poke(self) -> None:
        """Something was queued: look now rather than at the next interval."""
        self._wake.set()

    def committed(self, commit: Committed) -> None:
        """Called after every commit, from whichever thread wrote (``on_commit``): a
        commit that queued work wakes the worker (one that did not costs it nothing)."""
        if commit.queued_work and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.poke)

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run(), name="relportal-worker")

    async def stop(self) -> None:
        await stop_task(self._task)

    async def _run(self) -> None:
        interval = self.settings.worker_interval
        while True:
            try:
                moved = 0
                now = datetime.now(UTC)
                if await self.store.read(
                    lambda tx, now=now: work_is_due(tx, self.settings, now)  # type: ignore[misc]
                ):
                    moved = await self.store.write(lambda tx: run_once(tx, self.settings))
            except Exception:  # keep the service alive; the next pass retries
                log.exception("background pass failed")
                moved = 0
            if moved:
                continue
            await wait_event(self._wake, interval)
            self._wake.clear()

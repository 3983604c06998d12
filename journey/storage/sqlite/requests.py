"""Queries on information requests and their customer links."""

from __future__ import annotations

from typing import Any

from journey.core.records import InformationRequest, dumps
from journey.storage.sqlite.querying import TxBase
from journey.storage.sqlite.rows import stored, to_request


class RequestQueries(TxBase):
    def insert_request(self, req: InformationRequest, link_hash: str | None) -> None:
        self.conn.execute(
            "INSERT INTO requests (id, org_id, relationship_id, data_types, delivery, created_by,"
            " created_at, expires_at, state, state_at, opened_at, completed_at, journey,"
            " link_hash, link_issued_at, version, features)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                req.id,
                req.org_id,
                req.relationship_id,
                stored(req.data_types),
                req.delivery.value,
                req.created_by,
                req.created_at,
                req.expires_at,
                req.state.value,
                req.state_at,
                req.opened_at,
                req.completed_at,
                dumps(req.journey),
                link_hash,
                req.link_issued_at,
                req.version,
                None if req.features is None else stored(req.features),
            ),
        )

    def get_request(self, org_id: str, req_id: str) -> InformationRequest | None:
        row = self._one("SELECT * FROM requests WHERE id = ? AND org_id = ?", req_id, org_id)
        return to_request(row) if row else None

    def request_by_link_hash(self, link_hash: str) -> InformationRequest | None:
        row = self._one("SELECT * FROM requests WHERE link_hash = ?", link_hash)
        return to_request(row) if row else None

    def update_request(self, req_id: str, fields: dict[str, Any]) -> None:
        self._update("requests", "id", req_id, fields)

    def revoke_link(self, req_id: str, reason: str) -> None:
        self.conn.execute(
            "INSERT OR IGNORE INTO link_revocations (link_hash, request_id, reason, revoked_at)"
            " SELECT link_hash, id, ?, ? FROM requests WHERE id = ? AND link_hash IS NOT NULL",
            (reason, self.now(), req_id),
        )
        self.conn.execute("UPDATE requests SET link_hash = NULL WHERE id = ?", (req_id,))

    def link_revocation(self, link_hash: str) -> str | None:
        row = self._one("SELECT reason FROM link_revocations WHERE link_hash = ?", link_hash)
        return str(row[0]) if row else None

    def requests_for_relationship(self, rel_id: str) -> list[InformationRequest]:
        rows = self._all(
            "SELECT * FROM requests WHERE relationship_id = ? ORDER BY created_at DESC", rel_id
        )
        return [to_request(r) for r in rows]

    def latest_live_request(self, rel_id: str) -> InformationRequest | None:
        row = self._one(
            "SELECT * FROM requests WHERE relationship_id = ? AND state != 'Cancelled'"
            " ORDER BY created_at DESC, rowid DESC LIMIT 1",
            rel_id,
        )
        return to_request(row) if row else None

    def requests_expiring(self, now: str, limit: int) -> list[InformationRequest]:
        rows = self._all(
            "SELECT * FROM requests WHERE state IN ('Sent', 'Opened') AND expires_at <= ?"
            " ORDER BY expires_at LIMIT ?",
            now,
            limit,
        )
        return [to_request(r) for r in rows]

"""Queries on what a request gathers: legal entities, connections, data pulls and
uploads.
"""

from __future__ import annotations

import json
from typing import Any

from journey.core.records import Connection, DataPull, LegalEntity, Upload, dumps
from journey.storage.sqlite.querying import TxBase
from journey.storage.sqlite.rows import to_connection, to_entity, to_pull, to_upload


class EntityQueries(TxBase):
    def insert_entity(self, entity: LegalEntity) -> None:
        self.conn.execute(
            "INSERT INTO legal_entities (id, org_id, request_id, relationship_id, name,"
            " is_company, denied, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entity.id,
                entity.org_id,
                entity.request_id,
                entity.relationship_id,
                entity.name,
                int(entity.is_company),
                int(entity.denied),
                entity.created_at,
            ),
        )

    def get_entity(self, entity_id: str) -> LegalEntity | None:
        row = self._one("SELECT * FROM legal_entities WHERE id = ?", entity_id)
        return to_entity(row) if row else None

    def update_entity(self, entity_id: str, fields: dict[str, Any]) -> None:
        self._update("legal_entities", "id", entity_id, fields)

    def delete_entity(self, entity_id: str) -> None:
        self.conn.execute("DELETE FROM legal_entities WHERE id = ?", (entity_id,))

    def entities_for_request(self, req_id: str) -> list[LegalEntity]:
        rows = self._all(
            "SELECT * FROM legal_entities WHERE request_id = ? ORDER BY created_at, rowid", req_id
        )
        return [to_entity(r) for r in rows]

    def entities_for_relationship(self, rel_id: str) -> list[LegalEntity]:
        rows = self._all(
            "SELECT * FROM legal_entities WHERE relationship_id = ? ORDER BY created_at, rowid",
            rel_id,
        )
        return [to_entity(r) for r in rows]

    def insert_connection(self, conn: Connection) -> None:
        self.conn.execute(
            "INSERT INTO connections (id, org_id, entity_id, platform, status, created_at,"
            " status_at, last_sync_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                conn.id,
                conn.org_id,
                conn.entity_id,
                conn.platform,
                conn.status.value,
                conn.created_at,
                conn.status_at,
                conn.last_sync_at,
            ),
        )

    def get_connection(self, org_id: str, conn_id: str) -> Connection | None:
        row = self._one("SELECT * FROM connections WHERE id = ? AND org_id = ?", conn_id, org_id)
        return to_connection(row) if row else None

    def update_connection(self, conn_id: str, fields: dict[str, Any]) -> None:
        self._update("connections", "id", conn_id, fields)

    def connection_for_entity(self, entity_id: str) -> Connection | None:
        row = self._one(
            "SELECT * FROM connections WHERE entity_id = ? ORDER BY created_at DESC, rowid DESC"
            " LIMIT 1",
            entity_id,
        )
        return to_connection(row) if row else None

    def insert_pull(self, pull: DataPull) -> None:
        self.queued_work = True
        self.conn.execute(
            "INSERT INTO data_pulls (id, org_id, connection_id, status, requested_at, status_at,"
            " completed_at, error, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                pull.id,
                pull.org_id,
                pull.connection_id,
                pull.status.value,
                pull.requested_at,
                pull.status_at,
                pull.completed_at,
                pull.error,
                dumps(pull.summary) if pull.summary is not None else None,
            ),
        )

    def update_pull(self, pull_id: str, fields: dict[str, Any]) -> None:
        self._update("data_pulls", "id", pull_id, fields)

    def pulls_for_connection(self, conn_id: str) -> list[DataPull]:
        rows = self._all(
            "SELECT * FROM data_pulls WHERE connection_id = ?"
            " ORDER BY requested_at DESC, rowid DESC",
            conn_id,
        )
        return [to_pull(r) for r in rows]

    def active_pulls(self, limit: int) -> list[DataPull]:
        rows = self._all(
            "SELECT * FROM data_pulls WHERE status IN ('Queued', 'Fetching')"
            " ORDER BY status_at LIMIT ?",
            limit,
        )
        return [to_pull(r) for r in rows]

    def insert_upload(self, upload: Upload, records: list[dict[str, Any]]) -> None:
        self.queued_work = True
        self.conn.execute(
            "INSERT INTO uploads (id, org_id, entity_id, filename, size, sha256, row_count,"
            " records, status, uploaded_at, process_after, processed_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                upload.id,
                upload.org_id,
                upload.entity_id,
                upload.filename,
                upload.size,
                upload.sha256,
                upload.row_count,
                json.dumps(records, separators=(",", ":")),
                upload.status.value,
                upload.uploaded_at,
                upload.process_after,
                upload.processed_at,
            ),
        )

    def update_upload(self, upload_id: str, fields: dict[str, Any]) -> None:
        self._update("uploads", "id", upload_id, fields)

    def uploads_for_entity(self, entity_id: str) -> list[Upload]:
        rows = self._all(
            "SELECT * FROM uploads WHERE entity_id = ? ORDER BY uploaded_at DESC, rowid DESC",
            entity_id,
        )
        return [to_upload(r) for r in rows]

    def upload_records(self, upload_id: str) -> list[dict[str, Any]]:
        row = self._one("SELECT records FROM uploads WHERE id = ?", upload_id)
        return json.loads(row[0]) if row else []

    def processing_uploads(self, now: str, limit: int) -> list[Upload]:
        rows = self._all(
            "SELECT * FROM uploads WHERE status = 'Processing' AND process_after <= ?"
            " ORDER BY process_after LIMIT ?",
            now,
            limit,
        )
        return [to_upload(r) for r in rows]

"""Queries on the event log, and the per-request facts the reports read."""

from __future__ import annotations

import json
from typing import Any

from journey.core.domain import Feature
from journey.core.records import Event, dumps
from journey.storage.sqlite.querying import TxBase
from journey.storage.sqlite.rows import csv_values, to_event


class EventQueries(TxBase):
    def append_event(
        self,
        org_id: str,
        actor: str,
        kind: str,
        payload: dict[str, Any],
        relationship_id: str | None = None,
        request_id: str | None = None,
    ) -> Event:
        at = self.now()
        cursor = self.conn.execute(
            "INSERT INTO events (org_id, at, actor, kind, relationship_id, request_id, payload)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (org_id, at, actor, kind, relationship_id, request_id, dumps(payload)),
        )
        seq = int(cursor.lastrowid or 0)
        self.newest_event = max(self.newest_event, seq)
        event = Event(
            seq=seq,
            org_id=org_id,
            at=at,
            actor=actor,
            kind=kind,
            relationship_id=relationship_id,
            request_id=request_id,
            payload=payload,
        )
        self.appended.append(event)
        return event

    def events_after(self, org_id: str, after: int, limit: int) -> list[Event]:
        rows = self._all(
            "SELECT * FROM events WHERE org_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            org_id,
            after,
            limit,
        )
        return [to_event(r) for r in rows]

    def events_since(self, after: int, limit: int) -> list[Event]:
        rows = self._all("SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?", after, limit)
        return [to_event(r) for r in rows]

    def request_facts_in_period(
        self, org_id: str, user_id: str | None, since: str, until: str
    ) -> list[dict[str, Any]]:
        """Per request created in [since, until) (of ``user_id``'s companies, or all):
        its data types, when it was opened, completed and first had data, where its
        journey stands, the steps it reached and whether a connection was linked."""
        mine = (
            " AND r.relationship_id IN (SELECT relationship_id FROM relationship_users"
            " WHERE user_id = ?)"
            if user_id
            else ""
        )
        args: list[Any] = [org_id, since, until, *([user_id] if user_id else [])]
        rows = self._all(
            "SELECT r.id, r.data_types, r.created_at, r.opened_at, r.completed_at, r.state,"
            " json_extract(r.journey, '$.step') AS step,"
            " (SELECT group_concat(DISTINCT json_extract(e.payload, '$.to')) FROM events e"
            "   WHERE e.request_id = r.id AND e.kind = 'journey.action') AS reached,"
            # Connected and data from the records themselves (seeded demos have no
            # per-step history; the records are the truth either way).
            " EXISTS (SELECT 1 FROM legal_entities le JOIN connections c ON c.entity_id = le.id"
            "   WHERE le.request_id = r.id AND c.status != 'PendingAuth') AS linked,"
            " (SELECT min(t) FROM ("
            "   SELECT p.completed_at AS t FROM legal_entities le"
            "   JOIN connections c ON c.entity_id = le.id"
            "   JOIN data_pulls p ON p.connection_id = c.id"
            "   WHERE le.request_id = r.id AND p.status = 'Complete'"
            "   UNION ALL SELECT u.processed_at FROM legal_entities le"
            "   JOIN uploads u ON u.entity_id = le.id"
            "   WHERE le.request_id = r.id AND u.status = 'Processed')) AS data_at,"
            " r.journey, r.features"
            " FROM requests r WHERE r.org_id = ? AND r.created_at >= ? AND r.created_at < ?"
            " AND r.relationship_id NOT IN (SELECT id FROM relationships INDEXED BY"
            " rel_simulated WHERE org_id = r.org_id AND simulated = 1)" + mine,
            *args,
        )
        return [
            {
                "id": row["id"],
                "data_types": csv_values(row["data_types"]),
                "created_at": row["created_at"],
                "opened_at": row["opened_at"],
                "completed_at": row["completed_at"],
                "state": row["state"],
                "step": row["step"],
                "reached": tuple((row["reached"] or "").split(",")) if row["reached"] else (),
                "linked": bool(row["linked"]),
                "data_at": row["data_at"],
                "journey": json.loads(row["journey"]),
                "features": None
                if row["features"] is None
                else frozenset(Feature(f) for f in csv_values(row["features"])),
            }
            for row in rows
        ]

    def events_for_request(self, req_id: str) -> list[Event]:
        return [
            to_event(r)
            for r in self._all("SELECT * FROM events WHERE request_id = ? ORDER BY seq", req_id)
        ]

    def events_for_relationship(self, rel_id: str, limit: int) -> list[Event]:
        rows = self._all(
            "SELECT * FROM events WHERE relationship_id = ? ORDER BY seq DESC LIMIT ?",
            rel_id,
            limit,
        )
        return [to_event(r) for r in reversed(rows)]

    def last_event_seq(self, org_id: str) -> int:
        row = self._one("SELECT max(seq) FROM events WHERE org_id = ?", org_id)
        return int(row[0] or 0) if row else 0

    def max_event_seq(self) -> int:
        row = self._one("SELECT max(seq) FROM events")
        return int(row[0] or 0) if row else 0

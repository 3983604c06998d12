"""Queries on relationships (companies) and their assignments to users; the list
pages are in ``listing``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from journey.core.records import Relationship
from journey.storage.sqlite.querying import TxBase
from journey.storage.sqlite.rows import stored, to_relationship


class RelationshipQueries(TxBase):
    def insert_relationship(self, rel: Relationship) -> None:
        self.conn.execute(
            "INSERT INTO relationships (id, org_id, parent_id, name, name_key, description,"
            " contact_name, contact_email, created_at, updated_at, version, status, status_at,"
            " requested, entities_linked, entities_total, platforms, latest_request_id,"
            " simulated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                rel.id,
                rel.org_id,
                rel.parent_id,
                rel.name,
                rel.name.casefold(),
                rel.description,
                rel.contact_name,
                rel.contact_email,
                rel.created_at,
                rel.updated_at,
                rel.version,
                rel.status.value,
                rel.status_at,
                stored(rel.requested),
                rel.entities_linked,
                rel.entities_total,
                stored(rel.platforms),
                rel.latest_request_id,
                int(rel.simulated),
            ),
        )

    def _users_of(self, rel_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        if not rel_ids:
            return {}
        marks = ",".join("?" * len(rel_ids))
        found: dict[str, list[str]] = {}
        for row in self._all(
            f"SELECT relationship_id, user_id FROM relationship_users"
            f" WHERE relationship_id IN ({marks}) ORDER BY user_id",
            *rel_ids,
        ):
            found.setdefault(row[0], []).append(row[1])
        return {k: tuple(v) for k, v in found.items()}

    def get_relationship(self, org_id: str, rel_id: str) -> Relationship | None:
        row = self._one("SELECT * FROM relationships WHERE id = ? AND org_id = ?", rel_id, org_id)
        if row is None:
            return None
        return to_relationship(row, self._users_of([rel_id]).get(rel_id, ()))

    def update_relationship(self, rel_id: str, fields: dict[str, Any]) -> None:
        if "name" in fields:
            fields = {**fields, "name_key": str(fields["name"]).casefold()}
        self._update("relationships", "id", rel_id, fields)

    def relationships_of_user(self, user_id: str) -> set[str]:
        rows = self._all(
            "SELECT relationship_id FROM relationship_users WHERE user_id = ?", user_id
        )
        return {row[0] for row in rows}

    def delete_relationship(self, rel_id: str) -> None:
        self.conn.execute("DELETE FROM relationships WHERE id = ?", (rel_id,))

    def delete_simulations(self, org_id: str) -> int:
        """Remove every customer simulation of the organization; answers how many."""
        ids = [
            r[0]
            for r in self._all(
                "SELECT id FROM relationships INDEXED BY rel_simulated"
                " WHERE org_id = ? AND simulated = 1 AND parent_id IS NULL",
                org_id,
            )
        ]
        for rel_id in ids:
            self.delete_relationship(rel_id)
        return len(ids)

    def set_relationship_users(self, rel: Relationship, user_ids: Sequence[str]) -> None:
        current = set(self._users_of([rel.id]).get(rel.id, ()))
        wanted = set(user_ids)
        for user_id in current - wanted:
            self.conn.execute(
                "DELETE FROM relationship_users WHERE relationship_id = ? AND user_id = ?",
                (rel.id, user_id),
            )
        row = self._one(
            "SELECT status, name_key, created_at, status_at, rowid FROM relationships WHERE id = ?",
            rel.id,
        )
        assert row is not None
        for user_id in sorted(wanted - current):
            self.conn.execute(
                "INSERT INTO relationship_users (relationship_id, user_id, org_id, status,"
                " name_key, created_at, status_at, rel_rowid) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (rel.id, user_id, rel.org_id, row[0], row[1], row[2], row[3], row[4]),
            )

    def children(self, rel_id: str) -> list[Relationship]:
        rows = self._all(
            "SELECT * FROM relationships WHERE parent_id = ? ORDER BY name_key", rel_id
        )
        users = self._users_of([r["id"] for r in rows])
        return [to_relationship(r, users.get(r["id"], ())) for r in rows]

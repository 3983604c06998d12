"""Queries on organizations, their users, API tokens, idempotency keys and the
customer-link misses.
"""

from __future__ import annotations

import json
from typing import Any

from journey.core.records import Organization, User, dumps
from journey.core.tokens import ApiToken, new_id
from journey.storage.sqlite.querying import TxBase
from journey.storage.sqlite.rows import to_api_token, to_organization, to_user


class OrganizationQueries(TxBase):
    def insert_organization(self, org: Organization) -> None:
        self.conn.execute(
            "INSERT INTO organizations (id, name, features, platforms, link_lifetime_days,"
            " simulated_failures, created_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                org.id,
                org.name,
                json.dumps(sorted(f.value for f in org.features)),
                json.dumps(list(org.platforms)),
                org.link_lifetime_days,
                dumps(org.simulated_failures),
                org.created_at,
                org.version,
            ),
        )

    def get_organization(self, org_id: str) -> Organization | None:
        row = self._one("SELECT * FROM organizations WHERE id = ?", org_id)
        return to_organization(row) if row else None

    def get_organization_by_name(self, name: str) -> Organization | None:
        row = self._one("SELECT * FROM organizations WHERE name = ?", name)
        return to_organization(row) if row else None

    def update_organization(self, org_id: str, fields: dict[str, Any]) -> None:
        self._update("organizations", "id", org_id, fields)

    def list_organizations(self) -> list[Organization]:
        return [
            to_organization(r) for r in self._all("SELECT * FROM organizations ORDER BY created_at")
        ]

    def insert_user(self, user: User) -> None:
        self.conn.execute(
            "INSERT INTO users (id, org_id, email, name, role, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (user.id, user.org_id, user.email, user.name, user.role.value, user.created_at),
        )

    def get_user(self, org_id: str, user_id: str) -> User | None:
        row = self._one("SELECT * FROM users WHERE id = ? AND org_id = ?", user_id, org_id)
        return to_user(row) if row else None

    def get_user_by_email(self, org_id: str, email: str) -> User | None:
        row = self._one(
            "SELECT * FROM users WHERE org_id = ? AND email = ? COLLATE NOCASE", org_id, email
        )
        return to_user(row) if row else None

    def list_users(self, org_id: str) -> list[User]:
        return [
            to_user(r)
            for r in self._all("SELECT * FROM users WHERE org_id = ? ORDER BY name", org_id)
        ]

    def insert_token(
        self,
        token_hash: str,
        user_id: str,
        label: str,
        *,
        token_id: str | None = None,
        prefix: str = "",
        expires_at: str | None = None,
    ) -> None:
        self.conn.execute(
            "INSERT INTO api_tokens (token_hash, user_id, label, created_at, id, prefix,"
            " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (token_hash, user_id, label, self.now(), token_id or new_id(), prefix, expires_at),
        )

    def revoke_token(self, token_hash: str) -> None:
        self.conn.execute(
            "UPDATE api_tokens SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL",
            (self.now(), token_hash),
        )

    def revoke_token_by_id(self, token_id: str) -> ApiToken | None:
        """Revoke the token ``token_id`` (if not already); the token as it now is, or None."""
        self.conn.execute(
            "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (self.now(), token_id),
        )
        row = self._one("SELECT * FROM api_tokens WHERE id = ?", token_id)
        return to_api_token(row) if row else None

    def user_for_token(self, token_hash: str) -> User | None:
        row = self._one(
            "SELECT u.* FROM api_tokens t JOIN users u ON u.id = t.user_id"
            " WHERE t.token_hash = ? AND t.revoked_at IS NULL"
            " AND (t.expires_at IS NULL OR t.expires_at > ?)",
            token_hash,
            self.now(),
        )
        return to_user(row) if row else None

    def token_and_user(self, token_hash: str) -> tuple[ApiToken, User] | None:
        """The token with this hash and its user, revoked or expired alike."""
        token = self._one("SELECT * FROM api_tokens WHERE token_hash = ?", token_hash)
        if token is None:
            return None
        user = self._one("SELECT * FROM users WHERE id = ?", token["user_id"])
        return (to_api_token(token), to_user(user)) if user else None

    def list_tokens(self, org_id: str | None = None) -> list[tuple[ApiToken, User]]:
        """Every token (of one organization's users), oldest first."""
        rows = self._all(
            "SELECT t.id AS t_id, t.prefix, t.user_id, t.label, t.created_at AS t_created,"
            " t.expires_at, t.revoked_at, u.* FROM api_tokens t JOIN users u ON u.id = t.user_id"
            " WHERE ? IS NULL OR u.org_id = ? ORDER BY t.created_at, t.id",
            org_id,
            org_id,
        )
        return [
            (
                ApiToken(
                    id=row["t_id"],
                    prefix=row["prefix"],
                    user_id=row["user_id"],
                    label=row["label"],
                    created_at=row["t_created"],
                    expires_at=row["expires_at"],
                    revoked_at=row["revoked_at"],
                ),
                to_user(row),
            )
            for row in rows
        ]

    # Customer-link misses, per client address and minute (journey.api.context.LinkGuard)

    def link_misses(self, address: str, minute: int) -> tuple[int, int]:
        """Misses from ``address`` in ``minute`` and in the minute before it."""
        rows = self._all(
            "SELECT minute, misses FROM link_misses WHERE minute IN (?, ?) AND address = ?",
            minute - 1,
            minute,
            address,
        )
        counts = {row["minute"]: row["misses"] for row in rows}
        return counts.get(minute, 0), counts.get(minute - 1, 0)

    def count_link_miss(self, address: str, minute: int) -> None:
        self.conn.execute(
            "INSERT INTO link_misses (minute, address, misses) VALUES (?, ?, 1)"
            " ON CONFLICT DO UPDATE SET misses = misses + 1",
            (minute, address),
        )
        # Older minutes count no more: forgotten, so the table stays a few rows long.
        self.conn.execute("DELETE FROM link_misses WHERE minute < ?", (minute - 1,))

    # Idempotency

    def get_idempotent(self, user_id: str, key: str) -> tuple[str, int, str] | None:
        row = self._one(
            "SELECT fingerprint, status_code, body FROM idempotency_keys"
            " WHERE user_id = ? AND key = ?",
            user_id,
            key,
        )
        return (row[0], row[1], row[2]) if row else None

    def put_idempotent(
        self, user_id: str, key: str, fingerprint: str, status: int, body: str
    ) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO idempotency_keys"
            " (user_id, key, fingerprint, status_code, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (user_id, key, fingerprint, status, body, self.now()),
        )

"""Users and their API tokens: created, checked, revoked."""

from __future__ import annotations

from journey.core.domain import Role
from journey.core.errors import NotFound
from journey.core.records import Organization, User
from journey.core.tokens import (
    SHOWN_PREFIX,
    TOKEN_DAYS,
    ApiToken,
    hash_secret,
    new_api_token,
    new_id,
    token_expiry,
)
from journey.service.common import clean_email
from journey.storage.base import Tx


def ensure_user(tx: Tx, org: Organization, email: str, name: str, role: Role) -> User:
    email = clean_email(email, "email")
    user = tx.get_user_by_email(org.id, email)
    if user is not None:
        return user
    user = User(id=new_id(), org_id=org.id, email=email, name=name, role=role, created_at=tx.now())
    tx.insert_user(user)
    tx.append_event(
        org.id, "system", "user.created", {"user_id": user.id, "email": email, "role": role.value}
    )
    return user


def create_token(tx: Tx, user: User, label: str = "", *, days: int = TOKEN_DAYS) -> str:
    """A new API token for ``user`` that lives ``days`` days; only its hash is stored,
    so show it once."""
    token = new_api_token()
    token_id = new_id()
    expires_at = token_expiry(days)
    tx.insert_token(
        hash_secret(token),
        user.id,
        label,
        token_id=token_id,
        prefix=token[:SHOWN_PREFIX],
        expires_at=expires_at,
    )
    tx.append_event(
        user.org_id,
        "system",
        "token.created",
        {"user_id": user.id, "label": label, "token_id": token_id, "expires_at": expires_at},
    )
    return token


def authenticate(tx: Tx, token: str) -> User | None:
    """The user of a token that may be used now (not revoked, not expired), or None."""
    if not token or len(token) > 200:
        return None
    return tx.user_for_token(hash_secret(token))


def token_holder(tx: Tx, token: str) -> tuple[ApiToken, User] | None:
    """The token (revoked and expired ones too) and its user, to say why it is refused."""
    if not token or len(token) > 200:
        return None
    return tx.token_and_user(hash_secret(token))


def revoke_token(tx: Tx, token_id: str) -> ApiToken:
    """Revoke a token by its id (``relportal token revoke``); NotFound if there is none."""
    token = tx.revoke_token_by_id(token_id)
    if token is None:
        raise NotFound(f"There is no API token {token_id}.", "unknown_token")
    user = next((u for t, u in tx.list_tokens() if t.id == token_id), None)
    if user is not None:
        tx.append_event(
            user.org_id, "system", "token.revoked", {"user_id": user.id, "token_id": token_id}
        )
    return token

"""Companies (relationships): cleaned, added, edited, deleted."""

from __future__ import annotations

from typing import Any

from journey import derive
from journey.core.domain import COMPANY_NAME_MAX, CONTACT_NAME_MAX, DESCRIPTION_MAX, USERS_MAX
from journey.core.errors import Invalid, NotFound
from journey.core.records import Relationship, User
from journey.core.tokens import new_id
from journey.service.common import (
    WRITERS,
    actor_of,
    check_version,
    clean_email,
    clean_text,
    require_role,
)
from journey.storage.base import Tx

NAME_MAX = COMPANY_NAME_MAX  # the name journey.simulation knows it by


def clean_relationship(data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    specs = {
        "name": (True, COMPANY_NAME_MAX),
        "description": (False, DESCRIPTION_MAX),
        "contact_name": (True, CONTACT_NAME_MAX),
    }
    for key, (required, max_len) in specs.items():
        if key in data or not partial:
            out[key] = clean_text(data.get(key), key, required=required, max_len=max_len)
    if "contact_email" in data or not partial:
        out["contact_email"] = clean_email(data.get("contact_email"))
    if "users" in data or not partial:
        users = data.get("users") or []
        if (
            not isinstance(users, list)
            or len(users) > USERS_MAX
            or any(not isinstance(u, str) for u in users)
        ):
            raise Invalid(f"users must be a list of at most {USERS_MAX} user ids.", "invalid_users")
        out["users"] = tuple(dict.fromkeys(users))
    return out


def _check_users(tx: Tx, org_id: str, user_ids: tuple[str, ...]) -> None:
    for user_id in user_ids:
        if tx.get_user(org_id, user_id) is None:
            raise Invalid(f"There is no user {user_id} in your organization.", "unknown_user")


def get_relationship(tx: Tx, user: User, rel_id: str) -> Relationship:
    rel = tx.get_relationship(user.org_id, rel_id)
    if rel is None:
        raise NotFound("No such company.", "relationship_not_found")
    return rel


def create_relationship(tx: Tx, user: User, data: dict[str, Any]) -> Relationship:
    require_role(user, *WRITERS)
    clean = clean_relationship(data)
    _check_users(tx, user.org_id, clean["users"])
    return add_relationship(tx, user, clean)


def add_relationship(
    tx: Tx,
    user: User,
    clean: dict[str, Any],
    note: dict[str, Any] | None = None,
    *,
    simulated: bool = False,
) -> Relationship:
    """Insert a company from cleaned fields (``clean_relationship``), with its event."""
    now = tx.now()
    rel = Relationship(
        id=new_id(),
        org_id=user.org_id,
        parent_id=None,
        name=clean["name"],
        description=clean["description"],
        contact_name=clean["contact_name"],
        contact_email=clean["contact_email"],
        created_at=now,
        updated_at=now,
        version=1,
        status=derive.CompanyStatus.NONE,
        status_at=now,
        requested=(),
        entities_linked=0,
        entities_total=0,
        platforms=(),
        latest_request_id=None,
        simulated=simulated,
    )
    tx.insert_relationship(rel)
    tx.set_relationship_users(rel, clean["users"])
    tx.append_event(
        user.org_id,
        actor_of(user),
        "relationship.created",
        {"name": rel.name, "users": list(clean["users"]), **(note or {})},
        relationship_id=rel.id,
    )
    return get_relationship(tx, user, rel.id)


def update_relationship(
    tx: Tx, user: User, rel_id: str, data: dict[str, Any], version: int | None
) -> Relationship:
    require_role(user, *WRITERS)
    rel = get_relationship(tx, user, rel_id)
    check_version(rel.version, version)
    clean = clean_relationship(data, partial=True)
    users = clean.pop("users", None)
    if users is not None:
        _check_users(tx, user.org_id, users)
        tx.set_relationship_users(rel, users)
    changes = {k: v for k, v in clean.items() if getattr(rel, k) != v}
    tx.update_relationship(rel.id, {**changes, "version": rel.version + 1, "updated_at": tx.now()})
    payload: dict[str, Any] = {
        "changed": sorted(changes) + (["users"] if users is not None else []),
        # Whose company it is now: a portal following its own user's companies can
        # leave another's edit unread.
        "users": list(users if users is not None else rel.users),
    }
    if "name" in changes:
        payload["name"] = changes["name"]
    if users is not None:
        # Who no longer follows the company: a portal following only its user's
        # companies (``scope=mine``) hears of that too.
        payload["unassigned"] = sorted(set(rel.users) - set(users))
    tx.append_event(
        user.org_id, actor_of(user), "relationship.updated", payload, relationship_id=rel.id
    )
    return get_relationship(tx, user, rel.id)


def delete_relationship(tx: Tx, user: User, rel_id: str, version: int | None) -> None:
    require_role(user, *WRITERS)
    rel = get_relationship(tx, user, rel_id)
    if version is not None:
        check_version(rel.version, version)
    children = tx.children(rel.id)
    tx.delete_relationship(rel.id)
    tx.append_event(
        user.org_id,
        actor_of(user),
        "relationship.deleted",
        {"name": rel.name, "subsidiaries": [c.id for c in children], "users": list(rel.users)},
        relationship_id=rel.id,
    )

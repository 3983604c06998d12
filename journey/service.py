"""The RM side of the journey service: organizations, users, relationships, requests.

Every public function runs inside one write or read transaction (a ``Tx``) and
appends an event for every change of state. Authorization is checked here, not in
the HTTP layer, so that every caller (API, CLI, seeding) gets the same rules:
objects of another organization are simply not found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from journey import derive
from journey.accent import clean_accent
from journey.domain import (
    COMPANY_NAME_MAX,
    CONTACT_NAME_MAX,
    DESCRIPTION_MAX,
    EMAIL_MAX,
    USERS_MAX,
    DataType,
    Delivery,
    Feature,
    RequestState,
    Role,
)
from journey.emails import RequestEmail, compose_request_email
from journey.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
)
from journey.machine import JourneyState
from journey.platforms import DEFAULT_PLATFORMS, PLATFORMS, platform_name
from journey.records import (
    InformationRequest,
    Organization,
    Relationship,
    User,
)
from journey.storage.base import Tx
from journey.text import has_hidden_characters
from journey.tokens import (
    SHOWN_PREFIX,
    TOKEN_DAYS,
    ApiToken,
    hash_secret,
    new_api_token,
    new_id,
    new_link_token,
    token_expiry,
)

NAME_MAX = COMPANY_NAME_MAX  # the name journey.simulation knows it by
DEFAULT_ORG_NAME = "Larkspur Bank"
ALL_FEATURES = frozenset(Feature)
_EMAIL = re.compile(
    r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$"
)


def actor_of(user: User) -> str:
    return f"user:{user.id}"


def _now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# Validation


def clean_text(value: Any, field: str, *, required: bool, max_len: int) -> str:
    """One line of user text: trimmed, printable, within its length."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Invalid(f"{field} must be text.", f"invalid_{field}", field=field)
    text = " ".join(value.split())
    if required and not text:
        raise Invalid(f"{field} is required.", f"missing_{field}", field=field)
    if len(text) > max_len:
        raise Invalid(
            f"{field} is {len(text)} characters long; at most {max_len} are allowed.",
            f"invalid_{field}",
            field=field,
        )
    if has_hidden_characters(text):
        raise Invalid(f"{field} contains control characters.", f"invalid_{field}", field=field)
    return text


def clean_email(value: Any, field: str = "contact_email") -> str:
    text = clean_text(value, field, required=True, max_len=EMAIL_MAX)
    if not _EMAIL.match(text):
        raise Invalid(f"{field} “{text}” is not an email address.", f"invalid_{field}", field=field)
    return text


def clean_data_types(value: Any) -> frozenset[DataType]:
    if not isinstance(value, list) or not value:
        raise Invalid(
            "Choose at least one data type: financials, spend_analysis.", "invalid_data_types"
        )
    try:
        types = frozenset(DataType(v) for v in value)
    except (ValueError, TypeError):
        raise Invalid(
            "data_types may contain only financials and spend_analysis.", "invalid_data_types"
        ) from None
    return types


# Organizations, users, tokens


def ensure_organization(
    tx: Tx,
    name: str = DEFAULT_ORG_NAME,
    *,
    features: frozenset[Feature] = ALL_FEATURES,
    platforms: tuple[str, ...] = DEFAULT_PLATFORMS,
    link_lifetime_days: int = 7,
) -> Organization:
    org = tx.get_organization_by_name(name)
    if org is not None:
        return org
    org = Organization(
        id=new_id(),
        name=name,
        features=features,
        platforms=platforms,
        link_lifetime_days=link_lifetime_days,
        simulated_failures={},
        created_at=tx.now(),
        version=1,
    )
    tx.insert_organization(org)
    tx.append_event(org.id, "system", "organization.created", {"name": name})
    return org


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


def require_role(user: User, *roles: Role) -> None:
    if user.role not in roles:
        allowed = " or ".join(r.value for r in roles)
        raise Forbidden(f"This needs the {allowed} role; you are {user.role.value}.")


WRITERS = (Role.RM, Role.ADMIN)


def embedded_user(tx: Tx, email: str | None = None) -> User | None:
    """Who a portal running the service in-process signs in as: the user with
    ``email`` (config's ``[portal] user``), else the demo's relationship manager
    (``journey.seed.DEMO_PORTAL_USER``). Never "the first one": a user added later
    (``relportal token create``) must not change who the portal is."""
    if not email:
        from journey.seed import DEMO_PORTAL_USER

        email = DEMO_PORTAL_USER
    for org in tx.list_organizations():
        user = tx.get_user_by_email(org.id, email)
        if user is not None:
            return user
    return None


def me(tx: Tx, user: User) -> dict[str, Any]:
    org = tx.get_organization(user.org_id)
    assert org is not None
    return {
        "user": user.to_dict(),
        "organization": {
            "id": org.id,
            "name": org.name,
            "version": org.version,
            "accent": org.accent or None,
        },
        "features": sorted(f.value for f in org.features),
        "platforms": [{"key": k, "name": platform_name(k)} for k in org.platforms],
        "link_lifetime_days": org.link_lifetime_days,
        "users": [u.to_dict() for u in tx.list_users(org.id)],
    }


def update_organization(
    tx: Tx, user: User, changes: dict[str, Any], version: int | None
) -> dict[str, Any]:
    """Admin: features, platforms, link lifetime, simulated platform failures and the
    accent colour of the customer's pages."""
    require_role(user, Role.ADMIN)
    org = tx.get_organization(user.org_id)
    assert org is not None
    _check_version(org.version, version)
    fields: dict[str, Any] = {}
    if "features" in changes:
        try:
            fields["features"] = sorted({Feature(f).value for f in changes["features"]})
        except (ValueError, TypeError):
            raise Invalid(
                "features may contain copy_link, manual_upload and multi_entity.",
                "invalid_features",
            ) from None
    if "platforms" in changes:
        keys = changes["platforms"]
        if not isinstance(keys, list) or not keys or any(k not in PLATFORMS for k in keys):
            raise Invalid(
                f"platforms must be a non-empty list of: {', '.join(PLATFORMS)}.",
                "invalid_platforms",
            )
        fields["platforms"] = list(dict.fromkeys(keys))
    if "link_lifetime_days" in changes:
        days = changes["link_lifetime_days"]
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 90:
            raise Invalid(
                "link_lifetime_days must be a whole number from 1 to 90.",
                "invalid_link_lifetime_days",
            )
        fields["link_lifetime_days"] = days
    if "simulated_failures" in changes:
        failures = changes["simulated_failures"]
        if not isinstance(failures, dict) or any(
            k not in PLATFORMS or v not in ("FetchError", "AuthError") for k, v in failures.items()
        ):
            raise Invalid(
                "simulated_failures maps a platform key to FetchError or AuthError.",
                "invalid_simulated_failures",
            )
        fields["simulated_failures"] = dict(failures)
    if "accent" in changes:
        fields["accent"] = clean_accent(changes["accent"])
    fields["version"] = org.version + 1
    tx.update_organization(org.id, fields)
    tx.append_event(
        org.id, actor_of(user), "organization.updated", {k: v for k, v in fields.items()}
    )
    return me(tx, user)


# Relationships


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


def _check_version(current: int, expected: int | None) -> None:
    if expected is None:
        raise PreconditionRequired(
            "Send the version you edited (If-Match header or “version”) so that "
            "nobody's change is overwritten."
        )
    if expected != current:
        raise PreconditionFailed(
            f"Someone changed this since you loaded it (version {expected}, now {current}). "
            "Reload and try again.",
            current_version=current,
        )


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
    tx: Tx, user: User, clean: dict[str, Any], note: dict[str, Any] | None = None
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
    _check_version(rel.version, version)
    clean = clean_relationship(data, partial=True)
    users = clean.pop("users", None)
    if users is not None:
        _check_users(tx, user.org_id, users)
        tx.set_relationship_users(rel, users)
    changes = {k: v for k, v in clean.items() if getattr(rel, k) != v}
    tx.update_relationship(rel.id, {**changes, "version": rel.version + 1, "updated_at": tx.now()})
    payload: dict[str, Any] = {
        "changed": sorted(changes) + (["users"] if users is not None else [])
    }
    if "name" in changes:
        payload["name"] = changes["name"]
    tx.append_event(
        user.org_id, actor_of(user), "relationship.updated", payload, relationship_id=rel.id
    )
    return get_relationship(tx, user, rel.id)


def delete_relationship(tx: Tx, user: User, rel_id: str, version: int | None) -> None:
    require_role(user, *WRITERS)
    rel = get_relationship(tx, user, rel_id)
    if version is not None:
        _check_version(rel.version, version)
    children = tx.children(rel.id)
    tx.delete_relationship(rel.id)
    tx.append_event(
        user.org_id,
        actor_of(user),
        "relationship.deleted",
        {"name": rel.name, "subsidiaries": [c.id for c in children]},
        relationship_id=rel.id,
    )


# Information requests


def _sender(tx: Tx, req: InformationRequest) -> str:
    user = tx.get_user(req.org_id, req.created_by)
    return user.name if user else "Your relationship manager"


def compose_email(
    org: Organization,
    rel: Relationship,
    sender: str,
    data_types: frozenset[DataType],
    link: str,
) -> RequestEmail:
    return compose_request_email(
        organization=org.name,
        sender=sender,
        company=rel.name,
        contact_name=rel.contact_name,
        contact_email=rel.contact_email,
        data_types=data_types,
        link=link,
        accent=org.accent,
    )


def preview_request(tx: Tx, user: User, rel_id: str, data: dict[str, Any]) -> dict[str, Any]:
    rel = get_relationship(tx, user, rel_id)
    org = tx.get_organization(user.org_id)
    assert org is not None
    types = clean_data_types(data.get("data_types"))
    email = compose_email(org, rel, user.name, types, "{link}")
    return {"email": email.to_dict()}


@dataclass(frozen=True)
class IssuedRequest:
    request: InformationRequest
    link: str
    email: RequestEmail | None


def link_for(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/j/{token}"


def create_request(
    tx: Tx, user: User, rel_id: str, data: dict[str, Any], public_url: str
) -> IssuedRequest:
    require_role(user, *WRITERS)
    rel = get_relationship(tx, user, rel_id)
    org = tx.get_organization(user.org_id)
    assert org is not None
    types = clean_data_types(data.get("data_types"))
    try:
        delivery = Delivery(data.get("delivery", "email"))
    except ValueError:
        raise Invalid("delivery must be email or link.", "invalid_delivery") from None
    if delivery is Delivery.LINK and Feature.COPY_LINK not in org.features:
        raise Forbidden(
            "Copy link is not enabled for your organization; send the request by email.",
            "feature_disabled",
        )
    return issue_request(tx, user, rel, types, delivery, public_url)


def issue_request(
    tx: Tx,
    user: User,
    rel: Relationship,
    types: frozenset[DataType],
    delivery: Delivery,
    public_url: str,
    features: frozenset[Feature] | None = None,
) -> IssuedRequest:
    """A new request to ``rel`` with a fresh link (the caller has checked the user may)."""
    org = tx.get_organization(user.org_id)
    assert org is not None
    now = _now()
    new_request_id = new_id()
    # A new request supersedes any earlier one still open: its link stops working.
    for old in tx.requests_for_relationship(rel.id):
        if old.state in (RequestState.SENT, RequestState.OPENED):
            _cancel(tx, old, actor_of(user), reason="superseded", superseded_by=new_request_id)
    token = new_link_token()
    req = InformationRequest(
        id=new_request_id,
        org_id=user.org_id,
        relationship_id=rel.id,
        data_types=types,
        delivery=delivery,
        created_by=user.id,
        created_at=iso(now),
        expires_at=iso(now + timedelta(days=org.link_lifetime_days)),
        state=RequestState.SENT,
        state_at=iso(now),
        opened_at=None,
        completed_at=None,
        journey=JourneyState().to_dict(),
        link_issued_at=iso(now),
        version=1,
        features=features,
    )
    tx.insert_request(req, hash_secret(token))
    link = link_for(public_url, token)
    email = compose_email(org, rel, user.name, types, link) if delivery is Delivery.EMAIL else None
    tx.append_event(
        user.org_id,
        actor_of(user),
        "request.created",
        {
            "data_types": sorted(t.value for t in types),
            "delivery": delivery.value,
            "expires_at": req.expires_at,
            "name": rel.name,
            **({} if features is None else {"features": sorted(f.value for f in features)}),
        },
        relationship_id=rel.id,
        request_id=req.id,
    )
    derive.recompute_for_request(tx, req, actor_of(user))
    return IssuedRequest(request=req, link=link, email=email)


def get_request(tx: Tx, user: User, req_id: str) -> InformationRequest:
    req = tx.get_request(user.org_id, req_id)
    if req is None:
        raise NotFound("No such request.", "request_not_found")
    return req


def _cancel(
    tx: Tx, req: InformationRequest, actor: str, reason: str, superseded_by: str | None = None
) -> None:
    now = tx.now()
    tx.revoke_link(req.id, reason)
    fields: dict[str, Any] = {
        "state": RequestState.CANCELLED.value,
        "state_at": now,
        "version": req.version + 1,
    }
    payload: dict[str, Any] = {"reason": reason}
    if superseded_by is not None:
        fields["superseded_by"] = payload["superseded_by"] = superseded_by
    tx.update_request(req.id, fields)
    tx.append_event(req.org_id, actor, "request.cancelled", payload, req.relationship_id, req.id)
    derive.recompute_for_request(tx, req, actor)


def cancel_request(tx: Tx, user: User, req_id: str) -> InformationRequest:
    require_role(user, *WRITERS)
    req = get_request(tx, user, req_id)
    if req.state is RequestState.CANCELLED:
        raise Conflict("The request is already cancelled.", "request_cancelled")
    if req.state is RequestState.COMPLETE:
        raise Conflict(
            "The customer has completed this request; it cannot be cancelled.", "request_complete"
        )
    _cancel(tx, req, actor_of(user), reason="cancelled by the relationship manager")
    return get_request(tx, user, req_id)


def resend_request(
    tx: Tx, user: User, req_id: str, data: dict[str, Any], public_url: str
) -> IssuedRequest:
    """A fresh link (the old one stops working) and a fresh expiry; by email or as a link."""
    require_role(user, *WRITERS, Role.SUPPORT)
    req = get_request(tx, user, req_id)
    if req.state in (RequestState.CANCELLED, RequestState.COMPLETE):
        raise Conflict(
            f"The request is {req.state.value.lower()}; create a new request instead.",
            "request_closed",
        )
    org = tx.get_organization(user.org_id)
    rel = tx.get_relationship(user.org_id, req.relationship_id)
    assert org is not None and rel is not None
    try:
        delivery = Delivery(data.get("delivery", req.delivery.value))
    except ValueError:
        raise Invalid("delivery must be email or link.", "invalid_delivery") from None
    if delivery is Delivery.LINK and Feature.COPY_LINK not in org.features:
        raise Forbidden("Copy link is not enabled for your organization.", "feature_disabled")
    if user.role is Role.SUPPORT and delivery is Delivery.EMAIL:
        raise Forbidden("Support staff can take a link but not email the customer.")
    now = _now()
    token = new_link_token()
    state = RequestState.OPENED if req.opened_at else RequestState.SENT
    tx.revoke_link(req.id, "resent")
    tx.update_request(
        req.id,
        {
            "link_hash": hash_secret(token),
            "link_issued_at": iso(now),
            "expires_at": iso(now + timedelta(days=org.link_lifetime_days)),
            "state": state.value,
            "state_at": iso(now),
            "version": req.version + 1,
        },
    )
    tx.append_event(
        user.org_id,
        actor_of(user),
        "request.resent",
        {"delivery": delivery.value},
        relationship_id=req.relationship_id,
        request_id=req.id,
    )
    fresh = get_request(tx, user, req_id)
    derive.recompute_for_request(tx, fresh, actor_of(user))
    link = link_for(public_url, token)
    email = (
        compose_email(org, rel, _sender(tx, req), req.data_types, link)
        if delivery is Delivery.EMAIL
        else None
    )
    return IssuedRequest(request=fresh, link=link, email=email)


def expire_request_now(tx: Tx, user: User, req_id: str) -> InformationRequest:
    """Support: end a link's life now, to reproduce what a customer with an old link sees."""
    require_role(user, Role.ADMIN, Role.SUPPORT)
    req = get_request(tx, user, req_id)
    if req.state not in (RequestState.SENT, RequestState.OPENED):
        raise Conflict(
            f"The request is {req.state.value.lower()}; it has no live link.", "request_closed"
        )
    mark_expired(tx, req, actor_of(user))
    return get_request(tx, user, req_id)


def mark_expired(tx: Tx, req: InformationRequest, actor: str = "system") -> None:
    now = tx.now()
    tx.update_request(
        req.id,
        {
            "state": RequestState.EXPIRED.value,
            "state_at": now,
            "expires_at": min(req.expires_at, now),
            "version": req.version + 1,
        },
    )
    tx.append_event(req.org_id, actor, "request.expired", {}, req.relationship_id, req.id)
    derive.recompute_for_request(tx, req, actor)


def note_email_sent(tx: Tx, req: InformationRequest, outcome: dict[str, Any]) -> None:
    kind = "request.email_sent" if outcome.get("sent") else "request.email_failed"
    tx.append_event(req.org_id, "system", kind, outcome, req.relationship_id, req.id)

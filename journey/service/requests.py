"""Information requests: previewed, issued with a fresh link, resent, cancelled, expired."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from journey import derive
from journey.core.domain import DataType, Delivery, Feature, RequestState, Role
from journey.core.errors import Conflict, Forbidden, Invalid, NotFound
from journey.core.machine import JourneyState
from journey.core.records import InformationRequest, Organization, Relationship, User
from journey.core.tokens import hash_secret, new_id, new_link_token
from journey.emails import RequestEmail, compose_request_email
from journey.service.common import WRITERS, actor_of, clean_data_types, iso, require_role
from journey.service.relationships import get_relationship
from journey.storage.base import Tx


def _now() -> datetime:
    return datetime.now(UTC)


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

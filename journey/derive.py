"""Keeps each relationship's portal columns (status, entities, platforms) true to its facts.

Called inside the write transaction after anything that can change them; a status
change appends a ``relationship.status_changed`` event whose time is the status time.
"""

from __future__ import annotations

from datetime import UTC, datetime

from journey.core.domain import CompanyStatus, RequestState
from journey.core.machine import EntityState, EntityView
from journey.core.records import InformationRequest, LegalEntity
from journey.core.status import EntityFacts, RequestFacts, derive_company_status
from journey.storage.base import Tx


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def is_expired(req: InformationRequest, now: datetime | None = None) -> bool:
    if req.state is RequestState.EXPIRED:
        return True
    if req.state in (RequestState.COMPLETE, RequestState.CANCELLED):
        return False
    return parse_time(req.expires_at) <= (now or datetime.now(UTC))


def entity_facts(tx: Tx, entity: LegalEntity) -> EntityFacts:
    conn = tx.connection_for_entity(entity.id)
    pulls = tx.pulls_for_connection(conn.id) if conn else []
    uploads = tx.uploads_for_entity(entity.id)
    return EntityFacts(
        connection=conn.status if conn else None,
        denied=entity.denied,
        last_pull=pulls[0].status if pulls else None,
        ever_complete=any(p.status.value == "Complete" for p in pulls),
        upload=uploads[0].status if uploads else None,
    )


def entity_view(tx: Tx, entity: LegalEntity) -> EntityView:
    """How the customer's journey sees one entity."""
    conn = tx.connection_for_entity(entity.id)
    uploads = tx.uploads_for_entity(entity.id)
    if uploads:
        state = EntityState.UPLOADED
    elif conn is None:
        state = EntityState.DENIED if entity.denied else EntityState.PENDING
    elif conn.status.value == "Linked":
        state = EntityState.LINKED
    elif conn.status.value == "Unlinked":
        state = EntityState.UNLINKED
    elif conn.status.value == "Deauthorized":
        state = EntityState.DEAUTHORIZED
    else:
        state = EntityState.DENIED if entity.denied else EntityState.CONNECTING
    return EntityView(
        id=entity.id,
        name=entity.name,
        state=state,
        platform=conn.platform if conn else None,
        is_company=entity.is_company,
    )


def has_shared_data(tx: Tx, entity: LegalEntity) -> bool:
    """Whether the customer has shared anything for this entity: a file or a data pull."""
    if tx.uploads_for_entity(entity.id):
        return True
    conn = tx.connection_for_entity(entity.id)
    return conn is not None and bool(tx.pulls_for_connection(conn.id))


def shown_entities(
    tx: Tx, rel_id: str, latest: InformationRequest | None
) -> list[tuple[LegalEntity, bool]]:
    """The entities the company's page and reports show, each with whether it comes from
    an earlier request: the latest request's, and, while none of those has data yet, the
    ones of the newest earlier request that has, so data already shared stays visible
    while a new request is open."""
    entities = tx.entities_for_request(latest.id) if latest else []
    shown = [(e, False) for e in entities]
    if latest is None or any(has_shared_data(tx, e) for e in entities):
        return shown
    # Its own earlier requests, newest first; then, for a subsidiary, the parent's
    # request its entity was shared under.
    candidates = [
        r.id
        for r in tx.requests_for_relationship(rel_id)
        if r.id != latest.id and r.created_at <= latest.created_at
    ]
    for entity in reversed(tx.entities_for_relationship(rel_id)):
        if entity.request_id != latest.id and entity.request_id not in candidates:
            candidates.append(entity.request_id)
    for req_id in candidates:
        earlier = [e for e in tx.entities_for_request(req_id) if has_shared_data(tx, e)]
        if earlier:
            return shown + [(e, True) for e in earlier]
    return shown


def request_facts(req: InformationRequest) -> RequestFacts:
    return RequestFacts(
        opened=req.opened_at is not None,
        completed=req.state is RequestState.COMPLETE,
        expired=is_expired(req),
    )


def recompute(tx: Tx, org_id: str, rel_id: str, actor: str = "system") -> CompanyStatus | None:
    """Re-derive one relationship's columns; returns its status (None if it is gone)."""
    rel = tx.get_relationship(org_id, rel_id)
    if rel is None:
        return None
    req = tx.latest_live_request(rel_id)
    if req is not None:
        entities = tx.entities_for_request(req.id)
    else:
        # A subsidiary created in its parent's journey: its own entity in that request.
        own = tx.entities_for_relationship(rel_id)
        entities = own[-1:] if own else []
        req = tx.get_request(org_id, entities[0].request_id) if entities else None
        if req is not None and req.state is RequestState.CANCELLED:
            req, entities = None, []
    facts = [entity_facts(tx, e) for e in entities]
    status = derive_company_status(request_facts(req) if req else None, facts)
    platforms: list[str] = []
    for entity in entities:
        conn = tx.connection_for_entity(entity.id)
        if conn is not None and conn.status.value == "Linked" and conn.platform not in platforms:
            platforms.append(conn.platform)
    requested = ",".join(sorted(d.value for d in req.data_types)) if req else ""
    # Platforms keep the order they were linked in, which the list column shows.
    fields: dict[str, object] = {
        "requested": requested,
        "entities_linked": sum(1 for f in facts if f.linked),
        "entities_total": len(entities),
        "platforms": ",".join(platforms),
        "latest_request_id": req.id if req else None,
    }
    current: dict[str, object] = {
        "requested": ",".join(d.value for d in rel.requested),
        "entities_linked": rel.entities_linked,
        "entities_total": rel.entities_total,
        "platforms": ",".join(rel.platforms),
        "latest_request_id": rel.latest_request_id,
    }
    changed = {key: value for key, value in fields.items() if current[key] != value}
    if status is not rel.status:
        event = tx.append_event(
            org_id,
            actor,
            "relationship.status_changed",
            {"from": rel.status.value, "to": status.value, "name": rel.name},
            relationship_id=rel_id,
            request_id=req.id if req else None,
        )
        changed["status"] = status.value
        changed["status_at"] = event.at
    if changed:
        tx.update_relationship(rel_id, changed)
    return status


def recompute_for_request(tx: Tx, req: InformationRequest, actor: str = "system") -> None:
    """Everything a change to one request can touch: its company and its subsidiaries."""
    rel_ids = [req.relationship_id]
    for entity in tx.entities_for_request(req.id):
        if entity.relationship_id not in rel_ids:
            rel_ids.append(entity.relationship_id)
    for rel_id in rel_ids:
        recompute(tx, req.org_id, rel_id, actor)

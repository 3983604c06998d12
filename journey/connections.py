"""What the RM (or support) does to connections: refresh data, unlink, deauthorize."""

from __future__ import annotations

from typing import Any

from journey import derive, service
from journey.core.domain import ConnectionStatus, Role
from journey.core.errors import Conflict, NotFound
from journey.core.records import Connection, InformationRequest, User
from journey.customer import queue_pull
from journey.storage.base import Tx


def refresh(tx: Tx, user: User, rel_id: str) -> dict[str, Any]:
    """Queue a new data pull for every linked connection of the company (and subsidiaries)."""
    service.require_role(user, *service.WRITERS)
    rel = service.get_relationship(tx, user, rel_id)
    pulls = []
    for entity in tx.entities_for_relationship(rel.id) + [
        e for child in tx.children(rel.id) for e in tx.entities_for_relationship(child.id)
    ]:
        conn = tx.connection_for_entity(entity.id)
        req = tx.get_request(user.org_id, entity.request_id)
        if conn is None or req is None or conn.status is not ConnectionStatus.LINKED:
            continue
        pulls.append(queue_pull(tx, req, conn, service.actor_of(user)).id)
    if not pulls:
        raise Conflict(
            "There is no linked connection to refresh; request information first.",
            "nothing_to_refresh",
        )
    for req_id in {e.request_id for e in tx.entities_for_relationship(rel.id)}:
        req = tx.get_request(user.org_id, req_id)
        if req is not None:
            derive.recompute_for_request(tx, req, service.actor_of(user))
    return {"pulls": pulls}


def _find(tx: Tx, user: User, conn_id: str) -> tuple[Connection, InformationRequest]:
    conn = tx.get_connection(user.org_id, conn_id)
    entity = tx.get_entity(conn.entity_id) if conn else None
    req = tx.get_request(user.org_id, entity.request_id) if entity else None
    if conn is None or req is None:
        raise NotFound("No such connection.", "connection_not_found")
    return conn, req


def _set_status(
    tx: Tx,
    user: User,
    conn: Connection,
    req: InformationRequest,
    status: ConnectionStatus,
    kind: str,
) -> dict[str, Any]:
    tx.update_connection(conn.id, {"status": status.value, "status_at": tx.now()})
    entity = tx.get_entity(conn.entity_id)
    tx.append_event(
        user.org_id,
        service.actor_of(user),
        kind,
        {
            "connection_id": conn.id,
            "platform": conn.platform,
            "entity": entity.name if entity else "",
        },
        entity.relationship_id if entity else req.relationship_id,
        req.id,
    )
    derive.recompute_for_request(tx, req, service.actor_of(user))
    return {"id": conn.id, "status": status.value}


def unlink(tx: Tx, user: User, conn_id: str) -> dict[str, Any]:
    """The RM's side cuts the connection; data fetched before stays readable."""
    service.require_role(user, *service.WRITERS)
    conn, req = _find(tx, user, conn_id)
    if conn.status is not ConnectionStatus.LINKED:
        raise Conflict(f"The connection is {conn.status.value}, not Linked.", "not_linked")
    return _set_status(tx, user, conn, req, ConnectionStatus.UNLINKED, "connection.unlinked")


def deauthorize(tx: Tx, user: User, conn_id: str) -> dict[str, Any]:
    """Simulate the customer revoking access at their platform (support and admins)."""
    service.require_role(user, Role.ADMIN, Role.SUPPORT)
    conn, req = _find(tx, user, conn_id)
    if conn.status is not ConnectionStatus.LINKED:
        raise Conflict(f"The connection is {conn.status.value}, not Linked.", "not_linked")
    return _set_status(
        tx, user, conn, req, ConnectionStatus.DEAUTHORIZED, "connection.deauthorized"
    )

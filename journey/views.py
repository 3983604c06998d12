"""Records as the API shows them (plain JSON-ready dicts)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from journey import derive
from journey.core.domain import CompanyStatus
from journey.core.errors import Invalid
from journey.core.platforms import platform_name
from journey.core.records import Connection, DataPull, InformationRequest, Relationship, Upload
from journey.reports import entity_reports
from journey.storage.base import Tx


def status_value(status: CompanyStatus) -> str | None:
    return None if status is CompanyStatus.NONE else status.value


def relationship(rel: Relationship) -> dict[str, Any]:
    return {
        "id": rel.id,
        "name": rel.name,
        "description": rel.description,
        "contact_name": rel.contact_name,
        "contact_email": rel.contact_email,
        "users": list(rel.users),
        "parent_id": rel.parent_id,
        "created_at": rel.created_at,
        "updated_at": rel.updated_at,
        "version": rel.version,
        "status": status_value(rel.status),
        "status_label": "—" if rel.status is CompanyStatus.NONE else rel.status.value,
        "status_at": rel.status_at,
        "requested": [d.value for d in rel.requested],
        "entities_linked": rel.entities_linked,
        "entities_total": rel.entities_total,
        "simulated": rel.simulated,
        "platforms": [{"key": k, "name": platform_name(k)} for k in rel.platforms],
        "latest_request_id": rel.latest_request_id,
    }


def request(req: InformationRequest) -> dict[str, Any]:
    state = req.state
    if derive.is_expired(req) and state.value in ("Sent", "Opened"):
        state = type(state)("Expired")
    return {
        "id": req.id,
        "relationship_id": req.relationship_id,
        "data_types": sorted(d.value for d in req.data_types),
        "delivery": req.delivery.value,
        "created_by": req.created_by,
        "created_at": req.created_at,
        "expires_at": req.expires_at,
        "state": state.value,
        "state_at": req.state_at,
        "opened_at": req.opened_at,
        "completed_at": req.completed_at,
        "step": req.journey.get("step", "email"),
        "superseded_by": req.superseded_by,
        "version": req.version,
    }


def connection(conn: Connection, pulls: list[DataPull]) -> dict[str, Any]:
    return {
        "id": conn.id,
        "platform": {"key": conn.platform, "name": platform_name(conn.platform)},
        "status": conn.status.value,
        "status_at": conn.status_at,
        "created_at": conn.created_at,
        "last_sync_at": conn.last_sync_at,
        "pulls": [
            {
                "id": p.id,
                "status": p.status.value,
                "requested_at": p.requested_at,
                "status_at": p.status_at,
                "completed_at": p.completed_at,
                "error": p.error,
                "summary": p.summary,
            }
            for p in pulls[:10]
        ],
    }


def upload(item: Upload) -> dict[str, Any]:
    return {
        "id": item.id,
        "filename": item.filename,
        "size": item.size,
        "rows": item.row_count,
        "status": item.status.value,
        "uploaded_at": item.uploaded_at,
        "processed_at": item.processed_at,
    }


def entities_of(
    tx: Tx, req: InformationRequest, *, with_earlier_data: bool = False
) -> list[dict[str, Any]]:
    """The request's entities; ``with_earlier_data``: while none of them has data yet,
    also those of the newest earlier request that has (``earlier`` true)."""
    out = []
    if with_earlier_data:
        shown = derive.shown_entities(tx, req.relationship_id, req)
    else:
        shown = [(e, False) for e in tx.entities_for_request(req.id)]
    data_types = {req.id: req.data_types}
    for entity, earlier in shown:
        if entity.request_id not in data_types:
            own = tx.get_request(req.org_id, entity.request_id)
            data_types[entity.request_id] = own.data_types if own else req.data_types
        conn = tx.connection_for_entity(entity.id)
        out.append(
            {
                "id": entity.id,
                "name": entity.name,
                "relationship_id": entity.relationship_id,
                "is_company": entity.is_company,
                "state": derive.entity_view(tx, entity).state.value,
                "created_at": entity.created_at,
                "connection": connection(conn, tx.pulls_for_connection(conn.id)) if conn else None,
                "uploads": [upload(u) for u in tx.uploads_for_entity(entity.id)],
                "request_id": entity.request_id,
                "earlier": earlier,
                "reports": entity_reports(tx, entity, data_types[entity.request_id]),
            }
        )
    return out


def encode_cursor(after: tuple[str, str], sort: str, descending: bool) -> str:
    raw = json.dumps([after[0], after[1], sort, descending], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str, descending: bool) -> tuple[str, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, rel_id, c_sort, c_desc = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(value, str) or not isinstance(rel_id, str):
            raise ValueError
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError, UnicodeDecodeError):
        raise Invalid("The cursor is not one this service gave out.", "invalid_cursor") from None
    if c_sort != sort or c_desc != descending:
        raise Invalid("The cursor belongs to another sort order.", "invalid_cursor")
    return value, rel_id

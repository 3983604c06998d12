"""Rows as records and records as rows: the mappers from a ``sqlite3.Row`` to a
record, how Python values are stored, and which columns an update may set.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from journey.core.domain import (
    CompanyStatus,
    ConnectionStatus,
    DataType,
    Delivery,
    Feature,
    PullStatus,
    RequestState,
    Role,
    UploadStatus,
)
from journey.core.records import (
    Connection,
    DataPull,
    Event,
    InformationRequest,
    LegalEntity,
    Organization,
    Relationship,
    Upload,
    User,
    dumps,
)
from journey.core.tokens import ApiToken


def csv_values(values: str) -> tuple[str, ...]:
    return tuple(v for v in values.split(",") if v)


def to_organization(row: sqlite3.Row) -> Organization:
    return Organization(
        id=row["id"],
        name=row["name"],
        features=frozenset(Feature(f) for f in json.loads(row["features"])),
        platforms=tuple(json.loads(row["platforms"])),
        link_lifetime_days=row["link_lifetime_days"],
        simulated_failures=json.loads(row["simulated_failures"]),
        created_at=row["created_at"],
        version=row["version"],
        accent=row["accent"],
    )


def to_api_token(row: sqlite3.Row) -> ApiToken:
    return ApiToken(
        id=row["id"],
        prefix=row["prefix"],
        user_id=row["user_id"],
        label=row["label"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
    )


def to_user(row: sqlite3.Row) -> User:
    return User(
        id=row["id"],
        org_id=row["org_id"],
        email=row["email"],
        name=row["name"],
        role=Role(row["role"]),
        created_at=row["created_at"],
    )


def to_relationship(row: sqlite3.Row, users: tuple[str, ...] = ()) -> Relationship:
    return Relationship(
        id=row["id"],
        org_id=row["org_id"],
        parent_id=row["parent_id"],
        name=row["name"],
        description=row["description"],
        contact_name=row["contact_name"],
        contact_email=row["contact_email"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
        status=CompanyStatus(row["status"]),
        status_at=row["status_at"],
        requested=tuple(DataType(d) for d in csv_values(row["requested"])),
        entities_linked=row["entities_linked"],
        entities_total=row["entities_total"],
        platforms=csv_values(row["platforms"]),
        latest_request_id=row["latest_request_id"],
        users=users,
        simulated=bool(row["simulated"]),
    )


def to_request(row: sqlite3.Row) -> InformationRequest:
    return InformationRequest(
        id=row["id"],
        org_id=row["org_id"],
        relationship_id=row["relationship_id"],
        data_types=frozenset(DataType(d) for d in csv_values(row["data_types"])),
        delivery=Delivery(row["delivery"]),
        created_by=row["created_by"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        state=RequestState(row["state"]),
        state_at=row["state_at"],
        opened_at=row["opened_at"],
        completed_at=row["completed_at"],
        journey=json.loads(row["journey"]),
        link_issued_at=row["link_issued_at"],
        version=row["version"],
        features=None
        if row["features"] is None
        else frozenset(Feature(f) for f in csv_values(row["features"])),
        superseded_by=row["superseded_by"],
    )


def to_entity(row: sqlite3.Row) -> LegalEntity:
    return LegalEntity(
        id=row["id"],
        org_id=row["org_id"],
        request_id=row["request_id"],
        relationship_id=row["relationship_id"],
        name=row["name"],
        is_company=bool(row["is_company"]),
        denied=bool(row["denied"]),
        created_at=row["created_at"],
    )


def to_connection(row: sqlite3.Row) -> Connection:
    return Connection(
        id=row["id"],
        org_id=row["org_id"],
        entity_id=row["entity_id"],
        platform=row["platform"],
        status=ConnectionStatus(row["status"]),
        created_at=row["created_at"],
        status_at=row["status_at"],
        last_sync_at=row["last_sync_at"],
    )


def to_pull(row: sqlite3.Row) -> DataPull:
    return DataPull(
        id=row["id"],
        org_id=row["org_id"],
        connection_id=row["connection_id"],
        status=PullStatus(row["status"]),
        requested_at=row["requested_at"],
        status_at=row["status_at"],
        completed_at=row["completed_at"],
        error=row["error"],
        summary=json.loads(row["summary"]) if row["summary"] else None,
    )


def to_upload(row: sqlite3.Row) -> Upload:
    return Upload(
        id=row["id"],
        org_id=row["org_id"],
        entity_id=row["entity_id"],
        filename=row["filename"],
        size=row["size"],
        sha256=row["sha256"],
        row_count=row["row_count"],
        status=UploadStatus(row["status"]),
        uploaded_at=row["uploaded_at"],
        process_after=row["process_after"],
        processed_at=row["processed_at"],
    )


def to_event(row: sqlite3.Row) -> Event:
    return Event(
        seq=row["seq"],
        org_id=row["org_id"],
        at=row["at"],
        actor=row["actor"],
        kind=row["kind"],
        relationship_id=row["relationship_id"],
        request_id=row["request_id"],
        payload=json.loads(row["payload"]),
    )


def stored(value: Any) -> Any:
    """Python values as the columns hold them."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dict):
        return dumps(value)
    if isinstance(value, (list, tuple, frozenset, set)):
        return ",".join(sorted(str(v) for v in value))
    return value


UPDATABLE = {
    "organizations": {
        "features",
        "platforms",
        "link_lifetime_days",
        "simulated_failures",
        "accent",
        "version",
    },
    "relationships": {
        "name",
        "name_key",
        "description",
        "contact_name",
        "contact_email",
        "updated_at",
        "version",
        "status",
        "status_at",
        "requested",
        "entities_linked",
        "entities_total",
        "platforms",
        "latest_request_id",
    },
    "requests": {
        "state",
        "state_at",
        "opened_at",
        "completed_at",
        "journey",
        "link_hash",
        "link_issued_at",
        "expires_at",
        "version",
        "superseded_by",
    },
    "legal_entities": {"denied", "name"},
    "connections": {"status", "status_at", "last_sync_at", "platform"},
    "data_pulls": {"status", "status_at", "completed_at", "error", "summary"},
    "uploads": {"status", "processed_at"},
}

"""Records the store hands to the service: one dataclass per stored noun."""

from __future__ import annotations

import json
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Organization:
    id: str
    name: str
    features: frozenset[Feature]
    platforms: tuple[str, ...]
    link_lifetime_days: int
    simulated_failures: dict[str, str]
    created_at: str
    version: int
    accent: str = ""  # "#rrggbb" on the customer's pages; "" for the default

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "accent": self.accent or None,
            "features": sorted(f.value for f in self.features),
            "platforms": list(self.platforms),
            "link_lifetime_days": self.link_lifetime_days,
            "simulated_failures": dict(self.simulated_failures),
            "created_at": self.created_at,
            "version": self.version,
        }


@dataclass(frozen=True)
class User:
    id: str
    org_id: str
    email: str
    name: str
    role: Role
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "email": self.email, "name": self.name, "role": self.role.value}


@dataclass(frozen=True)
class Relationship:
    id: str
    org_id: str
    parent_id: str | None
    name: str
    description: str
    contact_name: str
    contact_email: str
    created_at: str
    updated_at: str
    version: int
    status: CompanyStatus
    status_at: str
    requested: tuple[DataType, ...]
    entities_linked: int
    entities_total: int
    platforms: tuple[str, ...]
    latest_request_id: str | None
    users: tuple[str, ...] = ()
    # A customer simulation's company: kept out of lists, counts and the portfolio.
    simulated: bool = False


@dataclass(frozen=True)
class InformationRequest:
    id: str
    org_id: str
    relationship_id: str
    data_types: frozenset[DataType]
    delivery: Delivery
    created_by: str
    created_at: str
    expires_at: str
    state: RequestState
    state_at: str
    opened_at: str | None
    completed_at: str | None
    journey: dict[str, Any]
    link_issued_at: str | None
    version: int
    # The feature switches this request's journey follows; None: the organization's,
    # as they are now. Customer simulations fix their own (every branch can be shown).
    features: frozenset[Feature] | None = None
    # The request that replaced this one while it was open (its link then stopped).
    superseded_by: str | None = None


@dataclass(frozen=True)
class LegalEntity:
    id: str
    org_id: str
    request_id: str
    relationship_id: str
    name: str
    is_company: bool
    denied: bool
    created_at: str


@dataclass(frozen=True)
class Connection:
    id: str
    org_id: str
    entity_id: str
    platform: str
    status: ConnectionStatus
    created_at: str
    status_at: str
    last_sync_at: str | None


@dataclass(frozen=True)
class DataPull:
    id: str
    org_id: str
    connection_id: str
    status: PullStatus
    requested_at: str
    status_at: str
    completed_at: str | None
    error: str | None
    summary: dict[str, Any] | None


@dataclass(frozen=True)
class Upload:
    id: str
    org_id: str
    entity_id: str
    filename: str
    size: int
    sha256: str
    row_count: int
    status: UploadStatus
    uploaded_at: str
    process_after: str
    processed_at: str | None


@dataclass(frozen=True)
class Event:
    seq: int
    org_id: str
    at: str
    actor: str
    kind: str
    relationship_id: str | None
    request_id: str | None
    payload: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "kind": self.kind,
            "relationship_id": self.relationship_id,
            "request_id": self.request_id,
            "payload": self.payload,
        }


def dumps(value: Any) -> str:
    """Compact, stable JSON for stored payloads."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)

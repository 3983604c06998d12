"""Request and response bodies, as the OpenAPI document publishes them.

Bodies reject unknown fields. Types are checked here; the domain's rules (lengths,
printable text, email shape, which action fits which step) are checked by the
service so that every caller gets the same readable reasons.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from journey.core.domain import SEARCH_MAX, DataType, Delivery, Feature

Text = str


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    """RFC 9457 problem details; ``code`` is stable for machines."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    model_config = ConfigDict(extra="allow")


class RelationshipCreate(Strict):
    name: Text = Field(max_length=1000)
    description: Text = Field(default="", max_length=5000)
    contact_name: Text = Field(max_length=1000)
    contact_email: Text = Field(max_length=1000)
    users: list[Text] = Field(default_factory=list, max_length=50)


class RelationshipPatch(Strict):
    name: Text | None = Field(default=None, max_length=1000)
    description: Text | None = Field(default=None, max_length=5000)
    contact_name: Text | None = Field(default=None, max_length=1000)
    contact_email: Text | None = Field(default=None, max_length=1000)
    users: list[Text] | None = Field(default=None, max_length=50)
    version: int | None = Field(default=None, ge=1, le=2**53)


class RequestPreviewBody(Strict):
    data_types: list[DataType] = Field(min_length=1, max_length=2)


class RequestCreate(Strict):
    data_types: list[DataType] = Field(min_length=1, max_length=2)
    delivery: Delivery = Delivery.EMAIL


class SimulationCreate(Strict):
    """A fresh demo request to walk as the customer: a copy of ``from_request``, or
    made from ``data_types`` and ``features`` (default: the organization's)."""

    from_request: str | None = Field(default=None, max_length=64)
    data_types: list[DataType] | None = Field(default=None, min_length=1, max_length=2)
    features: list[Feature] | None = Field(default=None, max_length=10)
    company_name: str | None = Field(default=None, max_length=200)


class ResendBody(Strict):
    delivery: Delivery | None = None


class OrganizationPatch(Strict):
    features: list[Feature] | None = Field(default=None, max_length=10)
    platforms: list[str] | None = Field(default=None, max_length=50)
    link_lifetime_days: int | None = None
    simulated_failures: dict[str, Literal["FetchError", "AuthError"]] | None = None
    # "#RRGGBB" (white text on it at least 4.5:1), or null for the default.
    accent: str | None = Field(default=None, max_length=20)
    version: int | None = Field(default=None, ge=1, le=2**53)


class JourneyActionBody(Strict):
    action: str = Field(max_length=50)
    method: str | None = Field(default=None, max_length=50)
    count: str | None = Field(default=None, max_length=50)
    name: str | None = Field(default=None, max_length=1000)
    platform: str | None = Field(default=None, max_length=50)
    username: str | None = Field(default=None, max_length=500)
    password: str | None = Field(default=None, max_length=500)


class UserOut(BaseModel):
    id: str
    email: str
    name: str
    role: str


class RelationshipOut(BaseModel):
    id: str
    name: str
    description: str
    contact_name: str
    contact_email: str
    users: list[str]
    parent_id: str | None
    created_at: str
    updated_at: str
    version: int
    status: str | None
    status_label: str
    status_at: str
    requested: list[str]
    entities_linked: int
    entities_total: int
    platforms: list[dict[str, str]]
    latest_request_id: str | None
    simulated: bool = False


class RelationshipListQuery(BaseModel):
    """The query of ``GET /v1/relationships``, validated once. Frozen: it is part of
    the key the page is kept under."""

    model_config = ConfigDict(frozen=True)

    q: str = Field(default="", max_length=SEARCH_MAX)
    status: str | None = Field(default=None, max_length=40)
    user: str = Field(default="me", max_length=64, description="me, all or a user id")
    sort: str = Field(
        default="name", max_length=20, description="name, created or updated; -name descends"
    )
    cursor: str | None = Field(default=None, max_length=2000)
    offset: int = Field(default=0, ge=0, le=100_000_000)
    limit: int = Field(default=50, ge=1, le=500)
    parent: str | None = Field(default=None, max_length=64)
    counts: bool = Field(default=True, description="false: rows only (total and counts null)")
    simulated: bool = Field(
        default=False, description="true: the customer simulations, kept out of every other list"
    )

    def page_args(self) -> dict[str, Any]:
        """The arguments of ``journey.relationship_list.relationship_page``."""
        return {
            "q": self.q,
            "status": self.status,
            "user_filter": self.user,
            "sort": self.sort,
            "cursor": self.cursor,
            "offset": self.offset,
            "limit": self.limit,
            "parent": self.parent,
            "counts": self.counts,
            "simulated": self.simulated,
        }


class RelationshipPage(BaseModel):
    items: list[RelationshipOut]
    total: int | None
    counts: dict[str, int] | None
    next_cursor: str | None
    limit: int


class EmailOut(BaseModel):
    to_name: str
    to_address: str
    from_name: str
    subject: str
    text: str
    call_to_action: str
    link: str


class RequestOut(BaseModel):
    id: str
    relationship_id: str
    data_types: list[str]
    delivery: str
    created_by: str
    created_at: str
    expires_at: str
    state: str
    state_at: str
    opened_at: str | None
    completed_at: str | None
    step: str
    version: int


class IssuedRequestOut(BaseModel):
    request: RequestOut
    link: str | None = None
    email: dict[str, Any] | None = None
    # Set when the emailed link opens only on the service's computer (loopback).
    notice: str | None = None


class EventOut(BaseModel):
    seq: int
    at: str
    actor: str
    kind: str
    relationship_id: str | None
    request_id: str | None
    payload: dict[str, Any]


class EventsOut(BaseModel):
    events: list[EventOut]
    last_seq: int = Field(
        description="The sequence number to resume from (``after``): the last event's, or"
        " ``after`` if none; with ``scope=mine`` it may be further on, past events that"
        " were not the caller's"
    )


class JourneyOut(BaseModel):
    step: str
    title: str
    closed: bool
    body: list[str]
    view: dict[str, Any]
    actions: list[dict[str, Any]]
    path: list[str] = []
    error: dict[str, Any] | None
    entities: list[dict[str, Any]]
    request: dict[str, Any]
    notice: str | None = None
    requests: list[dict[str, Any]] | None = None

"""The storage interface the service is written against.

``Store`` runs a function inside one transaction, off the event loop, and hands it a
``Tx``: the repository for that transaction. Each method's docstring is its contract,
which ``tests/storage/`` checks for every backend. The SQLite implementation lives in
``journey.storage.sqlite``; another database implements the same two protocols and
adds itself to the contract suite's backends.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from journey.core.domain import CompanyStatus
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
)
from journey.core.tokens import ApiToken

T = TypeVar("T")

SORT_KEYS = ("name", "created", "updated")


@dataclass(frozen=True)
class RelationshipQuery:
    """One page of the relationship list, as the portal asks for it."""

    org_id: str
    user_id: str | None = None  # None: the whole organization
    status: CompanyStatus | None = None
    q: str = ""
    sort: str = "name"
    descending: bool = False
    after: tuple[str, str] | None = None  # keyset: (sort value, id) of the last row seen
    offset: int = 0
    limit: int = 50
    parent_id: str | None = None
    # Counting per status can cost more than the page for a broad search; a client
    # that types ahead asks for the rows first and the counts separately.
    with_counts: bool = True
    # True: the customer simulations instead of the bank's companies.
    simulated: bool = False


@dataclass(frozen=True)
class Committed:
    """What a write transaction did, told to the store's listeners after its commit
    (the event hub, the background worker), so that they need not read it back."""

    newest_event: int = 0  # the newest event's sequence number it appended (0: none)
    queued_work: bool = False  # a data pull or an upload for the background worker
    # The events it appended, in order: the event hub keeps them without a read.
    events: tuple[Event, ...] = ()


@dataclass
class Page:
    rows: list[Relationship]
    next_after: tuple[str, str] | None
    counts: dict[str, int] | None = field(default_factory=dict)
    total: int | None = 0


class Tx(Protocol):
    """Everything the service reads and writes, inside one transaction."""

    def now(self) -> str:
        """The time now as the store writes times: ISO 8601 UTC with milliseconds,
        sorting as text."""

    # Organizations and users
    def insert_organization(self, org: Organization) -> None:
        """Add an organization; its id and name are new."""

    def get_organization(self, org_id: str) -> Organization | None:
        """The organization with this id, or None."""

    def get_organization_by_name(self, name: str) -> Organization | None:
        """The organization with exactly this name, or None."""

    def update_organization(self, org_id: str, fields: dict[str, Any]) -> None:
        """Set ``fields`` (features, platforms, link_lifetime_days, simulated_failures, accent,
        version); ValueError for any other."""

    def list_organizations(self) -> list[Organization]:
        """Every organization, oldest first."""

    def insert_user(self, user: User) -> None:
        """Add a user to their organization."""

    def get_user(self, org_id: str, user_id: str) -> User | None:
        """The user with this id in this organization, or None (another organization's: None)."""

    def get_user_by_email(self, org_id: str, email: str) -> User | None:
        """The organization's user with this address, whatever its case, or None."""

    def list_users(self, org_id: str) -> list[User]:
        """The organization's users by name."""

    def insert_token(
        self,
        token_hash: str,
        user_id: str,
        label: str,
        *,
        token_id: str | None = None,
        prefix: str = "",
        expires_at: str | None = None,
    ) -> None:
        """Keep an API token by its hash (never the token), for ``user_id``, created now."""

    def user_for_token(self, token_hash: str) -> User | None:
        """The user of a live token (not revoked, not expired) with this hash, or None."""

    def token_and_user(self, token_hash: str) -> tuple[ApiToken, User] | None:
        """The token with this hash and its user, revoked or expired alike, or None."""

    def list_tokens(self, org_id: str | None = None) -> list[tuple[ApiToken, User]]:
        """Every token with its user (of one organization's users), oldest first."""

    def revoke_token(self, token_hash: str) -> None:
        """Revoke the token with this hash, if live; a revoked one keeps its time."""

    def revoke_token_by_id(self, token_id: str) -> ApiToken | None:
        """Revoke the token ``token_id`` (if not already); the token as it now is, or None."""

    # Customer-link misses
    def link_misses(self, address: str, minute: int) -> tuple[int, int]:
        """Unknown-link misses from ``address`` in ``minute`` and in the minute before it."""

    def count_link_miss(self, address: str, minute: int) -> None:
        """Count one miss for ``address`` in ``minute``; misses of older minutes are forgotten."""

    # Relationships
    def insert_relationship(self, rel: Relationship) -> None:
        """Add a company (its users are set apart: ``set_relationship_users``)."""

    def get_relationship(self, org_id: str, rel_id: str) -> Relationship | None:
        """The company with this id in this organization, with its users, or None."""

    def update_relationship(self, rel_id: str, fields: dict[str, Any]) -> None:
        """Set ``fields`` (name, contact, status, counts, …); ValueError for others. A new name is
        searched by at once."""

    def delete_relationship(self, rel_id: str) -> None:
        """Remove a company."""

    def delete_simulations(self, org_id: str) -> int:
        """Remove the organization's customer simulations (companies flagged ``simulated``),
        each with its subsidiaries; answers how many were removed, subsidiaries uncounted."""

    def set_relationship_users(self, rel: Relationship, user_ids: Sequence[str]) -> None:
        """Make ``user_ids`` exactly the company's assigned users."""

    def relationships_of_user(self, user_id: str) -> set[str]:
        """The ids of the companies the user is assigned to."""

    def children(self, rel_id: str) -> list[Relationship]:
        """The company's subsidiaries, by name."""

    def list_relationships(self, query: RelationshipQuery) -> Page:
        """One page of the list: the query's filters, search, sort and keyset or offset; the counts
        per status unless ``with_counts`` is False (then ``counts`` and ``total`` are None)."""

    # Requests and what hangs off them
    def insert_request(self, req: InformationRequest, link_hash: str | None) -> None:
        """Add a request, its customer link kept by ``link_hash`` (None: no live link)."""

    def get_request(self, org_id: str, req_id: str) -> InformationRequest | None:
        """The request with this id in this organization, or None."""

    def request_by_link_hash(self, link_hash: str) -> InformationRequest | None:
        """The request whose live link has this hash, or None."""

    def update_request(self, req_id: str, fields: dict[str, Any]) -> None:
        """Set ``fields`` (state, journey, link, version, …); ValueError for others."""

    def revoke_link(self, req_id: str, reason: str) -> None:
        """End the request's link, remembering why (``link_revocation``)."""

    def link_revocation(self, link_hash: str) -> str | None:
        """Why the link with this hash was revoked, or None if it never was."""

    def requests_for_relationship(self, rel_id: str) -> list[InformationRequest]:
        """The company's requests, newest first."""

    def latest_live_request(self, rel_id: str) -> InformationRequest | None:
        """The company's newest request not cancelled, or None."""

    def requests_expiring(self, now: str, limit: int) -> list[InformationRequest]:
        """Up to ``limit`` requests sent or opened whose expiry is at or before ``now``, soonest
        first."""

    def insert_entity(self, entity: LegalEntity) -> None:
        """Add a legal entity found in a request."""

    def get_entity(self, entity_id: str) -> LegalEntity | None:
        """The entity with this id, or None."""

    def update_entity(self, entity_id: str, fields: dict[str, Any]) -> None:
        """Set ``fields`` (denied, name); ValueError for others."""

    def delete_entity(self, entity_id: str) -> None:
        """Remove an entity."""

    def entities_for_request(self, req_id: str) -> list[LegalEntity]:
        """The request's entities in the order they were added."""

    def entities_for_relationship(self, rel_id: str) -> list[LegalEntity]:
        """The company's entities, of every request, in the order they were added."""

    def insert_connection(self, conn: Connection) -> None:
        """Add a connection of an entity to an accounting platform."""

    def get_connection(self, org_id: str, conn_id: str) -> Connection | None:
        """The connection with this id in this organization, or None."""

    def update_connection(self, conn_id: str, fields: dict[str, Any]) -> None:
        """Set ``fields`` (status, status_at, last_sync_at, platform); ValueError for others."""

    def connection_for_entity(self, entity_id: str) -> Connection | None:
        """The entity's newest connection, or None."""

    def insert_pull(self, pull: DataPull) -> None:
        """Queue a data pull (the background worker is told on commit)."""

    def update_pull(self, pull_id: str, fields: dict[str, Any]) -> None:
        """Set ``fields`` (status, times, error, summary); ValueError for others."""

    def pulls_for_connection(self, conn_id: str) -> list[DataPull]:
        """The connection's pulls, newest first."""

    def active_pulls(self, limit: int) -> list[DataPull]:
        """Up to ``limit`` pulls queued or fetching, longest waiting first."""

    def insert_upload(self, upload: Upload, records: list[dict[str, Any]]) -> None:
        """Keep an uploaded file's facts and its ``records`` (the background worker is told on
        commit)."""

    def update_upload(self, upload_id: str, fields: dict[str, Any]) -> None:
        """Set ``fields`` (status, processed_at); ValueError for others."""

    def uploads_for_entity(self, entity_id: str) -> list[Upload]:
        """The entity's uploads, newest first."""

    def upload_records(self, upload_id: str) -> list[dict[str, Any]]:
        """The records of an upload as they were kept ([] for none)."""

    def processing_uploads(self, now: str, limit: int) -> list[Upload]:
        """Up to ``limit`` uploads processing and due by ``now``, longest due first."""

    # Events
    def append_event(
        self,
        org_id: str,
        actor: str,
        kind: str,
        payload: dict[str, Any],
        relationship_id: str | None = None,
        request_id: str | None = None,
    ) -> Event:
        """Append an event; its sequence number is greater than every earlier one's. Events are
        never changed nor removed."""

    def events_after(self, org_id: str, after: int, limit: int) -> list[Event]:
        """Up to ``limit`` of the organization's events after sequence number
        ``after``, in order."""

    def events_since(self, after: int, limit: int) -> list[Event]:
        """Up to ``limit`` events of every organization after sequence number ``after``, in
        order (the event hub's one read for all its waiters)."""

    def status_counts(self, query: RelationshipQuery) -> dict[str, int]:
        """Companies per status, for the query's filters other than status itself."""

    def request_facts_in_period(
        self, org_id: str, user_id: str | None, since: str, until: str
    ) -> list[dict[str, Any]]:
        """Per request created in [since, until) (of ``user_id``'s companies, or all): what the
        reports count."""

    def events_for_request(self, req_id: str) -> list[Event]:
        """The request's events in order."""

    def events_for_relationship(self, rel_id: str, limit: int) -> list[Event]:
        """The company's ``limit`` newest events, oldest first."""

    def max_event_seq(self) -> int:
        """The newest event's sequence number of any organization (0: none)."""

    def last_event_seq(self, org_id: str) -> int:
        """The organization's newest event's sequence number (0: none)."""

    # Idempotency
    def get_idempotent(self, user_id: str, key: str) -> tuple[str, int, str] | None:
        """The answer kept for this user's idempotency key: (fingerprint, status, body), or None."""

    def put_idempotent(
        self, user_id: str, key: str, fingerprint: str, status: int, body: str
    ) -> None:
        """Keep the answer to this user's idempotency key."""


class Store(Protocol):
    """A database the service reads and writes through, one transaction at a time.

    Each way in runs a function with the ``Tx`` of one transaction: reads see one
    consistent snapshot; a write commits if the function returns and rolls back,
    having written nothing, if it raises (the exception goes on to the caller).
    Writes take turns, across the processes sharing the database too. The
    contract is tested once for every backend in ``tests/storage/``.
    """

    async def read(self, fn: Callable[[Tx], T]) -> T:
        """``fn`` in a read transaction, off the event loop; what it returns."""

    async def write(self, fn: Callable[[Tx], T]) -> T:
        """``fn`` in a write transaction, off the event loop; what it returns once
        committed. The store's listeners (``on_commit`` of an implementation) are
        told what it did (``Committed``) after the commit."""

    def read_sync(self, fn: Callable[[Tx], T]) -> T:
        """``read`` on the calling thread (the CLI, tests, background threads)."""

    def write_sync(self, fn: Callable[[Tx], T]) -> T:
        """``write`` on the calling thread."""

    def close(self) -> None:
        """Let go of the database: connections, threads, lock files."""

    def data_version(self) -> int | None:
        """A number that changes whenever anything, of any process, commits to the
        database; None if the backend has none. Cheap enough to ask on the event
        loop (response caches are keyed by it)."""

    def auth_epoch(self) -> int | None:
        """A number that moves whenever a commit, of any process, writes users or API
        tokens (anything that decides who a token belongs to and whether it is good),
        and with nothing else; None if the backend has none. One small read: ask it
        when ``data_version`` has moved, not on every request."""

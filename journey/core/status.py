"""How a company's portal status is derived (DESIGN.md, "How a company's status is derived").

Pure: the service gathers the facts about a company's latest request that is not
cancelled and the legal entities that count for it, and this module applies the
rules in order, first match wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from journey.core.domain import CompanyStatus, ConnectionStatus, PullStatus, UploadStatus


@dataclass(frozen=True)
class RequestFacts:
    opened: bool
    completed: bool
    expired: bool


@dataclass(frozen=True)
class EntityFacts:
    connection: ConnectionStatus | None = None
    denied: bool = False  # the customer cancelled at the platform and has not linked since
    last_pull: PullStatus | None = None
    ever_complete: bool = False  # some pull of this entity completed at some time
    upload: UploadStatus | None = None

    @property
    def has_data(self) -> bool:
        return self.ever_complete or self.upload is UploadStatus.PROCESSED

    @property
    def failed_after_success(self) -> bool:
        return self.ever_complete and self.last_pull is not None and self.last_pull.failed

    @property
    def linked(self) -> bool:
        """Counts as linked in the portal's Entities column."""
        return self.connection is ConnectionStatus.LINKED or self.upload is not None


def derive_company_status(
    request: RequestFacts | None, entities: Sequence[EntityFacts]
) -> CompanyStatus:
    """Apply the status rules to one company (or one subsidiary and its own entity)."""
    if request is None:
        return CompanyStatus.NONE
    if request.expired and not request.completed:
        return CompanyStatus.EXPIRED
    connections = [e.connection for e in entities if e.connection is not None]
    deauthorized = [c for c in connections if c is ConnectionStatus.DEAUTHORIZED]
    if connections and len(deauthorized) == len(connections):
        return CompanyStatus.DEAUTHORIZED
    with_data = [e for e in entities if e.has_data]
    failed = [e.last_pull is not None and e.last_pull.failed for e in entities]
    any_failure = any(failed)
    if entities and len(with_data) == len(entities) and not any_failure and not deauthorized:
        return CompanyStatus.AVAILABLE
    # Warning is "some succeeded, some did not": when every entity with data has failed
    # since, nothing is current and the failure is the news (Error, below).
    current = [e for e, f in zip(entities, failed, strict=True) if e.has_data and not f]
    if (
        with_data
        and (current or not any_failure)
        and (
            len(with_data) < len(entities)
            or any(e.failed_after_success for e in entities)
            or deauthorized
        )
    ):
        return CompanyStatus.WARNING
    if any(e.denied for e in entities) or any_failure:
        return CompanyStatus.ERROR
    if any(e.upload is UploadStatus.PROCESSING for e in entities):
        return CompanyStatus.UPLOADED
    if request.opened:
        return CompanyStatus.IN_PROGRESS
    return CompanyStatus.REQUESTED

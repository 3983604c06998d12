"""The repository for one SQLite transaction: the query modules, one per aggregate,
put together as the ``journey.storage.base.Tx`` the service is written against."""

from __future__ import annotations

from journey.storage.sqlite.entities import EntityQueries
from journey.storage.sqlite.events import EventQueries
from journey.storage.sqlite.listing import RelationshipListing
from journey.storage.sqlite.organizations import OrganizationQueries
from journey.storage.sqlite.requests import RequestQueries


class SQLiteTx(
    OrganizationQueries, RelationshipListing, RequestQueries, EntityQueries, EventQueries
):
    """The repository for one SQLite transaction (``journey.storage.base.Tx``)."""

"""One page of companies, as ``GET /v1/relationships`` answers it.

Kept apart from the route (and from FastAPI) so that whoever answers the question
answers it the same way: the route, and the portal's opening answers
(``tui/opening.py``), which are read before the HTTP stack has loaded.
"""

from __future__ import annotations

from typing import Any

from journey import views
from journey.core.domain import CompanyStatus
from journey.core.errors import Invalid
from journey.core.records import User
from journey.storage.base import SORT_KEYS, RelationshipQuery, Tx

STATUS_NAMES = {s.value.casefold(): s for s in CompanyStatus} | {"none": CompanyStatus.NONE}


def relationship_page(
    tx: Tx,
    user: User,
    *,
    q: str = "",
    status: str | None = None,
    user_filter: str = "me",
    sort: str = "name",
    cursor: str | None = None,
    offset: int = 0,
    limit: int = 50,
    parent: str | None = None,
    counts: bool = True,
    simulated: bool = False,
) -> dict[str, Any]:
    """The page; ``Invalid`` (a 400) names the parameter that is wrong."""
    if not q.isprintable():
        raise Invalid("q must be printable text (no control characters).", "invalid_q")
    descending = sort.startswith("-")
    sort_key = sort.removeprefix("-")
    if sort_key not in SORT_KEYS:
        raise Invalid(
            f"sort must be one of {', '.join(SORT_KEYS)} (prefix - to descend).", "invalid_sort"
        )
    wanted: CompanyStatus | None = None
    if status:
        wanted = STATUS_NAMES.get(status.casefold())
        if wanted is None:
            names = ", ".join(s.value for s in CompanyStatus)
            raise Invalid(f"status must be one of: {names}.", "invalid_status")
    after = views.decode_cursor(cursor, sort_key, descending) if cursor else None
    user_id: str | None
    if user_filter == "me":
        user_id = user.id
    elif user_filter == "all":
        user_id = None
    else:
        if tx.get_user(user.org_id, user_filter) is None:
            raise Invalid(
                "user must be me, all, or a user id of your organization.", "invalid_user"
            )
        user_id = user_filter
    try:
        result = tx.list_relationships(
            RelationshipQuery(
                org_id=user.org_id,
                user_id=user_id,
                status=wanted,
                q=q,
                sort=sort_key,
                descending=descending,
                after=after,
                offset=0 if after else offset,
                limit=limit,
                parent_id=parent,
                with_counts=counts,
                simulated=simulated,
            )
        )
    except ValueError:
        raise Invalid("The cursor belongs to another filter.", "invalid_cursor") from None
    return {
        "items": [views.relationship(r) for r in result.rows],
        "total": result.total,
        "counts": result.counts,
        "next_cursor": views.encode_cursor(result.next_after, sort_key, descending)
        if result.next_after
        else None,
        "limit": limit,
    }

"""What the portal follows of the service's events, and what a batch of them means for
the company list on screen.

A bank's portals all follow one event log, and a busy bank writes hundreds of events a
second: a portal that read its page again on every batch would cost the service one
list query per portal per customer step. Instead the rows held are updated from the
events themselves where they say enough (a status change says the new status and its
time), and the page on screen (with its counts) is read again only when an event
touches what it shows, at most once every ``RELOAD_SECONDS``. Nor need a portal be
sent every event: one listing its user's own companies follows only theirs, and the
companies open over it (``following``).

Free of Textual: the portal screen (``screens.portal``) follows these rules, and the
mixed-workload benchmark (``bench/mix.py``) models the portal with the same ones.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from tui.client import EventScope
from tui.listing import Criteria

# At most one read of the page on screen (or of a company open over it) a second: soon
# enough that a change is seen while the eye is still on the list, and each portal
# costs the service one read a second at most, however many customers step at once.
RELOAD_SECONDS = 1.0

# Companies a poll of the user's own may follow besides (the service's limit: more is
# refused). A portal with more open over it follows the organization instead.
ALSO_FOLLOWED = 50

STATUS_CHANGED = "relationship.status_changed"
# Kinds that by themselves change no column of the list: what they lead to that does
# (a new status, an entity, a linked connection, an upload) is an event of its own in
# the same commit (journey/customer.py, journey/derive.py, journey/worker.py).
COLUMNS_UNCHANGED = frozenset(
    {
        "journey.action",
        "request.opened",
        "request.completed",
        "request.email_sent",
        "request.email_failed",
        "connection.pending",
        "connection.signin_failed",
        "connection.denied",
        "pull.status",
    }
)
# Kinds that add a company to lists, take one away, or may change who it belongs to or
# what a search finds: the list's membership, order and counts.
MEMBERSHIP = frozenset({"relationship.created", "relationship.deleted", "relationship.updated"})


@dataclass
class Reaction:
    """What to do about a batch: what the events change in rows held (by id, the
    fields that change and their new values), and whether the page on screen and its
    counts must be read again."""

    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    reload: bool = False


def react(
    events: Iterable[Mapping[str, Any]],
    criteria: Criteria,
    me: str,
    held: Mapping[str, Mapping[str, Any]],
    *,
    loading: bool = False,
) -> Reaction:
    """The reaction to ``events`` of a list showing ``criteria`` to the user ``me``,
    holding the rows ``held`` (by id). When an event cannot tell, the list reloads.

    ``loading``: a list for new criteria is being read, so the rows it will hold are
    not known yet, and its read may have been made before these events: any event
    that may change a column asks for the list to be read once more."""
    reaction = Reaction()
    by_request = {
        row["latest_request_id"]: rel_id
        for rel_id, row in held.items()
        if row.get("latest_request_id")
    }
    for event in events:
        kind = str(event["kind"])
        payload = event.get("payload") or {}
        rel_id = event.get("relationship_id")
        own = rel_id if rel_id in held else None
        if kind == STATUS_CHANGED:
            if own is not None:
                to = payload.get("to")
                status = None if to in (None, "None") else to
                # As the service shows it (journey/views.py): "None" is no status.
                reaction.changes[own] = {
                    "status": status,
                    "status_label": status or "—",
                    "status_at": event["at"],
                }
            # The counts move with any status of the filter's companies; under a status
            # filter a row comes or goes, under the status-date sort it moves.
            if own is not None or _may_belong(payload.get("users"), criteria, me):
                reaction.reload = True
        elif kind in MEMBERSHIP:
            if own is not None or _may_belong(payload.get("users"), criteria, me):
                reaction.reload = True
            elif "users" in payload.get("changed", ()):
                reaction.reload = True  # it may have left this user's list
        elif kind in COLUMNS_UNCHANGED:
            continue
        elif loading or own is not None or event.get("request_id") in by_request:
            # A column of a row held (its own, or its latest request's: a subsidiary's
            # entity counts in its parent's row) changed in a way the event does not say.
            reaction.reload = True
    return reaction


def _may_belong(users: Any, criteria: Criteria, me: str) -> bool:
    """Whether a company of ``users`` may be in the list of ``criteria`` (counts ignore
    the status filter; a search is not tried here: it may match)."""
    if not isinstance(users, list):
        return True  # the event does not say whose it is
    if criteria.user == "all":
        return True
    return (me if criteria.user == "me" else criteria.user) in users


class Throttle:
    """Reloads at most once every ``seconds``: the first at once, later ones at the next
    free moment, and any number asked for meanwhile as one."""

    def __init__(
        self, seconds: float = RELOAD_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self.clock = clock
        self.last = -math.inf
        self.waiting = False

    def ask(self) -> float | None:
        """How long to wait before reloading, or None: a reload is already waiting."""
        if self.waiting:
            return None
        self.waiting = True
        return max(0.0, self.last + self.seconds - self.clock())

    def ran(self) -> None:
        """The reload asked for starts now."""
        self.waiting = False
        self.last = self.clock()


@runtime_checkable
class ShowsCompanies(Protocol):
    """A screen open over the portal that shows companies, and follows them through the
    portal's one long-poll (``screens.relationship``)."""

    def companies_not_of(self, user_id: str) -> frozenset[str]:
        """The companies it shows that are not assigned to ``user_id`` (as far as it
        knows: one not read yet counts as not)."""
        ...


@dataclass(frozen=True)
class Following:
    """What a portal's long-poll asks for: its scope, and the companies open on screen
    it follows besides its user's own (``GET /v1/events?scope=&relationship=``)."""

    scope: EventScope = "organization"
    also: frozenset[str] = frozenset()

    def covers(self, other: Following) -> bool:
        """Whether a poll asking for this is sent every event ``other`` would be."""
        return self.scope == "organization" or (other.scope == "mine" and other.also <= self.also)


def following(criteria: Criteria, me: str, open_not_mine: Collection[str]) -> Following:
    """What a portal listing ``criteria`` to the user ``me`` follows, with company
    screens open over it showing ``open_not_mine`` (companies not the user's).

    A list of the user's own companies needs only their events (and those assigning one
    to the user or taking it away), the companies open besides; any other list
    (everyone's, a colleague's) needs the organization's."""
    if criteria.user not in ("me", me) or len(open_not_mine) > ALSO_FOLLOWED:
        return Following()
    return Following("mine", frozenset(open_not_mine))

"""How requests are going across the portfolio: the operations lead's view.

Companies per status, requests per data type, and the journey funnel: of the
requests sent in a period, how many were opened, reached each step, connected,
completed and had data; where the unfinished ones stand (where customers stop); and
the median time from request to data available. Steps reached come from the
journey's own events; a step is counted once per request.
"""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from journey import derive, service
from journey.core.domain import DataType, Feature, Step
from journey.core.errors import Invalid
from journey.core.machine import (
    IN_JOURNEY_STEPS,
    STEP_TITLES,
    JourneyContext,
    JourneyState,
    journey_path,
)
from journey.core.records import User
from journey.storage.base import RelationshipQuery, Tx

# Steps only some journeys take (``journey_path``: the choice of method and the upload
# with the manual upload switch; how many entities with several on offer; naming them
# and the entity list with several chosen). Listed after the main path, so that the
# funnel reads top-down instead of going up and down between branches.
SIDE_STEPS = frozenset(
    {Step.CHOOSE_METHOD, Step.MANUAL_UPLOAD, Step.ENTITY_COUNT, Step.ENTITY_NAME, Step.ENTITIES}
)

DATA_TYPE_NAMES = {
    ("financials",): "Financials",
    ("spend_analysis",): "Spend analysis",
    ("financials", "spend_analysis"): "Financials and spend analysis",
}


def _passed(
    fact: dict[str, Any], org_features: frozenset[Feature], platforms: tuple[str, ...]
) -> set[str]:
    """The steps a request must have gone through to stand where it stands: those
    before its step on its path (the machine's), and the step itself once opened.
    Seeded demo requests have no per-step history; this is the same answer from state."""
    state = JourneyState.from_dict(fact["journey"])
    if not fact["opened_at"]:
        return set()
    ctx = JourneyContext(
        data_types=frozenset(DataType(t) for t in fact["data_types"]),
        features=org_features if fact["features"] is None else fact["features"],
        platforms=platforms,
        company_name="",
    )
    path = journey_path(state, ctx)
    if state.step not in path:
        return set()
    return {step.value for step in path[: path.index(state.step) + 1]}


def _title(step: str) -> str:
    try:
        return STEP_TITLES[Step(step)]
    except ValueError:
        return step


def _day(value: str | None, field: str, default: datetime) -> datetime:
    if not value:
        return default
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"{field} must be a date like 2026-11-01.", f"invalid_{field}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def portfolio(
    tx: Tx,
    user: User,
    *,
    user_filter: str = "me",
    since: str | None = None,
    until: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    moment = now or datetime.now(UTC)
    end = _day(until, "until", moment)
    start = _day(since, "since", end - timedelta(days=30))
    if start >= end:
        raise Invalid("since must be before until.", "invalid_period")
    if user_filter == "me":
        who: str | None = user.id
    elif user_filter == "all":
        who = None
    elif tx.get_user(user.org_id, user_filter) is not None:
        who = user_filter
    else:
        raise Invalid("user must be me, all, or a user id of your organization.", "invalid_user")
    counts = tx.status_counts(RelationshipQuery(org_id=user.org_id, user_id=who))
    facts = tx.request_facts_in_period(user.org_id, who, service.iso(start), service.iso(end))
    sent = len(facts)
    org = tx.get_organization(user.org_id)
    assert org is not None
    reached: Counter[str] = Counter()
    for fact in facts:
        reached.update(set(fact["reached"]) | _passed(fact, org.features, org.platforms))
    funnel: list[dict[str, Any]] = [{"stage": "sent", "title": "Request sent", "count": sent}]
    funnel.append(
        {
            "stage": "opened",
            "title": "Opened the link",
            "count": sum(1 for f in facts if f["opened_at"]),
        }
    )
    side: list[dict[str, Any]] = []
    for step in IN_JOURNEY_STEPS:
        if reached[step.value]:
            row: dict[str, Any] = {
                "stage": step.value,
                "title": STEP_TITLES[step],
                "count": reached[step.value],
            }
            (side if step in SIDE_STEPS else funnel).append(row)
    funnel += [
        {
            "stage": "connected",
            "title": "Connected a platform",
            "count": sum(1 for f in facts if f["linked"]),
        },
        {
            "stage": "completed",
            "title": "Completed the request",
            "count": sum(1 for f in facts if f["completed_at"]),
        },
        {
            "stage": "data",
            "title": "Data available",
            "count": sum(1 for f in facts if f["data_at"]),
        },
    ]
    for row in funnel:
        row["path"] = "main"
    for row in side:
        row["path"] = "side"
    funnel += side
    for row in funnel:
        row["percent_of_sent"] = round(100 * row["count"] / sent, 1) if sent else 0.0
    stopped: Counter[str] = Counter(
        f["step"] for f in facts if not f["completed_at"] and f["state"] not in ("Cancelled",)
    )
    hours = [
        (derive.parse_time(f["data_at"]) - derive.parse_time(f["created_at"])).total_seconds()
        / 3600
        for f in facts
        if f["data_at"]
    ]
    by_type: Counter[str] = Counter(
        DATA_TYPE_NAMES.get(tuple(sorted(f["data_types"])), "Other") for f in facts
    )
    return {
        "period": {"since": service.iso(start), "until": service.iso(end)},
        "user": user_filter,
        "companies_by_status": counts,
        "companies": sum(counts.values()),
        "requests": sent,
        "requests_by_data_type": dict(sorted(by_type.items())),
        "funnel": funnel,
        "stopped_at": [
            {
                "step": step,
                "title": STEP_TITLES.get(Step(step), step)
                if step in Step._value2member_map_
                else step,
                "count": n,
            }
            for step, n in stopped.most_common()
        ],
        "median_hours_to_data": round(statistics.median(hours), 1) if hours else None,
    }

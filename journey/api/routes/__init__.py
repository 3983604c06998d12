"""The RM side of the API, one router per resource: a bearer token of a user, scoped
to the user's organization. ``ROUTERS``: every one, each under ``/v1``."""

from __future__ import annotations

from journey.api.routes import (
    connections,
    events,
    organization,
    portfolio,
    relationships,
    reports,
    requests,
    simulations,
    transcripts,
    users,
)

# Included one by one, each with the prefix: a router within a router is matched
# level by level, a cost on every request. The long-poll first: every open portal
# polls again after each answer, and matching it past every other route cost a third
# of its time (bench/RESULTS.md, "Following").
ROUTERS = tuple(
    resource.router
    for resource in (
        events,
        organization,
        users,
        relationships,
        requests,
        simulations,
        transcripts,
        connections,
        reports,
        portfolio,
    )
)

"""The journey machine tests' vocabulary: steps and actions by short names, data types and
feature sets, sample entities, a context and a state to decide on, and the states a
journey can be closed at."""

from __future__ import annotations

from typing import Any

from journey.core.domain import Action, DataType, Feature, Step
from journey.core.machine import (
    EntityState,
    EntityView,
    JourneyContext,
    JourneyState,
)
from journey.core.platforms import DEFAULT_PLATFORMS

A = Action
S = Step
FIN = frozenset({DataType.FINANCIALS})
SPEND = frozenset({DataType.SPEND_ANALYSIS})
BOTH = FIN | SPEND
ALL = frozenset(Feature)
UPLOAD_ONLY = frozenset({Feature.MANUAL_UPLOAD})
MULTI_ONLY = frozenset({Feature.MULTI_ENTITY})
COMPANY = "Abra Kebabra"
NEW_ID = "new-entity-id"
# The company itself, created at consent of a single-entity journey (connection pending).
COMPANY_ENTITY = EntityView("company-1", COMPANY, EntityState.CONNECTING, "gbol", is_company=True)
NORTH = EntityView("north-1", "North", EntityState.LINKED, "gbol")
SOUTH_PENDING = EntityView("south-1", "South", EntityState.PENDING)


def context(
    types: frozenset[DataType],
    features: frozenset[Feature] = ALL,
    entities: tuple[EntityView, ...] = (),
    platforms: tuple[str, ...] = DEFAULT_PLATFORMS,
    new_entity_id: str = NEW_ID,
) -> JourneyContext:
    return JourneyContext(
        data_types=types,
        features=features,
        platforms=platforms,
        company_name=COMPANY,
        entities=entities,
        new_entity_id=new_entity_id,
    )


# The simulated platforms' demo sign-in.
DEMO = {"username": "demo", "password": "demo"}


def st_(step: Step, **kw: Any) -> JourneyState:
    return JourneyState(step=step, **kw)


SINGLE = {"entity_mode": "single"}
MULTI = {"entity_mode": "multiple"}
# Closed (× with the exit confirmation) at every step that can be closed: only Resume.
CLOSABLE_STATES = [
    ("choose_method", context(SPEND), st_(S.CHOOSE_METHOD)),
    ("manual_upload", context(SPEND), st_(S.MANUAL_UPLOAD, method="upload")),
    ("entity_count", context(SPEND), st_(S.ENTITY_COUNT)),
    ("entity_name", context(SPEND), st_(S.ENTITY_NAME, **MULTI)),
    ("share_accounting", context(FIN), st_(S.SHARE_ACCOUNTING, **SINGLE)),
    ("select_platform", context(FIN), st_(S.SELECT_PLATFORM, **SINGLE)),
    ("consent", context(FIN), st_(S.CONSENT, platform="gbol", **SINGLE)),
    (
        "platform_signin",
        context(FIN, entities=(COMPANY_ENTITY,)),
        st_(S.PLATFORM_SIGNIN, platform="gbol", current_entity="company-1", **SINGLE),
    ),
    ("entities", context(SPEND, entities=(NORTH,)), st_(S.ENTITIES, **MULTI)),
]

"""Customers' paths through the journey's state machine, decided once per path and
walked by every company that takes it.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, replace
from typing import Any

from journey.core import machine
from journey.core.domain import Action, DataType
from journey.core.machine import (
    AcceptUpload,
    CompleteJourney,
    CreateEntity,
    DenyConnection,
    EntityState,
    EntityView,
    JourneyContext,
    JourneyState,
    LinkConnection,
    StartConnection,
)
from journey.core.platforms import DEFAULT_PLATFORMS, DEMO_PASSWORD, DEMO_USERNAME
from journey.core.records import dumps
from journey.customer import action_event, kept_answer
from journey.seed.demo import (
    ALL_FEATURES,
    J_EMAIL,
    SPEND,
)

# A script step: the customer's action, its parameters (as (name, value) pairs), and
# the entity the action creates. Entities, and the names the customer gives them, are
# stand-ins ("entity-0", "Entity0") that the walk replaces with each company's own:
# companies then share their paths through the machine, which is decided once each.
ScriptStep = tuple[Action, tuple[tuple[str, Any], ...], str]


@dataclass(frozen=True)
class JourneyPath:
    """What the journey's state machine made of one script, with stand-ins for the
    ids and names it was given: each action's ``journey.action`` payload, the step
    at which each entity was created or linked and the journey was completed, and
    the journey state it ended in. Seeding takes the same few paths again and again,
    so each is decided once (a million companies would otherwise spend most of
    their time in the machine)."""

    payloads: tuple[str, ...]
    created: tuple[tuple[str, int], ...]
    linked: tuple[tuple[str, int], ...]
    completed: int | None
    journey: str


@functools.lru_cache(maxsize=4096)
def journey_path(types: tuple[str, ...], script: tuple[ScriptStep, ...]) -> JourneyPath:
    state = JourneyState()
    ctx = JourneyContext(
        data_types=frozenset(DataType(t) for t in types),
        features=ALL_FEATURES,
        platforms=DEFAULT_PLATFORMS,
        company_name="the company",
    )
    payloads = []
    created: dict[str, int] = {}
    linked: dict[str, int] = {}
    completed = None
    for number, (action, items, new_id) in enumerate(script):
        params = dict(items)
        transition = machine.decide(state, replace(ctx, new_entity_id=new_id), action, params)
        entities = {e.id: e for e in ctx.entities}
        for effect in transition.effects:
            if isinstance(effect, CreateEntity):
                entities[effect.entity_id] = EntityView(
                    effect.entity_id, effect.name, EntityState.PENDING, None, not effect.subsidiary
                )
                created[effect.entity_id] = number
            elif isinstance(effect, AcceptUpload):
                entities[effect.entity_id] = EntityView(
                    effect.entity_id, ctx.company_name, EntityState.UPLOADED, None, True
                )
                created.setdefault(effect.entity_id, number)
            elif isinstance(effect, StartConnection | LinkConnection | DenyConnection):
                entity = entities[effect.entity_id]
                entities[effect.entity_id] = replace(
                    entity, state=ENTITY_STATES[type(effect)], platform=effect.platform
                )
                if isinstance(effect, LinkConnection):
                    linked[effect.entity_id] = number
            elif isinstance(effect, CompleteJourney):
                completed = number
        ctx = replace(ctx, entities=tuple(entities.values()))
        if action is Action.UPLOAD:
            answer = {"filename": UPLOAD_NAME, "rows": params["rows"]}
        else:
            answer = kept_answer(action, params)
        payloads.append(dumps(action_event(state, transition, action, answer)))
        state = transition.state
    return JourneyPath(
        tuple(payloads),
        tuple(created.items()),
        tuple(linked.items()),
        completed,
        dumps(state.to_dict()),
    )


ENTITY_STATES = {
    StartConnection: EntityState.CONNECTING,
    LinkConnection: EntityState.LINKED,
    DenyConnection: EntityState.DENIED,
}


class Walk:
    """One customer's way through the journey, as the journey's own state machine
    decides it: the seeded request ends where the machine says, and its transcript
    (the ``journey.action`` events real journeys write) replays in a simulation."""

    def __init__(self, types: tuple[str, ...]) -> None:
        self.types = types
        self.path = JourneyPath((), (), (), None, J_EMAIL)
        self.back: dict[str, str] = {}  # stand-in -> the real id or name, as in JSON
        self.times: list[float] = []  # of each action
        self.completed: float | None = None
        self.created: dict[str, float] = {}  # entity id -> when the journey created it
        self.linked: dict[str, float] = {}  # entity id -> when its connection was linked
        self.journey = J_EMAIL

    def walk(
        self,
        start: float,
        end: float,
        script: list[ScriptStep],
        close_at: float | None = None,
        real: dict[str, str] | None = None,
    ) -> None:
        """Take the script's actions evenly spread from ``start`` to ``end`` (and close
        the completion page at ``close_at``); ``real``: the stand-ins' real ids and names."""
        if close_at is not None:
            script = [*script, (Action.CLOSE, (), "")]
        gap = (end - start) / max(len(script) - (2 if close_at is not None else 1), 1)
        times = [start + number * gap for number in range(len(script))]
        if close_at is not None:
            times[-1] = close_at
        self.path = path = journey_path(self.types, tuple(script))
        real = real or {}
        self.back = {stand_in: json.dumps(value)[1:-1] for stand_in, value in real.items()}
        self.times = times
        self.created = {real.get(e, e): times[n] for e, n in path.created}
        self.linked = {real.get(e, e): times[n] for e, n in path.linked}
        self.completed = None if path.completed is None else times[path.completed]
        self.journey = self.filled(path.journey)

    def filled(self, text: str) -> str:
        """``text`` with the real ids and names in place of their stand-ins."""
        for stand_in, value in self.back.items():
            text = text.replace(stand_in, value)
        return text

    def actions(self) -> list[tuple[float, str]]:
        """(time, ``journey.action`` payload) of each action: the transcript."""
        return [(at, self.filled(p)) for at, p in zip(self.times, self.path.payloads, strict=True)]


UPLOAD_NAME = "supplier-information.xlsx"
SIGN_IN = (("password", DEMO_PASSWORD), ("username", DEMO_USERNAME))
COMPANY = "entity-0"  # the stand-in for the company's own entity


def opening(
    types: tuple[str, ...], method: str = "connect", count: str = "single"
) -> list[ScriptStep]:
    """From the email to sharing accounting data (or the upload), as the switches lead:
    every seeded organization has every feature, so spend-only requests ask first."""
    script: list[ScriptStep] = [(Action.VIEW_REQUEST, (), "")]
    if types == (SPEND,):
        script.append((Action.CHOOSE_METHOD, (("method", method),), ""))
        if method == "connect":
            script.append((Action.CHOOSE_ENTITIES, (("count", count),), ""))
    return script


def connecting(platform: str, entity: str = "") -> list[ScriptStep]:
    """Choose a platform and consent; ``entity``: the company's own entity, made here."""
    return [
        (Action.CONNECT, (), ""),
        (Action.SELECT_PLATFORM, (("platform", platform),), ""),
        (Action.CONSENT, (), entity),
    ]

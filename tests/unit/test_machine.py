"""The customer journey state machine (journey/core/machine.py), step by step and action by action.

Expected next steps are written out per case from DESIGN.md ("Customer journey, step by
step", "Organization features"), never recomputed with the machine's own helpers.
Invalid values, sign-in, effects, whole journeys and random ones are in
``test_machine_journeys.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from journey.core.domain import Action, DataType, Feature, Step
from journey.core.machine import (
    STEP_TITLES,
    ActionNotAllowed,
    JourneyContext,
    JourneyState,
    OpenRequest,
    Transition,
    allowed_actions,
    back_target,
    decide,
    first_step,
)
from tests.support.machine import (
    ALL,
    BOTH,
    CLOSABLE_STATES,
    COMPANY_ENTITY,
    DEMO,
    FIN,
    MULTI,
    MULTI_ONLY,
    NORTH,
    SINGLE,
    SOUTH_PENDING,
    SPEND,
    UPLOAD_ONLY,
    A,
    S,
    context,
    st_,
)

NO_FEATURES: frozenset[Feature] = frozenset()

# Valid parameters for every action that takes some.
PARAMS: dict[Action, dict[str, Any]] = {
    A.CHOOSE_METHOD: {"method": "connect"},
    A.CHOOSE_ENTITIES: {"count": "single"},
    A.NAME_ENTITY: {"name": "Kebab Holdings Ltd"},
    A.SELECT_PLATFORM: {"platform": "gbol"},
    A.AUTHORIZE: DEMO,
}


@dataclass(frozen=True)
class Move:
    action: Action
    to: Step
    params: dict[str, Any] = field(default_factory=dict)
    closed: bool = False


@dataclass(frozen=True)
class Case:
    id: str
    ctx: JourneyContext
    state: JourneyState
    moves: tuple[Move, ...]

    @property
    def allowed(self) -> tuple[Action, ...]:
        return tuple(dict.fromkeys(m.action for m in self.moves))


def close_at(step: Step) -> Move:
    return Move(A.CLOSE, step, closed=True)


CASES: list[Case] = [
    # 1. Email: the call to action leads to the first step of the journey the customer gets.
    Case(
        "email/financials", context(FIN), st_(S.EMAIL), (Move(A.VIEW_REQUEST, S.SHARE_ACCOUNTING),)
    ),
    Case(
        "email/financials-no-features",
        context(FIN, NO_FEATURES),
        st_(S.EMAIL),
        (Move(A.VIEW_REQUEST, S.SHARE_ACCOUNTING),),
    ),
    Case("email/both", context(BOTH), st_(S.EMAIL), (Move(A.VIEW_REQUEST, S.SHARE_ACCOUNTING),)),
    Case("email/spend", context(SPEND), st_(S.EMAIL), (Move(A.VIEW_REQUEST, S.CHOOSE_METHOD),)),
    Case(
        "email/spend-upload-only",
        context(SPEND, UPLOAD_ONLY),
        st_(S.EMAIL),
        (Move(A.VIEW_REQUEST, S.CHOOSE_METHOD),),
    ),
    Case(
        "email/spend-multi-only",
        context(SPEND, MULTI_ONLY),
        st_(S.EMAIL),
        (Move(A.VIEW_REQUEST, S.ENTITY_COUNT),),
    ),
    Case(
        "email/spend-no-features",
        context(SPEND, NO_FEATURES),
        st_(S.EMAIL),
        (Move(A.VIEW_REQUEST, S.SHARE_ACCOUNTING),),
    ),
    # 2. Provide supplier information.
    Case(
        "choose_method/spend",
        context(SPEND),
        st_(S.CHOOSE_METHOD),
        (
            Move(A.CHOOSE_METHOD, S.MANUAL_UPLOAD, {"method": "upload"}),
            Move(A.CHOOSE_METHOD, S.ENTITY_COUNT, {"method": "connect"}),
            close_at(S.CHOOSE_METHOD),
        ),
    ),
    Case(
        "choose_method/spend-upload-only",
        context(SPEND, UPLOAD_ONLY),
        st_(S.CHOOSE_METHOD),
        (
            Move(A.CHOOSE_METHOD, S.MANUAL_UPLOAD, {"method": "upload"}),
            Move(A.CHOOSE_METHOD, S.SHARE_ACCOUNTING, {"method": "connect"}),
            close_at(S.CHOOSE_METHOD),
        ),
    ),
    # 3. Manual upload.
    Case(
        "manual_upload/spend",
        context(SPEND),
        st_(S.MANUAL_UPLOAD, method="upload"),
        (
            Move(A.UPLOAD, S.COMPLETE),
            Move(A.BACK, S.CHOOSE_METHOD),
            close_at(S.MANUAL_UPLOAD),
        ),
    ),
    Case(
        "manual_upload/spend-upload-only-with-company-entity",
        context(SPEND, UPLOAD_ONLY, (COMPANY_ENTITY,)),
        st_(S.MANUAL_UPLOAD, method="upload"),
        (
            Move(A.UPLOAD, S.COMPLETE),
            Move(A.BACK, S.CHOOSE_METHOD),
            close_at(S.MANUAL_UPLOAD),
        ),
    ),
    # 4. How complex is your organization?
    Case(
        "entity_count/spend",
        context(SPEND),
        st_(S.ENTITY_COUNT, method="connect"),
        (
            Move(A.CHOOSE_ENTITIES, S.SHARE_ACCOUNTING, {"count": "single"}),
            Move(A.CHOOSE_ENTITIES, S.ENTITY_NAME, {"count": "multiple"}),
            Move(A.BACK, S.CHOOSE_METHOD),
            close_at(S.ENTITY_COUNT),
        ),
    ),
    Case(
        "entity_count/spend-multi-only",
        context(SPEND, MULTI_ONLY),
        st_(S.ENTITY_COUNT),
        (
            Move(A.CHOOSE_ENTITIES, S.SHARE_ACCOUNTING, {"count": "single"}),
            Move(A.CHOOSE_ENTITIES, S.ENTITY_NAME, {"count": "multiple"}),
            close_at(S.ENTITY_COUNT),
        ),
    ),
    # 5. Which legal entity are you linking?
    Case(
        "entity_name/first",
        context(SPEND),
        st_(S.ENTITY_NAME, **MULTI),
        (
            Move(A.NAME_ENTITY, S.SHARE_ACCOUNTING, {"name": "North"}),
            Move(A.BACK, S.ENTITY_COUNT),
            close_at(S.ENTITY_NAME),
        ),
    ),
    Case(
        "entity_name/first-multi-only",
        context(SPEND, MULTI_ONLY),
        st_(S.ENTITY_NAME, **MULTI),
        (
            Move(A.NAME_ENTITY, S.SHARE_ACCOUNTING, {"name": "North"}),
            Move(A.BACK, S.ENTITY_COUNT),
            close_at(S.ENTITY_NAME),
        ),
    ),
    Case(
        "entity_name/another",
        context(SPEND, entities=(NORTH,)),
        st_(S.ENTITY_NAME, **MULTI),
        (
            Move(A.NAME_ENTITY, S.SHARE_ACCOUNTING, {"name": "South"}),
            Move(A.BACK, S.ENTITIES),
            close_at(S.ENTITY_NAME),
        ),
    ),
    # 7. Share your accounting data.
    Case(
        "share_accounting/financials",
        context(FIN),
        st_(S.SHARE_ACCOUNTING, **SINGLE),
        (Move(A.CONNECT, S.SELECT_PLATFORM), close_at(S.SHARE_ACCOUNTING)),
    ),
    Case(
        "share_accounting/financials-no-features",
        context(FIN, NO_FEATURES),
        st_(S.SHARE_ACCOUNTING, **SINGLE),
        (Move(A.CONNECT, S.SELECT_PLATFORM), close_at(S.SHARE_ACCOUNTING)),
    ),
    Case(
        "share_accounting/both",
        context(BOTH),
        st_(S.SHARE_ACCOUNTING, **SINGLE),
        (Move(A.CONNECT, S.SELECT_PLATFORM), close_at(S.SHARE_ACCOUNTING)),
    ),
    Case(
        "share_accounting/spend-single",
        context(SPEND),
        st_(S.SHARE_ACCOUNTING, method="connect", **SINGLE),
        (
            Move(A.CONNECT, S.SELECT_PLATFORM),
            Move(A.BACK, S.ENTITY_COUNT),
            close_at(S.SHARE_ACCOUNTING),
        ),
    ),
    Case(
        "share_accounting/spend-upload-only",
        context(SPEND, UPLOAD_ONLY),
        st_(S.SHARE_ACCOUNTING, method="connect", **SINGLE),
        (
            Move(A.CONNECT, S.SELECT_PLATFORM),
            Move(A.BACK, S.CHOOSE_METHOD),
            close_at(S.SHARE_ACCOUNTING),
        ),
    ),
    Case(
        "share_accounting/spend-multi-only-single",
        context(SPEND, MULTI_ONLY),
        st_(S.SHARE_ACCOUNTING, **SINGLE),
        (
            Move(A.CONNECT, S.SELECT_PLATFORM),
            Move(A.BACK, S.ENTITY_COUNT),
            close_at(S.SHARE_ACCOUNTING),
        ),
    ),
    Case(
        "share_accounting/spend-no-features",
        context(SPEND, NO_FEATURES),
        st_(S.SHARE_ACCOUNTING, **SINGLE),
        (Move(A.CONNECT, S.SELECT_PLATFORM), close_at(S.SHARE_ACCOUNTING)),
    ),
    Case(
        "share_accounting/spend-multiple-named-entity",
        context(SPEND, entities=(NORTH, SOUTH_PENDING)),
        st_(S.SHARE_ACCOUNTING, current_entity=SOUTH_PENDING.id, **MULTI),
        (Move(A.CONNECT, S.SELECT_PLATFORM), close_at(S.SHARE_ACCOUNTING)),
    ),
    # Select your accounting software.
    Case(
        "select_platform/financials",
        context(FIN),
        st_(S.SELECT_PLATFORM, **SINGLE),
        (
            Move(A.SELECT_PLATFORM, S.CONSENT, {"platform": "gbol"}),
            Move(A.BACK, S.SHARE_ACCOUNTING),
            close_at(S.SELECT_PLATFORM),
        ),
    ),
    Case(
        "select_platform/spend-multiple",
        context(SPEND, entities=(SOUTH_PENDING,)),
        st_(S.SELECT_PLATFORM, current_entity=SOUTH_PENDING.id, **MULTI),
        (
            Move(A.SELECT_PLATFORM, S.CONSENT, {"platform": "qhyg"}),
            Move(A.BACK, S.SHARE_ACCOUNTING),
            close_at(S.SELECT_PLATFORM),
        ),
    ),
    # Connect to {Platform}.
    Case(
        "consent/financials-no-entity-yet",
        context(FIN),
        st_(S.CONSENT, platform="gbol", **SINGLE),
        (
            Move(A.CONSENT, S.PLATFORM_SIGNIN),
            Move(A.BACK, S.SELECT_PLATFORM),
            close_at(S.CONSENT),
        ),
    ),
    Case(
        "consent/both-with-company-entity",
        context(BOTH, entities=(COMPANY_ENTITY,)),
        st_(S.CONSENT, platform="qhyg", **SINGLE),
        (
            Move(A.CONSENT, S.PLATFORM_SIGNIN),
            Move(A.BACK, S.SELECT_PLATFORM),
            close_at(S.CONSENT),
        ),
    ),
    Case(
        "consent/spend-multiple",
        context(SPEND, entities=(SOUTH_PENDING,)),
        st_(S.CONSENT, platform="gbol", current_entity=SOUTH_PENDING.id, **MULTI),
        (
            Move(A.CONSENT, S.PLATFORM_SIGNIN),
            Move(A.BACK, S.SELECT_PLATFORM),
            close_at(S.CONSENT),
        ),
    ),
    # The platform's own sign-in.
    Case(
        "platform_signin/single",
        context(FIN, entities=(COMPANY_ENTITY,)),
        st_(S.PLATFORM_SIGNIN, platform="gbol", current_entity=COMPANY_ENTITY.id, **SINGLE),
        (
            Move(A.AUTHORIZE, S.COMPLETE, DEMO),
            Move(A.DENY, S.SELECT_PLATFORM),
            Move(A.BACK, S.CONSENT),
            close_at(S.PLATFORM_SIGNIN),
        ),
    ),
    Case(
        "platform_signin/multiple",
        context(SPEND, entities=(NORTH, SOUTH_PENDING)),
        st_(S.PLATFORM_SIGNIN, platform="fbrh", current_entity=SOUTH_PENDING.id, **MULTI),
        (
            Move(A.AUTHORIZE, S.ENTITIES, DEMO),
            Move(A.DENY, S.SELECT_PLATFORM),
            Move(A.BACK, S.CONSENT),
            close_at(S.PLATFORM_SIGNIN),
        ),
    ),
    # 6. Your legal entities.
    Case(
        "entities/spend",
        context(SPEND, entities=(NORTH,)),
        st_(S.ENTITIES, **MULTI),
        (Move(A.ADD_ENTITY, S.ENTITY_NAME), Move(A.FINISH, S.COMPLETE), close_at(S.ENTITIES)),
    ),
    Case(
        "entities/spend-multi-only",
        context(SPEND, MULTI_ONLY, entities=(NORTH,)),
        st_(S.ENTITIES, **MULTI),
        (Move(A.ADD_ENTITY, S.ENTITY_NAME), Move(A.FINISH, S.COMPLETE), close_at(S.ENTITIES)),
    ),
    # 8. Complete, then the customer's Requests summary; and the end states.
    Case(
        "complete/financials",
        context(FIN, entities=(COMPANY_ENTITY,)),
        st_(S.COMPLETE, **SINGLE),
        (Move(A.CLOSE, S.SUMMARY),),
    ),
    Case(
        "complete/spend-multiple",
        context(SPEND, entities=(NORTH,)),
        st_(S.COMPLETE, **MULTI),
        (Move(A.CLOSE, S.SUMMARY),),
    ),
    Case("summary", context(FIN), st_(S.SUMMARY, **SINGLE), ()),
    Case("expired", context(SPEND), st_(S.EXPIRED), ()),
    Case("cancelled", context(BOTH), st_(S.CANCELLED), ()),
]


CASES += [
    Case(f"closed/{name}", ctx, replace(state, closed=True), (Move(A.RESUME, state.step),))
    for name, ctx, state in CLOSABLE_STATES
]

MOVES = [
    pytest.param(case, move, id=f"{case.id}/{move.action}") for case in CASES for move in case.moves
]


def test_every_step_is_covered() -> None:
    assert {case.state.step for case in CASES} == set(Step)
    assert {m.action for case in CASES for m in case.moves} == set(Action)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_allowed_actions_in_screen_order(case: Case) -> None:
    assert allowed_actions(case.state, case.ctx) == case.allowed


@pytest.mark.parametrize(("case", "move"), MOVES)
def test_allowed_action_leads_to_the_expected_step(case: Case, move: Move) -> None:
    result = decide(case.state, case.ctx, move.action, dict(move.params) or PARAMS.get(move.action))
    assert isinstance(result, Transition)
    assert result.state.step is move.to
    assert result.state.closed is move.closed
    assert result.state.step in set(Step)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_every_other_action_is_refused_with_a_readable_reason(case: Case) -> None:
    refused = [a for a in Action if a not in case.allowed]
    assert len(refused) == len(Action) - len(case.allowed)
    for action in refused:
        with pytest.raises(ActionNotAllowed) as info:
            decide(case.state, case.ctx, action, PARAMS.get(action))
        message = info.value.message
        assert (info.value.status, info.value.code) == (409, "action_not_allowed"), action
        assert STEP_TITLES[case.state.step] in message, (action, message)
        for allowed in case.allowed:
            assert allowed.value in message, (action, message)


def test_refusal_lists_the_allowed_actions_literally() -> None:
    state = st_(S.SELECT_PLATFORM, **SINGLE)
    with pytest.raises(ActionNotAllowed) as info:
        decide(state, context(FIN), A.FINISH)
    assert info.value.message == (
        "“finish” is not possible at “Select your accounting software”. "
        "Allowed now: select_platform, back, close."
    )


# first_step: data types × features


@pytest.mark.parametrize(
    ("types", "features", "expected"),
    [
        (FIN, ALL, S.SHARE_ACCOUNTING),
        (FIN, UPLOAD_ONLY, S.SHARE_ACCOUNTING),
        (FIN, MULTI_ONLY, S.SHARE_ACCOUNTING),
        (FIN, NO_FEATURES, S.SHARE_ACCOUNTING),
        (BOTH, ALL, S.SHARE_ACCOUNTING),
        (BOTH, UPLOAD_ONLY, S.SHARE_ACCOUNTING),
        (BOTH, MULTI_ONLY, S.SHARE_ACCOUNTING),
        (BOTH, NO_FEATURES, S.SHARE_ACCOUNTING),
        (SPEND, ALL, S.CHOOSE_METHOD),
        (SPEND, UPLOAD_ONLY, S.CHOOSE_METHOD),
        (SPEND, MULTI_ONLY, S.ENTITY_COUNT),
        (SPEND, NO_FEATURES, S.SHARE_ACCOUNTING),
        (SPEND, frozenset({Feature.COPY_LINK}), S.SHARE_ACCOUNTING),
    ],
)
def test_first_step(
    types: frozenset[DataType], features: frozenset[Feature], expected: Step
) -> None:
    ctx = context(types, features)
    assert first_step(ctx) is expected
    result = decide(st_(S.EMAIL), ctx, A.VIEW_REQUEST)
    assert result.state.step is expected
    assert result.effects == (OpenRequest(),)
    # Straight to the software connection journey means the company itself: single entity.
    assert result.state.entity_mode == ("single" if expected is S.SHARE_ACCOUNTING else None)


# back_target per step


@pytest.mark.parametrize(
    ("step", "ctx", "extra", "expected"),
    [
        (S.EMAIL, context(SPEND), {}, None),
        (S.CHOOSE_METHOD, context(SPEND), {}, None),
        (S.MANUAL_UPLOAD, context(SPEND), {}, S.CHOOSE_METHOD),
        (S.ENTITY_COUNT, context(SPEND), {}, S.CHOOSE_METHOD),
        (S.ENTITY_COUNT, context(SPEND, MULTI_ONLY), {}, None),
        (S.ENTITY_NAME, context(SPEND), MULTI, S.ENTITY_COUNT),
        (S.ENTITY_NAME, context(SPEND, entities=(NORTH,)), MULTI, S.ENTITIES),
        (S.SHARE_ACCOUNTING, context(FIN), SINGLE, None),
        (S.SHARE_ACCOUNTING, context(BOTH), SINGLE, None),
        (S.SHARE_ACCOUNTING, context(SPEND), SINGLE, S.ENTITY_COUNT),
        (S.SHARE_ACCOUNTING, context(SPEND, MULTI_ONLY), SINGLE, S.ENTITY_COUNT),
        (S.SHARE_ACCOUNTING, context(SPEND, UPLOAD_ONLY), SINGLE, S.CHOOSE_METHOD),
        (S.SHARE_ACCOUNTING, context(SPEND, NO_FEATURES), SINGLE, None),
        (S.SHARE_ACCOUNTING, context(SPEND, entities=(SOUTH_PENDING,)), MULTI, None),
        (S.SELECT_PLATFORM, context(FIN), SINGLE, S.SHARE_ACCOUNTING),
        (S.CONSENT, context(FIN), SINGLE, S.SELECT_PLATFORM),
        (S.PLATFORM_SIGNIN, context(FIN), SINGLE, S.CONSENT),
        (S.ENTITIES, context(SPEND, entities=(NORTH,)), MULTI, None),
        (S.COMPLETE, context(FIN), SINGLE, None),
        (S.SUMMARY, context(FIN), SINGLE, None),
        (S.EXPIRED, context(FIN), {}, None),
        (S.CANCELLED, context(FIN), {}, None),
    ],
)
def test_back_target(
    step: Step, ctx: JourneyContext, extra: dict[str, Any], expected: Step | None
) -> None:
    assert back_target(st_(step, **extra), ctx) is expected


def test_back_from_entity_name_ignores_the_company_itself() -> None:
    """Single entity chosen, consent given (the company's entity exists), then the customer
    goes back and picks multiple legal entities: no subsidiary has been named yet, so Back
    from "Which legal entity…" must lead to the entity count, not to a "Your legal entities"
    list holding only the abandoned company entity, whose Finish completes the request with
    nothing linked."""
    ctx = context(SPEND, entities=(COMPANY_ENTITY,))
    state = st_(S.ENTITY_NAME, method="connect", **MULTI)
    assert back_target(state, ctx) is S.ENTITY_COUNT
    assert decide(state, ctx, A.BACK).state.step is S.ENTITY_COUNT

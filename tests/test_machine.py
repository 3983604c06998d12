"""The customer journey state machine (journey/core/machine.py), step by step and action by action.

Expected next steps are written out per case from DESIGN.md ("Customer journey, step by
step", "Organization features"), never recomputed with the machine's own helpers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journey.core.domain import Action, DataType, Feature, Step
from journey.core.machine import (
    STEP_TITLES,
    AcceptUpload,
    ActionNotAllowed,
    CompleteJourney,
    CreateEntity,
    DenyConnection,
    EntityState,
    EntityView,
    InvalidValue,
    JourneyContext,
    JourneyError,
    JourneyState,
    LinkConnection,
    OpenRequest,
    PauseJourney,
    ResumeJourney,
    SignInFailed,
    StartConnection,
    Transition,
    allowed_actions,
    back_target,
    decide,
    first_step,
)
from journey.core.platforms import DEFAULT_PLATFORMS, PLATFORMS

A = Action
S = Step

FIN = frozenset({DataType.FINANCIALS})
SPEND = frozenset({DataType.SPEND_ANALYSIS})
BOTH = FIN | SPEND
ALL = frozenset(Feature)
UPLOAD_ONLY = frozenset({Feature.MANUAL_UPLOAD})
MULTI_ONLY = frozenset({Feature.MULTI_ENTITY})
NO_FEATURES: frozenset[Feature] = frozenset()
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


# Valid parameters for every action that takes some.
DEMO = {"username": "demo", "password": "demo"}
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


def st_(step: Step, **kw: Any) -> JourneyState:
    return JourneyState(step=step, **kw)


def close_at(step: Step) -> Move:
    return Move(A.CLOSE, step, closed=True)


SINGLE = {"entity_mode": "single"}
MULTI = {"entity_mode": "multiple"}

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

# Closed (× with the exit confirmation) at every step that can be closed: only Resume.
_CLOSABLE_STATES = [
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
CASES += [
    Case(f"closed/{name}", ctx, replace(state, closed=True), (Move(A.RESUME, state.step),))
    for name, ctx, state in _CLOSABLE_STATES
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


# Invalid values


def _signin(platform: str = "gbol") -> tuple[JourneyState, JourneyContext]:
    ctx = context(FIN, entities=(COMPANY_ENTITY,))
    return st_(S.PLATFORM_SIGNIN, platform=platform, current_entity="company-1", **SINGLE), ctx


@pytest.mark.parametrize(
    ("platform", "code"),
    [
        ("nope", "unknown_platform"),
        ("", "unknown_platform"),
        (None, "unknown_platform"),
        (7, "unknown_platform"),
        ("GBOL", "unknown_platform"),
        ("xero", "unknown_platform"),
        ("qhyg", "platform_not_enabled"),
    ],
)
def test_select_platform_refuses_unknown_or_disabled_platforms(platform: Any, code: str) -> None:
    ctx = context(FIN, platforms=("mqjo", "gbol"))
    with pytest.raises(InvalidValue) as info:
        decide(st_(S.SELECT_PLATFORM, **SINGLE), ctx, A.SELECT_PLATFORM, {"platform": platform})
    assert info.value.code == code
    assert info.value.status == 422
    if code == "platform_not_enabled":
        assert "QuickBooks Online" in info.value.message


def test_every_enabled_platform_can_be_selected() -> None:
    for key in PLATFORMS:
        ctx = context(FIN, platforms=(key,))
        result = decide(st_(S.SELECT_PLATFORM, **SINGLE), ctx, A.SELECT_PLATFORM, {"platform": key})
        assert (result.state.step, result.state.platform) == (S.CONSENT, key)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("", "entity_name_missing"),
        ("   ", "entity_name_missing"),
        (None, "entity_name_missing"),
        (42, "entity_name_missing"),
        ("x" * 101, "entity_name_too_long"),
        ("Kebab\x00Ltd", "entity_name_bad"),
        ("Kebab\x07Ltd", "entity_name_bad"),
        ("Kebab\u200bLtd", "entity_name_bad"),
        ("Kebab\x7fLtd", "entity_name_bad"),
        ("North", "entity_name_taken"),
        ("NORTH", "entity_name_taken"),
        ("  north ", "entity_name_taken"),
        ("abra kebabra", "entity_name_taken"),
    ],
)
def test_name_entity_refuses_bad_names(name: Any, code: str) -> None:
    ctx = context(SPEND, entities=(NORTH, COMPANY_ENTITY))
    with pytest.raises(InvalidValue) as info:
        decide(st_(S.ENTITY_NAME, **MULTI), ctx, A.NAME_ENTITY, {"name": name})
    assert info.value.code == code
    assert info.value.message


def test_entity_name_limits_and_tidying() -> None:
    ctx = context(SPEND)
    state = st_(S.ENTITY_NAME, **MULTI)
    hundred = "y" * 100
    assert decide(state, ctx, A.NAME_ENTITY, {"name": hundred}).effects == (
        CreateEntity(NEW_ID, hundred, subsidiary=True),
    )
    assert decide(state, ctx, A.NAME_ENTITY, {"name": "  " + hundred + "  "}).effects == (
        CreateEntity(NEW_ID, hundred, subsidiary=True),
    )
    assert decide(state, ctx, A.NAME_ENTITY, {"name": "  Kebab   Holdings "}).effects == (
        CreateEntity(NEW_ID, "Kebab Holdings", subsidiary=True),
    )
    assert decide(state, ctx, A.NAME_ENTITY, {"name": "Ø"}).effects == (
        CreateEntity(NEW_ID, "Ø", subsidiary=True),
    )
    with pytest.raises(InvalidValue):
        decide(state, ctx, A.NAME_ENTITY, {})


@pytest.mark.parametrize("method", [None, "", "Upload", "fax", ["upload"], 1])
def test_choose_method_refuses_bad_methods(method: Any) -> None:
    with pytest.raises(InvalidValue) as info:
        decide(st_(S.CHOOSE_METHOD), context(SPEND), A.CHOOSE_METHOD, {"method": method})
    assert info.value.code == "invalid_method"
    assert "upload or connect" in info.value.message


@pytest.mark.parametrize("count", [None, "", "two", "Single", 2, {"n": 1}])
def test_choose_entities_refuses_bad_counts(count: Any) -> None:
    with pytest.raises(InvalidValue) as info:
        decide(st_(S.ENTITY_COUNT), context(SPEND), A.CHOOSE_ENTITIES, {"count": count})
    assert info.value.code == "invalid_count"
    assert "single or multiple" in info.value.message


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"username": "demo"},
        {"password": "demo"},
        {"username": "", "password": "demo"},
        {"username": None, "password": "demo"},
        {"username": "demo", "password": None},
        {"username": 1, "password": "demo"},
    ],
)
def test_authorize_without_credentials_is_invalid(params: dict[str, Any]) -> None:
    state, ctx = _signin()
    with pytest.raises(InvalidValue) as info:
        decide(state, ctx, A.AUTHORIZE, params)
    assert info.value.code == "credentials_missing"


def test_invalid_values_are_journey_errors_with_http_status() -> None:
    assert issubclass(InvalidValue, JourneyError) and InvalidValue.status == 422
    assert issubclass(ActionNotAllowed, JourneyError) and ActionNotAllowed.status == 409


# Sign-in: wrong password, deny, then success


@pytest.mark.parametrize(
    ("username", "password"),
    [("demo", "wrong"), ("someone", "demo"), ("demo", "DEMO"), ("demo", "")],
)
def test_wrong_credentials_keep_the_step_and_show_the_platforms_error(
    username: str, password: str
) -> None:
    state, ctx = _signin("gbol")
    result = decide(state, ctx, A.AUTHORIZE, {"username": username, "password": password})
    assert result.state.step is S.PLATFORM_SIGNIN
    assert result.state.closed is False
    assert result.state.error == {
        "code": "wrong_credentials",
        "message": PLATFORMS["gbol"].signin_error,
    }
    assert result.effects == (SignInFailed("company-1", "gbol"),)
    # Trying again with the sandbox credentials clears the error and completes.
    again = decide(result.state, ctx, A.AUTHORIZE, DEMO)
    assert again.state.step is S.COMPLETE
    assert again.state.error is None
    assert again.effects == (LinkConnection("company-1", "gbol"), CompleteJourney())


def test_username_is_trimmed() -> None:
    state, ctx = _signin()
    result = decide(state, ctx, A.AUTHORIZE, {"username": " demo ", "password": "demo"})
    assert result.state.step is S.COMPLETE


def test_deny_returns_to_select_platform_with_access_denied() -> None:
    state, ctx = _signin("qhyg")
    result = decide(state, ctx, A.DENY)
    assert result.state.step is S.SELECT_PLATFORM
    assert result.state.error is not None
    assert result.state.error["code"] == "access_denied"
    assert "QuickBooks Online" in result.state.error["message"]
    assert result.state.current_entity == "company-1"
    assert result.effects == (DenyConnection("company-1", "qhyg"),)
    # Choosing software again clears the message and carries on for the same entity.
    chosen = decide(result.state, ctx, A.SELECT_PLATFORM, {"platform": "gbol"})
    assert chosen.state.error is None
    assert chosen.state.step is S.CONSENT
    signin = decide(chosen.state, ctx, A.CONSENT)
    assert signin.effects == (StartConnection("company-1", "gbol"),)


def test_back_clears_the_error_shown_on_the_step() -> None:
    state, ctx = _signin()
    denied = decide(state, ctx, A.DENY).state
    assert decide(denied, ctx, A.BACK).state.error is None


# Close and resume


@pytest.mark.parametrize(
    ("name", "ctx", "state"), _CLOSABLE_STATES, ids=[c[0] for c in _CLOSABLE_STATES]
)
def test_close_pauses_and_resume_restores(
    name: str, ctx: JourneyContext, state: JourneyState
) -> None:
    state = replace(state, error={"code": "access_denied", "message": "…"})
    closed = decide(state, ctx, A.CLOSE)
    assert closed.state == replace(state, closed=True)
    assert closed.effects == (PauseJourney(),)
    assert allowed_actions(closed.state, ctx) == (A.RESUME,)
    resumed = decide(closed.state, ctx, A.RESUME)
    assert resumed.state == state
    assert resumed.effects == (ResumeJourney(),)


def test_closed_journey_refuses_everything_but_resume() -> None:
    ctx = context(FIN)
    closed = st_(S.SELECT_PLATFORM, closed=True, **SINGLE)
    with pytest.raises(ActionNotAllowed) as info:
        decide(closed, ctx, A.SELECT_PLATFORM, {"platform": "gbol"})
    assert "Select your accounting software" in info.value.message
    assert "resume" in info.value.message


def test_close_at_complete_shows_the_summary() -> None:
    ctx = context(FIN, entities=(COMPANY_ENTITY,))
    result = decide(st_(S.COMPLETE, **SINGLE), ctx, A.CLOSE)
    assert result.state.step is S.SUMMARY
    assert result.state.closed is False
    assert result.effects == ()
    assert allowed_actions(result.state, ctx) == ()


def test_email_step_cannot_be_closed() -> None:
    assert A.CLOSE not in allowed_actions(st_(S.EMAIL), context(FIN))


# Effects


def test_view_request_opens_the_request() -> None:
    assert decide(st_(S.EMAIL), context(FIN), A.VIEW_REQUEST).effects == (OpenRequest(),)


def test_name_entity_creates_a_subsidiary_with_the_service_supplied_id() -> None:
    ctx = context(SPEND, entities=(NORTH,), new_entity_id="id-from-service")
    result = decide(st_(S.ENTITY_NAME, **MULTI), ctx, A.NAME_ENTITY, {"name": "South"})
    assert result.effects == (CreateEntity("id-from-service", "South", subsidiary=True),)
    assert result.state.current_entity == "id-from-service"
    assert result.state.step is S.SHARE_ACCOUNTING
    assert result.state.entity_mode == "multiple"


def test_consent_single_creates_the_company_entity_once() -> None:
    state = st_(S.CONSENT, platform="gbol", **SINGLE)
    first = decide(state, context(FIN, new_entity_id="company-new"), A.CONSENT)
    assert first.effects == (
        CreateEntity("company-new", COMPANY, subsidiary=False),
        StartConnection("company-new", "gbol"),
    )
    assert first.state.current_entity == "company-new"
    assert first.state.step is S.PLATFORM_SIGNIN
    # The company already has its entity (an earlier attempt): no second one.
    ctx = context(FIN, entities=(COMPANY_ENTITY,), new_entity_id="unused")
    again = decide(state, ctx, A.CONSENT)
    assert again.effects == (StartConnection("company-1", "gbol"),)
    assert again.state.current_entity == "company-1"


def test_consent_multiple_connects_the_named_entity() -> None:
    ctx = context(SPEND, entities=(NORTH, SOUTH_PENDING), new_entity_id="unused")
    state = st_(S.CONSENT, platform="akxx", current_entity="south-1", **MULTI)
    result = decide(state, ctx, A.CONSENT)
    assert result.effects == (StartConnection("south-1", "akxx"),)


def test_authorize_multiple_links_and_returns_to_the_entities() -> None:
    ctx = context(SPEND, entities=(NORTH, SOUTH_PENDING))
    state = st_(S.PLATFORM_SIGNIN, platform="knfz", current_entity="south-1", **MULTI)
    result = decide(state, ctx, A.AUTHORIZE, DEMO)
    assert result.state.step is S.ENTITIES
    assert result.state.current_entity is None
    assert result.effects == (LinkConnection("south-1", "knfz"),)


def test_finish_completes_the_journey() -> None:
    ctx = context(SPEND, entities=(NORTH,))
    assert decide(st_(S.ENTITIES, **MULTI), ctx, A.FINISH).effects == (CompleteJourney(),)


def test_add_entity_asks_for_another_name() -> None:
    ctx = context(SPEND, entities=(NORTH,))
    state = st_(S.ENTITIES, platform="gbol", **MULTI)
    result = decide(state, ctx, A.ADD_ENTITY)
    assert result.state.step is S.ENTITY_NAME
    assert result.state.current_entity is None
    assert result.effects == ()


def test_upload_creates_the_company_entity_when_missing() -> None:
    state = st_(S.MANUAL_UPLOAD, method="upload")
    result = decide(state, context(SPEND, new_entity_id="upl-1"), A.UPLOAD)
    assert result.effects == (AcceptUpload("upl-1", True), CompleteJourney())
    assert result.state.step is S.COMPLETE
    reuse = decide(state, context(SPEND, entities=(COMPANY_ENTITY,)), A.UPLOAD)
    assert reuse.effects == (AcceptUpload("company-1", False), CompleteJourney())


@pytest.mark.parametrize(
    ("state", "ctx", "action", "params"),
    [
        (st_(S.CHOOSE_METHOD), context(SPEND), A.CHOOSE_METHOD, {"method": "upload"}),
        (st_(S.CHOOSE_METHOD), context(SPEND), A.CHOOSE_METHOD, {"method": "connect"}),
        (st_(S.ENTITY_COUNT), context(SPEND), A.CHOOSE_ENTITIES, {"count": "single"}),
        (st_(S.ENTITY_COUNT), context(SPEND), A.CHOOSE_ENTITIES, {"count": "multiple"}),
        (st_(S.SHARE_ACCOUNTING, **SINGLE), context(FIN), A.CONNECT, {}),
        (st_(S.SELECT_PLATFORM, **SINGLE), context(FIN), A.SELECT_PLATFORM, {"platform": "gbol"}),
        (st_(S.CONSENT, platform="gbol", **SINGLE), context(FIN), A.BACK, {}),
    ],
)
def test_steps_without_side_effects(
    state: JourneyState, ctx: JourneyContext, action: Action, params: dict[str, Any]
) -> None:
    assert decide(state, ctx, action, params).effects == ()


def test_choices_are_remembered() -> None:
    ctx = context(SPEND)
    upload = decide(st_(S.CHOOSE_METHOD), ctx, A.CHOOSE_METHOD, {"method": "upload"}).state
    assert upload.method == "upload"
    connect = decide(st_(S.CHOOSE_METHOD), ctx, A.CHOOSE_METHOD, {"method": "connect"}).state
    assert connect.method == "connect"
    single = decide(st_(S.ENTITY_COUNT), ctx, A.CHOOSE_ENTITIES, {"count": "single"}).state
    assert single.entity_mode == "single"
    multiple = decide(st_(S.ENTITY_COUNT), ctx, A.CHOOSE_ENTITIES, {"count": "multiple"}).state
    assert multiple.entity_mode == "multiple"
    no_multi = context(SPEND, UPLOAD_ONLY)
    direct = decide(st_(S.CHOOSE_METHOD), no_multi, A.CHOOSE_METHOD, {"method": "connect"})
    assert direct.state.entity_mode == "single"


# Whole journeys through the pure machine (the service's part simulated in `_apply`)


def _apply(ctx: JourneyContext, effects: tuple[Any, ...], counter: list[int]) -> JourneyContext:
    """Do what the service does with the effects, as far as the machine can see it."""
    entities = list(ctx.entities)

    def put(entity_id: str, **changes: Any) -> None:
        for i, e in enumerate(entities):
            if e.id == entity_id:
                entities[i] = replace(e, **changes)

    for effect in effects:
        if isinstance(effect, CreateEntity):
            entities.append(
                EntityView(
                    effect.entity_id,
                    effect.name,
                    EntityState.PENDING,
                    is_company=not effect.subsidiary,
                )
            )
        elif isinstance(effect, StartConnection):
            put(effect.entity_id, state=EntityState.CONNECTING, platform=effect.platform)
        elif isinstance(effect, LinkConnection):
            put(effect.entity_id, state=EntityState.LINKED, platform=effect.platform)
        elif isinstance(effect, DenyConnection):
            put(effect.entity_id, state=EntityState.DENIED)
        elif isinstance(effect, AcceptUpload):
            if effect.create_entity:
                entities.append(
                    EntityView(effect.entity_id, COMPANY, EntityState.UPLOADED, is_company=True)
                )
            else:
                put(effect.entity_id, state=EntityState.UPLOADED)
    counter[0] += 1
    return replace(ctx, entities=tuple(entities), new_entity_id=f"id-{counter[0]}")


def run(
    ctx: JourneyContext, *steps: tuple[Action, dict[str, Any]]
) -> tuple[JourneyState, JourneyContext, list[Any]]:
    state = JourneyState()
    counter = [0]
    effects: list[Any] = []
    for action, params in steps:
        result = decide(state, ctx, action, params)
        effects.extend(result.effects)
        ctx = _apply(ctx, result.effects, counter)
        state = result.state
    return state, ctx, effects


CONNECT_GBOL = (
    (A.CONNECT, {}),
    (A.SELECT_PLATFORM, {"platform": "gbol"}),
    (A.CONSENT, {}),
    (A.AUTHORIZE, DEMO),
)


def test_financials_journey_end_to_end() -> None:
    state, ctx, effects = run(context(FIN), (A.VIEW_REQUEST, {}), *CONNECT_GBOL, (A.CLOSE, {}))
    assert state.step is S.SUMMARY
    assert [e.name for e in ctx.entities] == [COMPANY]
    assert ctx.entities[0].state is EntityState.LINKED
    assert [type(e).__name__ for e in effects] == [
        "OpenRequest",
        "CreateEntity",
        "StartConnection",
        "LinkConnection",
        "CompleteJourney",
    ]


def test_multi_entity_journey_end_to_end() -> None:
    def entity(name: str, platform: str) -> tuple[tuple[Action, dict[str, Any]], ...]:
        return (
            (A.NAME_ENTITY, {"name": name}),
            (A.CONNECT, {}),
            (A.SELECT_PLATFORM, {"platform": platform}),
            (A.CONSENT, {}),
            (A.AUTHORIZE, DEMO),
        )

    state, ctx, effects = run(
        context(SPEND),
        (A.VIEW_REQUEST, {}),
        (A.CHOOSE_METHOD, {"method": "connect"}),
        (A.CHOOSE_ENTITIES, {"count": "multiple"}),
        *entity("North", "gbol"),
        (A.ADD_ENTITY, {}),
        *entity("South", "qhyg"),
        (A.ADD_ENTITY, {}),
        *entity("East", "gbol"),
        (A.FINISH, {}),
    )
    assert state.step is S.COMPLETE
    assert [(e.name, e.platform, e.state) for e in ctx.entities] == [
        ("North", "gbol", EntityState.LINKED),
        ("South", "qhyg", EntityState.LINKED),
        ("East", "gbol", EntityState.LINKED),
    ]
    assert not any(e.is_company for e in ctx.entities)
    assert sum(isinstance(e, CompleteJourney) for e in effects) == 1


# JourneyState persistence


@pytest.mark.parametrize(
    "state",
    [
        JourneyState(),
        st_(S.CHOOSE_METHOD, closed=True),
        st_(
            S.PLATFORM_SIGNIN,
            method="connect",
            entity_mode="multiple",
            current_entity="e-1",
            platform="gbol",
            error={"code": "wrong_credentials", "message": "Your email or password is incorrect."},
        ),
        st_(S.SUMMARY, entity_mode="single"),
    ],
)
def test_state_round_trips_through_a_dict(state: JourneyState) -> None:
    data = state.to_dict()
    assert data["step"] == state.step.value
    assert JourneyState.from_dict(data) == state
    assert JourneyState.from_dict(json.loads(json.dumps(data))) == state


def test_state_from_an_empty_dict_is_the_email_step() -> None:
    assert JourneyState.from_dict({}) == JourneyState(step=S.EMAIL)


# Random journeys (lone surrogates are left to the dedicated test at the end of the file)


TEXT = st.one_of(
    st.sampled_from(["demo", "North", "north", "", " ", "x" * 101, "Ω", "a\x00b", "gbol"]),
    st.text(max_size=20),
    st.none(),
    st.integers(),
    st.lists(st.text(max_size=3), max_size=2),
)
PARAM_VALUES = {
    "method": st.one_of(st.sampled_from(["upload", "connect"]), TEXT),
    "count": st.one_of(st.sampled_from(["single", "multiple"]), TEXT),
    "name": st.one_of(st.sampled_from(["North", "South", "Abra Kebabra"]), TEXT),
    "platform": st.one_of(st.sampled_from([*PLATFORMS, "nope"]), TEXT),
    "username": st.one_of(st.just("demo"), TEXT),
    "password": st.one_of(st.just("demo"), TEXT),
}
PARAMS_ANY = st.fixed_dictionaries({}, optional=PARAM_VALUES)
CONTEXTS = st.builds(
    context,
    st.sampled_from([FIN, SPEND, BOTH]),
    st.sets(st.sampled_from(list(Feature))).map(frozenset),
    st.just(()),
    st.lists(st.sampled_from(list(PLATFORMS)), min_size=1, max_size=6, unique=True).map(tuple),
)


def _valid_params(action: Action, ctx: JourneyContext) -> st.SearchStrategy[dict[str, Any]]:
    choices: dict[Action, st.SearchStrategy[dict[str, Any]]] = {
        A.CHOOSE_METHOD: st.fixed_dictionaries({"method": st.sampled_from(["upload", "connect"])}),
        A.CHOOSE_ENTITIES: st.fixed_dictionaries(
            {"count": st.sampled_from(["single", "multiple"])}
        ),
        A.NAME_ENTITY: st.fixed_dictionaries(
            {"name": st.sampled_from(["North", "South", "East", "West", "north"])}
        ),
        A.SELECT_PLATFORM: st.fixed_dictionaries({"platform": st.sampled_from(ctx.platforms)}),
        A.AUTHORIZE: st.fixed_dictionaries(
            {"username": st.just("demo"), "password": st.sampled_from(["demo", "demo", "x"])}
        ),
    }
    return choices.get(action, st.just({}))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ctx=CONTEXTS, data=st.data())
def test_random_action_sequences_stay_within_the_journey(
    ctx: JourneyContext, data: st.DataObject
) -> None:
    """Mostly allowed actions (so journeys get deep), sometimes any action, any values."""
    state = JourneyState()
    counter = [0]
    steps_set = set(Step)
    visited = set()
    for _ in range(data.draw(st.integers(0, 40), label="length")):
        allowed = allowed_actions(state, ctx)
        if allowed and data.draw(st.integers(0, 3), label="pick") > 0:
            forward = [a for a in allowed if a not in (A.BACK, A.CLOSE)] or list(allowed)
            pool = forward if data.draw(st.integers(0, 3), label="forward") else list(allowed)
            action = data.draw(st.sampled_from(pool), label="action")
            if data.draw(st.integers(0, 4), label="valid params") > 0:
                params = data.draw(_valid_params(action, ctx), label="params")
            else:
                params = data.draw(PARAMS_ANY, label="params")
        else:
            action = data.draw(st.sampled_from(list(Action)), label="any action")
            params = data.draw(PARAMS_ANY, label="params")
        try:
            result = decide(state, ctx, action, params)
        except ActionNotAllowed:
            assert action not in allowed
            continue
        except InvalidValue:
            assert action in allowed
            continue
        assert action in allowed
        assert result.state.step in steps_set
        if result.state.closed:
            assert allowed_actions(result.state, ctx) == (A.RESUME,)
        assert JourneyState.from_dict(result.state.to_dict()) == result.state
        ctx = _apply(ctx, result.effects, counter)
        state = result.state
        visited.add(state.step)
    assert visited <= steps_set


@settings(max_examples=200, deadline=None)
@given(
    username=st.text(max_size=8),
    password=st.text(max_size=8),
)
def test_sign_in_with_any_text_never_crashes(username: str, password: str) -> None:
    """Whatever a customer types at the platform's sign-in: signed in, or told why not."""
    state, ctx = _signin()
    try:
        result = decide(state, ctx, A.AUTHORIZE, {"username": username, "password": password})
    except JourneyError:
        return
    assert result.state.step in (S.PLATFORM_SIGNIN, S.COMPLETE)


@pytest.mark.parametrize(
    "params",
    [
        {"username": "demo", "password": "\ud800"},
        {"username": "\udfff", "password": "demo"},
    ],
)
def test_sign_in_with_unencodable_text_is_a_journey_error(params: dict[str, str]) -> None:
    """A lone surrogate typed as a credential must be refused like any wrong credential
    (a JourneyError or a wrong-credentials error), not crash with UnicodeEncodeError."""
    state, ctx = _signin()
    try:
        result = decide(state, ctx, A.AUTHORIZE, params)
    except JourneyError:
        return
    assert result.state.step is S.PLATFORM_SIGNIN
    assert result.state.error is not None
    assert result.state.error["code"] == "wrong_credentials"

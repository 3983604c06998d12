"""The customer journey state machine (journey/core/machine.py) past single moves: invalid
values, the platform sign-in, close and resume, effects, whole journeys through the pure
machine, the state's persistence, and random journeys.

Every step × action, the first step and where Back goes are in ``test_machine.py``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journey.core.domain import Action, Feature, Step
from journey.core.machine import (
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
    allowed_actions,
    decide,
)
from journey.core.platforms import PLATFORMS
from tests.support.machine import (
    BOTH,
    CLOSABLE_STATES,
    COMPANY,
    COMPANY_ENTITY,
    DEMO,
    FIN,
    MULTI,
    NEW_ID,
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
    ("name", "ctx", "state"), CLOSABLE_STATES, ids=[c[0] for c in CLOSABLE_STATES]
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

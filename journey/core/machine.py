"""The customer journey state machine.

Pure: no IO, no clock, no framework. Given the journey's state, what the service
knows about the request (its context) and one customer action, it decides the next
state and the effects the service must carry out (create an entity, start or link
a connection, …). It alone decides which step comes next; the API and the TUI only
render what it says.

Which journey a customer gets (DESIGN.md, "Which journey the customer gets"):

* every request goes through the software connection journey;
* only *spend analysis only* requests get the multi-entity journey (when the
  organization has the ``multi_entity`` feature) and the choice between a manual
  upload and a connection (when it has ``manual_upload``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from journey.core.domain import ENTITY_NAME_MAX, Action, DataType, Feature, Step
from journey.core.platforms import PLATFORMS
from journey.core.text import has_hidden_characters


class EntityState(StrEnum):
    """Where one legal entity of a request stands, as the customer sees it."""

    PENDING = "pending"  # named, no connection yet
    CONNECTING = "connecting"  # connection PendingAuth
    LINKED = "linked"
    DENIED = "denied"  # the customer cancelled at the platform
    UPLOADED = "uploaded"  # supplier information uploaded manually
    UNLINKED = "unlinked"
    DEAUTHORIZED = "deauthorized"


@dataclass(frozen=True)
class EntityView:
    id: str
    name: str
    state: EntityState
    platform: str | None = None
    is_company: bool = False  # the company itself, not a subsidiary


@dataclass(frozen=True)
class JourneyContext:
    """What the machine may read about the request beside its own state."""

    data_types: frozenset[DataType]
    features: frozenset[Feature]
    platforms: tuple[str, ...]
    company_name: str
    entities: tuple[EntityView, ...] = ()
    # Supplied by the service so that the machine can name new entities and stay pure.
    new_entity_id: str = ""

    @property
    def spend_only(self) -> bool:
        return self.data_types == frozenset({DataType.SPEND_ANALYSIS})

    @property
    def offers_upload(self) -> bool:
        return self.spend_only and Feature.MANUAL_UPLOAD in self.features

    @property
    def offers_multiple_entities(self) -> bool:
        return self.spend_only and Feature.MULTI_ENTITY in self.features

    def entity(self, entity_id: str | None) -> EntityView | None:
        return next((e for e in self.entities if e.id == entity_id), None)

    @property
    def company_entity(self) -> EntityView | None:
        return next((e for e in self.entities if e.is_company), None)


@dataclass(frozen=True)
class JourneyState:
    """The journey's own memory, stored with the request as JSON."""

    step: Step = Step.EMAIL
    closed: bool = False
    method: str | None = None  # "upload" | "connect"
    entity_mode: str | None = None  # "single" | "multiple"
    current_entity: str | None = None
    platform: str | None = None
    # Shown on the current step: a platform's sign-in error, a cancelled consent, …
    error: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step.value,
            "closed": self.closed,
            "method": self.method,
            "entity_mode": self.entity_mode,
            "current_entity": self.current_entity,
            "platform": self.platform,
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JourneyState:
        return cls(
            step=Step(data.get("step", Step.EMAIL)),
            closed=bool(data.get("closed", False)),
            method=data.get("method"),
            entity_mode=data.get("entity_mode"),
            current_entity=data.get("current_entity"),
            platform=data.get("platform"),
            error=data.get("error"),
        )


# Effects: what the service must do for a transition. Plain data.


@dataclass(frozen=True)
class OpenRequest:
    """The customer followed the link for the first time."""


@dataclass(frozen=True)
class CreateEntity:
    entity_id: str
    name: str
    subsidiary: bool


@dataclass(frozen=True)
class StartConnection:
    entity_id: str
    platform: str


@dataclass(frozen=True)
class LinkConnection:
    entity_id: str
    platform: str


@dataclass(frozen=True)
class DenyConnection:
    entity_id: str
    platform: str


@dataclass(frozen=True)
class SignInFailed:
    entity_id: str
    platform: str


@dataclass(frozen=True)
class AcceptUpload:
    entity_id: str
    create_entity: bool


@dataclass(frozen=True)
class DiscardEntity:
    """The company's own entity, started and abandoned before choosing several entities."""

    entity_id: str


@dataclass(frozen=True)
class CompleteJourney:
    pass


@dataclass(frozen=True)
class PauseJourney:
    pass


@dataclass(frozen=True)
class ResumeJourney:
    pass


Effect = (
    OpenRequest
    | CreateEntity
    | StartConnection
    | LinkConnection
    | DenyConnection
    | SignInFailed
    | AcceptUpload
    | DiscardEntity
    | CompleteJourney
    | PauseJourney
    | ResumeJourney
)


@dataclass(frozen=True)
class Transition:
    state: JourneyState
    effects: tuple[Effect, ...] = field(default=())


class JourneyError(Exception):
    """A customer action the journey refuses. ``status`` is the HTTP status to answer."""

    status = 400
    code = "journey_error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class ActionNotAllowed(JourneyError):
    status = 409
    code = "action_not_allowed"


class InvalidValue(JourneyError):
    status = 422
    code = "invalid_value"


STEP_TITLES: dict[Step, str] = {
    Step.EMAIL: "Email",
    Step.CHOOSE_METHOD: "Provide supplier information",
    Step.MANUAL_UPLOAD: "Manual upload",
    Step.ENTITY_COUNT: "How complex is your organization?",
    Step.ENTITY_NAME: "Which legal entity are you linking?",
    Step.SHARE_ACCOUNTING: "Share your accounting data",
    Step.SELECT_PLATFORM: "Select your accounting software",
    Step.CONSENT: "Connect to your accounting software",
    Step.PLATFORM_SIGNIN: "Sign in to your accounting software",
    Step.ENTITIES: "Your legal entities",
    Step.COMPLETE: "Information request complete!",
    Step.SUMMARY: "Requests",
    Step.EXPIRED: "Link expired",
    Step.CANCELLED: "Request cancelled",
}

ACTION_LABELS: dict[Action, str] = {
    Action.VIEW_REQUEST: "View request",
    Action.CHOOSE_METHOD: "Choose",
    Action.UPLOAD: "Upload file",
    Action.CHOOSE_ENTITIES: "Next",
    Action.NAME_ENTITY: "Next",
    Action.CONNECT: "Connect",
    Action.SELECT_PLATFORM: "Next",
    Action.CONSENT: "Next",
    Action.AUTHORIZE: "Allow access",
    Action.DENY: "Cancel",
    Action.ADD_ENTITY: "Add another +",
    Action.FINISH: "Finish",
    Action.BACK: "Back",
    Action.CLOSE: "Close",
    Action.RESUME: "Resume",
}

# An entity in these states has nothing the bank could use: safe to discard.
_UNFINISHED = frozenset({EntityState.PENDING, EntityState.CONNECTING, EntityState.DENIED})

# The steps inside the journey, in order: the customer can close (×) any of them with
# the exit confirmation and resume there later (the portfolio's funnel counts them).
IN_JOURNEY_STEPS = (
    Step.CHOOSE_METHOD,
    Step.MANUAL_UPLOAD,
    Step.ENTITY_COUNT,
    Step.ENTITY_NAME,
    Step.SHARE_ACCOUNTING,
    Step.SELECT_PLATFORM,
    Step.CONSENT,
    Step.PLATFORM_SIGNIN,
    Step.ENTITIES,
)
_CLOSABLE = frozenset(IN_JOURNEY_STEPS)

_FORWARD_ACTIONS: dict[Step, tuple[Action, ...]] = {
    Step.EMAIL: (Action.VIEW_REQUEST,),
    Step.CHOOSE_METHOD: (Action.CHOOSE_METHOD,),
    Step.MANUAL_UPLOAD: (Action.UPLOAD,),
    Step.ENTITY_COUNT: (Action.CHOOSE_ENTITIES,),
    Step.ENTITY_NAME: (Action.NAME_ENTITY,),
    Step.SHARE_ACCOUNTING: (Action.CONNECT,),
    Step.SELECT_PLATFORM: (Action.SELECT_PLATFORM,),
    Step.CONSENT: (Action.CONSENT,),
    Step.PLATFORM_SIGNIN: (Action.AUTHORIZE, Action.DENY),
    Step.ENTITIES: (Action.ADD_ENTITY, Action.FINISH),
    Step.COMPLETE: (),
    Step.SUMMARY: (),
    Step.EXPIRED: (),
    Step.CANCELLED: (),
}


def first_step(ctx: JourneyContext) -> Step:
    """Where the customer lands after following the email's call to action."""
    if ctx.offers_upload:
        return Step.CHOOSE_METHOD
    if ctx.offers_multiple_entities:
        return Step.ENTITY_COUNT
    return Step.SHARE_ACCOUNTING


def back_target(state: JourneyState, ctx: JourneyContext) -> Step | None:
    """The step Back leads to from here, or None where the customer has no Back."""
    step = state.step
    if step is Step.MANUAL_UPLOAD:
        return Step.CHOOSE_METHOD
    if step is Step.ENTITY_COUNT:
        return Step.CHOOSE_METHOD if ctx.offers_upload else None
    if step is Step.ENTITY_NAME:
        named = any(not e.is_company for e in ctx.entities)
        return Step.ENTITIES if named else Step.ENTITY_COUNT
    if step is Step.SHARE_ACCOUNTING:
        # Once a named entity exists the customer carries on with it (or closes);
        # for the company itself they may still change their mind.
        if state.entity_mode == "multiple":
            return None
        if ctx.offers_multiple_entities:
            return Step.ENTITY_COUNT
        if ctx.offers_upload:
            return Step.CHOOSE_METHOD
        return None
    if step is Step.SELECT_PLATFORM:
        return Step.SHARE_ACCOUNTING
    if step is Step.CONSENT:
        return Step.SELECT_PLATFORM
    if step is Step.PLATFORM_SIGNIN:
        return Step.CONSENT
    return None


def journey_path(state: JourneyState, ctx: JourneyContext) -> tuple[Step, ...]:
    """The steps this journey goes through, as far as the requested data, the switches
    and the customer's choices so far decide (the journey map). Before the customer
    chooses, the map shows the connection path; choosing to upload takes the other."""
    steps = [Step.EMAIL]
    if ctx.offers_upload:
        steps.append(Step.CHOOSE_METHOD)
        if state.method == "upload":
            return (*steps, Step.MANUAL_UPLOAD, Step.COMPLETE, Step.SUMMARY)
    multiple = state.entity_mode == "multiple"
    if ctx.offers_multiple_entities:
        steps.append(Step.ENTITY_COUNT)
        if multiple:
            steps.append(Step.ENTITY_NAME)
    steps += [Step.SHARE_ACCOUNTING, Step.SELECT_PLATFORM, Step.CONSENT, Step.PLATFORM_SIGNIN]
    if multiple:
        steps.append(Step.ENTITIES)
    return (*steps, Step.COMPLETE, Step.SUMMARY)


def allowed_actions(state: JourneyState, ctx: JourneyContext) -> tuple[Action, ...]:
    """The actions the customer can take now, in the order a screen shows them."""
    if state.step in (Step.EXPIRED, Step.CANCELLED, Step.SUMMARY):
        return ()
    if state.closed:
        return (Action.RESUME,)
    actions = list(_FORWARD_ACTIONS[state.step])
    if back_target(state, ctx) is not None:
        actions.append(Action.BACK)
    if state.step in _CLOSABLE or state.step is Step.COMPLETE:
        actions.append(Action.CLOSE)
    return tuple(actions)


def _refuse(state: JourneyState, ctx: JourneyContext, action: Action) -> ActionNotAllowed:
    title = STEP_TITLES[state.step]
    if state.closed:
        return ActionNotAllowed(
            f"The journey was closed at “{title}”; resume it before doing anything else."
        )
    allowed = allowed_actions(state, ctx)
    if not allowed:
        return ActionNotAllowed(f"Nothing more can be done at “{title}”.")
    names = ", ".join(a.value for a in allowed)
    return ActionNotAllowed(f"“{action.value}” is not possible at “{title}”. Allowed now: {names}.")


def clean_entity_name(raw: object) -> str:
    """Validate a legal entity's registered name: 1–100 characters of text."""
    if not isinstance(raw, str):
        raise InvalidValue("Enter the registered name of the legal entity.", "entity_name_missing")
    name = " ".join(raw.split())
    if not name:
        raise InvalidValue("Enter the registered name of the legal entity.", "entity_name_missing")
    if len(name) > ENTITY_NAME_MAX:
        raise InvalidValue(
            f"The name is {len(name)} characters long; at most {ENTITY_NAME_MAX} are allowed.",
            "entity_name_too_long",
        )
    if has_hidden_characters(name):
        raise InvalidValue("The name contains characters that cannot be shown.", "entity_name_bad")
    return name


def clean_username(raw: object) -> str:
    """A platform sign-in username, checked as names are: text without control,
    format (bidi) or other hidden characters, since the transcript keeps it."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidValue("Enter your username and password.", "credentials_missing")
    if has_hidden_characters(raw):
        raise InvalidValue("The username contains characters that cannot be shown.", "username_bad")
    return raw.strip()


def _choice(params: dict[str, Any], key: str, options: tuple[str, ...], what: str) -> str:
    value = params.get(key)
    if value not in options:
        raise InvalidValue(f"Choose {what}: {' or '.join(options)}.", f"invalid_{key}")
    return str(value)


def _entity_for_connection(state: JourneyState, ctx: JourneyContext) -> tuple[str, bool]:
    """The entity a connection is for; True when it must be created (the company itself)."""
    if state.current_entity:
        return state.current_entity, False
    company = ctx.company_entity
    if company is not None:
        return company.id, False
    return ctx.new_entity_id, True


def decide(
    state: JourneyState,
    ctx: JourneyContext,
    action: Action,
    params: dict[str, Any] | None = None,
) -> Transition:
    """Apply one customer action. Raises ActionNotAllowed (409) or InvalidValue (422)."""
    params = params or {}
    if action not in allowed_actions(state, ctx):
        raise _refuse(state, ctx, action)

    step = state.step
    # A new action clears the error shown on the step it leaves.
    moved = replace(state, error=None)

    if action is Action.CLOSE:
        if step is Step.COMPLETE:
            return Transition(replace(moved, step=Step.SUMMARY))
        return Transition(replace(state, closed=True), (PauseJourney(),))
    if action is Action.RESUME:
        return Transition(replace(state, closed=False), (ResumeJourney(),))
    if action is Action.BACK:
        target = back_target(state, ctx)
        assert target is not None  # allowed_actions checked it
        return Transition(_enter(moved, target))

    if action is Action.VIEW_REQUEST:
        step = first_step(ctx)
        mode = "single" if step is Step.SHARE_ACCOUNTING else None
        return Transition(_enter(replace(moved, entity_mode=mode), step), (OpenRequest(),))

    if action is Action.CHOOSE_METHOD:
        method = _choice(params, "method", ("upload", "connect"), "how to provide the information")
        if method == "upload":
            return Transition(replace(moved, method=method, step=Step.MANUAL_UPLOAD))
        if ctx.offers_multiple_entities:
            return Transition(_enter(replace(moved, method=method), Step.ENTITY_COUNT))
        single = replace(moved, method=method, entity_mode="single")
        return Transition(_enter(single, Step.SHARE_ACCOUNTING))

    if action is Action.UPLOAD:
        entity_id, create = _entity_for_connection(replace(state, current_entity=None), ctx)
        return Transition(
            replace(moved, step=Step.COMPLETE, current_entity=entity_id),
            (AcceptUpload(entity_id, create), CompleteJourney()),
        )

    if action is Action.CHOOSE_ENTITIES:
        count = _choice(params, "count", ("single", "multiple"), "the number of legal entities")
        if count == "single":
            return Transition(_enter(replace(moved, entity_mode="single"), Step.SHARE_ACCOUNTING))
        company = ctx.company_entity
        abandoned: tuple[Effect, ...] = ()
        if company is not None and company.state in _UNFINISHED:
            abandoned = (DiscardEntity(company.id),)
        return Transition(
            _enter(replace(moved, entity_mode="multiple"), Step.ENTITY_NAME), abandoned
        )

    if action is Action.NAME_ENTITY:
        name = clean_entity_name(params.get("name"))
        if any(e.name.casefold() == name.casefold() for e in ctx.entities):
            raise InvalidValue(f"“{name}” has already been added.", "entity_name_taken")
        entity_id = ctx.new_entity_id
        return Transition(
            replace(moved, step=Step.SHARE_ACCOUNTING, current_entity=entity_id, platform=None),
            (CreateEntity(entity_id, name, subsidiary=True),),
        )

    if action is Action.CONNECT:
        return Transition(replace(moved, step=Step.SELECT_PLATFORM))

    if action is Action.SELECT_PLATFORM:
        key = params.get("platform")
        if not isinstance(key, str) or key not in PLATFORMS:
            raise InvalidValue("Choose your accounting software from the list.", "unknown_platform")
        if key not in ctx.platforms:
            raise InvalidValue(
                f"{PLATFORMS[key].name} is not offered for this request; choose another.",
                "platform_not_enabled",
            )
        return Transition(replace(moved, step=Step.CONSENT, platform=key))

    if action is Action.CONSENT:
        entity_id, create = _entity_for_connection(state, ctx)
        platform_key = state.platform or ""
        effects: list[Effect] = []
        if create:
            effects.append(CreateEntity(entity_id, ctx.company_name, subsidiary=False))
        effects.append(StartConnection(entity_id, platform_key))
        return Transition(
            replace(moved, step=Step.PLATFORM_SIGNIN, current_entity=entity_id), tuple(effects)
        )

    if action is Action.AUTHORIZE:
        platform = PLATFORMS[state.platform or ""]
        entity_id = state.current_entity or ""
        username, password = params.get("username"), params.get("password")
        if not isinstance(username, str) or not isinstance(password, str) or not username:
            raise InvalidValue("Enter your username and password.", "credentials_missing")
        username = clean_username(username)
        if not platform.check_credentials(username, password):
            error = {"code": "wrong_credentials", "message": platform.signin_error}
            return Transition(replace(state, error=error), (SignInFailed(entity_id, platform.key),))
        link = LinkConnection(entity_id, platform.key)
        if state.entity_mode == "multiple":
            return Transition(replace(moved, step=Step.ENTITIES, current_entity=None), (link,))
        return Transition(replace(moved, step=Step.COMPLETE), (link, CompleteJourney()))

    if action is Action.DENY:
        platform = PLATFORMS[state.platform or ""]
        error = {
            "code": "access_denied",
            "message": f"Access to {platform.name} was not granted. "
            "Choose your accounting software to try again.",
        }
        return Transition(
            replace(moved, step=Step.SELECT_PLATFORM, error=error),
            (DenyConnection(state.current_entity or "", platform.key),),
        )

    if action is Action.ADD_ENTITY:
        return Transition(replace(moved, step=Step.ENTITY_NAME, current_entity=None))

    if action is Action.FINISH:
        return Transition(replace(moved, step=Step.COMPLETE), (CompleteJourney(),))

    raise _refuse(state, ctx, action)  # pragma: no cover - every allowed action is handled


def _enter(state: JourneyState, step: Step) -> JourneyState:
    """Move to ``step``, forgetting choices that belong to the steps after it."""
    if step in (Step.CHOOSE_METHOD, Step.ENTITY_COUNT):
        return replace(state, step=step, current_entity=None, platform=None)
    if step is Step.SHARE_ACCOUNTING:
        return replace(state, step=step, platform=None)
    return replace(state, step=step)

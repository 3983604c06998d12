"""What each journey step shows the customer: titles, text, fields, choices, buttons.

Pure. The service owns these words so that every client (the TUI's customer
simulation, a web front end, a test) shows exactly what the customer sees.
"""

from __future__ import annotations

from typing import Any

from journey.core.domain import ENTITY_NAME_MAX, Action, DataType, Step
from journey.core.machine import (
    ACTION_LABELS,
    STEP_TITLES,
    JourneyContext,
    JourneyState,
    allowed_actions,
    journey_path,
)
from journey.core.platforms import DEMO_PASSWORD, DEMO_USERNAME, PLATFORMS, SHARED_DATA

EXIT_CONFIRMATION = (
    "Are you sure you want to exit? Your progress is saved: open the link again "
    "to carry on where you left off."
)

# The simulated platforms' sign-in, said on each one's sign-in page (TUI and web alike).
SANDBOX_SIGNIN = (
    "Sandbox credentials for this simulated platform: "
    f"username {DEMO_USERNAME}, password {DEMO_PASSWORD}."
)

DATA_TYPE_LABELS = {
    DataType.FINANCIALS: "Financials",
    DataType.SPEND_ANALYSIS: "Spend analysis",
}

# What became of a request's link, as the RM's request list says it, and which of the
# request's times goes with it: an open link's end, else when the request ended.
REQUEST_LINK_WORDS = {
    "Sent": ("expires", "expires_at"),
    "Opened": ("expires", "expires_at"),
    "Complete": ("completed", "completed_at"),
    "Expired": ("expired", "expires_at"),
    "Cancelled": ("cancelled", "state_at"),
}


def consent_terms(organization: str) -> str:
    """What the customer agrees to by continuing: reading only, as the email promised."""
    return (
        f"By continuing, you are permitting {organization} to read this information. "
        "It is only read: nothing in your accounting software is changed."
    )


def request_name(data_types: frozenset[DataType]) -> str:
    """How a request is named to the customer ("Financials and spend analysis")."""
    names = [DATA_TYPE_LABELS[d] for d in DataType if d in data_types]
    if len(names) == 2:
        return f"{names[0]} and {names[1].lower()}"
    return names[0] if names else "Information request"


def _action_spec(action: Action, state: JourneyState, ctx: JourneyContext) -> dict[str, Any]:
    spec: dict[str, Any] = {"action": action.value, "label": ACTION_LABELS[action]}
    if action is Action.CHOOSE_METHOD:
        spec["params"] = {"method": ["upload", "connect"]}
        spec["choices"] = [
            {"value": "upload", "label": "Upload file manually"},
            {"value": "connect", "label": "Connect platform"},
        ]
    elif action is Action.CHOOSE_ENTITIES:
        spec["params"] = {"count": ["single", "multiple"]}
        spec["choices"] = [
            {"value": "single", "label": "A single legal entity", "tag": "Most common"},
            {"value": "multiple", "label": "Multiple legal entities"},
        ]
    elif action is Action.NAME_ENTITY:
        spec["params"] = {"name": f"text, 1–{ENTITY_NAME_MAX} characters"}
    elif action is Action.SELECT_PLATFORM:
        spec["params"] = {"platform": list(ctx.platforms)}
    elif action is Action.AUTHORIZE:
        spec["params"] = {"username": "text", "password": "secret"}
    elif action is Action.CLOSE and state.step is not Step.COMPLETE:
        spec["label"] = "×"
        spec["confirm"] = EXIT_CONFIRMATION
    elif action is Action.UPLOAD:
        spec["upload"] = {"accept": ".xlsx", "max_bytes": 1_000_000}
    return spec


def describe(
    state: JourneyState,
    ctx: JourneyContext,
    *,
    organization: str,
    email: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The current step as the customer sees it, with the actions allowed now."""
    step = state.step
    company = ctx.company_name
    body: list[str] = []
    view: dict[str, Any] = {}
    title = STEP_TITLES[step]
    if step is Step.EMAIL:
        if email:
            view["email"] = email
    elif step is Step.CHOOSE_METHOD:
        body = [
            "Complete this information request in minutes by securely providing access "
            "to your accounting system.",
            f"{organization} will not be able to view any of your business information "
            "until you consent to sharing.",
        ]
    elif step is Step.MANUAL_UPLOAD:
        body = [
            "Download the supplier information template, fill it in and upload it.",
            "File type: xlsx. File size: at most 1 MB.",
        ]
        view["template"] = {"filename": "supplier-information-template.xlsx"}
    elif step is Step.ENTITY_COUNT:
        body = [
            "If your application concerns multiple legal entities, you will need to "
            "authorize access to each entity's financial data."
        ]
    elif step is Step.ENTITY_NAME:
        title = f"Which legal entity of {company} are you linking?"
        view["field"] = {
            "name": "name",
            "label": "Enter the registered name of the legal entity",
            "max_length": ENTITY_NAME_MAX,
            "counter": "{remaining}/" + str(ENTITY_NAME_MAX) + " characters remaining",
        }
    elif step is Step.SHARE_ACCOUNTING:
        title = f"Share your accounting data with {organization}"
        entity = ctx.entity(state.current_entity)
        body = [
            "You will be asked to sign in to your accounts in order to authorize the sharing "
            "of your financial information."
        ]
        view["integrations"] = [
            {"name": "Accounting", "required": True, "text": "Connect your accounting platform."}
        ]
        if entity is not None and not entity.is_company:
            view["entity"] = entity.name
    elif step is Step.SELECT_PLATFORM:
        view["search"] = "Search accounting software"
        view["platforms"] = [
            {"key": key, "name": PLATFORMS[key].name} for key in ctx.platforms if key in PLATFORMS
        ]
    elif step is Step.CONSENT:
        platform = PLATFORMS[state.platform or "mqjo"]
        title = f"Connect to {platform.name}"
        body = [
            f"You will be asked to connect your {platform.name} account and authorize "
            f"{organization} access to the following data:"
        ]
        view["shared_data"] = list(SHARED_DATA)
        view["terms"] = consent_terms(organization)
    elif step is Step.PLATFORM_SIGNIN:
        platform = PLATFORMS[state.platform or "mqjo"]
        entity = ctx.entity(state.current_entity)
        title = f"Sign in to {platform.name}"
        view["platform"] = {"key": platform.key, "name": platform.name}
        view["fields"] = [
            {"name": "username", "label": "Username", "secret": False},
            {"name": "password", "label": "Password", "secret": True},
        ]
        # Every simulated platform says which credentials it accepts, on its own page.
        view["sandbox"] = SANDBOX_SIGNIN
        view["consent"] = {
            "heading": f"{organization} wants access to:",
            "organisation": entity.name if entity else company,
            "scopes": list(platform.consent_scopes),
            "note": f"You can disconnect at any time in your {platform.name} settings.",
        }
    elif step is Step.ENTITIES:
        body = [
            "If your application concerns multiple legal entities, you will need to "
            "authorize access to each entity's financial data."
        ]
    elif step is Step.COMPLETE:
        body = [
            f"Thank you for sharing your information with {organization}.",
            f"Your contact at {organization} will be in touch shortly.",
        ]
    actions = [_action_spec(a, state, ctx) for a in allowed_actions(state, ctx)]
    if email:
        for spec in actions:  # the email's button is what the customer clicks
            if spec["action"] == Action.VIEW_REQUEST.value:
                spec["label"] = email["call_to_action"]
    result: dict[str, Any] = {
        "step": step.value,
        "title": title,
        "closed": state.closed,
        "body": body,
        "view": view,
        "actions": actions,
        "path": [s.value for s in journey_path(state, ctx)],
        "error": state.error,
        "entities": [
            {"id": e.id, "name": e.name, "state": e.state.value, "platform": e.platform}
            for e in ctx.entities
        ],
    }
    if state.closed:
        result["notice"] = "You closed this request. Resume to carry on where you left off."
    return result


# The words the customer's web pages (journey/web) add around a step: the page's
# own furniture, the exit confirmation's buttons and the pages behind a dead link.
# Kept here, beside the steps' words, so that every client says the same thing.
PAGE_WORDS: dict[str, str] = {
    "secure_request": "Secure information request",
    "close": "Close",
    "confirm_title": "Exit this request?",
    "confirm_exit": "Yes, exit",
    "confirm_stay": "No, carry on",
    "closed_title": "Request closed",
    "error_summary": "There is a problem",
    "search": "Search",
    "search_none": "No accounting software matches “{q}”.",
    "search_clear": "Show all",
    "choose_file": "Choose the filled template (xlsx, at most 1 MB)",
    "no_file": "Choose the filled template to upload.",
    "too_large": "The file is larger than 1 MB. Remove rows you do not need, or split it.",
    "upload_problems": "The file was not accepted: fix these and upload it again.",
    "row": "Row",
    "column": "Column",
    "problem": "Problem",
    "already_taken": "This step was already taken, perhaps in another tab or window. "
    "This is where your request stands now.",
    "sandbox": SANDBOX_SIGNIN,
    "signin_to": "Sign in to {platform}",
    "wants_access": "{organization} wants access to:",
    "entity_state": "Status",
    "summary_name": "Name",
    "summary_date": "Date",
    "summary_due": "Due",
    "summary_status": "Status",
    "not_found_title": "Link not found",
    "not_found": "This link is not valid. Check that you copied the whole link from the email, "
    "or ask your relationship manager to send it again.",
    "rate_limited_title": "Too many attempts",
    "too_large_title": "File too large",
    "method_legend": "How would you like to provide the information?",
    "count_legend": "How many legal entities?",
    "platform_legend": "Accounting software",
    "required": "Required",
    "back_to_request": "Return to the request",
}

# How the customer's entities list names where each entity stands.
ENTITY_STATE_LABELS: dict[str, str] = {
    "pending": "Not connected yet",
    "connecting": "Waiting for sign-in",
    "linked": "Connected",
    "denied": "Access not granted",
    "uploaded": "File uploaded",
    "unlinked": "Disconnected",
    "deauthorized": "Access withdrawn",
}

"""The words people read for the service's values: statuses, states, steps, payment methods.

The API, exports and transcripts keep the vendor's vocabulary (``PendingAuth``,
``FetchError``, ``BankTransfer``) so that integrations line up with it; every screen
the RM or the customer reads shows these labels instead, from this one place so the
TUI and the web pages agree.
"""

from __future__ import annotations

from journey.core.domain import Action, Step
from journey.core.machine import ACTION_LABELS
from journey.core.prompts import DATA_TYPE_LABELS, ENTITY_STATE_LABELS

__all__ = [
    "CONNECTION_STATUS_LABELS",
    "DATA_TYPE_LABELS",
    "ENTITY_STATE_LABELS",
    "PAYMENT_METHOD_LABELS",
    "PULL_STATUS_LABELS",
    "REPLACES_OPEN_REQUEST",
    "REPORT_KIND_LABELS",
    "STEP_LABELS",
    "action_label",
    "company_status_label",
    "connection_status_label",
    "payment_method_label",
    "pull_status_label",
    "request_state_label",
    "status_change",
    "step_label",
]

CONNECTION_STATUS_LABELS: dict[str, str] = {
    "PendingAuth": "Waiting for sign-in",
    "Linked": "Linked",
    "Unlinked": "Unlinked",
    "Deauthorized": "Deauthorized",
}

PULL_STATUS_LABELS: dict[str, str] = {
    "Queued": "Queued",
    "Fetching": "Fetching",
    "Complete": "Complete",
    "FetchError": "Fetch failed",
    "AuthError": "Access refused",
}

# Codat's PaymentMethodAnalysis vocabulary, as a British bank's people write it.
PAYMENT_METHOD_LABELS: dict[str, str] = {
    "BankTransfer": "Bank transfer",
    "CreditCard": "Credit card",
    "DebitCard": "Debit card",
    "Check": "Cheque",
    "Cash": "Cash",
    "Other": "Other",
    "Unknown": "Unknown",
}

REPORT_KIND_LABELS: dict[str, str] = {
    "profit_and_loss": "P&L",
    "balance_sheet": "Balance sheet",
    "spend_analysis": "Spend analysis",
}

# Where the customer is, in a few words for the RM (the customer's own page titles are
# questions such as "How complex is your organization?").
STEP_LABELS: dict[str, str] = {
    Step.EMAIL: "Not opened yet",
    Step.CHOOSE_METHOD: "Choosing how to share",
    Step.MANUAL_UPLOAD: "Uploading a file",
    Step.ENTITY_COUNT: "Counting legal entities",
    Step.ENTITY_NAME: "Naming a legal entity",
    Step.SHARE_ACCOUNTING: "Sharing accounting data",
    Step.SELECT_PLATFORM: "Choosing software",
    Step.CONSENT: "Giving consent",
    Step.PLATFORM_SIGNIN: "Signing in",
    Step.ENTITIES: "Reviewing legal entities",
    Step.COMPLETE: "Complete",
    Step.SUMMARY: "Finished",
    Step.EXPIRED: "Link expired",
    Step.CANCELLED: "Cancelled",
}

NOT_REQUESTED = "Not requested"

# Said in the request dialog when the company has an open request.
REPLACES_OPEN_REQUEST = "This replaces the open request; its link stops working."


def connection_status_label(status: str | None) -> str:
    return CONNECTION_STATUS_LABELS.get(status or "", status or "—")


def pull_status_label(status: str | None) -> str:
    return PULL_STATUS_LABELS.get(status or "", status or "—")


def payment_method_label(method: str | None, currency: str = "") -> str:
    """``Check`` reads "Cheque" except in US dollar data."""
    if not method:
        return ""
    if method == "Check" and currency == "USD":
        return "Check"
    return PAYMENT_METHOD_LABELS.get(method, method)


def company_status_label(status: str | None) -> str:
    """A company's status; ``None`` (never asked for data) reads "Not requested"."""
    return NOT_REQUESTED if status in (None, "", "None") else status


def request_state_label(
    state: str, delivery: str = "email", superseded_by: str | None = None
) -> str:
    """A request's state: "Sent" says how (a copied link was never emailed); a request
    cancelled by a newer one reads "Replaced"."""
    if state == "Cancelled" and superseded_by:
        return "Replaced"
    if state == "Sent":
        return "Link copied" if delivery == "link" else "Email sent"
    return state


def step_label(step: str | None) -> str:
    if not step:
        return "—"
    return STEP_LABELS.get(step, step.replace("_", " "))


def action_label(action: str | None) -> str:
    if not action:
        return "—"
    try:
        return ACTION_LABELS[Action(action)]
    except ValueError:
        return action.replace("_", " ")


def status_change(before: str | None, after: str | None) -> str:
    """A company status change for a timeline: the first one has no "before"."""
    if before in (None, "", "None"):
        return f"Status: {company_status_label(after)}"
    return f"Status changed: {company_status_label(before)} → {company_status_label(after)}"


# The heading over the steps only some journeys take (journey.portfolio.SIDE_STEPS),
# where the portfolio's funnel is shown.
SIDE_STEPS_HEADING = "Steps only some journeys take"

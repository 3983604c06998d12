"""Customer simulations and journey transcripts: how support reproduces a journey.

A *simulation* is a fresh demo request, walked through the customer side of the API
exactly as a customer would walk it: a new company (its description says what it
is, and it is assigned to nobody, so it stays out of everyone's "my companies")
with one request delivered as a link. It either copies a real request (its data
types, the feature switches its journey followed, the company's and contact's
names) or is made from chosen data types and switches, so that every branch of the
journey can be shown whatever the organization has switched on.

A *transcript* is a request's journey as its events recorded it: every customer
action with the step it was taken at, the step it led to, the answer (never a
password, never file contents) and the error, if any. ``replay_plan`` turns a
transcript into the actions that take a simulation down the same path.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Any

from journey import service
from journey.core.domain import DataType, Delivery, Feature, Role
from journey.core.errors import Invalid
from journey.core.records import InformationRequest, User
from journey.names import company, contact
from journey.storage.base import Tx

SIMULATION_ROLES = (Role.RM, Role.ADMIN, Role.SUPPORT)
TRANSCRIPT_FORMAT = "relportal.transcript/1"
# Sandbox credentials the simulated platforms accept, and a password they refuse.
GOOD_PASSWORD = "demo"
WRONG_PASSWORD = "not-the-password"


def clean_features(value: Any) -> frozenset[Feature]:
    if not isinstance(value, list):
        raise Invalid("features must be a list of feature names.", "invalid_features")
    try:
        return frozenset(Feature(v) for v in value)
    except (ValueError, TypeError):
        names = ", ".join(f.value for f in Feature)
        raise Invalid(f"features may contain only: {names}.", "invalid_features") from None


def create(tx: Tx, user: User, data: dict[str, Any], public_url: str) -> dict[str, Any]:
    """A new simulation: ``{"from_request": id}`` copies a request; otherwise
    ``data_types`` and ``features`` (default: the organization's) choose the branch."""
    service.require_role(user, *SIMULATION_ROLES)
    org = tx.get_organization(user.org_id)
    assert org is not None
    source_id = data.get("from_request")
    if source_id is not None:
        if not isinstance(source_id, str):
            raise Invalid("from_request must be a request id.", "invalid_request")
        source = service.get_request(tx, user, source_id)
        original = tx.get_relationship(user.org_id, source.relationship_id)
        assert original is not None
        types = source.data_types
        features = org.features if source.features is None else source.features
        name, contact_name = original.name, original.contact_name
        description = f"Customer simulation of a request of {source.created_at[:10]}"
    else:
        types = service.clean_data_types(data.get("data_types"))
        features = clean_features(data.get("features", sorted(f.value for f in org.features)))
        chosen = data.get("company_name")
        # A chosen name gets the same made-up contact every time (demos look alike).
        pick = (
            int(hashlib.sha256(str(chosen).encode()).hexdigest()[:8], 16)
            if chosen
            else random.SystemRandom().randrange(10_000_000)
        )
        name = service.clean_text(
            chosen or company(pick)[0],
            "company_name",
            required=True,
            max_len=service.NAME_MAX,
        )
        contact_name = contact(pick)[0]
        description = "Customer simulation"
    clean = {
        "name": name,
        "description": f"{description}, by {user.name}",
        "contact_name": contact_name,
        # Nobody's mailbox: a simulation is delivered as a link, never by email.
        "contact_email": "customer@simulation.invalid",
        "users": (),
    }
    rel = service.add_relationship(tx, user, clean, note={"simulation": True}, simulated=True)
    issued = service.issue_request(
        tx, user, rel, types, Delivery.LINK, public_url, features=frozenset(features)
    )
    return {
        "relationship_id": rel.id,
        "request_id": issued.request.id,
        "link": issued.link,
        "data_types": sorted(t.value for t in types),
        "features": sorted(f.value for f in features),
    }


def clear(tx: Tx, user: User) -> dict[str, Any]:
    """Remove the organization's customer simulations (demo requests and replays too)."""
    service.require_role(user, *SIMULATION_ROLES)
    removed = tx.delete_simulations(user.org_id)
    if removed:
        tx.append_event(
            user.org_id, service.actor_of(user), "simulations.cleared", {"removed": removed}
        )
    return {"removed": removed}


def transcript(tx: Tx, user: User, req_id: str) -> dict[str, Any]:
    """The request's journey, one entry per customer action, oldest first."""
    req = service.get_request(tx, user, req_id)
    org = tx.get_organization(user.org_id)
    rel = tx.get_relationship(user.org_id, req.relationship_id)
    assert org is not None and rel is not None
    steps = [
        {
            "at": event.at,
            "action": event.payload.get("action"),
            "from": event.payload.get("from"),
            "to": event.payload.get("to"),
            "closed": bool(event.payload.get("closed")),
            "answer": event.payload.get("answer") or {},
            "error": event.payload.get("error"),
        }
        for event in tx.events_for_request(req.id)
        if event.kind == "journey.action"
    ]
    return {
        "format": TRANSCRIPT_FORMAT,
        "request": _request_facts(req, org.features, rel.name),
        "steps": steps,
    }


def _request_facts(
    req: InformationRequest, org_features: frozenset[Feature], company_name: str
) -> dict[str, Any]:
    features = org_features if req.features is None else req.features
    return {
        "id": req.id,
        "company": company_name,
        "data_types": sorted(t.value for t in req.data_types),
        "features": sorted(f.value for f in features),
        "created_at": req.created_at,
        "state": req.state.value,
    }


@dataclass(frozen=True)
class ReplayStep:
    """One action to take on the simulation, and what it led to the first time."""

    number: int  # 1-based, in the transcript
    action: str
    params: dict[str, Any]
    expected_to: str
    expected_error: str | None
    upload: str | None = None  # "valid" or "invalid": an upload, not an action

    def describe(self) -> str:
        shown = {k: v for k, v in self.params.items() if k != "password"}
        if self.action == "authorize":
            shown["password"] = "right" if self.params["password"] == GOOD_PASSWORD else "wrong"
        if self.upload:
            return f"upload a {self.upload} file"
        detail = ", ".join(f"{k}={v}" for k, v in shown.items())
        return f"{self.action}({detail})" if detail else self.action


def check_transcript(data: Any) -> dict[str, Any]:
    """A transcript as imported from JSON, checked; ``Invalid`` says what is wrong."""
    if not isinstance(data, dict) or data.get("format") != TRANSCRIPT_FORMAT:
        raise Invalid(
            f"Not a transcript: expected format {TRANSCRIPT_FORMAT}.", "invalid_transcript"
        )
    request, steps = data.get("request"), data.get("steps")
    if not isinstance(request, dict) or not isinstance(steps, list):
        raise Invalid("A transcript needs a request and a list of steps.", "invalid_transcript")
    try:
        frozenset(DataType(t) for t in request.get("data_types", []))
        clean_features(request.get("features", []))
    except (ValueError, TypeError):
        raise Invalid(
            "The transcript's data types are not ones relportal knows.", "invalid_transcript"
        ) from None
    for number, step in enumerate(steps, 1):
        if not isinstance(step, dict) or not isinstance(step.get("action"), str):
            raise Invalid(f"Step {number} of the transcript has no action.", "invalid_transcript")
        if not isinstance(step.get("answer", {}), dict):
            raise Invalid(f"Step {number}'s answer is not an object.", "invalid_transcript")
    return data


def replay_plan(data: dict[str, Any]) -> list[ReplayStep]:
    """The actions that take a fresh copy of the request down the transcript's path.

    Passwords are never recorded: a sign-in that failed is replayed with a wrong
    password, one that succeeded with the sandbox's. Files are never recorded either:
    an accepted upload is replayed with a valid sample file of the template, a
    rejected one with a file that is rejected too.
    """
    plan: list[ReplayStep] = []
    for number, step in enumerate(check_transcript(data)["steps"], 1):
        action, answer = step["action"], dict(step.get("answer") or {})
        error = step.get("error")
        upload = None
        params: dict[str, Any] = {}
        if action == "upload":
            upload = "invalid" if error else "valid"
        elif action == "authorize":
            params = {
                "username": str(answer.get("username") or "demo"),
                "password": WRONG_PASSWORD if error else GOOD_PASSWORD,
            }
        else:
            params = {
                k: v for k, v in answer.items() if k in ("method", "count", "name", "platform")
            }
        plan.append(
            ReplayStep(
                number=number,
                action=action,
                params=params,
                expected_to=str(step.get("to") or ""),
                expected_error=error,
                upload=upload,
            )
        )
    return plan

"""The customer side: what a request link shows and what the customer does with it.

Authorized only by the link's token, which opens exactly one request. An unknown
token is 404; an expired, cancelled or superseded link is 410 and says nothing about
the request behind it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from journey import derive, service
from journey.core import machine
from journey.core.domain import (
    Action,
    ConnectionStatus,
    PullStatus,
    RequestState,
    Step,
    UploadStatus,
)
from journey.core.errors import Gone, Invalid, NotFound
from journey.core.machine import (
    AcceptUpload,
    CompleteJourney,
    CreateEntity,
    DenyConnection,
    DiscardEntity,
    JourneyContext,
    JourneyState,
    LinkConnection,
    OpenRequest,
    PauseJourney,
    ResumeJourney,
    SignInFailed,
    StartConnection,
)
from journey.core.platforms import platform_name
from journey.core.prompts import describe, request_name
from journey.core.records import (
    Connection,
    DataPull,
    InformationRequest,
    LegalEntity,
    Organization,
    Relationship,
    Upload,
)
from journey.core.status import derive_company_status
from journey.core.text import one_line
from journey.core.tokens import hash_secret, new_id
from journey.service import compose_email
from journey.storage.base import Tx

# Actions the customer's client may post; an upload arrives through its own endpoint.
POSTABLE = frozenset(Action) - {Action.UPLOAD}

# The transcript keeps this much of a sign-in username, and of an uploaded file's name.
USERNAME_KEPT = 100
FILENAME_KEPT = 200

GONE_MESSAGES = {
    Step.EXPIRED: "This link has expired. Ask your relationship manager to send a new one.",
    Step.CANCELLED: "This request is no longer active. Your relationship manager may have sent "
    "you a newer link; use that one, or contact them.",
}


def _customer(req: InformationRequest) -> str:
    return f"customer:{req.id}"


def find_request(tx: Tx, token: str) -> InformationRequest:
    """The request a link token opens. Revoked and expired links are 410."""
    if not token or len(token) > 200:
        raise NotFound("This link is not valid.", "link_not_found")
    link_hash = hash_secret(token)
    req = tx.request_by_link_hash(link_hash)
    if req is None:
        if tx.link_revocation(link_hash) is not None:
            raise Gone(GONE_MESSAGES[Step.CANCELLED], "link_revoked", step=Step.CANCELLED.value)
        raise NotFound("This link is not valid.", "link_not_found")
    if req.state is RequestState.CANCELLED:
        raise Gone(GONE_MESSAGES[Step.CANCELLED], "link_revoked", step=Step.CANCELLED.value)
    if derive.is_expired(req) or (
        req.state is RequestState.COMPLETE
        and derive.parse_time(req.expires_at) <= datetime.now(UTC)
    ):
        raise Gone(GONE_MESSAGES[Step.EXPIRED], "link_expired", step=Step.EXPIRED.value)
    return req


def _parties(tx: Tx, req: InformationRequest) -> tuple[Organization, Relationship]:
    """The bank and the company a request is between."""
    org = tx.get_organization(req.org_id)
    rel = tx.get_relationship(req.org_id, req.relationship_id)
    assert org is not None and rel is not None
    return org, rel


def _context(
    tx: Tx,
    req: InformationRequest,
    new_entity_id: str = "",
    parties: tuple[Organization, Relationship] | None = None,
    entities: list[LegalEntity] | None = None,
) -> JourneyContext:
    org, rel = parties or _parties(tx, req)
    if entities is None:
        entities = tx.entities_for_request(req.id)
    return JourneyContext(
        data_types=req.data_types,
        features=org.features if req.features is None else req.features,
        platforms=org.platforms,
        company_name=rel.name,
        entities=tuple(derive.entity_view(tx, e) for e in entities),
        new_entity_id=new_entity_id,
    )


def _request_summary(
    tx: Tx,
    req: InformationRequest,
    parties: tuple[Organization, Relationship],
    entities: list[LegalEntity],
) -> dict[str, Any]:
    facts = [derive.entity_facts(tx, e) for e in entities]
    status = derive_company_status(derive.request_facts(req), facts)
    org, rel = parties
    shown = {"None": "Requested", "Requested": "Requested"}.get(status.value, status.value)
    if req.state is RequestState.COMPLETE and status.value == "In progress":
        shown = "Complete"
    return {
        "id": req.id,
        "name": request_name(req.data_types),
        "company": rel.name,
        "organization": org.name,
        "accent": org.accent or None,
        "data_types": sorted(d.value for d in req.data_types),
        "date": req.created_at,
        "due": None,
        "expires_at": req.expires_at,
        "status": shown,
    }


def view(
    tx: Tx,
    req: InformationRequest,
    parties: tuple[Organization, Relationship] | None = None,
    entities: list[LegalEntity] | None = None,
) -> dict[str, Any]:
    """The journey as the customer sees it now (``parties``: the bank and the company,
    and ``entities``: the request's, if the caller has them already)."""
    state = JourneyState.from_dict(req.journey)
    parties = parties or _parties(tx, req)
    org, rel = parties
    if entities is None:
        entities = tx.entities_for_request(req.id)
    ctx = _context(tx, req, parties=parties, entities=entities)
    email = None
    if state.step is Step.EMAIL:
        sender = tx.get_user(req.org_id, req.created_by)
        composed = compose_email(
            org,
            rel,
            sender.name if sender else "Your relationship manager",
            req.data_types,
            "(this link)",
        )
        email = composed.to_dict()
    result = describe(state, ctx, organization=org.name, email=email)
    result["request"] = _request_summary(tx, req, parties, entities)
    if state.step is Step.SUMMARY:
        result["requests"] = [result["request"]]
    return result


def get_journey(tx: Tx, token: str) -> dict[str, Any]:
    return view(tx, find_request(tx, token))


def act(tx: Tx, token: str, body: dict[str, Any]) -> dict[str, Any]:
    """Apply one customer action; answers the new journey state."""
    d = _decide(tx, token, body)
    after = _apply(tx, d.request, d.state, d.transition, d.action, kept_answer(d.action, d.params))
    # A transition without effects left the request's entities as they were.
    return view(tx, after, d.parties, None if d.transition.effects else d.entities)


@dataclass(frozen=True)
class _Decision:
    """An action on a request, refused or decided, with what deciding it read."""

    request: InformationRequest
    state: JourneyState
    action: Action
    params: dict[str, Any]
    # A customer's action never changes the bank or the company's name and contact,
    # which is all the answer shows of them: read once for both.
    parties: tuple[Organization, Relationship]
    entities: list[LegalEntity]
    transition: machine.Transition


def _decide(tx: Tx, token: str, body: dict[str, Any]) -> _Decision:
    req, state, action, params = _parse(tx, token, body)
    parties = _parties(tx, req)
    entities = tx.entities_for_request(req.id)
    ctx = _context(tx, req, new_entity_id=new_id(), parties=parties, entities=entities)
    transition = machine.decide(state, ctx, action, params)
    return _Decision(req, state, action, params, parties, entities, transition)


def _parse(
    tx: Tx, token: str, body: dict[str, Any]
) -> tuple[InformationRequest, JourneyState, Action, dict[str, Any]]:
    """The request a link opens, where its journey stands, and the action asked."""
    req = find_request(tx, token)
    raw = body.get("action")
    try:
        action = Action(str(raw))
    except ValueError:
        names = ", ".join(a.value for a in Action if a in POSTABLE)
        raise Invalid(f"Unknown action “{raw}”. Actions: {names}.", "unknown_action") from None
    if action not in POSTABLE:
        raise Invalid("Upload the file to the journey's uploads endpoint.", "use_upload_endpoint")
    params = {k: v for k, v in body.items() if k != "action"}
    return req, JourneyState.from_dict(req.journey), action, params


def _step_fields(req: InformationRequest, transition: machine.Transition) -> dict[str, Any]:
    """The request's fields that every transition writes: the journey's place."""
    return {"journey": transition.state.to_dict(), "version": req.version + 1}


def action_event(
    before: JourneyState, transition: machine.Transition, action: Action, answer: dict[str, Any]
) -> dict[str, Any]:
    """The transcript's line for one action (the ``journey.action`` event)."""
    return {
        "action": action.value,
        "from": before.step.value,
        "to": transition.state.step.value,
        "closed": transition.state.closed,
        "answer": answer,
        "error": (transition.state.error or {}).get("code"),
    }


# The one answer each action takes, as the transcript keeps it.
_ANSWERED = {
    Action.CHOOSE_METHOD: "method",
    Action.CHOOSE_ENTITIES: "count",
    Action.NAME_ENTITY: "name",
    Action.SELECT_PLATFORM: "platform",
    Action.AUTHORIZE: "username",
}


def kept_answer(action: Action, params: dict[str, Any]) -> dict[str, Any]:
    """What the customer answered, for the transcript: only the value the action took,
    once the machine accepted it, cleaned as it was checked. Never a password, nor a
    parameter the action does not take (the RM's screens show whatever is kept)."""
    key = _ANSWERED.get(action)
    value = params.get(key) if key else None
    if key is None or not isinstance(value, str):
        return {}
    if action is Action.NAME_ENTITY:
        return {key: machine.clean_entity_name(value)}
    if action is Action.AUTHORIZE:
        return {key: one_line(machine.clean_username(value), USERNAME_KEPT)}
    # A method, a count or a platform key: the machine took only one of its options.
    return {key: value}


def upload_name(filename: str) -> str:
    """An uploaded file's name as it is kept: the customer's computer chose it, so
    one line without control characters (``journey.core.text``), and not too long."""
    return one_line(filename, FILENAME_KEPT) or "upload.xlsx"


def check_upload_allowed(tx: Tx, token: str) -> None:
    """Refuse an upload before its file is parsed when the step does not take one."""
    req = find_request(tx, token)
    state = JourneyState.from_dict(req.journey)
    if Action.UPLOAD not in machine.allowed_actions(state, _context(tx, req)):
        raise machine.ActionNotAllowed(
            f"An upload is not possible at “{machine.STEP_TITLES[state.step]}”"
            + (" while the journey is closed; resume it first." if state.closed else ".")
        )


def accept_upload(
    tx: Tx,
    token: str,
    filename: str,
    data: bytes,
    records: list[dict[str, Any]],
    processing_seconds: float = 1.0,
) -> dict[str, Any]:
    """Record a validated supplier information file and move the journey on."""
    now = datetime.now(UTC)
    req = find_request(tx, token)
    state = JourneyState.from_dict(req.journey)
    ctx = _context(tx, req, new_entity_id=new_id())
    transition = machine.decide(state, ctx, Action.UPLOAD)
    upload = Upload(
        id=new_id(),
        org_id=req.org_id,
        entity_id="",
        filename=upload_name(filename),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        row_count=len(records),
        status=UploadStatus.PROCESSING,
        uploaded_at=service.iso(now),
        process_after=service.iso(now + timedelta(seconds=processing_seconds)),
        processed_at=None,
    )
    _apply(
        tx,
        req,
        state,
        transition,
        Action.UPLOAD,
        {"filename": upload.filename, "rows": len(records)},
        upload=(upload, records),
    )
    return view(tx, tx.get_request(req.org_id, req.id) or req)


def record_rejected_upload(tx: Tx, token: str, filename: str, errors: list[dict[str, Any]]) -> None:
    """A rejected file leaves the journey where it was, but the customer tried: the
    transcript (and the RM's timeline) keep the attempt and why it failed."""
    req = find_request(tx, token)
    state = JourneyState.from_dict(req.journey)
    tx.append_event(
        req.org_id,
        _customer(req),
        "journey.action",
        {
            "action": Action.UPLOAD.value,
            "from": state.step.value,
            "to": state.step.value,
            "closed": state.closed,
            "answer": {"filename": upload_name(filename), "problems": len(errors)},
            "error": "upload_rejected",
        },
        req.relationship_id,
        req.id,
    )


def _apply(
    tx: Tx,
    req: InformationRequest,
    before: JourneyState,
    transition: machine.Transition,
    action: Action,
    answer: dict[str, Any],
    upload: tuple[Upload, list[dict[str, Any]]] | None = None,
) -> InformationRequest:
    """Carry out a transition's effects; the request as they left it."""
    actor = _customer(req)
    now = tx.now()
    fields = _step_fields(req, transition)
    for effect in transition.effects:
        if isinstance(effect, OpenRequest):
            fields.update(opened_at=now, state=RequestState.OPENED.value, state_at=now)
            tx.append_event(req.org_id, actor, "request.opened", {}, req.relationship_id, req.id)
        elif isinstance(effect, CreateEntity):
            _create_entity(tx, req, effect, now)
        elif isinstance(effect, StartConnection):
            _start_connection(tx, req, effect.entity_id, effect.platform, now)
        elif isinstance(effect, LinkConnection):
            link_connection(tx, req, effect.entity_id, effect.platform, actor)
        elif isinstance(effect, DenyConnection):
            tx.update_entity(effect.entity_id, {"denied": True})
            entity = tx.get_entity(effect.entity_id)
            tx.append_event(
                req.org_id,
                actor,
                "connection.denied",
                {"platform": effect.platform, "entity": entity.name if entity else ""},
                entity.relationship_id if entity else req.relationship_id,
                req.id,
            )
        elif isinstance(effect, SignInFailed):
            tx.append_event(
                req.org_id,
                actor,
                "connection.signin_failed",
                {"platform": effect.platform},
                req.relationship_id,
                req.id,
            )
        elif isinstance(effect, AcceptUpload):
            assert upload is not None
            if effect.create_entity:
                rel = tx.get_relationship(req.org_id, req.relationship_id)
                name = rel.name if rel else ""
                _create_entity(tx, req, CreateEntity(effect.entity_id, name, False), now)
            record, rows = upload
            tx.insert_upload(Upload(**{**record.__dict__, "entity_id": effect.entity_id}), rows)
            tx.append_event(
                req.org_id,
                actor,
                "upload.accepted",
                {"upload_id": record.id, "filename": record.filename, "rows": record.row_count},
                req.relationship_id,
                req.id,
            )
        elif isinstance(effect, DiscardEntity):
            entity = tx.get_entity(effect.entity_id)
            if entity is not None:
                tx.delete_entity(entity.id)
                tx.append_event(
                    req.org_id,
                    actor,
                    "entity.discarded",
                    {"entity_id": entity.id, "name": entity.name},
                    entity.relationship_id,
                    req.id,
                )
        elif isinstance(effect, CompleteJourney):
            fields.update(completed_at=now, state=RequestState.COMPLETE.value, state_at=now)
            tx.append_event(req.org_id, actor, "request.completed", {}, req.relationship_id, req.id)
        elif isinstance(effect, (PauseJourney, ResumeJourney)):
            pass  # the journey.action event below says it
    tx.update_request(req.id, fields)
    tx.append_event(
        req.org_id,
        actor,
        "journey.action",
        action_event(before, transition, action, answer),
        req.relationship_id,
        req.id,
    )
    if not transition.effects and upload is None:
        # Only the journey's place moved (a step on, or back). The company's columns
        # derive from the request's state and its entities, which it left as they
        # were: nothing to recompute, and the request is known without reading it.
        return replace(req, **fields)
    fresh = tx.get_request(req.org_id, req.id) or req
    derive.recompute_for_request(tx, fresh, actor)
    return fresh


def _create_entity(tx: Tx, req: InformationRequest, effect: CreateEntity, now: str) -> None:
    """A legal entity; a subsidiary also becomes its own relationship, "Parent - Child"."""
    rel_id = req.relationship_id
    if effect.subsidiary:
        parent = tx.get_relationship(req.org_id, req.relationship_id)
        assert parent is not None
        child = Relationship(
            id=new_id(),
            org_id=req.org_id,
            parent_id=parent.id,
            name=f"{parent.name} - {effect.name}"[:300],
            description=parent.description,
            contact_name=parent.contact_name,
            contact_email=parent.contact_email,
            created_at=now,
            updated_at=now,
            version=1,
            status=derive.CompanyStatus.NONE,
            status_at=now,
            requested=(),
            entities_linked=0,
            entities_total=0,
            platforms=(),
            latest_request_id=None,
            simulated=parent.simulated,  # a simulation's subsidiary is simulated too
        )
        tx.insert_relationship(child)
        tx.set_relationship_users(child, parent.users)
        tx.append_event(
            req.org_id,
            _customer(req),
            "relationship.created",
            {"name": child.name, "parent_id": parent.id, "users": list(parent.users)},
            relationship_id=child.id,
            request_id=req.id,
        )
        rel_id = child.id
    tx.insert_entity(
        LegalEntity(
            id=effect.entity_id,
            org_id=req.org_id,
            request_id=req.id,
            relationship_id=rel_id,
            name=effect.name,
            is_company=not effect.subsidiary,
            denied=False,
            created_at=now,
        )
    )
    tx.append_event(
        req.org_id,
        _customer(req),
        "entity.created",
        {"entity_id": effect.entity_id, "name": effect.name, "relationship_id": rel_id},
        relationship_id=rel_id,
        request_id=req.id,
    )


def _start_connection(
    tx: Tx, req: InformationRequest, entity_id: str, platform: str, now: str
) -> None:
    existing = tx.connection_for_entity(entity_id)
    if existing is not None and existing.status is ConnectionStatus.PENDING_AUTH:
        # Trying again (after a Cancel at the platform, or another platform): same connection.
        tx.update_connection(existing.id, {"platform": platform, "status_at": now})
        return
    tx.insert_connection(
        Connection(
            id=new_id(),
            org_id=req.org_id,
            entity_id=entity_id,
            platform=platform,
            status=ConnectionStatus.PENDING_AUTH,
            created_at=now,
            status_at=now,
            last_sync_at=None,
        )
    )
    entity = tx.get_entity(entity_id)
    tx.append_event(
        req.org_id,
        _customer(req),
        "connection.pending",
        {"platform": platform, "entity": entity.name if entity else ""},
        entity.relationship_id if entity else req.relationship_id,
        req.id,
    )


def link_connection(
    tx: Tx, req: InformationRequest, entity_id: str, platform: str, actor: str
) -> None:
    """The customer allowed access: the connection is Linked and a data pull is queued."""
    now = tx.now()
    conn = tx.connection_for_entity(entity_id)
    assert conn is not None
    tx.update_connection(conn.id, {"status": ConnectionStatus.LINKED.value, "status_at": now})
    tx.update_entity(entity_id, {"denied": False})
    entity = tx.get_entity(entity_id)
    assert entity is not None
    rel = tx.get_relationship(req.org_id, entity.relationship_id)
    tx.append_event(
        req.org_id,
        actor,
        "connection.linked",
        {
            "connection_id": conn.id,
            "platform": platform,
            "platform_name": platform_name(platform),
            "entity": entity.name,
            "name": rel.name if rel else entity.name,
        },
        entity.relationship_id,
        req.id,
    )
    queue_pull(tx, req, conn, actor)


def queue_pull(tx: Tx, req: InformationRequest, conn: Connection, actor: str) -> DataPull:
    now = tx.now()
    pull = DataPull(
        id=new_id(),
        org_id=req.org_id,
        connection_id=conn.id,
        status=PullStatus.QUEUED,
        requested_at=now,
        status_at=now,
        completed_at=None,
        error=None,
        summary=None,
    )
    tx.insert_pull(pull)
    entity = tx.get_entity(conn.entity_id)
    assert entity is not None
    tx.append_event(
        req.org_id,
        actor,
        "pull.status",
        {"pull_id": pull.id, "status": pull.status.value, "platform": conn.platform},
        entity.relationship_id,
        req.id,
    )
    return pull

"""The RM side of the journey service: organizations, users, relationships, requests.

Every public function runs inside one write or read transaction (a ``Tx``) and
appends an event for every change of state. Authorization is checked here, not in
the HTTP layer, so that every caller (API, CLI, seeding) gets the same rules:
objects of another organization are simply not found.

One module per resource; this package names the use cases callers reach for
(``from journey import service; service.create_request(...)``).
"""

from __future__ import annotations

from journey.service.common import (
    WRITERS,
    actor_of,
    check_version,
    clean_data_types,
    clean_email,
    clean_text,
    iso,
    require_role,
)
from journey.service.organizations import (
    ALL_FEATURES,
    DEFAULT_ORG_NAME,
    embedded_user,
    ensure_organization,
    me,
    update_organization,
)
from journey.service.relationships import (
    NAME_MAX,
    add_relationship,
    clean_relationship,
    create_relationship,
    delete_relationship,
    get_relationship,
    update_relationship,
)
from journey.service.requests import (
    IssuedRequest,
    cancel_request,
    compose_email,
    create_request,
    expire_request_now,
    get_request,
    issue_request,
    link_for,
    mark_expired,
    note_email_sent,
    preview_request,
    resend_request,
)
from journey.service.users_tokens import (
    authenticate,
    create_token,
    ensure_user,
    revoke_token,
    token_holder,
)

__all__ = [
    "ALL_FEATURES",
    "DEFAULT_ORG_NAME",
    "NAME_MAX",
    "WRITERS",
    "IssuedRequest",
    "actor_of",
    "add_relationship",
    "authenticate",
    "cancel_request",
    "check_version",
    "clean_data_types",
    "clean_email",
    "clean_relationship",
    "clean_text",
    "compose_email",
    "create_relationship",
    "create_request",
    "create_token",
    "delete_relationship",
    "embedded_user",
    "ensure_organization",
    "ensure_user",
    "expire_request_now",
    "get_relationship",
    "get_request",
    "iso",
    "issue_request",
    "link_for",
    "mark_expired",
    "me",
    "note_email_sent",
    "preview_request",
    "require_role",
    "resend_request",
    "revoke_token",
    "token_holder",
    "update_organization",
    "update_relationship",
]

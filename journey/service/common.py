"""What every use case shares: who did it, when, and the checks of what users send."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from journey.core.domain import EMAIL_MAX, DataType, Role
from journey.core.errors import Forbidden, Invalid, PreconditionFailed, PreconditionRequired
from journey.core.records import User
from journey.core.text import has_hidden_characters

_EMAIL = re.compile(
    r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$"
)


def actor_of(user: User) -> str:
    return f"user:{user.id}"


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# Validation


def clean_text(value: Any, field: str, *, required: bool, max_len: int) -> str:
    """One line of user text: trimmed, printable, within its length."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Invalid(f"{field} must be text.", f"invalid_{field}", field=field)
    text = " ".join(value.split())
    if required and not text:
        raise Invalid(f"{field} is required.", f"missing_{field}", field=field)
    if len(text) > max_len:
        raise Invalid(
            f"{field} is {len(text)} characters long; at most {max_len} are allowed.",
            f"invalid_{field}",
            field=field,
        )
    if has_hidden_characters(text):
        raise Invalid(f"{field} contains control characters.", f"invalid_{field}", field=field)
    return text


def clean_email(value: Any, field: str = "contact_email") -> str:
    text = clean_text(value, field, required=True, max_len=EMAIL_MAX)
    if not _EMAIL.match(text):
        raise Invalid(f"{field} “{text}” is not an email address.", f"invalid_{field}", field=field)
    return text


def clean_data_types(value: Any) -> frozenset[DataType]:
    if not isinstance(value, list) or not value:
        raise Invalid(
            "Choose at least one data type: financials, spend_analysis.", "invalid_data_types"
        )
    try:
        types = frozenset(DataType(v) for v in value)
    except (ValueError, TypeError):
        raise Invalid(
            "data_types may contain only financials and spend_analysis.", "invalid_data_types"
        ) from None
    return types


def require_role(user: User, *roles: Role) -> None:
    if user.role not in roles:
        allowed = " or ".join(r.value for r in roles)
        raise Forbidden(f"This needs the {allowed} role; you are {user.role.value}.")


WRITERS = (Role.RM, Role.ADMIN)


def check_version(current: int, expected: int | None) -> None:
    if expected is None:
        raise PreconditionRequired(
            "Send the version you edited (If-Match header or “version”) so that "
            "nobody's change is overwritten."
        )
    if expected != current:
        raise PreconditionFailed(
            f"Someone changed this since you loaded it (version {expected}, now {current}). "
            "Reload and try again.",
            current_version=current,
        )

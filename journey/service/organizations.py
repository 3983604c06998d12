"""Organizations: the default one, who a user is (``me``), the admin's settings."""

from __future__ import annotations

from typing import Any

from journey.accent import clean_accent
from journey.core.domain import Feature, Role
from journey.core.errors import Invalid
from journey.core.platforms import DEFAULT_PLATFORMS, PLATFORMS, platform_name
from journey.core.records import Organization, User
from journey.core.tokens import new_id
from journey.demo_bank import DEMO_PORTAL_USER
from journey.service.common import actor_of, check_version, require_role
from journey.storage.base import Tx

DEFAULT_ORG_NAME = "Larkspur Bank"
ALL_FEATURES = frozenset(Feature)


def ensure_organization(
    tx: Tx,
    name: str = DEFAULT_ORG_NAME,
    *,
    features: frozenset[Feature] = ALL_FEATURES,
    platforms: tuple[str, ...] = DEFAULT_PLATFORMS,
    link_lifetime_days: int = 7,
) -> Organization:
    org = tx.get_organization_by_name(name)
    if org is not None:
        return org
    org = Organization(
        id=new_id(),
        name=name,
        features=features,
        platforms=platforms,
        link_lifetime_days=link_lifetime_days,
        simulated_failures={},
        created_at=tx.now(),
        version=1,
    )
    tx.insert_organization(org)
    tx.append_event(org.id, "system", "organization.created", {"name": name})
    return org


def embedded_user(tx: Tx, email: str | None = None) -> User | None:
    """Who a portal running the service in-process signs in as: the user with
    ``email`` (config's ``[portal] user``), else the demo's relationship manager
    (``journey.demo_bank.DEMO_PORTAL_USER``). Never "the first one": a user added later
    (``relportal token create``) must not change who the portal is."""
    if not email:
        email = DEMO_PORTAL_USER
    for org in tx.list_organizations():
        user = tx.get_user_by_email(org.id, email)
        if user is not None:
            return user
    return None


def me(tx: Tx, user: User) -> dict[str, Any]:
    org = tx.get_organization(user.org_id)
    assert org is not None
    return {
        "user": user.to_dict(),
        "organization": {
            "id": org.id,
            "name": org.name,
            "version": org.version,
            "accent": org.accent or None,
        },
        "features": sorted(f.value for f in org.features),
        "platforms": [{"key": k, "name": platform_name(k)} for k in org.platforms],
        "link_lifetime_days": org.link_lifetime_days,
        "users": [u.to_dict() for u in tx.list_users(org.id)],
    }


def update_organization(
    tx: Tx, user: User, changes: dict[str, Any], version: int | None
) -> dict[str, Any]:
    """Admin: features, platforms, link lifetime, simulated platform failures and the
    accent colour of the customer's pages."""
    require_role(user, Role.ADMIN)
    org = tx.get_organization(user.org_id)
    assert org is not None
    check_version(org.version, version)
    fields: dict[str, Any] = {}
    if "features" in changes:
        try:
            fields["features"] = sorted({Feature(f).value for f in changes["features"]})
        except (ValueError, TypeError):
            raise Invalid(
                "features may contain copy_link, manual_upload and multi_entity.",
                "invalid_features",
            ) from None
    if "platforms" in changes:
        keys = changes["platforms"]
        if not isinstance(keys, list) or not keys or any(k not in PLATFORMS for k in keys):
            raise Invalid(
                f"platforms must be a non-empty list of: {', '.join(PLATFORMS)}.",
                "invalid_platforms",
            )
        fields["platforms"] = list(dict.fromkeys(keys))
    if "link_lifetime_days" in changes:
        days = changes["link_lifetime_days"]
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 90:
            raise Invalid(
                "link_lifetime_days must be a whole number from 1 to 90.",
                "invalid_link_lifetime_days",
            )
        fields["link_lifetime_days"] = days
    if "simulated_failures" in changes:
        failures = changes["simulated_failures"]
        if not isinstance(failures, dict) or any(
            k not in PLATFORMS or v not in ("FetchError", "AuthError") for k, v in failures.items()
        ):
            raise Invalid(
                "simulated_failures maps a platform key to FetchError or AuthError.",
                "invalid_simulated_failures",
            )
        fields["simulated_failures"] = dict(failures)
    if "accent" in changes:
        fields["accent"] = clean_accent(changes["accent"])
    fields["version"] = org.version + 1
    tx.update_organization(org.id, fields)
    tx.append_event(
        org.id, actor_of(user), "organization.updated", {k: v for k, v in fields.items()}
    )
    return me(tx, user)

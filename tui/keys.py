"""Key bindings users can remap in config ([keys] binding id = "key")."""

from __future__ import annotations

from textual.binding import Binding


def bindable() -> dict[str, Binding]:
    """Every binding with an id, by id, across the app's screens and widgets."""
    from screens.company_form import CompanyForm
    from screens.confirm import Confirm
    from screens.portal import PortalScreen
    from screens.relationship import RelationshipScreen
    from screens.request_form import RequestForm
    from screens.users_filter import UsersFilter
    from tui.app import RelportalApp
    from widgets.relationship_table import RelationshipTable

    found: dict[str, Binding] = {}
    for owner in (
        RelportalApp,
        PortalScreen,
        RelationshipScreen,
        RelationshipTable,
        CompanyForm,
        RequestForm,
        Confirm,
        UsersFilter,
    ):
        for binding in owner.BINDINGS:
            if isinstance(binding, Binding) and binding.id:
                found[binding.id] = binding
    return found


def check_keymap(keymap: dict[str, str], source: str) -> str | None:
    """A one-line reason when the keymap names a binding that does not exist."""
    if not keymap:
        return None
    known = bindable()
    for binding_id in keymap:
        if binding_id not in known:
            return f"{source}: keys.{binding_id} is not a binding id; `relportal keys` lists them"
    return None

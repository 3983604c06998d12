"""Command palette: the actions of the screen on top by name, and "jump to a company"."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher
from textual.screen import Screen

from tui.client import ServiceProblem, ServiceUnavailable


@dataclass(frozen=True)
class Command:
    """One palette command: its name, what it runs, and help (constant words); or,
    for a screen's own action, ``about`` (what it acts on: a company's name, service
    text) and the key that does the same, shown under the name."""

    name: str
    run: Callable[[], Any]
    help: str | None = None
    about: str = ""
    key: str = ""

    def shown(self, name: Content) -> Content:
        details = " · ".join(part for part in (self.about, self.key and f"key {self.key}") if part)
        if not details:
            return name
        return Content("\n").join([name, Content.styled(details, "dim")])


def screen_commands(screen: Screen[Any]) -> list[Command]:
    """The actions of ``screen``'s own bindings (enabled ones, each action once), named
    ``prefix: description`` unless the screen names one itself (``PALETTE_NAMES``)."""
    prefix = getattr(screen, "PALETTE_PREFIX", "")
    names: dict[str, str] = getattr(screen, "PALETTE_NAMES", {})
    about_of = getattr(screen, "palette_subject", None)
    about = about_of() if callable(about_of) else ""
    seen: set[str] = set()
    commands: list[Command] = []
    for active in screen.active_bindings.values():
        binding = active.binding
        if active.node is not screen or not active.enabled or not binding.description:
            continue
        if binding.action in seen:
            continue
        seen.add(binding.action)
        name = names.get(binding.action) or binding.description.lower()
        if prefix and ":" not in name:
            name = f"{prefix}: {name}"
        commands.append(
            Command(
                name,
                partial(screen.run_action, binding.action),
                about=about,
                key=screen.app.get_key_display(binding),
            )
        )
    return commands


def portal_commands(portal: Any) -> list[Command]:
    """The portal's list choices beyond its keys: each filter, user and sort by name."""
    from screens.portal import SORTS, STATUSES

    commands = [
        Command(
            "company: open",
            portal.query_one("#table").action_open,
            "Open the highlighted company",
        ),
        Command("portal: my companies", partial(portal._set, user="me"), "Show my companies"),
        Command("portal: all companies", partial(portal._set, user="all"), "Show everyone's"),
    ]
    for status in STATUSES:
        label = (
            "all statuses" if status is None else ("never asked" if status == "None" else status)
        )
        commands.append(
            Command(f"portal: filter {label}", partial(portal._set, status=status), "Status filter")
        )
    for user in portal.session.users:
        commands.append(
            Command(
                f"portal: companies of {user['name']}",
                partial(portal._set, user=user["id"]),
                "Users filter",
            )
        )
    for key, title in SORTS:
        commands.append(
            Command(f"portal: sort by {title.lower()}", partial(portal._set, sort=key), "Sort")
        )
    return commands


class PortalCommands(Provider):
    """The screen on top's own actions (its bindings, so remapped keys show), the
    portal's filters and sorts while the portal is on top, the simulations, and
    "jump to" any company. Commands act on what is on screen: a company screen's
    "request information" asks that company, never the list row behind it."""

    def _portal(self) -> Any:
        from screens.portal import PortalScreen

        return self.screen if isinstance(self.screen, PortalScreen) else None

    def _commands(self) -> list[Command]:
        commands = screen_commands(self.screen)
        portal = self._portal()
        if portal is not None:
            commands += portal_commands(portal)
        commands += [
            Command(
                "simulation: new demo request",
                self.app.action_new_simulation,  # type: ignore[attr-defined]
                "Walk a customer journey: choose data types and switches",
            ),
            Command(
                "simulation: open a request link",
                self.app.action_open_link,  # type: ignore[attr-defined]
                "Walk the journey behind a link, as its customer",
            ),
            Command(
                "simulation: import a transcript",
                self.app.action_import_transcript,  # type: ignore[attr-defined]
                "Open a journey transcript (JSON) to read or replay",
            ),
            Command(
                "simulation: customer simulations",
                partial(open_simulations, self.app),
                "The simulations kept out of the list: open them, or clear them all (C)",
            ),
        ]
        return commands

    # The palette reads a string prompt or help as markup, and Matcher.highlight does
    # too; names here hold users' and companies' names (service text), so every hit is
    # given as Content, and its help (constant words) as a string.

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(
                command.shown(Content(command.name)),
                command.run,
                text=command.name,
                help=command.help,
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.name)
            if score > 0:
                yield Hit(
                    score,
                    command.shown(highlighted(matcher, command.name)),
                    command.run,
                    text=command.name,
                    help=command.help,
                )
        async for hit in self._companies(query):
            yield hit

    async def _companies(self, query: str) -> AsyncIterator[Hit]:
        # Jumping opens a company over whatever is on screen: from any screen.
        from screens.portal import PortalScreen

        portal = next(
            (s for s in reversed(self.app.screen_stack) if isinstance(s, PortalScreen)), None
        )
        query = query.strip().removeprefix("jump to ").removeprefix("jump ").strip()
        if portal is None or len(query) < 2:
            return
        try:
            body = await portal.client.get("/v1/relationships", q=query, user="all", limit=8)
        except (ServiceProblem, ServiceUnavailable):
            return
        from screens.relationship import RelationshipScreen

        for row in body["items"]:

            def open_company(rel_id: str = row["id"], users: list[str] = row["users"]) -> None:
                self.app.push_screen(
                    RelationshipScreen(portal.client, portal.session, rel_id, users)
                )

            # The company's status and contact under its name, dimmed as the palette's help is.
            name = f"jump to {row['name']}"
            details = Content.styled(f"{row['status_label']} · {row['contact_name']}", "dim")
            yield Hit(0.9, Content("\n").join([Content(name), details]), open_company, text=name)


def open_simulations(app: Any) -> None:
    """The customer simulations view (support's), from any screen over the portal."""
    from screens.portal import PortalScreen
    from screens.simulations import SimulationsScreen

    portal = next((s for s in reversed(app.screen_stack) if isinstance(s, PortalScreen)), None)
    if portal is not None:
        app.push_screen(SimulationsScreen(portal.client, portal.session))


def highlighted(matcher: Matcher, candidate: str) -> Content:
    """``candidate`` as plain text, with the letters the query matched highlighted
    (``Matcher.highlight`` would read it as markup first)."""
    content = Content(candidate)
    score, offsets = matcher.fuzzy_search.match(matcher.query, candidate)
    if not score:
        return content
    for offset in offsets:
        if not candidate[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content

"""Command palette: every portal action by name, and "jump to a company" by its name."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher

from tui.client import ServiceProblem, ServiceUnavailable


class PortalCommands(Provider):
    def _portal(self) -> Any:
        from screens.portal import PortalScreen

        for screen in reversed(self.app.screen_stack):
            if isinstance(screen, PortalScreen):
                return screen
        return None

    def _commands(self) -> list[tuple[str, Callable[[], Any], str]]:
        portal = self._portal()
        if portal is None:
            return []
        from screens.portal import SORTS, STATUSES

        commands: list[tuple[str, Callable[[], Any], str]] = [
            ("company: add", portal.action_add_company, "Add a company"),
            (
                "company: request information",
                portal.action_request,
                "Request data from the highlighted company",
            ),
            (
                "company: open",
                portal.query_one("#table").action_open,
                "Open the highlighted company",
            ),
            ("portal: search", portal.action_search, "Search companies and contacts"),
            (
                "portfolio: statuses and journey funnel",
                portal.action_portfolio,
                "How requests are going: the funnel, where customers stop, time to data",
            ),
            ("portal: my companies", partial(portal._set, user="me"), "Show my companies"),
            ("portal: all companies", partial(portal._set, user="all"), "Show everyone's"),
            ("portal: reverse sort", portal.action_reverse_sort, "Reverse the order"),
        ]
        commands += [
            (
                "simulation: new demo request",
                self.app.action_new_simulation,  # type: ignore[attr-defined]
                "Walk a customer journey: choose data types and switches",
            ),
            (
                "simulation: open a request link",
                self.app.action_open_link,  # type: ignore[attr-defined]
                "Walk the journey behind a link, as its customer",
            ),
            (
                "simulation: import a transcript",
                self.app.action_import_transcript,  # type: ignore[attr-defined]
                "Open a journey transcript (JSON) to read or replay",
            ),
            (
                "simulation: customer simulations",
                partial(open_simulations, self.app, portal),
                "The simulations kept out of the list: open them, or clear them all (C)",
            ),
        ]
        for status in STATUSES:
            label = (
                "all statuses"
                if status is None
                else ("never asked" if status == "None" else status)
            )
            commands.append(
                (f"portal: filter {label}", partial(portal._set, status=status), "Status filter")
            )
        for user in portal.session.users:
            commands.append(
                (
                    f"portal: companies of {user['name']}",
                    partial(portal._set, user=user["id"]),
                    "Users filter",
                )
            )
        for key, title in SORTS:
            commands.append(
                (f"portal: sort by {title.lower()}", partial(portal._set, sort=key), "Sort")
            )
        return commands

    # The palette reads a string prompt or help as markup, and Matcher.highlight does
    # too; names here hold users' and companies' names (service text), so every hit is
    # given as Content, and its help (constant words) as a string.

    async def discover(self) -> Hits:
        for name, action, help_text in self._commands():
            yield DiscoveryHit(Content(name), action, text=name, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, action, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, highlighted(matcher, name), action, text=name, help=help_text)
        async for hit in self._companies(query):
            yield hit

    async def _companies(self, query: str) -> AsyncIterator[Hit]:
        portal = self._portal()
        query = query.strip().removeprefix("jump to ").removeprefix("jump ").strip()
        if portal is None or len(query) < 2:
            return
        try:
            body = await portal.client.get("/v1/relationships", q=query, user="all", limit=8)
        except (ServiceProblem, ServiceUnavailable):
            return
        from screens.relationship import RelationshipScreen

        for row in body["items"]:

            def open_company(rel_id: str = row["id"]) -> None:
                self.app.push_screen(RelationshipScreen(portal.client, portal.session, rel_id))

            # The company's status and contact under its name, dimmed as the palette's help is.
            name = f"jump to {row['name']}"
            details = Content.styled(f"{row['status_label']} · {row['contact_name']}", "dim")
            yield Hit(0.9, Content("\n").join([Content(name), details]), open_company, text=name)


def open_simulations(app: Any, portal: Any) -> None:
    from screens.simulations import SimulationsScreen

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

"""What a screen asks of the app: to open another screen, or to start a simulation.

Screens post these and the app (``tui.app.RelportalApp``) pushes the screen, so no
screen imports another to show it: the screens stay a layer without circles. The
dialogs a screen waits on for an answer (confirm, the forms, the path prompt) are
the exception: they are a layer below, and pushed with a callback by whoever asks.
Messages the portal screen sends to the company screens open over it are posted to
each screen directly and do not bubble.
"""

from __future__ import annotations

from collections.abc import Collection
from collections.abc import Set as AbstractSet
from typing import Any

from textual.message import Message


class OpenCompany(Message):
    """Show the company ``rel_id`` (``screens.relationship``); ``users``: whose it was in
    the row it was opened from, if any."""

    def __init__(self, rel_id: str, users: Collection[str] | None = None) -> None:
        super().__init__()
        self.rel_id = rel_id
        self.users = users


class OpenPortfolio(Message):
    """Show the portfolio of ``user``'s companies ("me" or "all")."""

    def __init__(self, user: str) -> None:
        super().__init__()
        self.user = user


class OpenReports(Message):
    """Show the company's reports."""

    def __init__(self, rel_id: str, name: str) -> None:
        super().__init__()
        self.rel_id = rel_id
        self.name = name


class OpenTranscript(Message):
    """Show the journey transcript of the request ``request_id``."""

    def __init__(self, request_id: str) -> None:
        super().__init__()
        self.request_id = request_id


class StartSimulation(Message):
    """Make a fresh demo request (``POST /v1/simulations`` with ``body``) and walk it."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__()
        self.body = body


class OpenSimulation(Message):
    """Walk the demo request made already (``made``: the service's answer to
    ``POST /v1/simulations``), replaying ``replay`` (``tui.client.ReplayStep``s) if given."""

    def __init__(self, made: dict[str, Any], replay: list[Any] | None = None) -> None:
        super().__init__()
        self.made = made
        self.replay = replay


class CompaniesTouched(Message, bubble=False):
    """Events touched these companies, or these requests: a company screen showing one
    reloads it."""

    def __init__(
        self, rel_ids: AbstractSet[str], request_ids: AbstractSet[str] = frozenset()
    ) -> None:
        super().__init__()
        self.rel_ids = rel_ids
        self.request_ids = request_ids


class ServiceBack(Message, bubble=False):
    """The service is reachable again after an outage."""


class CompaniesShown(Message, bubble=False):
    """A company screen read its company anew: the companies it shows, or whose they
    are, may have changed, and with them what the portal under it follows."""

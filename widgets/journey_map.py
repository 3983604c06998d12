"""The journey map beside the customer simulation, shaped like the reference diagram:
what was requested, the path this request takes (as the service says), where the
customer is, and the legal entities done so far."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

# Short names for the map's stages (the customer's titles are too long for a side panel).
STAGES = {
    "email": "Request email",
    "choose_method": "Upload or connect",
    "manual_upload": "Upload supplier file",
    "entity_count": "One or many entities",
    "entity_name": "Create legal entity",
    "share_accounting": "Share accounting data",
    "select_platform": "Select software",
    "consent": "Consent",
    "platform_signin": "Authorize connection",
    "entities": "Your legal entities",
    "complete": "Data available to RM",
    "summary": "Requests summary",
}
ENTITY_MARKS = {
    "pending": ("·", "dim"),
    "connecting": ("◔", "yellow"),
    "linked": ("✔", "green"),
    "uploaded": ("⇪", "green"),
    "denied": ("✖", "red"),
    "unlinked": ("⊘", "red"),
    "deauthorized": ("⊘", "red"),
}
# An entity's name beside its mark in the side panel (34 columns less padding and mark).
NAME_ROOM = 28
REQUESTED = {"financials": "Financials", "spend_analysis": "Spend analysis"}


class JourneyMap(Static):
    # One line per stage, never wrapped mid-phrase: a long entity name ends in "…".
    DEFAULT_CSS = """
    JourneyMap { height: auto; padding: 0 1; text-wrap: nowrap; }
    """

    def show(self, journey: dict[str, Any] | None, gone: str | None = None) -> None:
        text = Text()
        text.append("Journey map\n", style="bold")
        if journey is None:
            text.append(gone or "Loading…", style="dim")
            self.update(text)
            return
        wanted = " + ".join(REQUESTED.get(t, t) for t in journey["request"]["data_types"])
        text.append(f"{wanted}\n", style="italic")
        path: list[str] = journey.get("path") or []
        current = journey["step"]
        reached = path.index(current) if current in path else -1
        multiple = "entities" in path
        for index, step in enumerate(path):
            if index < reached:
                mark, style = "✔", "green"
            elif index == reached:
                mark, style = "▶", "bold reverse"
            else:
                mark, style = "·", "dim"
            text.append(f" {mark} ", style="bold" if index == reached else style)
            text.append(STAGES.get(step, step), style=style)
            text.append("\n")
            if multiple and step == "platform_signin":
                # Two lines of their own: the panel is narrower than the phrase.
                text.append("   ↺ another entity:\n     back to create\n", style="dim italic")
            if step == "choose_method" and "manual_upload" not in path:
                text.append("   ↳ or upload a file\n", style="dim italic")
        entities = journey.get("entities") or []
        if entities:
            text.append("Entities\n", style="bold")
            for entity in entities:
                mark, style = ENTITY_MARKS.get(entity["state"], ("◔", "yellow"))
                text.append(f" {mark} ", style=style)
                name = entity["name"]
                if len(name) > NAME_ROOM:
                    name = name[: NAME_ROOM - 1] + "…"
                text.append(f"{name}\n")
        if journey.get("closed"):
            text.append("Closed by the customer (×)\n", style="yellow")
        self.update(text)

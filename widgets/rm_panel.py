"""What the relationship manager sees while the customer (simulated) walks the
journey: the company's status and its legal entities, as the portal shows them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual.widgets import Static

from widgets.status_badge import ago, status_text


class RmPanel(Static):
    DEFAULT_CSS = """
    RmPanel { height: auto; padding: 0 1; margin-top: 1; }
    """

    def show(self, company: Mapping[str, Any] | None, note: str = "") -> None:
        text = Text()
        text.append("What the RM sees\n", style="bold")
        if company is None:
            text.append(note or "Loading…", style="dim")
            self.update(text)
            return
        text.append(f"{company['name']}\n")
        text.append_text(status_text(company["status"]))
        text.append(f"  {ago(company['status_at'])}\n", style="dim")
        linked, total = company["entities_linked"], company["entities_total"]
        if total:
            text.append(f"Entities {linked}/{total}\n")
            platforms = ", ".join(p["name"] for p in company["platforms"])
            if platforms:  # a line of their own: beside the count they broke mid-name
                text.append(f"   {platforms}\n", style="dim")
        for child in company.get("subsidiaries") or []:
            text.append(" + ")
            text.append(child["name"].removeprefix(company["name"] + " - "))
            # The status on a line of its own: beside a long name it broke in two.
            text.append("\n   ")
            text.append_text(status_text(child["status"]))
            text.append("\n")
        self.update(text)

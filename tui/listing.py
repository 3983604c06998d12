"""What the portal lists: the criteria in force and the page size it asks for.

Free of Textual so the opening answers (``tui/opening.py``) ask the service's first
question exactly as the portal screen will.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

PAGE_SIZE = 100  # companies per page: one request fills a tall screen many times over


@dataclass(frozen=True)
class Criteria:
    q: str = ""
    status: str | None = None
    user: str = "me"
    sort: str = "name"
    descending: bool = False

    @classmethod
    def saved(cls, preferences: Any) -> Criteria:
        """The criteria the user left the portal with (``tui.preferences.Preferences``)."""
        if preferences is None:
            return cls()
        return cls(user=preferences.users, sort=preferences.sort, descending=preferences.descending)

    def params(self) -> dict[str, Any]:
        return {
            "q": self.q,
            "status": self.status,
            "user": self.user,
            "sort": ("-" if self.descending else "") + self.sort,
        }

    def first_page(self) -> dict[str, Any]:
        """Parameters of the first page's request, with counts."""
        return {**self.params(), "limit": PAGE_SIZE}


def answer_key(path: str, params: dict[str, Any]) -> str:
    """A GET request as one string: how opening answers are matched to questions."""
    return path + "?" + urlencode(sorted((k, str(v)) for k, v in params.items()))

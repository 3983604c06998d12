"""A text field that holds at most its limit and says so when it cuts.

Textual's ``Input(max_length=…)`` refuses an insert that would pass the limit whole:
pasting 10,000 characters into a 200-character field leaves it as it was, with no
word said. Here the paste is cut to what fits, and the field says what it did.
"""

from __future__ import annotations

from typing import Any

from textual.message import Message
from textual.widgets import Input


class LimitedInput(Input):
    """An ``Input`` whose over-long paste is cut to ``max_length``, with a notice."""

    class Cut(Message):
        """Text was cut to fit: ``dropped`` characters did not go in."""

        def __init__(self, field: LimitedInput, dropped: int) -> None:
            super().__init__()
            self.field = field
            self.dropped = dropped

        @property
        def control(self) -> LimitedInput:
            return self.field

    def __init__(
        self, value: str | None = None, *, what: str = "This field", **kwargs: Any
    ) -> None:
        super().__init__(value, **kwargs)
        self.what = what

    def replace(self, text: str, start: int, end: int) -> None:
        dropped = 0
        if self.max_length:
            start, end = sorted((max(0, start), min(len(self.value), end)))
            room = max(0, self.max_length - (len(self.value) - (end - start)))
            if len(text) > room:
                dropped = len(text) - room
                text = text[:room]
        super().replace(text, start, end)
        if dropped:
            self.notify(
                f"{self.what} holds at most {self.max_length:,} characters: {dropped:,} were cut.",
                title="Cut to fit",
                severity="warning",
            )
            self.post_message(self.Cut(self, dropped))

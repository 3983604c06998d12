"""The footer every screen and dialog shows: its keys, never cut mid-word, `? Keys` always.

Textual's footer lays keys out in a row and cuts the last ones off when the terminal
is narrow: at 80 columns the portal lost `? Keys`, the one key that lists the others,
and showed half a word ("r Re▏"). This footer shows whole keys only, as many as fit in
binding order, and keeps room for `?` first; the `?` help lists every key.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

# The app's `?` (its action, as the footer names it: remapping the key keeps it).
HELP_ACTION = "help"


class KeysFooter(Footer):
    def compose(self):  # type: ignore[no-untyped-def]
        yield from super().compose()
        self.call_after_refresh(self.fit_keys)

    def on_resize(self) -> None:
        self.fit_keys()

    def fit_keys(self) -> None:
        """Hide the keys that do not fit whole, never the help key."""
        keys = [key for key in self.query_children(FooterKey)]
        if not keys or not self.size.width:
            return
        palette = [key for key in keys if key.has_class("-command-palette")]
        listed = [key for key in keys if not key.has_class("-command-palette")]
        room = self.size.width - sum(_width(key) for key in palette)
        room -= sum(_width(key) for key in listed if key.action == HELP_ACTION)
        for key in listed:
            if key.action == HELP_ACTION:
                key.display = True
                continue
            width = _width(key)
            key.display = width <= room
            if key.display:
                room -= width
            else:
                room = 0  # later keys stay hidden too: the order on screen is the binding's


def _width(key: FooterKey) -> int:
    """The columns ``key`` takes: its text, padding, border and margin."""
    empty = Size(0, 0)
    return key.get_content_width(empty, empty) + key.styles.gutter.width + key.styles.margin.width

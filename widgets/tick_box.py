"""Checkboxes whose state reads without colour: `[x]` ticked, `[ ]` not.

Textual's checkbox draws `▐X▌` either way and tells the states apart by the X's
colour alone (green against almost black on navy). These draw the state as a
character, and focusing one highlights its label without adding a border, so the
dialog around it does not move.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.content import Content
from textual.strip import Strip
from textual.widgets import Checkbox, SelectionList

TICKED, UNTICKED = "x", " "


class TickBox(Checkbox):
    DEFAULT_CSS = """
    TickBox, TickBox:focus, TickBox.-textual-compact:focus {
        border: none !important;
        padding: 0;
        height: 1;
    }
    TickBox > .toggle--button { color: $text-muted; background: $surface; }
    TickBox.-on > .toggle--button { color: $text-success; background: $surface; text-style: bold; }
    """

    @property
    def _button(self) -> Content:
        style = self.get_visual_style("toggle--button")
        return Content.assemble(
            ("[", style), (TICKED if self.value else UNTICKED, style), ("]", style)
        )


class TickList(SelectionList[str]):
    """A selection list whose rows start with `[x]` or `[ ]`."""

    DEFAULT_CSS = """
    TickList > .selection-list--button,
    TickList > .selection-list--button-highlighted {
        color: $text-muted; background: $surface;
    }
    TickList > .selection-list--button-selected,
    TickList > .selection-list--button-selected-highlighted {
        color: $text-success; background: $surface; text-style: bold;
    }
    """

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        segments = list(strip)
        index = self.scroll_offset.y + y
        if len(segments) < 4 or index >= self.option_count:
            return strip
        ticked = self.get_option_at_index(index).value in self._selected
        style = segments[1].style
        mark = TICKED if ticked else UNTICKED
        return Strip(
            [Segment("[", style), Segment(mark, style), Segment("]", style), *segments[3:]],
            strip.cell_length,
        )

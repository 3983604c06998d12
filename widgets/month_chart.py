"""A column per month, drawn in text: gains above a zero line, losses below it, and the
month's name under its column.

Textual's sparkline drew a loss month (-38,575) as a bar like any other, with no zero
line and no months, so a year of losses looked like a year of profits.
"""

from __future__ import annotations

import calendar

from rich.text import Text

COLUMN = 3  # a column's width: a month's three-letter name
GAP = 1
ROWS = 6  # the chart's height, zero line apart
UP, DOWN = "#5b8def", "red"


def short_amount(value: float) -> str:
    """An axis label: 1,234,567 → "1.2m", -38,575 → "-38.6k"."""
    size = abs(value)
    for limit, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if size >= limit:
            return f"{value / limit:.1f}{suffix}"
    return f"{value:.0f}"


def month_name(month: str) -> str:
    """ "2030-07" (or a date in it) → "Jul"; anything else, its first three letters."""
    try:
        return calendar.month_abbr[int(month[5:7])]
    except (ValueError, IndexError):
        return month[:COLUMN]


def month_chart(values: list[float], months: list[str], rows: int = ROWS) -> Text:
    """Columns for ``values`` (one per month in ``months``): positive ones up from the
    zero line, negative ones down from it, each column labelled with its month."""
    top = max([*values, 0.0])
    bottom = -min([*values, 0.0])
    span = (top + bottom) or 1.0
    up_rows = round(rows * top / span) if top else 0
    down_rows = rows - up_rows if bottom else 0
    if top and bottom:
        up_rows, down_rows = max(1, up_rows), max(1, down_rows)
    labels = [short_amount(top), "0", short_amount(-bottom)]
    axis = max(len(label) for label in labels) + 1

    def cells(value: float) -> int:
        if value > 0:
            return max(1, round(value / top * up_rows))
        if value < 0:
            return max(1, round(-value / bottom * down_rows))
        return 0

    heights = [cells(v) for v in values]
    width = len(values) * (COLUMN + GAP)
    text = Text(no_wrap=True)
    for row in range(up_rows, 0, -1):  # above the line, top first
        text.append((labels[0] if row == up_rows else "").rjust(axis - 1) + " ", style="dim")
        for value, height in zip(values, heights, strict=True):
            text.append("█" * COLUMN if value > 0 and height >= row else " " * COLUMN, style=UP)
            text.append(" " * GAP)
        text.append("\n")
    text.append("0".rjust(axis - 1) + " ", style="dim")
    text.append("─" * width, style="dim")
    text.append("\n")
    for row in range(1, down_rows + 1):  # below the line, the losses
        text.append((labels[2] if row == down_rows else "").rjust(axis - 1) + " ", style="dim")
        for value, height in zip(values, heights, strict=True):
            text.append("█" * COLUMN if value < 0 and height >= row else " " * COLUMN, style=DOWN)
            text.append(" " * GAP)
        text.append("\n")
    text.append(" " * axis)
    text.append(" ".join(month_name(m).ljust(COLUMN) for m in months), style="dim")
    return text

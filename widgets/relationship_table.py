"""The company list: a virtual table that renders only the lines on screen.

Rows arrive from the service a page at a time as the view reaches them (the table
asks with ``PageWanted``; the screen fetches), so a million companies cost no more
than the pages looked at. Each company takes two lines, like the portal's cards:
name and contact on the first, description and email on the second.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from widgets.status_badge import status_text, when

ROW_HEIGHT = 2
# Columns whose header sorts the list when clicked, and by what.
SORT_OF_COLUMN = {"company": "name", "created": "created", "status": "updated"}
CACHED_PAGES = 40


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    width: int
    priority: int  # lower shows first when space is short


COLUMNS = (
    Column("company", "Company", 30, 0),
    Column("status", "Status", 19, 1),
    Column("contact", "Contact", 22, 2),
    Column("entities", "Entities", 8, 3),
    Column("requested", "Requested", 11, 4),
    Column("platforms", "Platform(s)", 18, 5),
    Column("users", "Users", 16, 6),
    Column("created", "Created", 17, 7),
)


def layout(width: int, shift: int = 0) -> list[tuple[Column, int]]:
    """The columns that fit ``width``, in display order, with their widths: the company
    first, always, then the others from the ``shift``-th on (←/→ scroll through them).
    The company column takes whatever is left over."""
    company, *others = sorted(COLUMNS, key=lambda c: c.priority)
    chosen = [company]
    used = company.width
    for column in others[max(0, shift) :]:
        if used + column.width + 1 > width:
            break
        chosen.append(column)
        used += column.width + 1
    chosen.sort(key=COLUMNS.index)
    spare = max(0, width - used)
    return [(c, c.width + (spare if c.key == "company" else 0)) for c in chosen]


def hidden_columns(width: int, shift: int) -> tuple[int, int]:
    """How many columns are hidden to the left and to the right of what fits."""
    shown = len(layout(width, shift)) - 1
    return shift, len(COLUMNS) - 1 - shift - shown


def fitted(width: int, shift: int) -> tuple[list[tuple[Column, int]], int, int]:
    """The layout for ``width`` and how many columns are hidden left and right; when
    some are, the company column gives up room for the sign that says so."""
    columns = layout(width, shift)
    left, right = hidden_columns(width, shift)
    room = len(hidden_sign(left, right))
    if room:
        columns = [(c, max(10, w - room) if c.key == "company" else w) for c, w in columns]
    return columns, left, right


def hidden_sign(left: int, right: int) -> str:
    """The header's sign that columns are hidden, with its leading space: " ◂2 +3▸"."""
    if not (left or right):
        return ""
    sign = (f"◂{left}" if left else "") + (" " if left and right else "")
    return " " + sign + (f"+{right}▸" if right else "")


def _cells(row: Mapping[str, Any], users: dict[str, str]) -> dict[str, tuple[Text, Text]]:
    requested = {"financials": "Fin", "spend_analysis": "Spend"}
    names = [users.get(u, "?") for u in row["users"]]
    return {
        "company": (
            Text(row["name"], style="bold"),
            Text(row["description"] or "", style="dim"),
        ),
        "status": (status_text(row["status"]), Text(when(row["status_at"]), style="dim")),
        "contact": (Text(row["contact_name"]), Text(row["contact_email"], style="dim")),
        "entities": (
            Text(
                f"{row['entities_linked']}/{row['entities_total']}"
                if row["entities_total"]
                else "—"
            ),
            Text(""),
        ),
        "requested": (
            Text(" + ".join(requested.get(r, r) for r in row["requested"]) or "—"),
            Text(""),
        ),
        "platforms": (Text(", ".join(p["name"] for p in row["platforms"]) or "—"), Text("")),
        "users": (
            Text(names[0] if names else "—"),
            Text(f"+{len(names) - 1} more" if len(names) > 1 else "", style="dim"),
        ),
        "created": (Text(when(row["created_at"], with_year=True)), Text("")),
    }


class RelationshipTable(ScrollView, can_focus=True):
    """Companies as the service pages them; ``cursor`` is the highlighted row."""

    DEFAULT_CSS = """
    RelationshipTable {
        height: 1fr;
        scrollbar-gutter: stable;
    }
    """

    BINDINGS = [
        Binding("up,k", "move(-1)", "Up", show=False, id="table.up"),
        Binding("down,j", "move(1)", "Down", show=False, id="table.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="table.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="table.page_down"),
        Binding("home,g", "jump(0)", "First", show=False, id="table.first"),
        Binding("end,G", "jump(-1)", "Last", show=False, id="table.last"),
        Binding("enter", "open", "Open", id="table.open"),
        Binding("left", "shift_columns(-1)", "Columns left", show=False, id="table.left"),
        Binding("right", "shift_columns(1)", "Columns right", show=False, id="table.right"),
    ]

    cursor: reactive[int] = reactive(0)
    # How many columns after the company's are scrolled off to the left.
    column_shift: reactive[int] = reactive(0)

    class ColumnsShifted(Message):
        """←/→ showed other columns: the header follows."""

    class PageWanted(Message):
        """The view reached rows that have not been fetched."""

        def __init__(self, page: int) -> None:
            super().__init__()
            self.page = page

    class Resized(Message):
        """The table's width changed, so its columns moved: titles drawn elsewhere follow."""

    class Opened(Message):
        """Enter on a company."""

        def __init__(self, row: Mapping[str, Any]) -> None:
            super().__init__()
            self.row = row

    def __init__(self, page_size: int, *, id: str | None = None) -> None:
        super().__init__(id=id)
        # Rows per page the service is asked for: the screen that fetches them decides.
        self.page_size = page_size
        self.total = 0
        self.generation = 0  # bumps when the query changes, so stale pages are dropped
        self._pages: OrderedDict[int, Sequence[Mapping[str, Any]]] = OrderedDict()
        self._wanted: set[int] = set()
        # Pages held but known to be behind the service: shown as they are, and read
        # again when they come into view.
        self._stale: set[int] = set()
        # Changes made to rows of a page while it was being read again: the answer may
        # have been read before them, so they are laid over it when it arrives.
        self._overlay: dict[int, dict[str, dict[str, Any]]] = {}
        self.users: dict[str, str] = {}

    # Data

    def reset(self, total: int, first_rows: Sequence[Mapping[str, Any]]) -> None:
        """A new query's answer: its total and first page."""
        self.generation += 1
        self.total = total
        self._pages.clear()
        self._wanted.clear()
        self._stale.clear()
        self._overlay.clear()
        self._pages[0] = first_rows
        # Another query is another list: start at its top.
        self.cursor = 0
        self.virtual_size = Size(self.size.width, total * ROW_HEIGHT)
        self.scroll_to(y=0, animate=False)
        self.refresh()

    def put_page(self, generation: int, page: int, rows: Sequence[Mapping[str, Any]]) -> None:
        if generation != self.generation:
            return
        self._wanted.discard(page)
        self._stale.discard(page)
        overlay = self._overlay.pop(page, None)
        if overlay:
            rows = [{**row, **overlay[row["id"]]} if row["id"] in overlay else row for row in rows]
        self._pages[page] = rows
        self._pages.move_to_end(page)
        while len(self._pages) > CACHED_PAGES:
            self._pages.popitem(last=False)
        self.refresh()

    def update_total(self, total: int) -> None:
        self.total = total
        self.virtual_size = Size(self.size.width, total * ROW_HEIGHT)
        self.refresh()

    def forget_pages(self) -> None:
        """Live changes: keep what is held on show, but fetch the pages on screen again
        now and the others when they come into view (a reload costs the service a page
        or two, not every page scrolled through)."""
        shown = self.pages_on_screen()
        self._stale = set(self._pages) - shown
        self._wanted.clear()  # a read that failed is asked for again
        for page in sorted(shown):
            self._wanted.add(page)
            self.post_message(self.PageWanted(page))

    def pages_on_screen(self) -> set[int]:
        """The pages the rows in view belong to (one, or two across a page's end)."""
        if not self.total:
            return {0}
        first = int(self.scroll_y) // ROW_HEIGHT
        last = first + max(1, self.size.height // ROW_HEIGHT)
        last = max(first, min(last, self.total - 1))
        return {first // self.page_size, last // self.page_size}

    def held_rows(self) -> dict[str, Mapping[str, Any]]:
        """Every row held, by company id."""
        return {row["id"]: row for rows in self._pages.values() for row in rows}

    def change_rows(self, changes: Mapping[str, Mapping[str, Any]]) -> bool:
        """Change fields of rows held (``changes``: by company id, the new values);
        whether one of them is on a page being read again, whose answer may have been
        read before the change (it is laid over the answer; the caller may read the page
        once more, to be sure of the rest)."""
        overtaken = False
        for page, held in self._pages.items():
            if any(row["id"] in changes for row in held):
                self._pages[page] = [
                    {**row, **changes[row["id"]]} if row["id"] in changes else row for row in held
                ]
                if page in self._wanted:
                    overtaken = True
                    overlay = self._overlay.setdefault(page, {})
                    for rel_id, fields in changes.items():
                        overlay[rel_id] = {**overlay.get(rel_id, {}), **fields}
                else:
                    self._overlay.pop(page, None)  # no read under way for it to correct
        self.refresh()
        return overtaken

    def row(self, index: int) -> Mapping[str, Any] | None:
        page, offset = divmod(index, self.page_size)
        rows = self._pages.get(page)
        if rows is None:
            if page not in self._wanted and 0 <= index < self.total:
                self._wanted.add(page)
                self.post_message(self.PageWanted(page))
            return None
        if page in self._stale and page not in self._wanted:
            self._stale.discard(page)
            self._wanted.add(page)
            self.post_message(self.PageWanted(page))
        return rows[offset] if offset < len(rows) else None

    def visible_ids(self) -> set[str]:
        first = int(self.scroll_y) // ROW_HEIGHT
        last = first + self.size.height // ROW_HEIGHT + 1
        found = set()
        for index in range(first, min(last + 1, self.total)):
            row = self.row(index)
            if row is not None:
                found.add(row["id"])
        return found

    @property
    def current(self) -> Mapping[str, Any] | None:
        return self.row(self.cursor) if self.total else None

    # Rendering

    def _fitted(self) -> tuple[list[tuple[Column, int]], int, int]:
        return fitted(self.size.width - 3, self.column_shift)

    def header_text(self, sort: str = "", descending: bool = False, sort_title: str = "") -> Text:
        """Column titles; the column the list is sorted by carries an arrow and the
        sort's name (``sort_title``, as the portal's title says it); a sign at the right
        says how many columns are hidden each side (←/→ show them)."""
        text = Text(no_wrap=True, overflow="ellipsis")
        columns, left, right = self._fitted()
        for number, (column, width) in enumerate(columns):
            if number:
                text.append(" ")
            title = column.title
            if SORT_OF_COLUMN.get(column.key) == sort:
                title = (sort_title or title) + (" ↓" if descending else " ↑")
            text.append(title.ljust(width)[:width], style="bold")
        text.append(hidden_sign(left, right), style="dim")
        return text

    def column_at(self, x: int) -> str | None:
        """The key of the column drawn at ``x`` (header and rows share the layout)."""
        left = 0
        for column, width in self._fitted()[0]:
            if left <= x < left + width:
                return column.key
            left += width + 1
        return None

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        line = int(self.scroll_y) + y
        index, part = divmod(line, ROW_HEIGHT)
        base = self.rich_style
        if index >= self.total:
            return Strip.blank(width, base)
        row = self.row(index)
        selected = index == self.cursor
        style = (
            base + Style(bgcolor="#264f78", color="#ffffff")
            if selected and self.has_focus
            else base
        )
        if selected and not self.has_focus:
            style = base + Style(bgcolor="#3a3d41")
        if row is None:
            text = Text("  …" if part == 0 else "", style="dim")
        else:
            cells = _cells(row, self.users)
            text = Text(no_wrap=True, overflow="ellipsis")
            for number, (column, col_width) in enumerate(self._fitted()[0]):
                if number:
                    text.append(" ")
                cell = cells[column.key][part].copy()
                cell.truncate(col_width, overflow="ellipsis", pad=True)
                text.append_text(cell)
        segments = [Segment(" "), *text.render(self.app.console)]
        # Under every segment, the row's style: the theme's background, or the cursor's.
        return Strip(segments).crop_extend(0, width, style).apply_style(style)

    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh()

    def on_mount(self) -> None:
        # Lines are drawn from the theme's colours: draw them again when it changes.
        self.app.theme_changed_signal.subscribe(self, lambda _: self.refresh())

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, self.total * ROW_HEIGHT)
        self.post_message(self.Resized())

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # Moving

    def _show_cursor(self) -> None:
        top = self.cursor * ROW_HEIGHT
        if top < self.scroll_y:
            self.scroll_to(y=top, animate=False)
        elif top + ROW_HEIGHT > self.scroll_y + self.size.height:
            self.scroll_to(y=top + ROW_HEIGHT - self.size.height, animate=False)

    def action_move(self, delta: int) -> None:
        if self.total:
            self.cursor = max(0, min(self.total - 1, self.cursor + delta))
            self._show_cursor()

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(1, self.size.height // ROW_HEIGHT - 1))

    def action_jump(self, where: int) -> None:
        if self.total:
            self.cursor = 0 if where == 0 else self.total - 1
            self._show_cursor()

    def action_shift_columns(self, step: int) -> None:
        left, right = self._fitted()[1:]
        if (step < 0 and left) or (step > 0 and right):
            self.column_shift += step

    def watch_column_shift(self) -> None:
        self.refresh()
        self.post_message(self.ColumnsShifted())

    def action_open(self) -> None:
        row = self.current
        if row is not None:
            self.post_message(self.Opened(row))

    def on_click(self, event: Any) -> None:
        index = (int(self.scroll_y) + event.y) // ROW_HEIGHT
        if 0 <= index < self.total:
            if index == self.cursor and event.chain > 1:
                self.action_open()
            self.cursor = index

"""A peer for the scale benchmark: every company of a relportal database in a table
widget, the way one would show them without relportal's paging.

    python table_app.py stock|fast DATABASE

``stock`` is Textual's own ``DataTable``; ``fast`` is textual-fastdatatable on an
Arrow table. Both get the same rows in the portal's order (company name), with the
columns the portal shows; the time to read them is part of the start, as relportal's
own reading is. Runs in the peer's virtual environment, not relportal's.
"""

from __future__ import annotations

import sqlite3
import sys

from textual.app import App, ComposeResult

COLUMNS = ["Company", "Status", "Contact", "Email", "Entities", "Requested", "Created"]
QUERY = """
SELECT name, coalesce(status, '—'), contact_name, contact_email,
       CASE WHEN entities_total THEN entities_linked || '/' || entities_total ELSE '—' END,
       coalesce(requested, '—'), substr(created_at, 1, 10)
FROM relationships ORDER BY name_key, id
"""


def read_rows(path: str) -> list[tuple[str, ...]]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return conn.execute(QUERY).fetchall()


class StockTable(App[None]):
    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def compose(self) -> ComposeResult:
        from textual.widgets import DataTable

        yield DataTable(cursor_type="row")

    def on_mount(self) -> None:
        from textual.widgets import DataTable

        table = self.query_one(DataTable)
        table.add_columns(*COLUMNS)
        table.add_rows(read_rows(self.path))


class FastTable(App[None]):
    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def compose(self) -> ComposeResult:
        import pyarrow as pa
        from textual_fastdatatable import ArrowBackend, DataTable

        rows = read_rows(self.path)
        columns = {label: [row[i] for row in rows] for i, label in enumerate(COLUMNS)}
        yield DataTable(backend=ArrowBackend(pa.table(columns)), cursor_type="row")


if __name__ == "__main__":
    kind, database = sys.argv[1], sys.argv[2]
    (StockTable if kind == "stock" else FastTable)(database).run()

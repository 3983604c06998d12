"""The SQLite store, split by seam:

- ``connection``: opening a database, its pragmas and migrations;
- ``writer``: the writer lock file shared by processes, and the checkpoint thread;
- ``rows``: row ↔ record mapping;
- ``organizations``, ``relationships``, ``requests``, ``entities``, ``events``: the
  queries per aggregate, put together as ``SQLiteTx`` in ``transaction``;
- ``listing``: the relationship list planner;
- ``bulk``: the bulk writer ``relportal seed`` loads through;
- ``store``: ``SQLiteStore``, running transactions off the event loop.
"""

from journey.storage.sqlite.connection import StorageError, utc_now
from journey.storage.sqlite.store import SQLiteStore
from journey.storage.sqlite.transaction import SQLiteTx

__all__ = ["SQLiteStore", "SQLiteTx", "StorageError", "utc_now"]

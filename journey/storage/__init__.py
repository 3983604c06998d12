"""Persistence behind one interface (``journey.storage.base.Store``).

SQLite is the embedded default (``journey.storage.sqlite``); a PostgreSQL
implementation can follow without touching the domain or the API.
"""

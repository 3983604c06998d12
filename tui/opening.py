"""The portal's opening answers: read straight from the store while everything loads.

The embedded service is a FastAPI application, and importing FastAPI and pydantic
takes longer than importing Textual (about 0.3 s against 0.2 s on the project's
machine). The portal's first three questions (who am I, the first page of my
companies, where the event log stands) do not need any of it: a thread reads them
in one snapshot with the very functions the HTTP routes answer them with
(``journey.service.me``, ``journey.api.pages``), while Textual imports. The client
answers those questions from here once; the service loads after the first rows are
on screen, and the live event feed resumes from the snapshot's event, so nothing
that happens in between is missed.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from tui.listing import Criteria, answer_key


class Opening:
    """Started early in ``relportal``; ``store_problem`` and ``answers`` are read later."""

    def __init__(self, db_path: Path, user_email: str | None, criteria: Criteria) -> None:
        self.db_path = db_path
        self.user_email = user_email
        self.criteria = criteria
        self._store_checked = threading.Event()
        self._done = threading.Event()
        self._problem: str | None = None
        self._answers: dict[str, Any] | None = None
        self._thread = threading.Thread(target=self._read, name="opening answers", daemon=True)

    def start(self) -> Opening:
        self._thread.start()
        return self

    def store_problem(self) -> str | None:
        """Why the database cannot be used (one line), or None: waits for the check."""
        self._store_checked.wait()
        return self._problem

    def answers(self, timeout: float) -> dict[str, Any] | None:
        """The answers, if they are ready within ``timeout`` seconds (else the portal
        asks the service, as it would without them)."""
        self._done.wait(timeout)
        return self._answers

    def _read(self) -> None:
        try:
            from journey.storage.sqlite import SQLiteStore, StorageError

            try:
                store = SQLiteStore(self.db_path, readers=1)
            except StorageError as exc:
                self._problem = str(exc)
                return
            finally:
                self._store_checked.set()
            try:
                self._answers = store.read_sync(self._snapshot)
            finally:
                store.close()
        except Exception:  # only a head start: the service answers the same questions
            self._answers = None
        finally:
            self._store_checked.set()
            self._done.set()

    def _snapshot(self, tx: Any) -> dict[str, Any] | None:
        from journey import service
        from journey.api import pages

        user = service.embedded_user(tx, self.user_email)
        if user is None:
            return None  # a first run: the service creates the demo organization
        first = {k: v for k, v in self.criteria.first_page().items() if v is not None and v != ""}
        return {
            answer_key("/v1/me", {}): service.me(tx, user),
            answer_key("/v1/events/head", {}): {"last_seq": tx.last_event_seq(user.org_id)},
            answer_key("/v1/relationships", first): pages.relationship_page(
                tx,
                user,
                q=first.get("q", ""),
                status=first.get("status"),
                user_filter=first["user"],
                sort=first["sort"],
                limit=first["limit"],
            ),
        }

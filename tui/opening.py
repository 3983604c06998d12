"""The portal's opening answers: read straight from the store while everything loads.

The embedded service is a FastAPI application, and importing FastAPI and pydantic
takes longer than importing Textual (about 0.3 s against 0.2 s on the project's
machine). The portal's first three questions (who am I, the first page of my
companies, where the event log stands) do not need any of it: they are read in one
snapshot with the very functions the HTTP routes answer them with
(``journey.service.me``, ``journey.relationship_list``), while Textual imports. The client
answers those questions from here once; the service loads after the first rows are
on screen, and the live event feed resumes from the snapshot's event, so nothing
that happens in between is missed.

The snapshot is read by a child process (``python -m tui.opening``) that sends the
answers back as JSON, as the service would: in a thread it would hold the GIL that
Textual's import needs (the store and domain modules alone take tens of
milliseconds to import), where a process runs on the other core. Where no child
can be started, a thread reads it instead.
"""

from __future__ import annotations

import json
import sys
import threading
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.listing import Criteria, answer_key

if TYPE_CHECKING:
    from subprocess import Popen


class Opening:
    """Started early in ``relportal``; ``checked_answers`` (or ``store_problem`` and
    ``answers``) are read later."""

    def __init__(
        self,
        db_path: Path,
        user_email: str | None,
        criteria: Criteria,
        *,
        in_process: bool = False,
    ) -> None:
        self.db_path = db_path
        self.user_email = user_email
        self.criteria = criteria
        self.in_process = in_process
        self._store_checked = threading.Event()
        self._done = threading.Event()
        self._problem: str | None = None
        self._answers: dict[str, Any] | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Opening:
        target = self._read
        if not self.in_process:
            import subprocess  # here: the child, which imports this module, needs none

            try:
                child = subprocess.Popen(
                    # -P: the installed relportal, never a "tui" in the working directory.
                    [sys.executable, "-P", "-m", "tui.opening", self._question()],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                )
            except OSError:
                pass  # read in this process instead
            else:
                target = partial(self._receive, child)
        self._thread = threading.Thread(target=target, name="opening answers", daemon=True)
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

    def checked_answers(self, timeout: float) -> dict[str, Any] | None:
        """``answers``, or ``StartupRefused`` if the database cannot be used."""
        from tui.client import StartupRefused

        problem = self.store_problem()
        if problem:
            raise StartupRefused(problem)
        return self.answers(timeout)

    def _question(self) -> str:
        return json.dumps(
            {
                "db": str(self.db_path),
                "user": self.user_email,
                "criteria": self.criteria.__dict__,
            }
        )

    def _receive(self, child: Popen[bytes]) -> None:
        """Wait for the child's one JSON document (blocking in ``read`` releases the GIL)."""
        try:
            assert child.stdout is not None
            sent = child.stdout.read()
            child.wait()
            found = json.loads(sent) if child.returncode == 0 else {}
            self._problem = found.get("problem")
            self._answers = found.get("answers")
        except Exception:  # only a head start: the service answers the same questions
            self._problem = self._answers = None
        finally:
            self._store_checked.set()
            self._done.set()

    def _read(self) -> None:
        try:
            from journey.storage.sqlite import SQLiteStore, StorageError

            try:
                store = SQLiteStore(self.db_path, readers=1)
            except StorageError as exc:
                self._problem = str(exc)
                return
            try:
                store.check_writable()  # the portal writes (its sign-in, to begin with)
            except StorageError as exc:
                store.close()
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
        from journey import relationship_list, service

        user = service.embedded_user(tx, self.user_email)
        if user is None:
            return None  # a first run: the service creates the demo organization
        first = {k: v for k, v in self.criteria.first_page().items() if v is not None and v != ""}
        return {
            answer_key("/v1/me", {}): service.me(tx, user),
            answer_key("/v1/events/head", {}): {"last_seq": tx.last_event_seq(user.org_id)},
            answer_key("/v1/relationships", first): relationship_list.relationship_page(
                tx,
                user,
                q=first.get("q", ""),
                status=first.get("status"),
                user_filter=first["user"],
                sort=first["sort"],
                limit=first["limit"],
            ),
        }


def main(question: str) -> None:
    """The child: read the snapshot and print it as one JSON document."""
    asked = json.loads(question)
    opening = Opening(
        Path(asked["db"]), asked["user"], Criteria(**asked["criteria"]), in_process=True
    )
    opening._read()
    json.dump({"problem": opening._problem, "answers": opening._answers}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])

"""The one client the portal uses to talk to the journey service.

Embedded (the default): the service runs in this process behind
``httpx.ASGITransport`` with its lifespan started here (the transport does not), and
the portal signs in with a session token minted for its user and revoked on exit.
Remote: a ``relportal serve`` URL and a bearer token. Either way every call goes
through HTTP, so the embedded path is the path a remote deployment takes.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from journey.core.text import clean_answer, decode_answer, shown_text
from tui.listing import answer_key

if TYPE_CHECKING:  # imported when a call is made: httpx is not needed for the first rows
    import httpx

    from tui.customer_pages import CustomerPages

# httpx logs request URLs at INFO; customer links carry their token in the path.
logging.getLogger("httpx").setLevel(logging.WARNING)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# The service's main answers as the portal reads them (journey/api/models.py and
# journey/api/views.py say what the service sends; these are the portal's side).


class Platform(TypedDict):
    key: str
    name: str


class Relationship(TypedDict):
    """A company, as listed (``GET /v1/relationships``) and shown."""

    id: str
    name: str
    description: str
    contact_name: str
    contact_email: str
    users: list[str]
    parent_id: str | None
    created_at: str
    updated_at: str
    version: int
    status: str | None
    status_label: str
    status_at: str
    requested: list[str]
    entities_linked: int
    entities_total: int
    platforms: list[Platform]
    latest_request_id: str | None


class RelationshipPage(TypedDict):
    """One page of companies; ``total`` and ``counts`` only when asked for."""

    items: list[Relationship]
    total: int | None
    counts: dict[str, int] | None
    next_cursor: str | None
    limit: int


class Request(TypedDict):
    """An information request (``GET /v1/requests/{id}``)."""

    id: str
    relationship_id: str
    data_types: list[str]
    delivery: str
    created_by: str
    created_at: str
    expires_at: str
    state: str
    state_at: str
    opened_at: str | None
    completed_at: str | None
    step: str
    superseded_by: str | None
    version: int


class Event(TypedDict):
    seq: int
    at: str
    actor: str
    kind: str
    relationship_id: str | None
    request_id: str | None
    payload: dict[str, Any]


class Company(Relationship):
    """A company with its subsidiaries, requests (newest first), the latest request's
    entities and its recent events (``GET /v1/relationships/{id}``)."""

    subsidiaries: list[Relationship]
    requests: list[Request]
    entities: list[dict[str, Any]]
    events: list[Event]


# Which events a long-poll follows (``GET /v1/events?scope=``).
EventScope = Literal["organization", "mine"]


class EventsPage(TypedDict):
    """Events after a sequence number (``GET /v1/events``, a long poll)."""

    events: list[Event]
    last_seq: int


class ReplayStep(TypedDict):
    """One action of a transcript's replay, and what it led to the first time."""

    number: int  # 1-based, in the transcript
    action: str
    params: dict[str, Any]
    expected_to: str
    expected_error: str | None
    upload: str | None  # "valid" or "invalid": a sample uploaded, not an action
    description: str


class ReplayPlan(TypedDict):
    """A transcript as the service checked it, and the steps that replay it."""

    transcript: dict[str, Any]
    steps: list[ReplayStep]


class ServiceProblem(Exception):
    """The service refused something, with its reason (a problem document)."""

    def __init__(self, status: int, code: str, detail: str, body: dict[str, Any]) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.body = body


class StartupRefused(Exception):
    """The embedded service can never start (its database is not one): the portal
    closes and says why in one line, rather than showing a screen that cannot work."""


class ServiceUnavailable(Exception):
    """The service could not be reached."""


@dataclass(frozen=True)
class Session:
    """Who the portal is signed in as."""

    user: dict[str, Any]
    organization: dict[str, Any]
    features: list[str]
    platforms: list[dict[str, str]]
    users: list[dict[str, Any]]

    def user_name(self, user_id: str) -> str:
        for user in self.users:
            if user["id"] == user_id:
                return str(user["name"])
        return "?"


class ServiceClient:
    """HTTP to the journey service. ``http`` may arrive later than the client (the
    embedded service starts in the background); calls wait for it, and until then the
    opening answers, if any, answer the questions they were read for, once each."""

    def __init__(
        self,
        http: httpx.AsyncClient | None,
        *,
        remote: bool,
        answers: dict[str, Any] | None = None,
    ) -> None:
        self.http = http
        self.remote = remote
        self._answers = dict(answers or {})
        self._connected: asyncio.Future[httpx.AsyncClient] | None = None
        # Set once the opening answers are used up (or one missed): the embedded
        # service waits for it before loading, so the first rows paint unhindered.
        self.answers_spent = asyncio.Event()
        if not self._answers:
            self.answers_spent.set()

    def connected(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self._answers.clear()
        if self._connected is not None and not self._connected.done():
            self._connected.set_result(http)

    def failed(self, exc: BaseException) -> None:
        """The service could not start: every waiting and later call raises ``exc``."""
        if self._connected is None:
            self._connected = asyncio.get_running_loop().create_future()
        if not self._connected.done():
            self._connected.set_exception(exc)
            self._connected.exception()  # retrieved here; raised again to each caller

    async def _http(self) -> httpx.AsyncClient:
        if self.http is not None:
            return self.http
        if self._connected is None:
            self._connected = asyncio.get_running_loop().create_future()
        return await asyncio.shield(self._connected)

    def _opening_answer(self, path: str, params: dict[str, Any]) -> Any:
        if not self._answers:
            return None
        answer = self._answers.pop(answer_key(path, params), None)
        if answer is None or not self._answers:
            # A question the opening did not foresee: the rest may be stale by the
            # time they are asked, and the service is needed now anyway.
            self._answers.clear()
            self.answers_spent.set()
        return answer

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        http = await self._http()
        import httpx  # loaded by now: the connection was made with it

        try:
            response = await http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise ServiceUnavailable(f"cannot reach the service ({type(exc).__name__})") from None
        # Every answer is decoded here, and every string in it made safe to show
        # (journey.core.text): what a customer or an API user typed reaches the terminal
        # as text, never as a control sequence, whatever the service stored.
        if response.status_code >= 400:
            try:
                body = decode_answer(response.text)
            except ValueError:
                body = {}
            if not isinstance(body, dict):
                body = {}
            raise ServiceProblem(
                response.status_code,
                str(body.get("code", "error")),
                str(body.get("detail", shown_text(response.reason_phrase))),
                body,
            )
        if response.status_code == 204 or not response.content:
            return None
        if response.headers.get("content-type", "").startswith("application/json"):
            return decode_answer(response.text)
        return response.content

    async def get(self, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v is not None and v != ""}
        answer = self._opening_answer(path, clean)
        if answer is not None:
            return clean_answer(answer)  # read from the store, not decoded by _call
        return await self._call("GET", path, params=clean)

    async def post(self, path: str, body: Any = None, **headers: str) -> Any:
        return await self._call("POST", path, json=body, headers=headers or None)

    async def patch(self, path: str, body: Any, **headers: str) -> Any:
        return await self._call("PATCH", path, json=body, headers=headers or None)

    async def upload(self, path: str, filename: str, data: bytes) -> Any:
        """POST a file as multipart form data (the supplier information upload)."""
        return await self._call("POST", path, files={"file": (filename, data, XLSX)})

    async def download(self, path: str) -> bytes:
        """GET a file's bytes (the supplier information template)."""
        content = await self._call("GET", path)
        if not isinstance(content, bytes):
            raise ServiceProblem(500, "not_a_file", "The service did not send a file.", {})
        return content

    async def delete(self, path: str, **headers: str) -> Any:
        return await self._call("DELETE", path, headers=headers or None)

    async def session(self) -> Session:
        me = await self.get("/v1/me")
        return Session(
            user=me["user"],
            organization=me["organization"],
            features=me["features"],
            platforms=me["platforms"],
            users=me["users"],
        )

    async def events(
        self,
        after: int,
        wait: float,
        scope: EventScope = "organization",
        also: Collection[str] = (),
    ) -> EventsPage:
        """Events after ``after``, waiting up to ``wait`` seconds for one: the
        organization's, or (``scope="mine"``) those of the user's companies, about the
        user, and of the companies ``also`` names (at most 50: those open on screen);
        resume from the answer's ``last_seq``."""
        params: dict[str, Any] = {"after": after, "wait": wait, "scope": scope}
        if also:
            params["relationship"] = sorted(also)
        result: EventsPage = await self._call("GET", "/v1/events", params=params, timeout=wait + 10)
        return result

    async def relationships(self, **params: Any) -> RelationshipPage:
        """One page of companies (the portal's list): ``params`` as the API takes them."""
        page: RelationshipPage = await self.get("/v1/relationships", **params)
        return page

    async def company(self, rel_id: str) -> Company:
        company: Company = await self.get(f"/v1/relationships/{rel_id}")
        return company

    async def request(self, req_id: str) -> Request:
        request: Request = await self.get(f"/v1/requests/{req_id}")
        return request

    async def replay_plan(self, transcript: Any) -> ReplayPlan:
        """The service's check of a transcript (``ServiceProblem`` says what is wrong)
        and the steps that replay it on a fresh simulation."""
        plan: ReplayPlan = await self.post("/v1/transcripts/replay-plan", transcript)
        return plan

    async def request_replay_plan(self, req_id: str) -> ReplayPlan:
        """The request's own transcript, and the steps that replay it."""
        plan: ReplayPlan = await self.get(f"/v1/requests/{req_id}/replay-plan")
        return plan


@contextlib.asynccontextmanager
async def remote_client(url: str, token: str) -> AsyncIterator[ServiceClient]:
    import httpx

    async with httpx.AsyncClient(
        base_url=url.rstrip("/"),
        headers={"Authorization": f"Bearer {token}"},
        timeout=httpx.Timeout(15.0, connect=5.0),
    ) as http:
        yield ServiceClient(http, remote=True)


def unknown_user(email: str | None, db_path: Any, source: str = "") -> str:
    """Why the embedded portal cannot sign in: its user is not in the database."""
    from journey.demo_bank import DEMO_PORTAL_USER

    if source and email:
        return (
            f"{source} is {email}, who is not a user in {db_path}: set it to the email "
            f'of a user there, or to "" for the demo\'s {DEMO_PORTAL_USER}'
        )
    return (
        f"there is no user {email or DEMO_PORTAL_USER} in {db_path}: set [portal] user "
        "in config (relportal locate names the file) to the email of a user there"
    )


@contextlib.asynccontextmanager
async def embedded_client(
    settings: Any,
    user_email: str | None = None,
    answers: dict[str, Any] | Callable[[], dict[str, Any] | None] | None = None,
    *,
    freeze_heap: bool = False,
    user_source: str = "",
    customer_pages: CustomerPages | None = None,
) -> AsyncIterator[ServiceClient]:
    """Run the journey service in this process, signed in as ``user_email`` (default:
    the demo's relationship manager, ``journey.demo_bank.DEMO_PORTAL_USER``). A user who is
    not in the database closes the portal with one line (``StartupRefused``) naming
    ``user_source``, where the email was configured ("FILE: portal.user").

    ``freeze_heap``: the process is the portal's own (``relportal``), not a host of
    many apps such as the tests, so what is loaded at start may be frozen (below).

    The client is handed over at once and the service starts behind it: with opening
    answers (``tui.opening``) the portal shows its first rows while FastAPI is still
    importing, which takes longer than Textual itself.

    ``customer_pages``: also serve the customer pages over HTTP on this machine
    while the portal runs (``tui.customer_pages``; ``relportal``, not hosted sessions).
    """
    from journey.storage.sqlite import StorageError  # loaded already: the opening uses it

    if callable(answers):
        # Still being read (tui.opening): waited for in a thread, so the app goes on
        # starting meanwhile. It raises StartupRefused for a database that is not one.
        answers = await asyncio.to_thread(answers)
    client = ServiceClient(None, remote=False, answers=answers)
    stop = asyncio.Event()

    async def run() -> None:
        try:
            await client.answers_spent.wait()
            if answers:
                await asyncio.sleep(0.1)  # let the first rows paint before the import takes the GIL
            # Importing in a thread leaves the event loop free to paint and take keys.
            api = await asyncio.to_thread(importlib.import_module, "journey.api.app")
            httpx = await asyncio.to_thread(importlib.import_module, "httpx")
            if stop.is_set():
                return  # the portal closed before the service was needed
            from journey import service
            from journey.core.tokens import hash_secret

            service_settings = settings
            if customer_pages is not None:
                # The port is taken before the service is made: its links name it.
                service_settings = customer_pages.open(settings)
            app = api.create_app(service_settings)
            async with app.router.lifespan_context(app):
                store = app.state.ctx.store
                if customer_pages is not None:
                    await customer_pages.start(app)

                def sign_in(tx: Any) -> str:
                    user = service.embedded_user(tx, user_email)
                    if user is None:
                        raise StartupRefused(
                            unknown_user(user_email, settings.db_path, user_source)
                        )
                    return service.create_token(tx, user, label="embedded portal session")

                token = await store.write(sign_in)
                try:
                    async with httpx.AsyncClient(
                        transport=httpx.ASGITransport(app=app),
                        base_url="http://relportal.embedded",
                        headers={"Authorization": f"Bearer {token}"},
                        timeout=httpx.Timeout(30.0),
                    ) as http:
                        client.connected(http)
                        # Textual, FastAPI and the service are loaded for good: out of
                        # the collector's sight, full collections stop walking them and
                        # pausing the portal mid-keystroke (search keystroke p95 104-128
                        # -> 85-91 ms in A/B pairs at a million companies, the slowest
                        # keys 170-199 -> 101-131 ms).
                        if freeze_heap:
                            gc.freeze()
                        await stop.wait()
                finally:
                    if customer_pages is not None:
                        await customer_pages.stop()
                    await store.write(lambda tx: tx.revoke_token(hash_secret(token)))
        except (ServiceProblem, StartupRefused) as exc:
            client.failed(exc)
        except StorageError as exc:  # read-only, a folder, not a database: it never will
            client.failed(StartupRefused(str(exc)))
        except Exception as exc:  # the service did not start: say so, do not crash
            client.failed(
                ServiceUnavailable(f"the service did not start ({type(exc).__name__}: {exc})")
            )

    task = asyncio.create_task(run(), name="embedded journey service")
    try:
        yield client
    finally:
        stop.set()
        await task

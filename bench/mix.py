"""The mixed workload: relationship managers with live portals beside customers
stepping through journeys, against ``relportal serve`` on the million-company bank.

What a loop of one request cannot show: the service's capacity for what its users do
together. Each of R relationship managers holds a live portal as the TUI does:

* an events long-poll (``GET /v1/events?after=&wait=20``, ``scope=mine`` while its
  list is the RM's own companies, as the portal asks: ``tui.live.following``; the
  company it opens is one of them), each batch met as the portal meets it, by the
  portal's own rules (``tui.live``): a status change of a row
  held updates it from the event; the page on screen (with its counts) is read again
  only when the events touch what it shows (a row held, a company added, edited or
  deleted, a status change of a company that may be in the list), at most once a
  second (``RELOAD_SECONDS``), and once after the event log's head is read;
* every 3-7 s a list page (their companies, by name, status time or creation) or a
  search of three letters;
* now and then (every ~30 s) a company opened and kept open ~10 s: while it is open,
  events about it (its own, its subsidiaries', its requests') reload it too, at most
  once a second.

Each of C customers takes a journey step every 1-3 s (2 s on average): choosing a
platform, then back, so every action is valid and writes an event. Each customer's
company is one of the portals' RMs', in turn: its steps reach that RM's portals only.

For R = 50 and 200 the load steps C up until a request kind's p99 passes 100 ms or the
portals see events later than 250 ms p95 (from the event's own commit time to the
portal's receipt), then halves the last interval; the largest C that held is the
capacity. The load comes from this machine's own cores, shared with the server: the
generator is asyncio on uvloop with a small keep-alive HTTP/1.1 client of its own
(httpx would spend more CPU than the server), in ``--mix-generators`` processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import random
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.common import ROOT, Section, percentile, relportal_command
from bench.service import Server, journeys
from tui.listing import Criteria
from tui.live import Throttle, following, react

P99_BUDGET_MS = 100.0
EVENT_P95_BUDGET_MS = 250.0
WARM_UP_S = 4.0
SEARCHES = ("bre", "mot", "nur", "ash", "tec", "gar", "hou", "cat", "lon", "bak")
SORTS = ("name", "updated", "-updated", "created")


class Broken(RuntimeError):
    """The server closed or garbled a connection."""


class Connection:
    """One keep-alive HTTP/1.1 connection: a request at a time, as a browser tab or a
    portal's client holds it. Enough HTTP for ``relportal serve``'s answers."""

    def __init__(self, host: str, port: int, headers: dict[str, str] | None = None) -> None:
        self.host, self.port = host, port
        self.fixed = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        reused = self.writer is not None
        try:
            return await self._exchange(method, path, body)
        except Broken:
            if not reused:
                raise
        # The server closed the connection while it was idle (uvicorn's keep-alive
        # timeout is 5 s): open another and send again, as an HTTP client does.
        return await self._exchange(method, path, body)

    async def _exchange(self, method: str, path: str, body: Any) -> tuple[int, bytes]:
        if self.writer is None:
            await self._open()
        assert self.reader is not None and self.writer is not None
        payload = b"" if body is None else json.dumps(body).encode()
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{self.fixed}"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + payload)
        try:
            status_line = await self.reader.readline()
            if not status_line:
                self.close()
                raise Broken("closed")
            status = int(status_line.split()[1])
            length, chunked, closing = 0, False, False
            while True:
                line = await self.reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                name, value = name.strip().lower(), value.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "transfer-encoding" and "chunked" in value:
                    chunked = True
                elif name == "connection" and value == "close":
                    closing = True
            if chunked:
                parts = []
                while True:
                    size = int((await self.reader.readline()).split(b";")[0], 16)
                    if size == 0:
                        await self.reader.readline()
                        break
                    parts.append(await self.reader.readexactly(size))
                    await self.reader.readline()
                data = b"".join(parts)
            else:
                data = await self.reader.readexactly(length) if length else b""
        except (ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            self.close()
            if os.environ.get("MIXDEBUG"):
                print("BROKEN", method, path, repr(exc), file=sys.stderr)
            raise Broken(repr(exc)) from None
        if closing:
            self.close()
        return status, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class Tally:
    """What one generator process saw: latencies per request kind (ms), event delays
    (ms), errors per kind."""

    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    event_delay: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    measuring: bool = False

    def note(self, kind: str, started: float, status: int) -> None:
        if not self.measuring:
            return
        self.latency[kind].append((time.perf_counter() - started) * 1000)
        if status >= 400:
            self.errors[f"{kind} ({status})"] += 1

    def broke(self, kind: str) -> None:
        if self.measuring:
            self.errors[f"{kind} (connection)"] += 1


def _event_delay_ms(at: str) -> float:
    when = datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp()
    return (time.time() - when) * 1000


class Portal:
    """One relationship manager's live portal."""

    def __init__(self, host: str, port: int, token: str, tally: Tally, stop: float) -> None:
        auth = {"Authorization": f"Bearer {token}"}
        self.poll = Connection(host, port, auth)
        self.pages = Connection(host, port, auth)
        self.tally, self.stop = tally, stop
        self.page = "/v1/relationships?q=&user=me&sort=name&limit=100"
        self.criteria = Criteria()
        self.me = ""
        # The rows of the page on screen, by id, as the portal holds them.
        self.held: dict[str, dict[str, Any]] = {}
        self.open_company: str | None = None
        self.open_until = 0.0
        # What the company open shows besides itself: its subsidiaries and requests.
        self.open_shows: tuple[set[str], set[str]] = (set(), set())
        self.seen: list[str] = []
        self.lock = asyncio.Lock()  # the portal's one client: one page request at a time
        # Whether a list for new criteria is being read (``loading`` in tui.live), and
        # whether the page on screen is being read again (a status change laid over the
        # rows held then asks for one more read, as the portal's table does).
        self.loading = False
        self.reading = False
        self.page_reloads = Throttle()
        self.company_reloads = Throttle()
        self.reloads: set[asyncio.Future[None]] = set()

    async def get(self, kind: str, path: str) -> bytes:
        started = time.perf_counter()
        async with self.lock:
            try:
                status, body = await self.pages.request("GET", path)
            except Broken:
                self.tally.broke(kind)
                return b""
        self.tally.note(kind, started, status)
        return body

    def hold(self, body: bytes) -> None:
        """The page read: its rows are what the portal holds now."""
        with contextlib.suppress(ValueError, KeyError, TypeError):
            self.held = {item["id"]: item for item in json.loads(body)["items"]}

    def later(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self.reloads.add(task)
        task.add_done_callback(self.reloads.discard)

    def want_page(self) -> None:
        wait = self.page_reloads.ask()
        if wait is not None:
            self.later(self.reload_page(wait))

    async def reload_page(self, wait: float) -> None:
        await asyncio.sleep(wait)
        self.page_reloads.ran()
        self.reading = True
        try:
            self.hold(await self.get("list page (on an event)", self.page))
        finally:
            self.reading = False

    def want_company(self) -> None:
        wait = self.company_reloads.ask()
        if wait is not None:
            self.later(self.reload_company(wait))

    async def reload_company(self, wait: float) -> None:
        await asyncio.sleep(wait)
        self.company_reloads.ran()
        if time.perf_counter() < self.open_until:
            await self.get("company (on an event)", self.open_company_path)

    async def follow(self) -> None:
        status, body = await self.poll.request("GET", "/v1/me")
        self.me = json.loads(body)["user"]["id"]
        status, body = await self.poll.request("GET", "/v1/events/head")
        after = json.loads(body)["last_seq"]
        self.want_page()  # the page was read apart from the head: once more
        while time.perf_counter() < self.stop:
            # The company it opens is from its list: its own, followed with the rest.
            scope = following(self.criteria, self.me, ()).scope
            try:
                status, body = await self.poll.request(
                    "GET", f"/v1/events?after={after}&wait=20&limit=500&scope={scope}"
                )
            except Broken:
                self.tally.broke("events")
                await asyncio.sleep(0.5)
                continue
            if status != 200:
                self.tally.broke("events")
                await asyncio.sleep(0.5)
                continue
            answer = json.loads(body)
            after = answer["last_seq"]
            events = answer["events"]
            if self.tally.measuring:
                self.tally.event_delay.extend(_event_delay_ms(e["at"]) for e in events)
            if not events:
                continue
            reaction = react(events, self.criteria, self.me, self.held, loading=self.loading)
            for rel_id, fields in reaction.changes.items():
                self.held[rel_id] = {**self.held[rel_id], **fields}
            if reaction.reload or (reaction.changes and self.reading):
                self.want_page()
            if self.open_company is not None and time.perf_counter() < self.open_until:
                subsidiaries, requests = self.open_shows
                if any(
                    e.get("relationship_id") in subsidiaries or e.get("request_id") in requests
                    for e in events
                ):
                    self.want_company()

    @property
    def open_company_path(self) -> str:
        return f"/v1/relationships/{self.open_company}"

    async def browse(self, rng: random.Random) -> None:
        await asyncio.sleep(rng.uniform(0, 5))
        next_company = time.perf_counter() + rng.uniform(5, 30)
        while time.perf_counter() < self.stop:
            if rng.random() < 0.3:
                search, sort = rng.choice(SEARCHES), "name"
                kind = "search"
            else:
                search, sort = "", rng.choice(SORTS)
                kind = "list page"
            self.page = f"/v1/relationships?q={search}&user=me&sort={sort}&limit=100"
            self.criteria = Criteria(
                q=search, sort=sort.removeprefix("-"), descending=sort.startswith("-")
            )
            self.loading = True
            try:
                body = await self.get(kind, self.page)
            finally:
                self.loading = False
            self.hold(body)
            self.seen = list(self.held) or self.seen
            if time.perf_counter() >= next_company and self.seen:
                self.open_company = rng.choice(self.seen)
                self.open_until = time.perf_counter() + 10
                self.open_shows = ({self.open_company}, set())
                company = await self.get("company", self.open_company_path)
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    shown = json.loads(company)
                    self.open_shows = (
                        {self.open_company, *(s["id"] for s in shown["subsidiaries"])},
                        {r["id"] for r in shown["requests"]},
                    )
                next_company = time.perf_counter() + rng.uniform(20, 40)
            await asyncio.sleep(rng.uniform(3, 7))

    async def run(self, rng: random.Random) -> None:
        try:
            await asyncio.gather(self.follow(), self.browse(rng))
        finally:
            for task in list(self.reloads):
                task.cancel()
            self.poll.close()
            self.pages.close()


async def customer(
    host: str, port: int, token: str, tally: Tally, stop: float, rng: random.Random
) -> None:
    """One customer stepping back and forth between the platform list and consent."""
    connection = Connection(host, port)
    path = f"/v1/journeys/{token}/actions"
    await asyncio.sleep(rng.uniform(0, 2))
    # Where an earlier load step left the journey: the next action must be one it offers.
    _, body = await connection.request("GET", f"/v1/journeys/{token}")
    at_consent = b'"step":"consent"' in body
    try:
        while time.perf_counter() < stop:
            action = (
                {"action": "back"}
                if at_consent
                else {"action": "select_platform", "platform": "gbol"}
            )
            started = time.perf_counter()
            try:
                status, body = await connection.request("POST", path, action)
            except Broken:
                tally.broke("customer action")
                await asyncio.sleep(1)
                continue
            tally.note("customer action", started, status)
            if status == 200:
                at_consent = b'"step":"consent"' in body
            await asyncio.sleep(rng.uniform(1, 3))
    finally:
        connection.close()


def _drive(
    host: str, port: int, rm_tokens: list[str], links: list[str], seconds: float, seed: int
) -> dict[str, Any]:
    """One generator process: its share of portals and customers, for ``seconds`` after
    the warm-up; its tally, as plain data."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    tally = Tally()
    rng = random.Random(seed)

    async def main() -> None:
        stop = time.perf_counter() + WARM_UP_S + seconds
        tasks = [
            asyncio.ensure_future(Portal(host, port, token, tally, stop).run(rng))
            for token in rm_tokens
        ] + [asyncio.ensure_future(customer(host, port, link, tally, stop, rng)) for link in links]
        await asyncio.sleep(WARM_UP_S)
        tally.measuring = True
        await asyncio.sleep(seconds)
        tally.measuring = False
        # Long-polls end on their own within their wait; do not wait for them.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(main())
    return {
        "latency": dict(tally.latency),
        "event_delay": tally.event_delay,
        "errors": dict(tally.errors),
    }


def _drive_star(arguments: tuple) -> dict[str, Any]:
    return _drive(*arguments)


@dataclass
class Step:
    """The figures of one load level."""

    customers: int
    p99: dict[str, float]
    counts: dict[str, int]
    event_p95: float
    errors: int
    seconds: float
    errors_by_kind: dict[str, int] = field(default_factory=dict)
    server_cpu: float = 0.0  # the server's processes' CPU, in cores, over the step

    @property
    def held(self) -> bool:
        return (
            self.errors == 0
            and self.event_p95 <= EVENT_P95_BUDGET_MS
            and all(value <= P99_BUDGET_MS for value in self.p99.values())
        )

    def worst(self) -> str:
        kind = max(self.p99, key=self.p99.get)  # type: ignore[arg-type]
        return f"{kind} p99 {self.p99[kind]:,.0f} ms"


def run_step(
    server: Server,
    rm_tokens: list[str],
    links: list[str],
    seconds: float,
    generators: int,
) -> Step:
    """R portals and C customers for ``seconds``, split over ``generators`` processes."""
    host, port = "127.0.0.1", server.port
    shares = [
        (
            host,
            port,
            rm_tokens[number::generators],
            links[number::generators],
            seconds,
            1000 + number,
        )
        for number in range(generators)
    ]
    cpu_before, began = server_cpu_seconds(server.process.pid), time.perf_counter()
    with multiprocessing.get_context("fork").Pool(generators) as pool:
        tallies = pool.map(_drive_star, shares)
    cpu = (server_cpu_seconds(server.process.pid) - cpu_before) / (time.perf_counter() - began)
    latency: dict[str, list[float]] = defaultdict(list)
    delays: list[float] = []
    errors = 0
    by_kind: dict[str, int] = defaultdict(int)
    for tally in tallies:
        for kind, number in tally["errors"].items():
            by_kind[kind] += number
        for kind, values in tally["latency"].items():
            latency[kind].extend(values)
        delays.extend(tally["event_delay"])
        errors += sum(tally["errors"].values())
    return Step(
        customers=len(links),
        p99={kind: percentile(values, 0.99) for kind, values in latency.items() if values},
        counts={kind: len(values) for kind, values in latency.items()},
        event_p95=percentile(delays, 0.95) if delays else float("inf"),
        errors=errors,
        seconds=seconds,
        errors_by_kind=dict(by_kind),
        server_cpu=cpu,
    )


def _describe(section: Section, portals: int, step: Step) -> None:
    """A load level's figures: p99 per request kind, the events' delay, the server's CPU."""
    where = f"R = {portals}, C = {step.customers}"
    kinds = ", ".join(f"{kind} {value:,.0f}" for kind, value in sorted(step.p99.items()))
    section.add(f"{where}: p99 per kind (ms)", kinds)
    section.add(f"{where}: events reach portals, p95", f"{step.event_p95:,.0f} ms")
    answered = sum(step.counts.values())
    per_request = step.server_cpu * step.seconds * 1000 / answered if answered else 0.0
    section.add(
        f"{where}: requests timed (long-polls aside); server CPU",
        f"{answered / step.seconds:,.0f}/s; {step.server_cpu:.2f} cores, "
        f"{per_request:.1f} ms per timed request",
    )


def server_cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by ``relportal serve`` and its worker processes (Linux
    /proc; 0 where it cannot be read)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    with contextlib.suppress(OSError):
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            pids.append(int(child))
    for each in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


# Run by the serving checkout's own Python: the tokens are written with the code (and
# the schema) of the server that will read them.
_MAKE_TOKENS = """
import json, sqlite3, sys
from journey import service
from journey.storage.sqlite import SQLiteStore

db, count = sys.argv[1], int(sys.argv[2])
with sqlite3.connect(db) as conn:
    users = conn.execute(
        "SELECT org_id, email FROM users WHERE role = 'rm' ORDER BY rowid"
    ).fetchall()
store = SQLiteStore(db)
try:
    def make(tx):
        tokens = []
        for number in range(count):
            org_id, email = users[number % len(users)]
            user = tx.get_user_by_email(org_id, email)
            tokens.append(service.create_token(tx, user, label="bench-mix", days=1))
        return tokens
    print(json.dumps(store.write_sync(make)))
finally:
    store.close()
"""


def rm_of(url: str, token: str) -> str:
    """The user id a token signs in as."""
    me = httpx.get(f"{url}/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    return str(me.raise_for_status().json()["user"]["id"])


def rm_tokens(db: Path, count: int, env: dict[str, str], checkout: Path | None = None) -> list[str]:
    """``count`` API tokens (one per portal), spread over the demo bank's relationship
    managers, made in the database before the server starts."""
    python = relportal_command(checkout).parent / "python"
    made = subprocess.run(
        [str(python), "-c", _MAKE_TOKENS, str(db), str(count)],
        env=env,
        cwd=checkout or ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return list(json.loads(made.stdout))


def capacity(
    server: Server,
    tokens: list[str],
    client: httpx.Client,
    made: list[str],
    pool: list[str],
    seconds: float,
    generators: int,
    budget: int,
    first: int,
    owners: list[str],
    fixed: int | None = None,
) -> tuple[Step | None, Step | None, list[Step]]:
    """Step C up from ``first`` (doubling) until a step misses, then bisect the last
    interval ``budget`` times; the last step that held, the first that missed, and
    every step taken. The customers' companies are ``owners``', in turn."""

    def links(count: int) -> list[str]:
        if len(pool) < count:
            companies, tokens = journeys(client, count - len(pool), "Mixed Load Company", owners)
            made.extend(companies)
            pool.extend(tokens)
        return pool[:count]

    steps: list[Step] = []

    def take(count: int) -> Step:
        step = run_step(server, tokens, links(count), seconds, generators)
        steps.append(step)
        verdict = "held" if step.held else "missed"
        print(
            f"    R={len(tokens)} C={count}: {verdict}; {step.worst()}, events p95 "
            f"{step.event_p95:,.0f} ms, errors {step.errors_by_kind or 0}, "
            f"server CPU {step.server_cpu:.2f} cores",
            file=sys.stderr,
        )
        return step

    if fixed is not None:  # one load level, said to hold or not: no search
        step = take(fixed)
        return (step, None, steps) if step.held else (None, step, steps)

    held: Step | None = None
    missed: Step | None = None
    count = first
    while True:
        step = take(count)
        if not step.held:
            missed = step
            break
        held = step
        count *= 2
        if count > 4096:
            return held, None, steps
    low = held.customers if held else 0
    high = missed.customers
    for _ in range(budget):
        middle = (low + high) // 2
        if middle in (low, high) or middle < 1:
            break
        step = take(middle)
        if step.held:
            held, low = step, middle
        else:
            missed, high = step, middle
    return held, missed, steps


def run(
    db: Path,
    env: dict[str, str],
    *,
    portals: tuple[int, ...] = (50, 200),
    workers: int = 2,
    seconds: float = 20,
    generators: int = 1,
    budget: int = 2,
    first: int = 10,
    checkout: Path | None = None,
    fixed: int | None = None,
) -> Section:
    section = Section(
        "The mixed workload: live portals beside customers taking journey steps",
        "python -m bench --only mix",
    )
    with sqlite3.connect(db) as conn:
        companies = conn.execute("SELECT count(*) FROM relationships").fetchone()[0]
    tokens = rm_tokens(db, max(portals), env, checkout)
    made: list[str] = []
    with Server(db, env, workers, checkout) as server:
        client = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {tokens[0]}"}, timeout=30
        )
        pool: list[str] = []
        # The customers' companies are the portals' RMs', in turn: an RM's portal follows
        # only its own companies (scope=mine), as a bank's customers each have an RM.
        owners = sorted({rm_of(server.url, token) for token in tokens})
        try:
            for count in portals:
                held, missed, steps = capacity(
                    server,
                    tokens[:count],
                    client,
                    made,
                    pool,
                    seconds,
                    generators,
                    budget,
                    first,
                    owners,
                    fixed,
                )
                if fixed is not None:
                    section.add(
                        f"R = {count} portals, C = {fixed} customers",
                        "held" if held else "missed",
                        "p99 ≤ 100 ms, events p95 ≤ 250 ms",
                        held is not None,
                    )
                    if held:
                        _describe(section, count, held)
                elif held is None:
                    section.add(
                        f"R = {count} portals: the largest C that held",
                        f"none (C = {min(s.customers for s in steps)} missed)",
                        "p99 ≤ 100 ms, events p95 ≤ 250 ms",
                        False,
                    )
                else:
                    rate = held.customers / 2
                    section.add(
                        f"R = {count} portals: the largest C that held",
                        f"C = {held.customers} (~{rate:,.0f} steps/s)",
                        "p99 ≤ 100 ms, events p95 ≤ 250 ms",
                    )
                    _describe(section, count, held)
                if missed is not None:
                    section.add(
                        f"R = {count}, C = {missed.customers}: what missed",
                        f"{missed.worst()}; events p95 {missed.event_p95:,.0f} ms; "
                        f"errors {missed.errors}",
                    )
                    _describe(section, count, missed)
                section.notes.append(
                    f"R = {count}, the steps taken: "
                    + ", ".join(f"C={s.customers} {'held' if s.held else 'missed'}" for s in steps)
                    + "."
                )
        finally:
            for company in made:
                client.delete(f"/v1/relationships/{company}")
            client.close()
    section.notes.append(
        f"{companies:,} companies; `relportal serve --workers {workers}`; {seconds:.0f} s "
        f"per step after a {WARM_UP_S:.0f} s warm-up; load from {generators} generator "
        f"process(es) on the same 2 cores. R portals use {max(portals)} tokens spread over "
        "the demo bank's relationship managers (each a live portal of its own). The "
        "capacity C is the number of customers, each taking a step every 2 s on average."
    )
    where = (
        f"git -C {checkout} rev-parse --short HEAD" if checkout else "git rev-parse --short HEAD"
    )
    commit = os.popen(where).read().strip()
    served = f"the server's code at commit {commit} (`--mix-checkout`)" if checkout else ""
    section.notes.append(f"Measured with {served}." if served else f"Measured at commit {commit}.")
    return section

"""How many portals one ``relportal serve`` process can follow, and what each costs.

Each portal holds a long-poll open (``GET /v1/events?after&wait``) and polls again
with the answer's ``last_seq`` as soon as it is answered, as the portal does. An RM
creates a company every 100 ms; each poll's clock for an event runs from the moment
the create was sent to the moment the poll's answer carrying it was read. For each
number of open polls, a fresh server (one process) is measured: event delivery (p50,
p95, and any event a poll never saw), the server's CPU while events flow, and its
resident memory per open poll (RSS with the polls open, less RSS before).

Two kinds of following: ``organization`` (every poll is told every event: the
heaviest case, each event answered to every portal) and ``mine`` (the portals follow
their own companies, ``scope=mine``, and the events are of companies that are none
of theirs: what open portals cost in a large bank; one more poll follows the
organization to time delivery).

The polls are plain HTTP/1.1 over asyncio streams, not an HTTP library: the clients
share the machine's 2 cores with the server, and should cost it as little as they can.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bench import seeding
from bench.common import Section, median, ms, percentile
from bench.service import Server, demo_rm_token

EVENT_EVERY = 0.1  # seconds between events
LEVELS = (100, 250, 500, 1000, 2000)  # open long-polls, following the organization
MINE_LEVELS = (2000,)  # open long-polls following their own companies
WAIT = 20  # seconds a poll waits, as the portal's
COMPANIES = 1000  # in the benchmark's own small database
DELIVERY_TARGET = 0.25  # a step reaches the portals within 250 ms at p95 (issue 20)


@dataclass
class Poll:
    """One portal's long-poll, on a connection of its own."""

    path: str
    token: str
    after: int
    scope: str
    seen: dict[str, float] = field(default_factory=dict)  # company name → when read
    answers: int = 0
    errors: int = 0

    async def follow(self, host: str, port: int, ready: asyncio.Event) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            ready.set()
            while True:
                request = (
                    f"GET {self.path}?after={self.after}&wait={WAIT}&scope={self.scope}"
                    f" HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {self.token}\r\n\r\n"
                )
                writer.write(request.encode())
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                body = json.loads(await reader.readexactly(length))
                now = time.monotonic()
                if status != 200:
                    self.errors += 1
                    await asyncio.sleep(1)
                    continue
                if body["events"]:
                    self.answers += 1
                for event in body["events"]:
                    if event["kind"] == "relationship.created":
                        self.seen.setdefault(event["payload"]["name"], now)
                self.after = body["last_seq"]
        except (OSError, asyncio.IncompleteReadError, ValueError, StopIteration):
            self.errors += 1
        finally:
            writer.close()


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (``--workers`` may fork)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            parents.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo += parents.get(current, [])
    return tree


def cpu_seconds(pid: int) -> float:
    total = 0
    for member in process_tree(pid):
        try:
            with open(f"/proc/{member}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            continue
    return total / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    total = 0.0
    for member in process_tree(pid):
        try:
            with open(f"/proc/{member}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total


@dataclass
class Level:
    polls: int
    scope: str
    delivery: list[float]
    lost: int
    answers_per_poll: float
    cpu: float  # share of one core while events flowed
    client_cpu: float
    rss_per_poll_kb: float
    errors: int
    events: int


async def measure(server: Server, token: str, polls: int, scope: str, seconds: float) -> Level:
    url = urlsplit(server.url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=auth, timeout=30) as rm:
        head = (await rm.get("/v1/events/head")).raise_for_status().json()["last_seq"]
        me = (await rm.get("/v1/me")).raise_for_status().json()["user"]["id"]
        await asyncio.sleep(0.5)
        pid = server.process.pid
        rss_before = rss_mb(pid)
        followers = [Poll("/v1/events", token, head, scope) for _ in range(polls)]
        probe = Poll("/v1/events", token, head, "organization")
        timed = followers if scope == "organization" else [probe]
        tasks = []
        for number, poll in enumerate([*followers, *([probe] if scope == "mine" else [])]):
            ready = asyncio.Event()
            tasks.append(asyncio.create_task(poll.follow(host, port, ready)))
            await ready.wait()
            if number % 100 == 99:
                await asyncio.sleep(0.05)  # within the listen backlog
        await asyncio.sleep(1.5)  # every poll is waiting
        rss_open = rss_mb(pid)
        sent: dict[str, float] = {}
        cpu_start, client_start = cpu_seconds(pid), time.process_time()
        began = time.monotonic()
        number = 0
        while time.monotonic() - began < seconds:
            name = f"Follow {polls} {scope} {number}"
            sent[name] = time.monotonic()
            created = await rm.post(
                "/v1/relationships",
                json={
                    "name": name,
                    "contact_name": "Fran Follow",
                    "contact_email": "fran@follow.example",
                    # Of nobody, when the portals follow their own: none is theirs.
                    "users": [me] if scope == "organization" else [],
                },
            )
            created.raise_for_status()
            number += 1
            await asyncio.sleep(max(0.0, began + number * EVENT_EVERY - time.monotonic()))
        await asyncio.sleep(1.0)  # the last event reaches every poll
        elapsed = time.monotonic() - began
        cpu = (cpu_seconds(pid) - cpu_start) / elapsed
        client_cpu = (time.process_time() - client_start) / elapsed
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    delivery, lost = [], 0
    for poll in timed:
        for name, at in sent.items():
            if name in poll.seen:
                delivery.append(poll.seen[name] - at)
            else:
                lost += 1
    if scope == "mine":  # the portals following their own were told nothing
        lost += sum(len(poll.seen) for poll in followers)
    return Level(
        polls=polls,
        scope=scope,
        delivery=delivery,
        lost=lost,
        answers_per_poll=sum(p.answers for p in followers) / polls,
        cpu=cpu,
        client_cpu=client_cpu,
        rss_per_poll_kb=(rss_open - rss_before) * 1024 / polls,
        errors=sum(p.errors for p in [*followers, probe]),
        events=len(sent),
    )


def run(env: dict[str, str], work: Path, quick: bool = False) -> Section:
    section = Section(
        "Following: open long-polls one relportal serve process carries (an event every 100 ms)",
        "python -m bench --only follow",
    )
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2 * max(LEVELS) + 256  # the polls' sockets, and the server's (it inherits)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    db = work / "follow.db"
    if not db.exists():
        seeding.seed(db, COMPANIES, env)
    token = demo_rm_token(db, env)
    seconds = 4.0 if quick else 8.0
    levels = [(n, "organization") for n in LEVELS] + [(n, "mine") for n in MINE_LEVELS]
    for polls, scope in levels:
        with Server(db, env) as server:
            level = asyncio.run(measure(server, token, polls, scope, seconds))
        p95 = percentile(level.delivery, 0.95) if level.delivery else float("inf")
        held = p95 <= DELIVERY_TARGET and level.lost == 0 and level.errors == 0
        who = "the organization" if scope == "organization" else "their own (none of the events)"
        section.add(
            f"{polls:,} polls following {who}: delivery p50 / p95",
            f"{ms(median(level.delivery))} / {ms(p95)}" if level.delivery else "none delivered",
            "p95 ≤ 250 ms, none lost",
            held,
        )
        section.add(
            f"{polls:,} polls ({scope}): server CPU; client CPU",
            f"{level.cpu:.0%}; {level.client_cpu:.0%} of a core",
        )
        section.add(
            f"{polls:,} polls ({scope}): memory per open poll (RSS)",
            f"{level.rss_per_poll_kb:,.0f} KB",
        )
        section.add(
            f"{polls:,} polls ({scope}): answers per poll; events unseen 1 s after; errors",
            f"{level.answers_per_poll:.0f} for {level.events} events; {level.lost}; {level.errors}",
        )
    section.notes.append(
        f"{seconds:.0f} s of events per row, a fresh `relportal serve` (one process) each, on a "
        f"{COMPANIES:,}-company database. Delivery runs from the create request's sending to "
        "the poll's reading of the answer that carries it, so it includes the write; an event "
        "a poll had not seen 1 s after the last was sent counts as unseen. The "
        "polls run in the benchmark's own process on the same 2 cores (its CPU is shown): "
        "at the top rows it competes with the server for the machine. Following their own "
        "companies, the portals are told none of the events; one more poll follows the "
        "organization to time delivery."
    )
    return section

"""The journey service under load: ``relportal serve`` (uvicorn with uvloop and
httptools) at 32 concurrent connections, driven by wrk.

Three runs against one server on the million-company database, in one sitting: a
trivial endpoint (``/healthz``: the server's own ceiling on this machine), the
relationship list's first page exactly as the portal asks for it, and customer
journey actions (32 journeys walked back and forth between choosing a platform and
its consent screen: a write and an event per action). The companies the run adds
are deleted after it.
"""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from bench.common import ROOT, Section, relportal_command

CONNECTIONS = 32
LOAD_THREADS = 2
REPORT = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %f, "p50": %f, "p99": %f, "errors": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3, errors))
end
"""
# wrk's two threads hold 16 connections each and share 16 journeys each. A request
# takes a journey that has no request in flight and chooses a platform (to the consent
# step) or goes back, whichever the step its last answer showed allows, so every
# action is valid; the answer names the journey's company ("Load Test Company 07"),
# which gives the journey back. Two threads, not one per connection: on two cores
# the scheduler shares time per thread, and 32 load threads would take the server's.
JOURNEY = """
local tokens = {%(tokens)s}
local per_thread = %(per_thread)d
local threads = 0
setup = function(thread)
  thread:set("first", threads * per_thread + 1)
  threads = threads + 1
end
local free = nil
local at_consent = {}
request = function()
  if free == nil then
    free = {}
    for i = first, first + per_thread - 1 do
      table.insert(free, i)
    end
  end
  -- None free only after an answer that named no company (an error, counted).
  local i = table.remove(free, 1) or first
  local body = '{"action": "select_platform", "platform": "gbol"}'
  if at_consent[i] then
    body = '{"action": "back"}'
  end
  return wrk.format("POST", "/v1/journeys/" .. tokens[i] .. "/actions",
    {["Content-Type"] = "application/json"}, body)
end
response = function(status, headers, body)
  local number = string.match(body, '"company":"%(prefix)s (%%d+)"')
  if number then
    local i = tonumber(number) + 1 - %(first_number)d
    at_consent[i] = string.find(body, '"step":"consent"', 1, true) ~= nil
    table.insert(free, i)
  end
end
"""


def journey_script(
    tokens: list[str], per_thread: int, prefix: str = "Load Test Company", first_number: int = 0
) -> str:
    """The wrk script that walks ``tokens``' journeys back and forth (``JOURNEY``): their
    companies are named ``prefix`` and a number from ``first_number`` (``journeys``)."""
    quoted = ", ".join(f'"{t}"' for t in tokens)
    return JOURNEY % {
        "tokens": quoted,
        "per_thread": per_thread,
        "prefix": prefix,
        "first_number": first_number,
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wrk_command() -> str:
    """wrk from Debian's packages; installed on first use where we may (as root)."""
    found = shutil.which("wrk")
    if found:
        return found
    if shutil.which("apt-get"):
        print("  installing wrk (apt-get install wrk)", file=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, capture_output=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is needed for the service benchmark: apt-get install wrk")
    return found


def load(
    url: str,
    script: str,
    seconds: int,
    threads: int,
    headers: dict[str, str],
    connections: int = CONNECTIONS,
) -> dict:
    """One wrk run; its own figures, as the script's done() prints them."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        file.write(script + REPORT)
    argv = [wrk_command(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", file.name]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    done = subprocess.run([*argv, url], capture_output=True, text=True, check=True)
    Path(file.name).unlink()
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    figures = json.loads(line.removeprefix("RESULT "))
    figures["rate"] = figures["requests"] / figures["seconds"]
    return figures


def demo_rm_token(db: Path, env: dict[str, str]) -> str:
    """A fresh API token for the demo organization's first relationship manager."""
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT email FROM users WHERE role = 'rm' ORDER BY rowid").fetchone()
    relportal = str(Path(sys.executable).parent / "relportal")
    return subprocess.run(
        [relportal, "token", "create", str(row[0]), "--db", str(db)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


class Server:
    """``relportal serve`` on a free port of 127.0.0.1, for the length of a ``with``."""

    def __init__(
        self, db: Path, home: dict[str, str], workers: int = 1, checkout: Path | None = None
    ) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        relportal = str(relportal_command(checkout))
        self.process = subprocess.Popen(
            [
                relportal,
                "serve",
                "--db",
                str(db),
                "--port",
                str(self.port),
                "--demo-companies",
                "0",
                "--workers",
                str(workers),
            ],
            env=home,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.process.kill()
        raise RuntimeError("relportal serve did not start")

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def journeys(
    client: httpx.Client,
    count: int,
    prefix: str = "Load Test Company",
    owners: Sequence[str] = (),
) -> tuple[list[str], list[str]]:
    """``count`` new companies named ``prefix`` and a number, each asked for its
    financials by link and walked to the choice of accounting platform; their ids and
    link tokens. ``owners``: user ids the companies are assigned to, in turn."""
    companies, tokens = [], []
    mailbox = prefix.lower().replace(" ", ".")
    for number in range(count):
        assigned = {"users": [owners[number % len(owners)]]} if owners else {}
        company = client.post(
            "/v1/relationships",
            json={
                "name": f"{prefix} {number:02d}",
                "contact_name": "Casey Load",
                "contact_email": f"{mailbox}{number}@loadtest.example",
                **assigned,
            },
        ).raise_for_status()
        companies.append(company.json()["id"])
        request = client.post(
            f"/v1/relationships/{companies[-1]}/requests",
            json={"data_types": ["financials"], "delivery": "link"},
        ).raise_for_status()
        token = request.json()["link"].rsplit("/", 1)[1]
        tokens.append(token)
        for action in ({"action": "view_request"}, {"action": "connect"}):
            client.post(f"/v1/journeys/{token}/actions", json=action).raise_for_status()
    return companies, tokens


def measure(db: Path, env: dict[str, str], seconds: int, workers: int) -> dict[str, dict]:
    """The three runs against one server of ``workers`` processes."""
    token = demo_rm_token(db, env)
    auth = {"Authorization": f"Bearer {token}"}
    with (
        Server(db, env, workers) as server,
        httpx.Client(base_url=server.url, headers=auth) as client,
    ):
        companies, tokens = journeys(client, CONNECTIONS)
        try:
            trivial = load(server.url + "/healthz", "", seconds, LOAD_THREADS, {})
            listing = load(
                server.url + "/v1/relationships?q=&user=me&sort=name&limit=100",
                "",
                seconds,
                LOAD_THREADS,
                auth,
            )
            script = journey_script(tokens, CONNECTIONS // LOAD_THREADS)
            actions = load(server.url, script, seconds, LOAD_THREADS, {})
        finally:
            for company in companies:
                client.delete(f"/v1/relationships/{company}")
    return {"trivial": trivial, "listing": listing, "actions": actions}


def run(db: Path, env: dict[str, str], seconds: int) -> Section:
    section = Section(
        f"The service under load ({CONNECTIONS} connections, wrk, relportal serve on SQLite)",
        "python -m bench --only service",
    )
    for workers in (1, 2):
        figures = measure(db, env, seconds, workers)
        trivial, listing, actions = figures["trivial"], figures["listing"], figures["actions"]
        # The targets are judged on two processes, one a core: how it would be deployed
        # on this machine (docs/deploy.md); one process is shown for comparison.
        judged = workers == 2
        where = f"--workers {workers}"
        share = listing["rate"] / trivial["rate"]
        section.add(
            f"{where}: trivial endpoint (/healthz): requests/s, p99",
            f"{trivial['rate']:,.0f}/s, {trivial['p99']:.1f} ms",
            "the ceiling",
        )
        section.add(
            f"{where}: relationship list, first page of 100: requests/s, p99",
            f"{listing['rate']:,.0f}/s, {listing['p99']:.1f} ms",
            "p99 ≤ 10 ms" if judged else "",
            listing["p99"] <= 10 and listing["errors"] == 0 if judged else None,
        )
        section.add(
            f"{where}: relationship list ÷ trivial endpoint",
            f"{share:.0%}",
            "at least 40%" if judged else "",
            share >= 0.4 if judged else None,
        )
        section.add(
            f"{where}: journey actions: per second, p99",
            f"{actions['rate']:,.0f}/s, {actions['p99']:.1f} ms",
            "≥ 2,000/s, p99 ≤ 25 ms" if judged else "",
            actions["rate"] >= 2000 and actions["p99"] <= 25 and actions["errors"] == 0
            if judged
            else None,
        )
        errors = trivial["errors"] + listing["errors"] + actions["errors"]
        section.add(
            f"{where}: errors (non-2xx, timeouts, socket)", f"{errors}", "none", errors == 0
        )
    section.notes.append(
        f"{seconds} s per run; wrk with 2 threads of 16 connections (for the journeys, "
        "32 journeys, each with one action in flight at a time). wrk shares the "
        "machine's 2 cores with the server."
    )
    return section

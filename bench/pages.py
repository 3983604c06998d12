"""The customer's pages under load, beside the JSON API's same action.

One ``relportal serve`` (a process, on a small seeded database) and wrk at 16
concurrent connections, one per customer: 16 journeys at the choice of accounting
platform. Four runs, taken in turns in one sitting:

- a step page (``GET /j/{token}``, the platform list) beside the journey as JSON
  (``GET /v1/journeys/{token}``);
- a step's form (``POST /j/{token}``, answered 303 to the page) beside the JSON
  action (``POST /v1/journeys/{token}/actions``): each journey chooses a platform,
  then goes back, one action in flight per journey.

The page's cost is compared as a ratio of requests per second (page ÷ JSON time per
request). Then each step page's weight: its HTML and the CSS it loads, in bytes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx

from bench import seeding
from bench.common import Section, median
from bench.service import Server, demo_rm_token, journey_script, journeys, load

CUSTOMERS = 16
THREADS = 2
ROUNDS = 3
COMPANIES = 1_000  # the pages' work does not grow with the portfolio

# Each wrk thread takes its share of the journeys, in turn.
ROTATE = """
local tokens = {%s}
local per_thread = %d
local threads = 0
setup = function(thread)
  thread:set("first", threads * per_thread + 1)
  threads = threads + 1
end
local n = -1
request = function()
  n = (n + 1) %% per_thread
  return wrk.format("GET", "%s" .. tokens[first + n] .. "%s")
end
"""

# A page's form: choose a platform, or go back from its consent step; the form says
# where the page was ("at"), as the browser's would. The 303 names the journey.
FORM = """
local tokens = {%s}
local per_thread = %d
local threads = 0
setup = function(thread)
  thread:set("first", threads * per_thread + 1)
  threads = threads + 1
end
local free = nil
local index_of = {}
local at_consent = {}
request = function()
  if free == nil then
    free = {}
    for i = first, first + per_thread - 1 do
      table.insert(free, i)
      index_of[tokens[i]] = i
    end
  end
  local i = table.remove(free, 1) or first
  local body = "at=select_platform&action=select_platform&platform=gbol"
  if at_consent[i] then
    body = "at=consent&action=back"
  end
  return wrk.format("POST", "/j/" .. tokens[i],
    {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end
response = function(status, headers, body)
  local where = headers["location"] or headers["Location"]
  if where == nil then
    -- A refusal re-renders the step: its form names the link and where it is.
    where = string.match(body, 'action="(/j/[^"/]+)"') or ""
  end
  local i = index_of[string.match(where, "/j/([^/?]+)") or ""]
  if i then
    if status == 303 then
      at_consent[i] = not at_consent[i]
    else
      at_consent[i] = string.find(body, 'name="at" value="consent"', 1, true) ~= nil
    end
    table.insert(free, i)
  end
end
"""


def _weights(client: httpx.Client, prefix: str) -> tuple[list[tuple[str, int]], int, int]:
    """Each step page's HTML, in bytes, as journeys of each kind reach it; the CSS
    every page loads, and its optional script."""
    css = len(client.get("/static/journey/journey.css").raise_for_status().content)
    script = len(client.get("/static/journey/journey.js").raise_for_status().content)
    walks: list[tuple[list[str], list[dict[str, str]]]] = [
        (
            ["financials"],
            [
                {"action": "view_request"},
                {"action": "connect"},
                {"action": "select_platform", "platform": "gbol"},
                {"action": "consent"},
                {"action": "authorize", "username": "demo", "password": "wrong"},
                {"action": "authorize", "username": "demo", "password": "demo"},
                {"action": "close"},
            ],
        ),
        (
            ["spend_analysis"],
            [
                {"action": "view_request"},
                {"action": "choose_method", "method": "upload"},
            ],
        ),
        (
            ["spend_analysis"],
            [
                {"action": "view_request"},
                {"action": "choose_method", "method": "connect"},
                {"action": "choose_entities", "count": "multiple"},
                {"action": "name_entity", "name": "Page Weight Trading Ltd"},
            ],
        ),
    ]
    seen: dict[str, int] = {}
    made: list[str] = []
    for number, (types, actions) in enumerate(walks):
        company = client.post(
            "/v1/relationships",
            json={
                "name": f"{prefix} weight {number}",
                "contact_name": "Casey Load",
                "contact_email": f"casey.weight{number}@loadtest.example",
            },
        ).raise_for_status()
        made.append(company.json()["id"])
        link = client.post(
            f"/v1/relationships/{made[-1]}/requests",
            json={"data_types": types, "delivery": "link"},
        ).raise_for_status()
        token = link.json()["link"].rsplit("/", 1)[1]

        def note(token: str = token) -> None:
            step = client.get(f"/v1/journeys/{token}").json()
            name = step["step"] + (" (closed)" if step.get("closed") else "")
            page = client.get(f"/j/{token}")
            seen.setdefault(name, len(page.content))

        note()
        for action in actions:
            answer = client.post(f"/v1/journeys/{token}/actions", json=action)
            if answer.status_code >= 400:
                break  # a feature the organization has not switched on: its pages are skipped
            note()
        confirm = client.get(f"/j/{token}/close")
        if confirm.status_code == 200:
            seen.setdefault("exit confirmation", len(confirm.content))
    for company in made:
        client.delete(f"/v1/relationships/{company}")
    return sorted(seen.items(), key=lambda item: item[1]), css, script


def _at_platform_choice(client: httpx.Client, tokens: list[str]) -> None:
    """Every journey back at the choice of platform, where each run's script expects it
    (a run stops wherever its last action left each journey)."""
    for token in tokens:
        if client.get(f"/v1/journeys/{token}").json()["step"] == "consent":
            client.post(f"/v1/journeys/{token}/actions", json={"action": "back"})


def _pooled(runs: list[dict]) -> dict:
    """The rounds of one measure as one: requests over seconds, the median round's
    percentiles, every error."""
    rate = sum(r["requests"] for r in runs) / sum(r["seconds"] for r in runs)
    return {
        "rate": rate,
        "p50": median([r["p50"] for r in runs]),
        "p99": median([r["p99"] for r in runs]),
        "errors": sum(r["errors"] for r in runs),
    }


def run(env: dict[str, str], seconds: int, db: Path) -> Section:
    section = Section(
        f"The customer's pages under load ({CUSTOMERS} customers, wrk, relportal serve)",
        "python -m bench --only pages",
    )
    if not db.exists():
        seeding.seed(db, COMPANIES, env)
    auth = {"Authorization": f"Bearer {demo_rm_token(db, env)}"}
    with Server(db, env) as server, httpx.Client(base_url=server.url, headers=auth) as client:
        prefix = "Page Load Company"
        # Two sets of journeys at the same step: the forms' run leaves its journeys
        # wherever it stopped, so the JSON actions' run starts from journeys of its own.
        companies, tokens = journeys(client, 2 * CUSTOMERS, prefix)
        quoted = ", ".join(f'"{t}"' for t in tokens[:CUSTOMERS])
        share = CUSTOMERS // THREADS
        scripts = {
            "page GET": ROTATE % (quoted, share, "/j/", ""),
            "JSON GET": ROTATE % (quoted, share, "/v1/journeys/", ""),
            "page POST": FORM % (quoted, share),
            "JSON POST": journey_script(tokens[CUSTOMERS:], share, prefix, CUSTOMERS),
        }
        runs: dict[str, list[dict]] = {name: [] for name in scripts}
        try:
            for _ in range(ROUNDS):  # in turns: the machine's noise falls on both sides
                for name, script in scripts.items():
                    _at_platform_choice(client, tokens)
                    runs[name].append(load(server.url, script, seconds, THREADS, {}, CUSTOMERS))
            weights, css, script = _weights(client, prefix)
        finally:
            for company in companies:
                client.delete(f"/v1/relationships/{company}")
    figures = {name: _pooled(got) for name, got in runs.items()}
    for name, got in figures.items():
        print(f"  {name}: {got}", file=sys.stderr)
    pairs = (
        ("step page (GET /j/{token})", "page GET", "JSON GET", "GET /v1/journeys/{token}"),
        ("step form (POST /j/{token}, 303)", "page POST", "JSON POST", "POST …/actions"),
    )
    for shown, page_key, json_key, json_shown in pairs:
        page, json = figures[page_key], figures[json_key]
        section.add(
            f"{shown}: requests/s, p50, p99",
            f"{page['rate']:,.0f}/s, {page['p50']:.1f} ms, {page['p99']:.1f} ms",
        )
        section.add(
            f"the JSON API's same ({json_shown}): requests/s, p50, p99",
            f"{json['rate']:,.0f}/s, {json['p50']:.1f} ms, {json['p99']:.1f} ms",
        )
        cost = json["rate"] / page["rate"]  # time per page ÷ time per JSON answer
        section.add(
            f"{page_key.split()[0]} {page_key.split()[1]} ÷ JSON: time per request",
            f"{cost:.2f}×",
            "at most 1.5×",
            cost <= 1.5,
        )
    errors = sum(got["errors"] for got in figures.values())
    section.add("errors (non-2xx/3xx, timeouts, socket)", f"{errors}", "none", errors == 0)
    for step, size in weights:
        total = size + css
        section.add(
            f"page weight: {step} (HTML + CSS)",
            f"{size:,} + {css:,} = {total:,} B",
            "under 30 KB",
            total < 30 * 1024,
        )
    section.notes.append(
        f"{ROUNDS} rounds of {seconds} s per run, the four runs in turns in each round "
        "(figures pooled: requests over seconds, the median round's p50 and p99); "
        f"wrk with {THREADS} threads of {CUSTOMERS // THREADS} "
        f"connections, one customer each ({CUSTOMERS} journeys at the choice of platform, "
        "each with one form in flight at a time); one server process on a database of "
        f"{COMPANIES:,} companies. wrk shares the machine's 2 cores with the server. "
        f"The optional script (journey.js, {script:,} B) is not counted in a page's weight."
    )
    return section

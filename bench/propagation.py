"""Status propagation: a customer's step, taken through the journey API, to the change
on a portal's screen in another process.

``relportal serve`` runs the service; the portal runs in a real pseudo-terminal as a
relationship manager would run it against that service (``--service``), with the
company's screen open. This process takes the customer's steps over HTTP, one at a
time, back and forth between choosing a platform and its consent screen, and stops
each clock when the portal's timeline shows that step on top.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx

from bench.common import Section, Terminal, median, ms, percentile
from bench.service import Server, demo_rm_token

PROBE = "Propagation Probe Bakery"
STEPS = (
    ({"action": "select_platform", "platform": "gbol"}, "(select_platform → consent)"),
    ({"action": "back"}, "(consent → select_platform)"),
)


def top_of_timeline(text: str) -> str:
    """The newest line of the company's timeline, as the screen shows it."""
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if line.strip() == "Timeline":
            for below in lines[number + 1 :]:
                if "│" in below:
                    return below
    return ""


def run(db: Path, env: dict[str, str], actions: int) -> Section:
    section = Section(
        "Status propagation: a customer's step to the portal's screen in another process",
        "python -m bench --only propagation",
    )
    token = demo_rm_token(db, env)
    auth = {"Authorization": f"Bearer {token}"}
    with Server(db, env) as server, httpx.Client(base_url=server.url, headers=auth) as client:
        me = client.get("/v1/me").raise_for_status().json()["user"]["id"]
        company = (
            client.post(
                "/v1/relationships",
                json={
                    "name": PROBE,
                    "contact_name": "Pat Probe",
                    "contact_email": "pat@probe.example",
                    "users": [me],
                },
            )
            .raise_for_status()
            .json()
        )
        made = (
            client.post(
                f"/v1/relationships/{company['id']}/requests",
                json={"data_types": ["financials"], "delivery": "link"},
            )
            .raise_for_status()
            .json()
        )
        link = made["link"].rsplit("/", 1)[1]
        customer = httpx.Client(base_url=server.url)
        for action in ({"action": "view_request"}, {"action": "connect"}):
            customer.post(f"/v1/journeys/{link}/actions", json=action).raise_for_status()
        portal = [str(Path(sys.executable).parent / "relportal"), "--service", server.url]
        delays: list[float] = []
        try:
            with Terminal(portal, size=(160, 50), env={**env, "RELPORTAL_TOKEN": token}) as screen:
                screen.wait_for("Relationships", timeout=60)
                screen.press("/", until="▔▔▔")  # the search box
                screen.press(PROBE.lower(), until=PROBE)  # its row (the box has it in lower case)
                # Out of the search box: the list takes the keys once the footer offers
                # to open a row (an Enter sent before that goes to the box again).
                screen.press("\r", until=lambda text: "⏎ Open" in text.splitlines()[-1])
                screen.press("\r", until="Timeline")
                for number in range(actions):
                    action, shown = STEPS[number % 2]
                    started = time.perf_counter()
                    customer.post(f"/v1/journeys/{link}/actions", json=action).raise_for_status()
                    screen.wait_for(
                        lambda text, shown=shown: shown in top_of_timeline(text),
                        timeout=10,
                        since=started,
                    )
                    delays.append(time.perf_counter() - started)
        finally:
            customer.close()
            client.delete(f"/v1/relationships/{company['id']}")
    p95 = percentile(delays, 0.95)
    section.add(
        f"customer step to the portal's screen, p50 / p95 ({len(delays)} steps)",
        f"{ms(median(delays))} / {ms(p95)}",
        "p95 ≤ 250 ms",
        p95 <= 0.25,
    )
    section.add("slowest step", ms(max(delays)))
    section.notes.append(
        "The portal follows the service's event long-poll and reloads the open company "
        "when its events arrive; the clock includes the customer's own HTTP request."
    )
    return section

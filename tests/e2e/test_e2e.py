"""End to end: real `relportal serve` processes on 127.0.0.1, walked through HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from journey.core.tokens import link_token_from
from tests.support.cli import run
from tests.support.serve import Server, new_user_token

pytestmark = pytest.mark.e2e


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[tuple[list[Server], str, Path]]:
    config = tmp_path / "config.toml"
    config.write_text(
        "[service]\npublic_url = 'http://portal.test'\n"
        "[demo]\ncompanies = 0\n"
        "[mail]\noutbox = '" + str(tmp_path / "outbox") + "'\n"
        "[simulation]\npull_queue_seconds = 0.05\npull_fetch_seconds = 0.1\n"
        "upload_processing_seconds = 0.1\n"
    )
    db = tmp_path / "shared.db"
    made = new_user_token(config, db, "alex@larkspur.example")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    servers = [Server(config, db, tmp_path / "a.log"), Server(config, db, tmp_path / "b.log")]
    try:
        yield servers, token, tmp_path
    finally:
        for server in servers:
            server.stop()


def test_a_multi_entity_journey_end_to_end_across_two_servers(deployment) -> None:  # type: ignore[no-untyped-def]
    (first, second), token, _ = deployment
    auth = {"Authorization": f"Bearer {token}"}
    rm = httpx.Client(base_url=first.url, headers=auth, timeout=15)
    customer = httpx.Client(base_url=first.url, timeout=15)
    watcher = httpx.Client(base_url=second.url, headers=auth, timeout=15)

    me = rm.get("/v1/me").json()
    company = rm.post(
        "/v1/relationships",
        json={
            "name": "Abra Kebabra",
            "description": "Kebabs on the go",
            "contact_name": "Larry Pepper",
            "contact_email": "larry@abra.example",
            "users": [me["user"]["id"]],
        },
    ).json()
    start = watcher.get("/v1/events", params={"after": 0}).json()["last_seq"]

    # The second server long-polls while the customer acts on the first one.
    seen: dict[str, float] = {}

    def watch() -> None:
        after = start
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "linked" not in seen:
            body = watcher.get("/v1/events", params={"after": after, "wait": 5}).json()
            for event in body["events"]:
                if event["kind"] == "connection.linked":
                    seen["linked"] = time.monotonic()
            after = body["last_seq"]

    thread = threading.Thread(target=watch)
    thread.start()

    issued = rm.post(
        f"/v1/relationships/{company['id']}/requests",
        json={"data_types": ["spend_analysis"], "delivery": "link"},
    ).json()
    link = issued["link"]
    assert link.startswith("http://portal.test/j/")
    journey = link_token_from(link)

    def act(action: str, **params: str) -> dict:  # type: ignore[type-arg]
        response = customer.post(
            f"/v1/journeys/{journey}/actions", json={"action": action, **params}
        )
        assert response.status_code == 200, response.text
        return response.json()

    act("view_request")
    act("choose_method", method="connect")
    act("choose_entities", count="multiple")
    act("name_entity", name="Abra Kebabra Camden")
    act("connect")
    act("select_platform", platform="gbol")
    act("consent")
    wrong = act("authorize", username="demo", password="wrong")
    assert wrong["step"] == "platform_signin"
    assert wrong["error"]["code"] == "wrong_credentials"
    linked_at = time.monotonic()
    assert act("authorize", username="demo", password="demo")["step"] == "entities"
    act("add_entity")
    act("name_entity", name="Abra Kebabra Chiswick")
    act("connect")
    act("select_platform", platform="qhyg")
    act("consent")
    act("authorize", username="demo", password="demo")
    assert act("finish")["step"] == "complete"
    assert act("close")["step"] == "summary"

    thread.join(timeout=25)
    assert "linked" in seen, "the other server never saw the connection"
    assert seen["linked"] - linked_at < 2.0

    deadline = time.monotonic() + 15
    while True:
        parent = rm.get(f"/v1/relationships/{company['id']}").json()
        if parent["status"] == "Available" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert parent["status"] == "Available"
    assert (parent["entities_linked"], parent["entities_total"]) == (2, 2)
    assert [p["name"] for p in parent["platforms"]] == ["Xero", "QuickBooks Online"]
    names = sorted(s["name"] for s in parent["subsidiaries"])
    assert names == [
        "Abra Kebabra - Abra Kebabra Camden",
        "Abra Kebabra - Abra Kebabra Chiswick",
    ]

    listed = rm.get("/v1/relationships", params={"q": "Abra"}).json()
    assert listed["total"] == 3
    assert {row["status"] for row in listed["items"]} == {"Available"}

    request_id = issued["request"]["id"]
    events = rm.get(f"/v1/requests/{request_id}").json()["events"]
    kinds = [e["kind"] for e in events]
    assert kinds.index("request.created") < kinds.index("request.opened")
    assert kinds.count("connection.linked") == 2
    assert kinds.count("connection.signin_failed") == 1
    assert "request.completed" in kinds
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)

    # The link never reached a log line of either server.
    for server in (first, second):
        server.stop()
        assert journey not in server.log.read_text()
        assert token not in server.log.read_text()


def _supplier_file(template: bytes, rows: list[list[object]]) -> bytes:
    import io

    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(template))
    for row in rows:
        workbook["Suppliers"].append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_upload_and_denied_access_journeys_end_to_end(deployment) -> None:  # type: ignore[no-untyped-def]
    (server, _), token, tmp_path = deployment
    rm = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=15)
    customer = httpx.Client(base_url=server.url, timeout=15)

    def company(name: str) -> str:
        body = {"name": name, "contact_name": "Ann Lee", "contact_email": "ann@co.example"}
        return rm.post("/v1/relationships", json=body).json()["id"]

    def wait_status(rel_id: str, status: str) -> dict:  # type: ignore[type-arg]
        deadline = time.monotonic() + 15
        while True:
            body = rm.get(f"/v1/relationships/{rel_id}").json()
            if body["status"] == status or time.monotonic() > deadline:
                return body
            time.sleep(0.1)

    # Spend analysis by manual upload, by email: a bad file changes nothing, a good one lands.
    spend = company("Knead to Know Bakery")
    issued = rm.post(
        f"/v1/relationships/{spend}/requests",
        json={"data_types": ["spend_analysis"], "delivery": "email"},
    ).json()
    assert issued["email"]["sent"] is True
    assert "link" not in issued
    mails = list((tmp_path / "outbox").glob("*.eml"))
    assert len(mails) == 1
    text = mails[0].read_text()
    link = next(line for line in text.splitlines() if line.startswith("View request: "))
    journey = link_token_from(link.removeprefix("View request: "))
    base = f"/v1/journeys/{journey}"
    customer.post(f"{base}/actions", json={"action": "view_request"})
    customer.post(f"{base}/actions", json={"action": "choose_method", "method": "upload"})
    template = customer.get(f"{base}/template")
    assert template.status_code == 200
    bad = _supplier_file(template.content, [["Flour Mill Ltd", None, "XX", "GBP", 100, 30, "Cash"]])
    rejected = customer.post(f"{base}/uploads", files={"file": ("suppliers.xlsx", bad)})
    assert rejected.status_code == 422
    assert rejected.json()["errors"][0]["row"] == 2
    assert customer.get(base).json()["step"] == "manual_upload"
    good = _supplier_file(
        template.content, [["Flour Mill Ltd", None, "GB", "GBP", 12500, 30, "BankTransfer"]]
    )
    accepted = customer.post(f"{base}/uploads", files={"file": ("suppliers.xlsx", good)})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["step"] == "complete"
    assert wait_status(spend, "Available")["entities_linked"] == 1
    report = rm.get(f"/v1/relationships/{spend}/reports/spend_analysis").json()
    assert report["entities"][0]["suppliers"][0]["supplier_name"] == "Flour Mill Ltd"

    # Financials: Cancel at the platform is an Error for the RM; allowing it is Available.
    financials = company("Lord of the Fries")
    link = rm.post(
        f"/v1/relationships/{financials}/requests",
        json={"data_types": ["financials"], "delivery": "link"},
    ).json()["link"]
    base = f"/v1/journeys/{link_token_from(link)}"
    for body in (
        {"action": "view_request"},
        {"action": "connect"},
        {"action": "select_platform", "platform": "akxx"},
        {"action": "consent"},
        {"action": "deny"},
    ):
        assert customer.post(f"{base}/actions", json=body).status_code == 200
    assert wait_status(financials, "Error")["status"] == "Error"
    for body in (
        {"action": "select_platform", "platform": "akxx"},
        {"action": "consent"},
        {"action": "authorize", "username": "demo", "password": "demo"},
    ):
        assert customer.post(f"{base}/actions", json=body).status_code == 200
    done = wait_status(financials, "Available")
    assert done["status"] == "Available"
    assert [p["name"] for p in done["platforms"]] == ["Oracle NetSuite"]
    sheet = rm.get(f"/v1/relationships/{financials}/reports/balance_sheet").json()
    entity = sheet["entities"][0]
    from decimal import Decimal

    assert Decimal(entity["assets"]) == Decimal(entity["liabilities"]) + Decimal(entity["equity"])


def test_the_other_journeys_end_to_end(deployment) -> None:  # type: ignore[no-untyped-def]
    """Single-entity spend, financials and spend, close and resume, resend, cancel, expiry."""
    (server, _), token, _ = deployment
    rm = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=15)
    customer = httpx.Client(base_url=server.url, timeout=15)
    support_token = run(
        "token",
        "create",
        "jo@larkspur.example",
        "--new-user",
        "--role",
        "support",
        "--db",
        str(server.log.parent / "shared.db"),
    ).stdout.strip()
    support = httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {support_token}"}, timeout=15
    )

    def start(name: str, data_types: list[str]) -> tuple[str, str, str]:
        body = {"name": name, "contact_name": "Ann Lee", "contact_email": "ann@co.example"}
        rel = rm.post("/v1/relationships", json=body).json()["id"]
        issued = rm.post(
            f"/v1/relationships/{rel}/requests", json={"data_types": data_types, "delivery": "link"}
        ).json()
        return rel, issued["request"]["id"], f"/v1/journeys/{link_token_from(issued['link'])}"

    def act(base: str, action: str, **params: str) -> dict:  # type: ignore[type-arg]
        response = customer.post(f"{base}/actions", json={"action": action, **params})
        assert response.status_code == 200, (action, response.text)
        return response.json()

    def connect(base: str, platform: str) -> dict:  # type: ignore[type-arg]
        act(base, "connect")
        act(base, "select_platform", platform=platform)
        act(base, "consent")
        return act(base, "authorize", username="demo", password="demo")

    def status(rel: str, wanted: str | None) -> str | None:
        deadline = time.monotonic() + 15
        while True:
            seen = rm.get(f"/v1/relationships/{rel}").json()["status"]
            if seen == wanted or time.monotonic() > deadline:
                return seen  # type: ignore[no-any-return]
            time.sleep(0.1)

    # Spend analysis, a single legal entity, with close and resume on the way.
    rel, _, base = start("Tea Rex", ["spend_analysis"])
    assert act(base, "view_request")["step"] == "choose_method"
    assert act(base, "choose_method", method="connect")["step"] == "entity_count"
    closed = act(base, "close")
    assert closed["closed"] is True and [a["action"] for a in closed["actions"]] == ["resume"]
    assert customer.get(base).json()["step"] == "entity_count"
    assert act(base, "resume")["step"] == "entity_count"
    assert act(base, "choose_entities", count="single")["step"] == "share_accounting"
    assert connect(base, "fbrh")["step"] == "complete"
    assert status(rel, "Available") == "Available"

    # Financials and spend analysis: straight to the software connection.
    rel, _, base = start("Vinyl Countdown", ["financials", "spend_analysis"])
    assert act(base, "view_request")["step"] == "share_accounting"
    assert connect(base, "knfz")["step"] == "complete"
    assert status(rel, "Available") == "Available"
    assert act(base, "close")["step"] == "summary"

    # Resend: the old link is revoked, the new one resumes where the customer was.
    rel, req, base = start("Sofa So Good", ["financials"])
    act(base, "view_request")
    act(base, "connect")
    resent = rm.post(f"/v1/requests/{req}/resend", json={"delivery": "link"}).json()
    assert customer.get(base).status_code == 410
    new_base = f"/v1/journeys/{link_token_from(resent['link'])}"
    assert customer.get(new_base).json()["step"] == "select_platform"

    # Cancel: the link is revoked; the company is back to never asked.
    assert rm.post(f"/v1/requests/{req}/cancel").status_code == 200
    gone = customer.get(new_base)
    assert gone.status_code == 410 and gone.json()["code"] == "link_revoked"
    assert status(rel, None) is None

    # Expiry (support ends the link's life now): the customer sees it expired.
    rel, req, base = start("Shear Genius", ["financials"])
    act(base, "view_request")
    assert support.post(f"/v1/requests/{req}/expire").status_code == 200
    expired = customer.get(base)
    assert expired.status_code == 410 and expired.json()["step"] == "expired"
    assert status(rel, "Expired") == "Expired"


async def test_the_portal_against_relportal_serve(deployment) -> None:  # type: ignore[no-untyped-def]
    """The TUI through the remote client: rows from the server, and changes made by
    someone else (another process) appearing on screen by themselves."""
    from screens.portal import PortalScreen
    from tui.app import RelportalApp
    from tui.client import remote_client
    from widgets.relationship_table import RelationshipTable

    (server, other), token, _ = deployment
    rm = httpx.Client(base_url=other.url, headers={"Authorization": f"Bearer {token}"}, timeout=15)
    me = rm.get("/v1/me").json()["user"]["id"]
    ids = []
    for name in ("Grill Seeker", "Oh My Cod", "Pizza the Action"):
        body = {
            "name": name,
            "contact_name": "Ann Lee",
            "contact_email": "ann@co.example",
            "users": [me],
        }
        ids.append(rm.post("/v1/relationships", json=body).json()["id"])

    app = RelportalApp(lambda: remote_client(server.url, token))
    async with app.run_test(size=(120, 30)) as pilot:
        deadline = time.monotonic() + 15
        while not isinstance(app.screen, PortalScreen):
            assert time.monotonic() < deadline
            await pilot.pause(0.05)
        table = app.screen.query_one(RelationshipTable)
        while table.total < 3 or table.row(0) is None:
            assert time.monotonic() < deadline
            await pilot.pause(0.05)
        assert [table.row(i)["name"] for i in range(3)] == [  # type: ignore[index]
            "Grill Seeker",
            "Oh My Cod",
            "Pizza the Action",
        ]
        # Someone requests data through the other server; the portal shows it live.
        rm.post(
            f"/v1/relationships/{ids[1]}/requests",
            json={"data_types": ["financials"], "delivery": "link"},
        )
        changed = time.monotonic()
        while (table.row(1) or {}).get("status") != "Requested":
            assert time.monotonic() - changed < 5, "the change never reached the portal"
            await pilot.pause(0.05)
        assert time.monotonic() - changed < 2.0
        # The server goes away: a banner says so, nothing typed is lost, and when
        # it is back the portal carries on by itself.
        await pilot.press("slash", *"pizza")
        while table.total != 1:
            assert time.monotonic() < deadline + 10
            await pilot.pause(0.05)
        banner = app.screen.query_one("#banner")
        server.stop()
        gone = time.monotonic()
        while not banner.has_class("shown"):
            assert time.monotonic() - gone < 30, "no banner while the service is away"
            await pilot.pause(0.1)
        assert "unreachable" in str(banner.render())
        await pilot.press(*" the")  # typing goes on while it is away
        server.start()
        back = time.monotonic()
        while banner.has_class("shown"):
            assert time.monotonic() - back < 20, "the portal never noticed the service back"
            await pilot.pause(0.1)
        search = app.screen.query_one("#search")
        assert search.value == "pizza the"
        while not (table.total == 1 and (table.row(0) or {}).get("name") == "Pizza the Action"):
            assert time.monotonic() - back < 20
            await pilot.pause(0.05)


def _children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in found.read_text().split()] if found.exists() else []


def test_one_service_in_several_processes(tmp_path: Path) -> None:
    """``relportal serve --workers 2``: two processes serve one database; the demo is
    made once; writes from many clients at once all land (the processes take turns);
    a long-poll is answered by a write whichever process takes either."""
    config = tmp_path / "config.toml"
    config.write_text("[mail]\noutbox = '" + str(tmp_path / "outbox") + "'\n")
    db = tmp_path / "workers.db"
    server = Server(config, db, tmp_path / "serve.log", "--workers", "2", "--demo-companies", "25")
    try:
        workers = {pid: _command(pid) for pid in _children(server.process.pid)}
        assert len(workers) >= 2
        made = new_user_token(config, db, "alex@larkspur.example")
        assert made.returncode == 0, made.stderr
        auth = {"Authorization": f"Bearer {made.stdout.strip()}"}

        def add(number: int) -> int:
            with httpx.Client(base_url=server.url, headers=auth, timeout=30) as client:
                body = {"name": f"Parallel Company {number}", "contact_name": "Kim Lee"}
                body["contact_email"] = f"kim{number}@parallel.example"
                return client.post("/v1/relationships", json=body).status_code

        def total() -> int:
            with httpx.Client(base_url=server.url, headers=auth, timeout=30) as client:
                listed = client.get("/v1/relationships", params={"user": "all", "limit": 1})
                return int(listed.json()["total"])

        demo = total()
        assert demo == 25  # 25 companies, subsidiaries among them: made once
        with ThreadPoolExecutor(max_workers=16) as pool:
            assert list(pool.map(add, range(48))) == [201] * 48
        assert total() == demo + 48  # every write landed

        # Long polls and writes on fresh connections land on either process.
        for attempt in range(6):
            with httpx.Client(base_url=server.url, headers=auth, timeout=30) as poller:
                after = poller.get("/v1/events/head").json()["last_seq"]
                with ThreadPoolExecutor(max_workers=1) as pool:
                    polled = pool.submit(
                        poller.get, "/v1/events", params={"after": after, "wait": 10}
                    )
                    time.sleep(0.2)
                    began = time.monotonic()
                    assert add(100 + attempt) == 201
                    events = polled.result().json()["events"]
                    assert time.monotonic() - began < 2
                assert events and events[0]["kind"] == "relationship.created"
    finally:
        server.stop()
    # Every process keeps the access log, one line a request.
    logged = (tmp_path / "serve.log").read_text()
    assert logged.count('"POST /v1/relationships" 201') == 48 + 6
    # The workers end with the command (multiprocessing's resource tracker, also a
    # child, may take a moment longer).
    deadline = time.monotonic() + 10
    while any(_running(pid, command) for pid, command in workers.items()):
        assert time.monotonic() < deadline, "a worker process outlived relportal serve"
        time.sleep(0.1)


def _command(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return b""


def _running(pid: int, command: bytes) -> bool:
    """The process is alive and still the one it was (not a new one given its id)."""
    try:
        alive = "zombie" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return alive and _command(pid) == command


async def test_an_open_company_recovers_by_itself_after_a_service_restart(deployment) -> None:  # type: ignore[no-untyped-def]
    """Finding 15: a company opened while the service is away says it is retrying, and
    shows itself once the service is back, with no key pressed."""
    from screens.portal import PortalScreen
    from screens.relationship import RelationshipScreen
    from tui.app import RelportalApp
    from tui.client import remote_client
    from widgets.relationship_table import RelationshipTable

    (server, _), token, _ = deployment
    rm = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=15)
    me = rm.get("/v1/me").json()["user"]["id"]
    body = {"name": "Wok This Way", "contact_name": "Ann Lee", "contact_email": "ann@co.example"}
    rm.post("/v1/relationships", json={**body, "users": [me]})

    app = RelportalApp(lambda: remote_client(server.url, token))
    async with app.run_test(size=(100, 30)) as pilot:
        deadline = time.monotonic() + 15
        while not isinstance(app.screen, PortalScreen):
            assert time.monotonic() < deadline
            await pilot.pause(0.05)
        portal = app.screen
        table = portal.query_one(RelationshipTable)
        while table.row(0) is None:
            assert time.monotonic() < deadline
            await pilot.pause(0.05)
        server.stop()
        banner = portal.query_one("#banner")
        gone = time.monotonic()
        while not banner.has_class("shown"):
            assert time.monotonic() - gone < 30, "no banner while the service is away"
            await pilot.pause(0.1)
        await pilot.press("enter")  # open the company while the service is away
        while not isinstance(app.screen, RelationshipScreen):
            assert time.monotonic() - gone < 30
            await pilot.pause(0.05)
        company = app.screen
        info = company.query_one("#info")
        while "retrying" not in str(info.render()):
            assert time.monotonic() - gone < 30, str(info.render())
            await pilot.pause(0.1)
        server.start()
        back = time.monotonic()
        while company.body is None:
            assert time.monotonic() - back < 20, "the company never loaded by itself"
            await pilot.pause(0.1)
        await pilot.pause(0.1)
        from tests.support.portal import text_of

        shown = text_of(info)
        assert app.screen is company and "Wok This Way" in shown and "retrying" not in shown

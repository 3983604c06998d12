"""Customers walking every journey in a real browser, behind a real `relportal serve`.

Headless Chromium (Debian's, the `chromium` fixture of tests/conftest.py): each journey on a
phone viewport with JavaScript on and on a desktop viewport with it off, one journey
by keyboard alone, and the RM's events following the customer live. With
RELPORTAL_SCREENSHOTS=1 the walks write a PNG of every step at both sizes into
docs/customer-journey/ (CI leaves the docs alone).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest

from journey.template import SUPPLIER_COLUMNS
from tests.support.serve import Server, new_user_token

pytestmark = pytest.mark.e2e

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "customer-journey"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
MODES = [
    pytest.param("phone", PHONE, True, id="phone-js"),
    pytest.param("desktop", DESKTOP, False, id="desktop-nojs"),
]


@dataclass
class Deployment:
    server: Server
    rm: httpx.Client
    user_id: str
    tmp: Path

    def request(self, data_types: list[str], name: str = "Abra Kebabra") -> tuple[str, str]:
        """A company and a request for it delivered as a link: (company id, link)."""
        company = self.rm.post(
            "/v1/relationships",
            json={
                "name": name,
                "contact_name": "Larry Pepper",
                "contact_email": "larry@abra.example",
                "users": [self.user_id],
            },
        )
        assert company.status_code == 201, company.text
        rel_id = company.json()["id"]
        sent = self.rm.post(
            f"/v1/relationships/{rel_id}/requests",
            json={"data_types": data_types, "delivery": "link"},
        )
        assert sent.status_code == 201, sent.text
        return rel_id, sent.json()["link"]

    def status(self, rel_id: str) -> str | None:
        value: str | None = self.rm.get(f"/v1/relationships/{rel_id}").json()["status"]
        return value


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    tmp = tmp_path_factory.mktemp("customer")
    config = tmp / "config.toml"
    config.write_text(
        "[demo]\ncompanies = 0\n"
        "[mail]\noutbox = '" + str(tmp / "outbox") + "'\n"
        "[simulation]\npull_queue_seconds = 0.05\npull_fetch_seconds = 0.1\n"
        "upload_processing_seconds = 0.1\n"
    )
    db = tmp / "service.db"
    made = new_user_token(config, db, "alex@larkspur.example")
    assert made.returncode == 0, made.stderr
    server = Server(config, db, tmp / "serve.log")
    rm = httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {made.stdout.strip()}"}, timeout=15
    )
    try:
        yield Deployment(server, rm, rm.get("/v1/me").json()["user"]["id"], tmp)
    finally:
        rm.close()
        server.stop()


# axe-core checks WCAG 2.x A and AA (2.2 included) on every page a walk passes.
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}


def axe_violations(page: Any) -> list[str]:
    """What axe-core finds on the page: one line per violation and node."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=AXE_OPTIONS)
    return [
        f"{v['id']}: {v['help']} at {node['target']}"
        for v in results.response["violations"]
        for node in v["nodes"]
    ]


@dataclass
class Customer:
    """One customer's browser tab, walking their journey (axe-core on each page
    when its JavaScript is on: axe runs in the page)."""

    page: Any
    size: str
    seen: set[str] = field(default_factory=set)
    axe: bool = False
    checked: set[str] = field(default_factory=set)

    def check(self) -> None:
        """Nothing wider than the screen; axe-core on this page, once per step: no
        violations."""
        width = self.page.viewport_size["width"]
        wide = self.page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"{self.at()} is {wide}px wide on a {width}px screen"
        at = self.at() + self.heading()
        if not self.axe or at in self.checked:
            return
        self.checked.add(at)
        found = axe_violations(self.page)
        assert not found, f"{at}: " + "; ".join(found)

    def at(self) -> str:
        """The step the page shows (its forms' hidden ``at``; the end pages have none)."""
        found = self.page.locator("input[name=at]")
        return str(found.first.get_attribute("value")) if found.count() else "end"

    def heading(self) -> str:
        return str(self.page.locator("h1").inner_text()).strip()

    def shot(self, name: str | None = None) -> None:
        self.check()
        at = self.at()
        name = name or ("closed" if at.endswith(":closed") else at)
        if os.environ.get("RELPORTAL_SCREENSHOTS") != "1" or name in self.seen:
            return
        if self.size not in ("phone", "desktop"):
            return
        self.seen.add(name)
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}-{self.size}.png"), full_page=True)

    def press(self, name: str) -> None:
        """Press a button and wait for the page the form leads to (Post/Redirect/Get)."""
        self.shot()
        with self.page.expect_navigation():
            self.page.get_by_role("button", name=name, exact=True).click()

    def choose(self, name: str) -> None:
        self.page.get_by_role("radio", name=name, exact=True).check()


def open_tab(chromium: Any, size: str, viewport: dict[str, int], js: bool) -> Customer:
    context = chromium.new_context(viewport=viewport, java_script_enabled=js)
    page = context.new_page()
    page.set_default_timeout(20_000)
    return Customer(page, size, axe=js)


def sign_in(customer: Customer, password: str = "demo") -> None:
    page = customer.page
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill(password)
    customer.press("Allow access")


def connect(customer: Customer, platform: str = "Xero", js: bool = False) -> None:
    """From "Share your accounting data" to the platform's sign-in."""
    customer.press("Connect")
    assert customer.heading() == "Select your accounting software"
    if js:
        # Filtering as the customer types: no request, the list narrows at once.
        customer.page.get_by_label("Search accounting software").fill(platform[:2])
        assert customer.page.locator("#platform-list li:visible").count() < 6
    customer.choose(platform)
    customer.press("Next")
    assert customer.heading() == f"Connect to {platform}"
    customer.press("Next")
    assert customer.heading() == f"Sign in to {platform}"


def finish(customer: Customer) -> None:
    assert customer.heading() == "Information request complete!"
    customer.press("Close")
    assert customer.heading() == "Requests"
    customer.shot("summary")
    assert customer.page.get_by_role("columnheader", name="Due").count() == 1


@pytest.mark.parametrize(("size", "viewport", "js"), MODES)
def test_financials_only(
    deployment: Deployment, chromium: Any, size: str, viewport: dict[str, int], js: bool
) -> None:
    rel_id, link = deployment.request(["financials"])
    customer = open_tab(chromium, size, viewport, js)
    customer.page.goto(link)
    assert deployment.status(rel_id) == "Requested"  # opening the link records nothing
    customer.press("Securely connect")
    assert customer.heading() == "Share your accounting data with Larkspur Bank"
    connect(customer, "Xero", js)
    sign_in(customer)
    finish(customer)


@pytest.mark.parametrize(("size", "viewport", "js"), MODES)
def test_spend_analysis_with_an_upload(
    deployment: Deployment, chromium: Any, size: str, viewport: dict[str, int], js: bool
) -> None:
    _, link = deployment.request(["spend_analysis"])
    customer = open_tab(chromium, size, viewport, js)
    customer.page.goto(link)
    customer.press("View request")
    assert customer.heading() == "Provide supplier information"
    customer.press("Upload file manually")
    assert customer.heading() == "Manual upload"
    page = customer.page
    assert (
        page.get_by_role("link", name="Download template")
        .get_attribute("href")
        .endswith("/template")
    )
    # A file with a bad row first: its row and column are shown on the step.
    page.get_by_label("Choose the filled template").set_input_files(
        files=[
            {
                "name": "bad.xlsx",
                "mimeType": "application/octet-stream",
                "buffer": supplier_file({**GOOD_ROW, "currency": "XXQ"}),
            }
        ]
    )
    customer.press("Upload file")
    assert page.get_by_role("alert").count() == 1
    assert page.locator("table.problems td").first.inner_text() == "2"
    customer.shot("manual_upload-errors")
    page.get_by_label("Choose the filled template").set_input_files(
        files=[
            {
                "name": "suppliers.xlsx",
                "mimeType": "application/octet-stream",
                "buffer": supplier_file(GOOD_ROW),
            }
        ]
    )
    customer.press("Upload file")
    finish(customer)


@pytest.mark.parametrize(("size", "viewport", "js"), MODES)
def test_spend_analysis_with_a_connection_for_several_entities(
    deployment: Deployment, chromium: Any, size: str, viewport: dict[str, int], js: bool
) -> None:
    _, link = deployment.request(["spend_analysis"])
    customer = open_tab(chromium, size, viewport, js)
    page = customer.page
    page.goto(link)
    customer.press("View request")
    customer.press("Connect platform")
    assert customer.heading() == "How complex is your organization?"
    customer.choose("Multiple legal entities")
    customer.press("Next")
    assert customer.heading() == "Which legal entity of Abra Kebabra are you linking?"
    field = page.get_by_label("Enter the registered name of the legal entity")
    field.fill("Abra Kebabra Brighton")
    if js:  # the counter follows the typing; without a script the server counts
        assert page.locator("#name-counter").inner_text() == "79/100 characters remaining"
    customer.press("Next")
    connect(customer, "Sandbox", js)
    sign_in(customer)
    assert customer.heading() == "Your legal entities"
    customer.press("Add another +")
    page.get_by_label("Enter the registered name of the legal entity").fill("Abra Kebabra Hove")
    customer.press("Next")
    connect(customer, "QuickBooks Online", js)
    sign_in(customer)
    entities = page.locator("ul.entities li")
    assert entities.count() == 2
    assert "Connected" in entities.nth(1).inner_text()
    customer.press("Finish")
    finish(customer)


@pytest.mark.parametrize(("size", "viewport", "js"), MODES)
def test_both_data_types(
    deployment: Deployment, chromium: Any, size: str, viewport: dict[str, int], js: bool
) -> None:
    _, link = deployment.request(["financials", "spend_analysis"])
    customer = open_tab(chromium, size, viewport, js)
    customer.page.goto(link)
    customer.press("Securely connect")
    connect(customer, "Oracle NetSuite", js)
    sign_in(customer)
    finish(customer)


@pytest.mark.parametrize(("size", "viewport", "js"), MODES)
def test_deny_then_retry_with_a_wrong_password_first(
    deployment: Deployment, chromium: Any, size: str, viewport: dict[str, int], js: bool
) -> None:
    _, link = deployment.request(["financials"])
    customer = open_tab(chromium, size, viewport, js)
    page = customer.page
    page.goto(link)
    customer.press("Securely connect")
    connect(customer, "Xero", js)
    customer.press("Cancel")
    assert customer.heading() == "Select your accounting software"
    assert "was not granted" in page.get_by_role("alert").inner_text()
    customer.shot("select_platform-denied")
    customer.choose("Xero")
    customer.press("Next")
    customer.press("Next")
    sign_in(customer, password="wrong")
    assert "incorrect" in page.get_by_role("alert").inner_text()
    customer.shot("platform_signin-wrong-password")
    assert page.get_by_label("Password").input_value() == ""
    assert page.get_by_label("Username").input_value() == "demo"  # kept across the 303
    sign_in(customer)
    finish(customer)


@pytest.mark.parametrize(("size", "viewport", "js"), MODES)
def test_close_and_resume_from_the_same_link(
    deployment: Deployment, chromium: Any, size: str, viewport: dict[str, int], js: bool
) -> None:
    _, link = deployment.request(["financials"])
    customer = open_tab(chromium, size, viewport, js)
    page = customer.page
    page.goto(link)
    customer.press("Securely connect")
    customer.press("Connect")
    customer.press("Close")
    assert customer.heading() == "Exit this request?"
    customer.shot("confirm_close")
    customer.press("Yes, exit")
    assert customer.heading() == "Request closed"
    page.close()
    again = open_tab(chromium, size, viewport, js)
    again.seen = customer.seen
    again.page.goto(link)
    assert again.heading() == "Request closed"
    again.press("Resume")
    assert again.heading() == "Select your accounting software"


def test_a_320_pixel_screen_scrolls_only_down(deployment: Deployment, chromium: Any) -> None:
    _, link = deployment.request(["spend_analysis"])
    customer = open_tab(chromium, "narrow", {"width": 320, "height": 640}, True)
    customer.page.goto(link)
    customer.press("View request")
    customer.press("Connect platform")
    customer.choose("Multiple legal entities")
    customer.press("Next")
    customer.page.get_by_label("Enter the registered name of the legal entity").fill("W" * 100)
    customer.press("Next")
    connect(customer, "QuickBooks Online", js=True)
    sign_in(customer)
    customer.press("Finish")
    finish(customer)


def test_one_journey_by_keyboard_alone_and_the_rm_sees_it_live(
    deployment: Deployment, chromium: Any
) -> None:
    rel_id, link = deployment.request(["financials"])
    after = deployment.rm.get("/v1/events", params={"after": 0}).json()
    seq = after["events"][-1]["seq"] if after["events"] else 0
    customer = open_tab(chromium, "desktop", DESKTOP, True)
    page = customer.page
    page.goto(link)

    def tab_to(role: str, name: str) -> None:
        target = page.get_by_role(role, name=name, exact=True)
        for _ in range(40):
            page.keyboard.press("Tab")
            if target.evaluate("e => e === document.activeElement"):
                outline = target.evaluate("e => getComputedStyle(e).outlineStyle")
                assert outline != "none", f"{name} has no visible focus"
                return
        raise AssertionError(f"Tab never reached {role} {name!r}")

    def activate(role: str, name: str, key: str = "Enter") -> None:
        tab_to(role, name)
        with page.expect_navigation():
            page.keyboard.press(key)

    activate("button", "Securely connect")
    events = deployment.rm.get("/v1/events", params={"after": seq, "wait": 5}).json()["events"]
    assert "request.opened" in [e["kind"] for e in events]
    assert deployment.status(rel_id) == "In progress"
    activate("button", "Connect")
    tab_to("radio", "Sandbox")
    page.keyboard.press("Space")
    activate("button", "Next")
    activate("button", "Next")
    tab_to("textbox", "Username")
    page.keyboard.type("demo")
    page.keyboard.press("Tab")
    page.keyboard.type("demo")
    activate("button", "Allow access")
    assert customer.heading() == "Information request complete!"
    deadline_events = deployment.rm.get("/v1/events", params={"after": seq, "wait": 5}).json()[
        "events"
    ]
    assert "request.completed" in [e["kind"] for e in deadline_events]
    activate("button", "Close")
    assert customer.heading() == "Requests"


def test_dead_links_are_pages_in_the_browser(deployment: Deployment, chromium: Any) -> None:
    for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        customer = open_tab(chromium, size, viewport, True)
        response = customer.page.goto(deployment.server.url + "/j/not-a-real-link")
        assert response.status == 404
        assert customer.heading() == "Link not found"
        customer.shot("not_found")


GOOD_ROW = {
    "supplier_name": "Acme Ltd",
    "country": "GB",
    "currency": "GBP",
    "annual_spend": 1500,
    "payment_terms_days": 30,
    "preferred_payment_method": "BankTransfer",
}


def supplier_file(*rows: dict[str, Any]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Suppliers"
    sheet.append([c.header for c in SUPPLIER_COLUMNS])
    for values in rows:
        sheet.append([values.get(c.key) for c in SUPPLIER_COLUMNS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

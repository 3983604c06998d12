"""The customer's pages behind the emailed link (``/j/{token}``), over HTTP.

What a customer's browser, a mail scanner and a guesser each get: HTML pages with
the security headers, Post/Redirect/Get, errors on the step, dead links as pages.
The browser walks of every journey are in ``test_customer_browser.py``.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest

from journey.core.platforms import PLATFORMS
from journey.core.prompts import PAGE_WORDS
from journey.template import SUPPLIER_COLUMNS
from tests.support.customer_pages import h1, place, post, start, walk
from tests.support.service import Service

HERE = Path(__file__).resolve().parents[2] / "journey" / "web" / "static"
ASSETS_WEIGHT = sum(p.stat().st_size for p in HERE.iterdir())

CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def alert(response: httpx.Response) -> str:
    found = re.search(r'<div class="error-summary" role="alert".*?</div>', response.text, re.S)
    assert found, "no error summary on the page"
    return unescape(re.sub(r"<[^>]+>", " ", found.group(0)))


def assert_page_headers(response: httpx.Response) -> None:
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


PAGE_BUDGET = 30_000  # bytes: every page with its stylesheet and script


def assert_html(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text[-800:]
    assert len(response.content) + ASSETS_WEIGHT < PAGE_BUDGET
    assert response.headers["content-type"].startswith("text/html"), response.headers
    assert "problem+json" not in response.text
    assert_page_headers(response)


# Headers, and what a GET may do


async def test_every_page_and_its_stylesheet_carry_the_security_headers(svc: Service) -> None:
    _, _, token = await start(svc, ["financials"])
    page = await svc.base.get(f"/j/{token}")
    assert_html(page, 200)
    assert '<html lang="en">' in page.text
    for asset in re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text):
        response = await svc.base.get(asset)
        assert response.status_code == 200, asset
        assert_page_headers(response)
    # Nothing from another origin: no absolute URL at all in the page.
    assert "http://" not in page.text and "https://" not in page.text
    assert_html(await svc.base.get("/j/not-a-link"), 404)


async def test_a_get_of_a_fresh_link_leaves_the_company_requested(svc: Service) -> None:
    """Mail scanners open links before customers do: the RM must not see them."""
    rel, _, token = await start(svc, ["financials"])
    before = await svc.relationship(rel["id"])
    for _ in range(3):
        page = await svc.base.get(f"/j/{token}")
        assert_html(page, 200)
        assert 'value="view_request"' in page.text
    after = await svc.relationship(rel["id"])
    assert after["status"] == before["status"] == "Requested"
    assert after["version"] == before["version"]
    assert (await svc.journey(token)).json()["step"] == "email"

    # The customer's first POST is what records the arrival.
    page = await walk(svc, token, {"action": "view_request"})
    assert h1(page) == "Share your accounting data with Larkspur Bank"
    seen = await svc.status_becomes(rel["id"], "In progress")
    assert seen["status"] == "In progress"


async def test_each_post_answers_303_to_the_step_page_and_a_reload_resends_nothing(
    svc: Service,
) -> None:
    _, _, token = await start(svc, ["financials"])
    response = await post(svc, token, action="view_request")
    assert response.status_code == 303
    assert response.headers["location"] == f"/j/{token}"
    page = await svc.base.get(f"/j/{token}")
    assert place(page) == "share_accounting"
    # Reloading the page is a GET: the journey stays where it is.
    again = await svc.base.get(f"/j/{token}")
    assert place(again) == "share_accounting"
    assert (await svc.journey(token)).json()["step"] == "share_accounting"


# Errors on the step


async def test_a_step_the_other_tab_already_took_is_shown_where_the_journey_is_now(
    svc: Service,
) -> None:
    _, _, token = await start(svc, ["spend_analysis"])
    await walk(svc, token, {"action": "view_request"})
    first_tab = await svc.base.get(f"/j/{token}")
    second_tab = await svc.base.get(f"/j/{token}")
    assert place(first_tab) == place(second_tab) == "choose_method"

    moved = await svc.base.post(
        f"/j/{token}",
        data={"at": place(first_tab), "action": "choose_method", "method": "connect"},
    )
    assert moved.status_code == 303
    stale = await svc.base.post(
        f"/j/{token}",
        data={"at": place(second_tab), "action": "choose_method", "method": "upload"},
    )
    assert_html(stale, 409)
    assert PAGE_WORDS["already_taken"] in alert(stale)
    assert h1(stale) == "How complex is your organization?"
    assert (await svc.journey(token)).json()["step"] == "entity_count"


async def test_a_missing_choice_and_a_long_name_are_shown_beside_their_fields(
    svc: Service,
) -> None:
    _, _, token = await start(svc, ["spend_analysis"])
    await walk(
        svc,
        token,
        {"action": "view_request"},
        {"action": "choose_method", "method": "connect"},
    )
    refused = await post(svc, token, action="choose_entities")
    assert_html(refused, 422)
    assert "Choose the number of legal entities" in alert(refused)
    assert 'href="#count-single"' in refused.text
    assert 'id="count-error"' in refused.text

    page = await walk(svc, token, {"action": "choose_entities", "count": "multiple"})
    assert h1(page) == "Which legal entity of Abra Kebabra are you linking?"
    assert 'maxlength="100"' in page.text
    assert "100/100 characters remaining" in page.text

    long_name = "N" * 101
    refused = await post(svc, token, action="name_entity", name=long_name)
    assert_html(refused, 422)
    assert "101 characters long" in alert(refused)
    assert 'href="#name"' in refused.text
    assert 'id="name-error"' in refused.text
    # What the customer typed stays in the field, counted.
    assert f'value="{long_name}"' in refused.text
    assert "-1/100 characters remaining" in refused.text

    page = await walk(svc, token, {"action": "name_entity", "name": "Abra Kebabra Brighton"})
    assert h1(page) == "Share your accounting data with Larkspur Bank"
    assert "Abra Kebabra Brighton" in page.text


@pytest.mark.parametrize("platform", list(PLATFORMS))
async def test_every_simulated_platform_says_its_sandbox_sign_in(
    svc: Service, platform: str
) -> None:
    """Finding 20: demo / demo is said on each simulated platform's sign-in page."""
    _, _, token = await start(svc, ["financials"])
    page = await walk(
        svc,
        token,
        {"action": "view_request"},
        {"action": "connect"},
        {"action": "select_platform", "platform": platform},
        {"action": "consent"},
    )
    assert h1(page) == f"Sign in to {PLATFORMS[platform].name}"
    assert "username demo, password demo" in unescape(page.text)


async def test_a_wrong_platform_password_is_shown_on_the_platforms_page_and_never_kept(
    svc: Service,
) -> None:
    rel, _, token = await start(svc, ["financials"])
    page = await walk(
        svc,
        token,
        {"action": "view_request"},
        {"action": "connect"},
        {"action": "select_platform", "platform": "gbol"},
        {"action": "consent"},
    )
    assert h1(page) == "Sign in to Xero"
    assert 'type="password"' in page.text
    assert "Larkspur Bank wants access to:" in page.text
    assert "demo" in page.text  # the simulated platform's sandbox credentials
    assert 'class="platform p-gbol"' in page.text  # the platform's look, not the bank's

    secret = "hunter2-secret"
    response = await post(svc, token, action="authorize", username="demo", password=secret)
    assert response.status_code == 303
    page = await svc.base.get(f"/j/{token}")
    assert PLATFORMS["gbol"].signin_error in alert(page)
    assert 'href="#password"' in page.text
    assert secret not in page.text

    # Nothing the service keeps or tells the RM holds the password.
    events = (await svc.get("/v1/events?after=0")).json()
    assert secret not in str(events)
    db = svc.settings.db_path
    for stored in (db, db.with_name(db.name + "-wal")):
        if stored.exists():
            assert secret.encode() not in stored.read_bytes(), stored

    response = await post(svc, token, action="authorize", username="demo", password="demo")
    assert response.status_code == 303
    page = await svc.base.get(f"/j/{token}")
    assert h1(page) == "Information request complete!"
    await svc.status_becomes(rel["id"], "Available")


async def test_cancel_on_the_platform_denies_and_the_customer_can_try_again(svc: Service) -> None:
    _, _, token = await start(svc, ["financials"])
    await walk(
        svc,
        token,
        {"action": "view_request"},
        {"action": "connect"},
        {"action": "select_platform", "platform": "gbol"},
        {"action": "consent"},
    )
    page = await walk(svc, token, {"action": "deny"})
    assert h1(page) == "Select your accounting software"
    assert "Access to Xero was not granted" in alert(page)
    page = await walk(
        svc,
        token,
        {"action": "select_platform", "platform": "qhyg"},
        {"action": "consent"},
        {"action": "authorize", "username": "demo", "password": "demo"},
    )
    assert h1(page) == "Information request complete!"


async def test_platform_search_filters_on_the_server(svc: Service) -> None:
    _, _, token = await start(svc, ["financials"])
    await walk(svc, token, {"action": "view_request"}, {"action": "connect"})
    page = await svc.base.get(f"/j/{token}", params={"q": "xe"})
    assert_html(page, 200)
    shown = re.findall(r'<li class="radio" data-name="([^"]+)">', page.text)
    assert shown == ["xero"]
    nothing = await svc.base.get(f"/j/{token}", params={"q": "<zzz>"})
    assert "No accounting software matches “&lt;zzz&gt;”." in nothing.text
    assert "<zzz>" not in nothing.text
    # Searching is a GET: the journey did not move.
    assert (await svc.journey(token)).json()["step"] == "select_platform"


async def test_close_asks_first_then_the_same_link_resumes_at_the_same_step(
    svc: Service,
) -> None:
    _, _, token = await start(svc, ["financials"])
    await walk(svc, token, {"action": "view_request"}, {"action": "connect"})
    page = await svc.base.get(f"/j/{token}")
    assert f'action="/j/{token}/close"' in page.text
    confirm = await svc.base.get(f"/j/{token}/close")
    assert_html(confirm, 200)
    assert h1(confirm) == PAGE_WORDS["confirm_title"]
    assert (await svc.journey(token)).json()["closed"] is False  # asking closes nothing

    closed = await walk(svc, token, {"action": "close"})
    assert h1(closed) == PAGE_WORDS["closed_title"]
    assert (await svc.journey(token)).json()["closed"] is True
    resumed = await walk(svc, token, {"action": "resume"})
    assert h1(resumed) == "Select your accounting software"


async def test_complete_closes_to_the_customers_requests(svc: Service) -> None:
    _, _, token = await start(svc, ["financials"])
    await walk(
        svc,
        token,
        {"action": "view_request"},
        {"action": "connect"},
        {"action": "select_platform", "platform": "mqjo"},
        {"action": "consent"},
        {"action": "authorize", "username": "demo", "password": "demo"},
    )
    summary = await walk(svc, token, {"action": "close"})
    assert h1(summary) == "Requests"
    cells = [
        unescape(c) for c in re.findall(r"<t[hd](?: [^>]*)?>(?:<[^>]+>)?([^<]*)", summary.text)
    ]
    assert cells[:4] == ["Name", "Date", "Due", "Status"]
    assert cells[4] == "Financials"
    assert cells[7] in ("Complete", "Available", "In progress")


# Uploads


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


GOOD_ROW = {
    "supplier_name": "Acme Ltd",
    "country": "GB",
    "currency": "GBP",
    "annual_spend": 1500,
    "payment_terms_days": 30,
    "preferred_payment_method": "BankTransfer",
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
async def at_upload(svc: Service) -> AsyncIterator[tuple[dict[str, Any], str]]:
    rel, _, token = await start(svc, ["spend_analysis"])
    page = await walk(
        svc,
        token,
        {"action": "view_request"},
        {"action": "choose_method", "method": "upload"},
    )
    assert h1(page) == "Manual upload"
    yield rel, token


async def test_the_template_downloads_from_the_upload_step(
    svc: Service, at_upload: tuple[dict[str, Any], str]
) -> None:
    _, token = at_upload
    page = await svc.base.get(f"/j/{token}")
    assert f'href="/j/{token}/template"' in page.text
    response = await svc.base.get(f"/j/{token}/template")
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    assert response.content[:2] == b"PK"


async def test_an_upload_with_bad_rows_shows_each_row_and_column(
    svc: Service, at_upload: tuple[dict[str, Any], str]
) -> None:
    _, token = at_upload
    data = supplier_file(GOOD_ROW, {**GOOD_ROW, "currency": "XXQ", "annual_spend": "=1+2"})
    response = await svc.base.post(
        f"/j/{token}/upload", files={"file": ("suppliers.xlsx", data, XLSX)}
    )
    assert_html(response, 422)
    assert PAGE_WORDS["upload_problems"] in alert(response)
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td><td>([^<]+)</td></tr>", response.text)
    assert {(row, unescape(column)) for row, column, _ in rows} >= {
        ("3", next(c.header for c in SUPPLIER_COLUMNS if c.key == "currency")),
        ("3", next(c.header for c in SUPPLIER_COLUMNS if c.key == "annual_spend")),
    }
    assert (await svc.journey(token)).json()["step"] == "manual_upload"


async def test_no_file_is_an_error_on_the_step(
    svc: Service, at_upload: tuple[dict[str, Any], str]
) -> None:
    _, token = at_upload
    response = await svc.base.post(
        f"/j/{token}/upload", files={"file": ("", b"", "application/octet-stream")}
    )
    assert_html(response, 422)
    assert PAGE_WORDS["no_file"] in alert(response)
    assert 'href="#file"' in response.text


async def test_a_file_over_1_mb_is_refused_with_a_page(
    svc: Service, at_upload: tuple[dict[str, Any], str]
) -> None:
    _, token = at_upload
    big = b"PK" + b"\0" * 1_100_000
    response = await svc.base.post(
        f"/j/{token}/upload", files={"file": ("suppliers.xlsx", big, XLSX)}
    )
    assert_html(response, 413)
    assert PAGE_WORDS["too_large"] in alert(response)

    # Without a Content-Length the body is counted as it streams, and refused as well.
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b"x" * 64 * 1024

    streamed = await svc.base.post(
        f"/j/{token}/upload",
        content=chunks(),
        headers={"content-type": "multipart/form-data; boundary=zzz"},
    )
    assert "content-length" not in streamed.request.headers
    assert_html(streamed, 413)
    assert (await svc.journey(token)).json()["step"] == "manual_upload"


async def test_a_good_upload_completes_the_journey(
    svc: Service, at_upload: tuple[dict[str, Any], str]
) -> None:
    rel, token = at_upload
    response = await svc.base.post(
        f"/j/{token}/upload", files={"file": ("suppliers.xlsx", supplier_file(GOOD_ROW), XLSX)}
    )
    assert response.status_code == 303, response.text[-800:]
    page = await svc.base.get(f"/j/{token}")
    assert h1(page) == "Information request complete!"
    await svc.status_becomes(rel["id"], "Available")


# Links that open nothing


async def test_unknown_expired_and_cancelled_links_are_pages(svc: Service) -> None:
    unknown = await svc.base.get("/j/no-such-link")
    assert_html(unknown, 404)
    assert h1(unknown) == PAGE_WORDS["not_found_title"]
    assert_html(await svc.base.post("/j/no-such-link", data={"action": "view_request"}), 404)
    assert_html(await svc.base.get("/j/no-such-link/anything/else"), 404)

    _, req, token = await start(svc, ["financials"])
    response = await svc.post(f"/v1/requests/{req['id']}/expire", "support")
    assert response.status_code == 200, response.text
    expired = await svc.base.get(f"/j/{token}")
    assert_html(expired, 410)
    assert h1(expired) == "Link expired"

    _, req, token = await start(svc, ["financials"])
    response = await svc.post(f"/v1/requests/{req['id']}/cancel")
    assert response.status_code == 200, response.text
    cancelled = await svc.base.get(f"/j/{token}")
    assert_html(cancelled, 410)
    assert h1(cancelled) == "Request cancelled"
    assert_html(await post_raw(svc, token), 410)


async def post_raw(svc: Service, token: str) -> httpx.Response:
    return await svc.base.post(f"/j/{token}", data={"at": "email", "action": "view_request"})


@pytest.mark.parametrize("settings", [{"link_misses_per_minute": 3}], indirect=True)
async def test_guessing_links_is_counted_as_the_api_counts_it(svc: Service) -> None:
    _, _, token = await start(svc, ["financials"])
    for n in range(3):
        assert_html(await svc.base.get(f"/j/guess-{n}"), 404)
    limited = await svc.base.get("/j/guess-again")
    assert_html(limited, 429)
    assert int(limited.headers["retry-after"]) >= 1
    assert h1(limited) == PAGE_WORDS["rate_limited_title"]
    # The API's guard is the same one: it refuses this address too.
    assert (await svc.journey(token)).status_code == 429


# Links that reach the customer


def test_serve_writes_the_port_it_listens_on_into_links(tmp_path: Path) -> None:
    """`relportal serve --port N` with no public_url configured: links are on port N,
    and the link opens the customer's page there."""
    from tests.support.serve import Server, new_user_token

    config = tmp_path / "config.toml"
    config.write_text(
        "[demo]\ncompanies = 0\n[mail]\noutbox = '" + str(tmp_path / "outbox") + "'\n"
    )
    db = tmp_path / "service.db"
    made = new_user_token(config, db, "alex@larkspur.example")
    assert made.returncode == 0, made.stderr
    server = Server(config, db, tmp_path / "serve.log")
    try:
        rm = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {made.stdout.strip()}"}
        )
        me = rm.get("/v1/me").json()
        company = rm.post(
            "/v1/relationships",
            json={
                "name": "Abra Kebabra",
                "contact_name": "Larry Pepper",
                "contact_email": "larry@abra.example",
                "users": [me["user"]["id"]],
            },
        ).json()
        sent = rm.post(
            f"/v1/relationships/{company['id']}/requests",
            json={"data_types": ["financials"], "delivery": "link"},
        ).json()
        assert sent["link"].startswith(f"http://127.0.0.1:{server.port}/j/"), sent["link"]
        page = httpx.get(sent["link"])
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
    finally:
        server.stop()


def test_public_url_falls_back_to_the_listening_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui import serving
    from tui.config import listening_url, load, service_settings

    config = load(None)
    assert service_settings(config).public_url == "http://127.0.0.1:8765"
    assert service_settings(config, listen=("0.0.0.0", 9000)).public_url == (
        "http://127.0.0.1:9000"
    )
    assert listening_url("::1", 9000) == "http://[::1]:9000"
    configured = tmp_path / "config.toml"
    configured.write_text("[service]\npublic_url = 'https://portal.example'\n")
    assert service_settings(load(configured), listen=("0.0.0.0", 9000)).public_url == (
        "https://portal.example"
    )
    # The workers of `serve --workers N` are handed the same address.
    from fastapi import FastAPI

    import journey.api

    built: list[Any] = []

    def recording_factory(settings: Any) -> FastAPI:
        built.append(settings)
        return FastAPI()

    monkeypatch.setattr(journey.api, "create_app", recording_factory)
    monkeypatch.setenv(serving.ENVIRONMENT, "")
    serving.handover(None, tmp_path / "w.db", "http://127.0.0.1:9000")
    serving.app()
    assert built[0].public_url == "http://127.0.0.1:9000"

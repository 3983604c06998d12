"""Hostile text from customers and API users: it is stored clean and shown as text.

A company name, a contact, an entity name, a sign-in username, an uploaded file's
name or a supplier cell can carry terminal escapes (clear the screen, set the
window title, write the clipboard with OSC 52, a hyperlink with OSC 8), bidi
overrides, or Rich/Textual markup (``[@click=app.quit]``, ``[link=…]``). The service
refuses or cleans the first two where they enter; the portal strips them again from
every answer, and shows every service string as text: the markup stays characters on
screen, and nothing the RM's terminal would obey is ever written to it.
"""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from journey import service
from journey.api import create_app
from journey.core.text import MULTI_LINE_FIELDS, UNSAFE_ONE_LINE, clean_answer, decode_answer
from journey.core.tokens import link_token_from
from journey.settings import ServiceSettings
from journey.template import SUPPLIER_COLUMNS, SUPPLIERS_SHEET, build_template
from tests.support.service import ALL_FEATURES, Service, set_features

# Terminal control: a clear screen, an OSC 8 hyperlink, an OSC 52 clipboard write, a
# window title, the same CSI as one C1 character, a bell, DEL, and bidi controls.
CONTROLS = {
    "clear": "Bike\x1b[2J Story",
    "osc8": "\x1b]8;;https://evil.example\x1b\\Larry\x1b]8;;\x1b\\",
    "osc52": "Larry\x1b]52;c;cm0gLXJmIH4=\x07",
    "title": "\x1b]0;owned\x07Larry",
    "c1": "Larry\x9b2J",
    "bell": "Lar\x07ry\x7f",
    "bidi": "Larry \u202egnp.exe\u202c \u2066x\u2069",
}
# Markup: each must stay exactly these characters on screen.
MARKUP = {
    "click": "[@click=app.quit]Bike[/]",
    "link": "[link=https://evil.example]Larry[/link]",
    "lone_close": "Pots [/] Pans",
    "open_tag": "Sofa [bold So Good",
    "variable": "Tea [$accent]Rex",
}
LONG = "L" * 10_000

# What the portal's terminal output may contain of escapes: Textual's own colours
# (SGR) and cursor moves. Anything else escaping is something a service string wrote.
_OWN_ESCAPES = re.compile(r"\x1b\[[0-9;]*[mH]|\x1b\[\?[0-9]+[hl]")
_TERMINAL_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def unsafe_strings(value: Any, *, lines: bool = True) -> Iterator[str]:
    """Every string (keys too) in a decoded answer holding a character a terminal
    obeys; a line break counts as one unless ``lines``."""
    if isinstance(value, str):
        if UNSAFE_ONE_LINE.search(value.replace("\n", " ") if lines else value):
            yield value
    elif isinstance(value, list):
        for item in value:
            yield from unsafe_strings(item, lines=lines)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from unsafe_strings(key, lines=lines)
            yield from unsafe_strings(item, lines=lines)


# The portal's one cleaning point


def test_every_string_of_an_answer_is_cleaned_keys_and_all() -> None:
    answer = json.dumps(
        {
            "items": [{"name": CONTROLS["clear"], "contact\x1b]0;x\x07": [CONTROLS["osc52"]]}],
            "text": "Hi Larry,\n\n\tthe link\x1b[2J",
            "nested": {"deep": [[CONTROLS["bidi"], CONTROLS["c1"]]]},
        }
    )
    body = decode_answer(answer)
    assert list(unsafe_strings({k: v for k, v in body.items() if k != "text"})) == []
    assert body["items"][0]["name"] == "Bike[2J Story"
    assert body["items"][0]["contact]0;x"] == ["Larry]52;c;cm0gLXJmIH4="]
    assert body["nested"]["deep"][0] == ["Larry gnp.exe x", "Larry2J"]
    # An email's body keeps its lines and tabs, and loses only the escape.
    assert body["text"] == "Hi Larry,\n\n\tthe link[2J"


def test_a_clean_answer_is_handed_back_as_it_was() -> None:
    page = {"items": [{"name": MARKUP["click"], "users": ["u1"]}] * 300, "total": 300}
    assert clean_answer(page) is page
    assert decode_answer(json.dumps(page, ensure_ascii=False)) == page


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values, st.booleans())
def test_no_decoded_answer_holds_a_control_character(value: Any, ascii_only: bool) -> None:
    """Whatever a service sends, escaped (\\u001b) or raw, nothing unsafe comes out
    (outside the lines of an email or a problem's detail), and what was safe already
    is unchanged."""
    document = json.dumps(value, ensure_ascii=ascii_only)
    body = decode_answer(document)
    assert list(unsafe_strings(_without_text_fields(body))) == []
    if not list(unsafe_strings(value, lines=False)):
        assert body == value


def _without_text_fields(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_text_fields(v) for k, v in value.items() if k not in MULTI_LINE_FIELDS}
    if isinstance(value, list):
        return [_without_text_fields(v) for v in value]
    return value


# The service: refused or cleaned where it enters


@pytest.mark.parametrize("field", ["name", "description", "contact_name", "contact_email"])
@pytest.mark.parametrize("hostile", list(CONTROLS.values()), ids=list(CONTROLS))
async def test_a_company_field_with_terminal_control_is_refused(
    svc: Service, field: str, hostile: str
) -> None:
    response = await svc.post(
        "/v1/relationships",
        json={"name": "Bike Side Story", "contact_name": "Larry", "contact_email": "l@b.example"}
        | {field: hostile},
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == f"invalid_{field}"
    company = await svc.company()
    response = await svc.patch(
        f"/v1/relationships/{company['id']}",
        json={field: hostile, "version": company["version"]},
    )
    assert response.status_code == 422, response.text
    stored = await svc.relationship(company["id"])
    assert {k: stored[k] for k in company} == company


async def test_markup_is_stored_as_typed_and_a_huge_name_is_refused(svc: Service) -> None:
    company = await svc.company(
        name=MARKUP["click"], contact_name=MARKUP["link"], description=" ".join(MARKUP.values())
    )
    stored = await svc.relationship(company["id"])
    assert stored["name"] == MARKUP["click"]
    assert stored["contact_name"] == MARKUP["link"]
    assert stored["description"] == " ".join(MARKUP.values())
    response = await svc.patch(
        f"/v1/relationships/{company['id']}", json={"name": LONG, "version": company["version"]}
    )
    assert response.status_code == 422
    assert "at most 1000 characters" in response.json()["detail"]


async def test_a_customer_cannot_store_terminal_control(svc: Service) -> None:
    await set_features(svc, ALL_FEATURES)
    company = await svc.company()
    _, token = await svc.request_link(company["id"], ["spend_analysis"])
    await svc.walk(
        token,
        ("view_request", {}),
        ("choose_method", {"method": "connect"}),
        ("choose_entities", {"count": "multiple"}),
    )
    for hostile in CONTROLS.values():
        response = await svc.act(token, "name_entity", name=hostile)
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "entity_name_bad"
    # A parameter the action does not take is not kept either.
    await svc.walk(token, ("name_entity", {"name": MARKUP["click"]}))
    await svc.walk(token, ("connect", {"name": CONTROLS["osc52"], "method": CONTROLS["title"]}))
    await svc.walk(token, ("select_platform", {"platform": "gbol"}), ("consent", {}))
    for hostile in CONTROLS.values():
        response = await svc.act(token, "authorize", username=hostile, password="demo")
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "username_bad"
    response = await svc.act(token, "authorize", username=MARKUP["link"], password="Sesame-9z")
    assert response.status_code == 200
    request = (await svc.relationship(company["id"]))["requests"][0]
    response = await svc.get(f"/v1/requests/{request['id']}/transcript")
    transcript = response.json()
    assert list(unsafe_strings(transcript)) == []
    answers = [step["answer"] for step in transcript["steps"]]
    assert {"name": MARKUP["click"]} in answers
    assert {"username": MARKUP["link"]} in answers
    assert {} in answers  # the connect step kept neither stray parameter
    assert "Sesame-9z" not in response.text  # nor any password
    events = (await svc.relationship(company["id"]))["events"]
    assert list(unsafe_strings(events)) == []


def suppliers_file(supplier: str) -> bytes:
    workbook = openpyxl.load_workbook(io.BytesIO(build_template()))
    values = {
        "supplier_name": supplier,
        "country": "GB",
        "currency": "GBP",
        "annual_spend": 1200,
        "payment_terms_days": 30,
        "preferred_payment_method": "BankTransfer",
    }
    workbook[SUPPLIERS_SHEET].append([values.get(c.key) for c in SUPPLIER_COLUMNS])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


async def upload_suppliers(
    http: httpx.AsyncClient, token: str, supplier: str, filename: str
) -> httpx.Response:
    for action, params in (("view_request", {}), ("choose_method", {"method": "upload"})):
        response = await http.post(
            f"/v1/journeys/{token}/actions", json={"action": action, **params}
        )
        assert response.status_code == 200, response.text
    return await http.post(
        f"/v1/journeys/{token}/uploads",
        files={"file": (filename, suppliers_file(supplier), "application/octet-stream")},
    )


async def test_an_uploaded_file_name_is_kept_clean_and_a_hostile_cell_refused(
    svc: Service,
) -> None:
    await set_features(svc, ALL_FEATURES)
    company = await svc.company()
    _, token = await svc.request_link(company["id"], ["spend_analysis"])
    # (A worksheet cannot hold C0 controls at all: openpyxl refuses to write them.)
    response = await upload_suppliers(svc.base, token, CONTROLS["c1"], "suppliers.xlsx")
    assert response.status_code == 422
    response = await svc.base.post(
        f"/v1/journeys/{token}/uploads",
        files={"file": ("suppliers.xlsx", suppliers_file(CONTROLS["bidi"]))},
    )
    assert response.status_code == 422
    response = await svc.base.post(
        f"/v1/journeys/{token}/uploads",
        files={"file": ("sup\x1b]0;x\x07pliers\u202e.xlsx", suppliers_file(MARKUP["click"]))},
    )
    assert response.status_code == 200, response.text
    request = (await svc.relationship(company["id"]))["requests"][0]
    transcript = (await svc.get(f"/v1/requests/{request['id']}/transcript")).json()
    assert list(unsafe_strings(transcript)) == []
    kept = transcript["steps"][-1]["answer"]["filename"]
    # (httpx writes the BEL of the name as %07; the ESC and the override arrive raw.)
    assert kept.startswith("sup]0;x") and kept.endswith("pliers.xlsx"), kept


# The portal: every place it shows service text


@pytest.fixture
def hostile_settings(tmp_path: Path) -> ServiceSettings:
    return ServiceSettings(
        db_path=tmp_path / "hostile.db",
        outbox_dir=tmp_path / "outbox",
        demo_companies=3,
        pull_queue_seconds=0.0,
        pull_fetch_seconds=0.05,
        upload_processing_seconds=0.05,
        worker_interval=0.02,
    )


ENTITY = "[@click=app.quit]Entity[/]"
SUPPLIER = "[link=https://evil.example]Pitta[/link] Ltd"
USERNAME = "[@click=app.screenshot('/tmp')]me[/]"
# What a database written before these checks (or a service that does not make them)
# may hold: the portal must still write none of it to the terminal.
LEGACY_DESCRIPTION = "Wiped\x1b[2J\x1b]52;c;cm0gLXJmIH4=\x07 \x1b]0;owned\x07by \u202eevil"
LEGACY_SHOWN = "Wiped[2J]52;c;cm0gLXJmIH4= ]0;ownedby evil"


async def hostile_companies(settings: ServiceSettings) -> None:
    """Through HTTP, as API users and customers would: a company whose name, contact
    and description are markup, one entity named in markup, a sign-in with a markup
    username, and a supplier file with a markup supplier; then a description written
    straight into the store with escapes in it."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        store = app.state.ctx.store

        def sign_in(tx: Any) -> tuple[str, str]:
            user = service.embedded_user(tx)
            assert user is not None
            return service.create_token(tx, user, label="hostile"), user.id

        token, me = await store.write(sign_in)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://relportal.test",
            headers={"Authorization": f"Bearer {token}"},
        ) as http:

            async def company(name: str) -> dict[str, Any]:
                response = await http.post(
                    "/v1/relationships",
                    json={
                        "name": name,
                        "description": " ".join(MARKUP.values()),
                        "contact_name": MARKUP["link"],
                        "contact_email": "larry@bike.example",
                        "users": [me],
                    },
                )
                assert response.status_code == 201, response.text
                return response.json()  # type: ignore[no-any-return]

            async def link(rel_id: str, types: list[str]) -> str:
                response = await http.post(
                    f"/v1/relationships/{rel_id}/requests",
                    json={"data_types": types, "delivery": "link"},
                )
                assert response.status_code == 201, response.text
                return link_token_from(response.json()["link"])

            async def act(journey: str, action: str, **params: Any) -> None:
                response = await http.post(
                    f"/v1/journeys/{journey}/actions", json={"action": action, **params}
                )
                assert response.status_code == 200, response.text

            bike = await company(MARKUP["click"])
            journey = await link(bike["id"], ["spend_analysis"])
            for action, params in (
                ("view_request", {}),
                ("choose_method", {"method": "connect"}),
                ("choose_entities", {"count": "multiple"}),
                ("name_entity", {"name": ENTITY}),
                ("connect", {}),
                ("select_platform", {"platform": "gbol"}),
                ("consent", {}),
                ("authorize", {"username": USERNAME, "password": "wrong"}),
            ):
                await act(journey, action, **params)

            pans = await company("Pots [/] Pans")
            journey = await link(pans["id"], ["spend_analysis"])
            response = await upload_suppliers(http, journey, SUPPLIER, "[link=x]f[/link].xlsx")
            assert response.status_code == 200, response.text

        await store.write(
            lambda tx: tx.update_relationship(bike["id"], {"description": LEGACY_DESCRIPTION})
        )


def screen_text(app: Any) -> str:
    """What the terminal shows, line by line."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def terminal_output(app: Any) -> str:
    """The bytes a full repaint writes to the terminal (as the driver writes them)."""
    console = Console(
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        width=app.size.width,
        height=app.size.height,
        legacy_windows=False,
    )
    return str(app.screen._compositor.render_update(full=True).render_segments(console))


def assert_terminal_obeys_nothing(app: Any) -> None:
    written = _OWN_ESCAPES.sub("", terminal_output(app))
    assert "\x1b" not in written and "]8;" not in written
    assert _TERMINAL_CONTROL.findall(written.replace("\n", "").replace("\r", "")) == []


async def until(pilot: Any, check: Any, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never shown: {what}\n{screen_text(pilot.app)}")
        await pilot.pause(0.05)


async def click_on(pilot: Any, text: str) -> None:
    """Click the first cell showing ``text``: markup there would be an action."""
    for y, line in enumerate(screen_text(pilot.app).splitlines()):
        x = line.find(text)
        if x >= 0:
            await pilot.click(offset=(x + 2, y))
            await pilot.pause(0.1)
            return
    raise AssertionError(f"{text!r} is not on screen")


async def test_the_portal_shows_hostile_text_as_text_everywhere(
    hostile_settings: ServiceSettings,
) -> None:
    from screens.portal import PortalScreen
    from screens.relationship import RelationshipScreen
    from screens.report import ReportScreen
    from screens.transcript import TranscriptScreen
    from tui.app import RelportalApp
    from tui.client import embedded_client

    await hostile_companies(hostile_settings)
    app = RelportalApp(lambda: embedded_client(hostile_settings))
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        # The portal's list: names, contacts and descriptions as typed.
        await until(pilot, lambda: MARKUP["click"] in screen_text(app), "the company list")
        shown = screen_text(app)
        # (The contact column is narrow: its start, then an ellipsis.)
        assert MARKUP["link"][:20] in shown and "Pots [/] Pans" in shown
        assert LEGACY_SHOWN[:20] in shown
        assert_terminal_obeys_nothing(app)
        # Clicking the name moves the cursor there (the row's own action), never app.quit.
        await click_on(pilot, MARKUP["click"])
        assert app.is_running and app.return_code is None
        await pilot.press("home", "enter")
        await until(pilot, lambda: isinstance(app.screen, RelationshipScreen), "the company")
        await until(pilot, lambda: ENTITY in screen_text(app), "the entity")
        shown = screen_text(app)
        assert MARKUP["click"] in shown and MARKUP["link"] in shown
        assert LEGACY_SHOWN in shown.replace("\n", "")
        assert f"username {USERNAME}" in shown  # the timeline's sign-in attempt
        assert_terminal_obeys_nothing(app)
        await click_on(pilot, MARKUP["click"])
        await click_on(pilot, ENTITY)
        assert app.is_running and app.return_code is None

        # The transcript: the customer's answers as they typed them.
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, TranscriptScreen), "the transcript")
        await until(pilot, lambda: f"username {USERNAME}" in screen_text(app), "the username")
        assert f"name {ENTITY}" in screen_text(app)
        assert_terminal_obeys_nothing(app)
        await click_on(pilot, USERNAME)
        assert app.is_running and app.return_code is None
        await pilot.press("escape", "escape")
        await until(pilot, lambda: isinstance(app.screen, PortalScreen), "the portal again")

        # The command palette: the jump to a company, with its contact under it.
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"Bike")
        await until(pilot, lambda: f"jump to {MARKUP['click']}" in screen_text(app), "the jump")
        assert MARKUP["link"] in screen_text(app)
        assert_terminal_obeys_nothing(app)
        await pilot.press("escape")
        await pilot.pause(0.2)

        # The report: a supplier's name from the customer's file.
        portal = app.screen
        assert isinstance(portal, PortalScreen)
        pans = next(
            row
            for row in (await app.client.get("/v1/relationships", q="Pans"))["items"]  # type: ignore[union-attr]
        )
        app.push_screen(ReportScreen(portal.client, portal.session, pans["id"], pans["name"]))
        await pilot.press("3")
        await until(pilot, lambda: SUPPLIER in screen_text(app), "the supplier", timeout=20)
        assert "Pots [/] Pans" in screen_text(app)
        assert_terminal_obeys_nothing(app)
        await click_on(pilot, SUPPLIER)
        assert app.is_running and app.return_code is None
        await pilot.press("escape")

        # A notification names the company added, as typed.
        await until(pilot, lambda: isinstance(app.screen, PortalScreen), "the portal")
        await pilot.press("a")
        await pilot.pause(0.2)
        form = app.screen
        from textual.widgets import Input

        for key, value in (
            ("name", "[@click=app.quit]Added[/]"),
            ("contact_name", MARKUP["link"]),
            ("contact_email", "new@bike.example"),
        ):
            form.query_one(f"#{key}", Input).value = value
        form.query_one("#name", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: "Added [@click=app.quit]Added[/]" in screen_text(app), "toast")
        assert_terminal_obeys_nothing(app)
        await click_on(pilot, "[@click=app.quit]Added[/]")
        assert app.is_running and app.return_code is None


async def test_the_simulation_shows_a_hostile_company_as_text(
    hostile_settings: ServiceSettings,
) -> None:
    from screens.portal import PortalScreen
    from screens.simulation import SimulationScreen
    from tui.app import RelportalApp
    from tui.client import embedded_client
    from tui.simulate import start_simulation

    app = RelportalApp(lambda: embedded_client(hostile_settings))
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PortalScreen), "the portal")
        body = {"data_types": ["financials"], "company_name": MARKUP["click"]}
        assert await start_simulation(app, app.client, app.session, body)  # type: ignore[arg-type]
        await until(pilot, lambda: isinstance(app.screen, SimulationScreen), "the simulation")
        await until(pilot, lambda: MARKUP["click"] in screen_text(app), "the company's name")
        assert_terminal_obeys_nothing(app)
        await click_on(pilot, MARKUP["click"])
        assert app.is_running and app.return_code is None

"""The portal screen through Pilot, on the embedded service (a fresh demo per test)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import pytest
from textual.geometry import Region

from journey.settings import ServiceSettings
from screens.portal import PortalScreen, SummaryBar
from screens.relationship import RelationshipScreen
from tui.app import RelportalApp
from tui.client import embedded_client
from widgets.relationship_table import RelationshipTable


@pytest.fixture
def demo_settings(tmp_path: Path) -> ServiceSettings:
    return ServiceSettings(
        db_path=tmp_path / "portal.db",
        outbox_dir=tmp_path / "outbox",
        demo_companies=120,
        pull_queue_seconds=0.0,
        pull_fetch_seconds=0.05,
        worker_interval=0.02,
    )


async def until(pilot: Any, check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the portal never showed what was expected")
        await pilot.pause(0.05)


def text_of(widget: Any) -> str:
    """What a widget shows, as plain text."""
    region = Region(0, 0, widget.size.width, widget.size.height)
    return "\n".join(strip.text for strip in widget.render_lines(region))


def table_of(app: RelportalApp) -> RelationshipTable:
    return app.screen.query_one(RelationshipTable)


def not_yet_requested(table: RelationshipTable) -> tuple[int, dict[str, Any]]:
    """The first company on screen whose status a new request would change, and its row."""
    for number in range(20):
        row = table.row(number)
        if row is not None and row["status"] != "Requested":
            return number, row
    raise AssertionError("every company on screen is already Requested")


async def started(pilot: Any) -> RelationshipTable:
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, PortalScreen) and app.screen.is_mounted)
    table = table_of(app)
    await until(pilot, lambda: table.total > 0 and table.row(0) is not None)
    return table


async def test_the_portal_shows_my_companies_with_status_counts(demo_settings) -> None:  # type: ignore[no-untyped-def]
    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(120, 40)) as pilot:
        table = await started(pilot)
        screen = app.screen
        me = screen.session.user["id"]
        first = table.row(0)
        assert first is not None and me in first["users"]
        bar = text_of(screen.query_one(SummaryBar))
        assert f"All {table.total}" in bar
        lines = [table.render_line(y).text for y in range(4)]
        # A long name ends in an ellipsis where columns need the room.
        assert first["name"][:20] in lines[0]
        assert first["contact_email"][:10] in lines[1]
        # Mine/all widens the list.
        mine = table.total
        await pilot.press("u")
        await until(pilot, lambda: table.total > mine)
        assert "All companies" in text_of(screen.query_one("#title"))


async def test_search_as_you_type_and_escape_back_out(demo_settings) -> None:  # type: ignore[no-untyped-def]
    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(100, 30)) as pilot:
        table = await started(pilot)
        await pilot.press("u")  # everyone's companies
        await until(pilot, lambda: table.total >= 120)
        await pilot.press("slash")
        for key in "bakery":
            await pilot.press(key)
        await until(pilot, lambda: 0 < table.total < 120)
        rows = [table.row(i) for i in range(table.total)]
        assert all(r is not None and "bakery" in r["name"].lower() for r in rows)
        await pilot.press("escape")  # clears the search text
        await until(pilot, lambda: table.total >= 120)
        await pilot.press("escape")  # hides the search box
        assert table.has_focus


async def test_a_search_in_force_stays_shown_until_esc_clears_it(demo_settings) -> None:  # type: ignore[no-untyped-def]
    """Findings 19 and 8: after enter the search box stays up, saying "esc clears"; esc
    clears it; the column titles stay over their columns; an over-long paste is cut to
    the service's limit with a notice, never sent whole to be refused."""
    from textual import events

    from journey.domain import SEARCH_MAX

    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(80, 24)) as pilot:
        table = await started(pilot)
        await pilot.press("u")
        await until(pilot, lambda: table.total >= 120)
        everyone = table.total
        screen = app.screen
        search = screen.query_one("#search")
        columns = screen.query_one("#columns")

        def header_in_line() -> bool:
            drawn = text_of(columns).strip()
            return drawn == table.header_text(screen.criteria.sort).plain.strip()

        # Opening and closing the box moves the table's columns: their titles follow.
        await pilot.press("slash")
        await pilot.pause(0.1)
        assert header_in_line()
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert not search.display and header_in_line()

        await pilot.press("slash", *"bakery", "enter")
        await until(pilot, lambda: 0 < table.total < everyone)
        assert table.has_focus and search.display
        assert search.border_subtitle == "esc clears"
        await pilot.pause(0.1)
        assert header_in_line()
        await pilot.press("escape")  # clears the search in force, and closes its box
        await until(pilot, lambda: table.total == everyone)
        await pilot.pause(0.1)
        assert not search.display and screen.criteria.q == ""
        assert header_in_line()

        # A paste over the limit: cut to fit, said, and the list filtered by what fits.
        await pilot.press("slash")
        search.post_message(events.Paste("zq" * 2_500))
        await until(pilot, lambda: screen.criteria.q != "")
        assert len(search.value) == SEARCH_MAX
        assert any((n.title or "") == "Cut to fit" for n in app._notifications)
        await until(pilot, lambda: table.total == 0)
        await until(pilot, lambda: "All 0" in text_of(screen.query_one(SummaryBar)))
        # A search the service refuses (a control character) is said, not swallowed.
        search.value = "bak\x07ery"
        await until(
            pilot,
            lambda: any("printable" in str(n.message) for n in app._notifications),
        )


async def test_status_filter_cycles_and_counts_follow(demo_settings) -> None:  # type: ignore[no-untyped-def]
    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(100, 30)) as pilot:
        table = await started(pilot)
        everyone = table.total
        await pilot.press("s")  # the first status: Requested
        await until(pilot, lambda: table.total < everyone)
        await until(pilot, lambda: table.row(0) is not None)
        assert all(
            table.row(i)["status"] == "Requested"  # type: ignore[index]
            for i in range(min(table.total, 20))
        )
        await pilot.press("escape")
        await until(pilot, lambda: table.total == everyone)


async def test_enter_opens_the_company_and_escape_comes_back(demo_settings) -> None:  # type: ignore[no-untyped-def]
    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(120, 40)) as pilot:
        table = await started(pilot)
        name = table.row(0)["name"]  # type: ignore[index]
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RelationshipScreen))
        screen = app.screen
        await until(pilot, lambda: screen.body is not None)
        assert name in text_of(screen.query_one("#info"))
        entities = text_of(screen.query_one("#entities"))
        assert "Legal entities" in entities or "No legal entities yet" in entities
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, PortalScreen) and app.screen.is_mounted)


async def test_statuses_change_on_screen_by_themselves(demo_settings) -> None:  # type: ignore[no-untyped-def]
    """A request created elsewhere (here: straight through the service) shows up live."""
    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(120, 40)) as pilot:
        table = await started(pilot)
        await pilot.press("s", "s", "s", "s", "s", "s", "s", "s", "s")  # the never-asked ones
        screen = app.screen
        await until(pilot, lambda: screen.criteria.status == "None")
        await until(pilot, lambda: table.row(0) is not None and table.row(0)["status"] is None)
        await pilot.press("escape")  # all statuses again
        await until(pilot, lambda: screen.criteria.status is None)
        target = None
        for index in range(table.total):
            row = table.row(index)
            if row is not None and row["status"] is None:
                target = row
                break
        assert target is not None
        client = screen.client
        await client.post(
            f"/v1/relationships/{target['id']}/requests",
            {"data_types": ["financials"], "delivery": "link"},
        )
        started_at = time.monotonic()

        def shows_requested() -> bool:
            for index in range(table.total):
                row = table.row(index)
                if row is not None and row["id"] == target["id"]:
                    return row["status"] == "Requested"
            return False

        await until(pilot, shows_requested, timeout=5)
        assert time.monotonic() - started_at < 2.0
        await asyncio.sleep(0)


async def test_a_change_between_the_first_rows_and_the_event_head_still_shows(
    demo_settings,
) -> None:  # type: ignore[no-untyped-def]
    """The list and the event log's head are two reads; a change committed between
    them is in no event to come, so the portal must read what it shows once more."""
    gate = asyncio.Event()

    @contextlib.asynccontextmanager
    async def head_comes_late() -> Any:
        async with embedded_client(demo_settings) as client:
            ask = client.get

            async def get(path: str, **params: Any) -> Any:
                if path == "/v1/events/head":
                    await gate.wait()
                return await ask(path, **params)

            client.get = get  # type: ignore[method-assign]
            yield client

    app = RelportalApp(head_comes_late)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await started(pilot)
        number, first = not_yet_requested(table)
        await app.screen.client.post(  # type: ignore[attr-defined]
            f"/v1/relationships/{first['id']}/requests",
            {"data_types": ["financials"], "delivery": "link"},
        )
        gate.set()
        await until(
            pilot, lambda: (table.row(number) or {}).get("status") == "Requested", timeout=5
        )


@pytest.mark.parametrize("failure", [RuntimeError("boom"), asyncio.CancelledError()])
async def test_the_event_follower_outlives_a_failed_poll(demo_settings, failure) -> None:  # type: ignore[no-untyped-def]
    """A poll that fails in any way (even with a cancel that was not the portal's, from
    inside the embedded service) is retried; the list stays live."""
    failed = asyncio.Event()

    @contextlib.asynccontextmanager
    async def one_poll_fails() -> Any:
        async with embedded_client(demo_settings) as client:
            poll = client.events

            async def events(after: int, wait: float, scope: Any = "organization") -> Any:
                if not failed.is_set():
                    failed.set()
                    raise failure
                return await poll(after, wait, scope)

            client.events = events  # type: ignore[method-assign]
            yield client

    app = RelportalApp(one_poll_fails)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await started(pilot)
        await until(pilot, failed.is_set)
        number, first = not_yet_requested(table)
        await app.screen.client.post(  # type: ignore[attr-defined]
            f"/v1/relationships/{first['id']}/requests",
            {"data_types": ["financials"], "delivery": "link"},
        )
        await until(
            pilot, lambda: (table.row(number) or {}).get("status") == "Requested", timeout=5
        )


async def test_add_a_company_with_validation(demo_settings) -> None:  # type: ignore[no-untyped-def]
    from screens.company_form import CompanyForm

    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(80, 24)) as pilot:
        table = await started(pilot)
        mine = table.total
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, CompanyForm))
        form = app.screen
        await pilot.press(*"Tea Rex Ltd")
        await pilot.press("ctrl+s")  # contact missing: refused, with a reason
        await pilot.pause(0.1)
        assert "Contact name is required" in text_of(form.query_one("#error"))
        form.query_one("#contact_name").value = "Rex Tyler"
        form.query_one("#contact_email").value = "not an email"
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        assert "email" in text_of(form.query_one("#error")).lower()
        form.query_one("#contact_email").value = "rex@tearex.example"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, PortalScreen) and app.screen.is_mounted)
        await until(pilot, lambda: table.total == mine + 1)
        names = [table.row(i)["name"] for i in range(table.total) if table.row(i)]  # type: ignore[index]
        assert "Tea Rex Ltd" in names


async def test_the_company_form_cuts_a_long_paste_to_the_services_limit(demo_settings) -> None:  # type: ignore[no-untyped-def]
    """Finding 24: a paste over the limit is cut to fit with a notice, a counter shows
    what is left, and what the form holds the service accepts (their limits are one)."""
    from textual import events

    from journey.domain import COMPANY_NAME_MAX, DESCRIPTION_MAX
    from screens.company_form import CompanyForm

    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, CompanyForm))
        form = app.screen
        name = form.query_one("#name")
        assert "Company name: 200/200 characters remaining" in text_of(form.query_one("#counter"))
        name.post_message(events.Paste("Tea Rex " * 1_250))  # 10,000 characters
        await until(pilot, lambda: len(name.value) == COMPANY_NAME_MAX)
        assert name.value.startswith("Tea Rex Tea Rex")
        assert "Company name: 0/200 characters remaining" in text_of(form.query_one("#counter"))
        assert any((n.title or "") == "Cut to fit" for n in app._notifications)
        description = form.query_one("#description")
        description.focus()
        await pilot.pause()
        assert "Description: 500/500" in text_of(form.query_one("#counter"))
        description.post_message(events.Paste("d" * 10_000))
        await until(pilot, lambda: len(description.value) == DESCRIPTION_MAX)
        form.query_one("#contact_name").value = "Rex Tyler"
        form.query_one("#contact_email").value = "rex@tearex.example"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, PortalScreen) and app.screen.is_mounted)
        found = await app.client.get("/v1/relationships", q="Tea Rex Tea", user="all")
        assert [len(c["name"]) for c in found["items"]] == [COMPANY_NAME_MAX - 1]  # tidied


async def test_request_by_email_previews_then_sends(demo_settings) -> None:  # type: ignore[no-untyped-def]
    from screens.request_form import RequestForm

    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(100, 40)) as pilot:
        table = await started(pilot)
        company = table.row(0)
        assert company is not None
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RequestForm))
        form = app.screen
        # Spend analysis only, whatever the last request asked (it is ticked as that was).
        for box, wanted in (("#spend_analysis", True), ("#financials", False)):
            if form.query_one(box).value != wanted:
                await pilot.click(box)
        assert form._types() == ["spend_analysis"]
        await pilot.click("#email")
        await until(pilot, lambda: form.previewed)
        preview = text_of(form.query_one("#preview-text"))
        assert "supplier information" in preview and "View request" in preview
        outbox = demo_settings.outbox_dir
        assert not outbox.exists() or not list(outbox.glob("*.eml"))  # nothing sent yet
        await pilot.pause(0.2)  # the dialog grew: let it lay out before clicking
        await pilot.click("#email")  # now "Send"
        await until(pilot, lambda: isinstance(app.screen, PortalScreen) and app.screen.is_mounted)
        mails = list(outbox.glob("*.eml"))
        assert len(mails) == 1
        assert company["contact_email"] in mails[0].read_text()


async def test_copy_link_puts_the_link_on_the_clipboard(demo_settings) -> None:  # type: ignore[no-untyped-def]
    from screens.request_form import RequestForm

    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(100, 40)) as pilot:
        await started(pilot)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RequestForm))
        await pilot.click("#copy")
        await until(pilot, lambda: "/j/" in (app.clipboard or ""))
        assert "Link copied" in text_of(app.screen.query_one("#link"))


async def test_delete_asks_naming_the_company(demo_settings) -> None:  # type: ignore[no-untyped-def]
    from screens.confirm import Confirm

    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(120, 40)) as pilot:
        table = await started(pilot)
        total = table.total
        name = table.row(0)["name"]  # type: ignore[index]
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RelationshipScreen))
        await until(pilot, lambda: app.screen.body is not None)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        assert name in app.screen.question
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, PortalScreen) and app.screen.is_mounted)
        await until(pilot, lambda: table.total < total)


async def test_keys_remapped_in_config_take_effect(demo_settings) -> None:  # type: ignore[no-untyped-def]
    app = RelportalApp(lambda: embedded_client(demo_settings), keymap={"portal.search": "ctrl+f"})
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot)
        search = app.screen.query_one("#search")
        await pilot.press("slash")
        assert not search.has_class("shown")
        await pilot.press("ctrl+f")
        assert search.has_class("shown") and search.has_focus


async def test_theme_and_list_choices_are_remembered(demo_settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tui import preferences

    path = tmp_path / "preferences.toml"
    app = RelportalApp(lambda: embedded_client(demo_settings), preferences_path=path)
    async with app.run_test(size=(100, 30)) as pilot:
        table = await started(pilot)
        app.theme = "textual-light"
        await pilot.press("u", "o")
        await until(pilot, lambda: app.screen.criteria.sort == "created")
        await pilot.pause(0.1)
    saved = preferences.load(path)
    assert (saved.theme, saved.users, saved.sort) == ("textual-light", "all", "created")
    again = RelportalApp(lambda: embedded_client(demo_settings), preferences_path=path)
    async with again.run_test(size=(100, 30)) as pilot:
        table = await started(pilot)
        assert again.theme == "textual-light"
        assert again.screen.criteria.user == "all"
        assert table.total >= 120


async def test_the_command_palette_names_actions_and_jumps_to_companies(demo_settings) -> None:  # type: ignore[no-untyped-def]
    from textual.command import CommandPalette

    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(120, 40)) as pilot:
        table = await started(pilot)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"all companies")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, PortalScreen) and app.screen.is_mounted)
        await until(pilot, lambda: app.screen.criteria.user == "all")
        name = "Knead to Know Bakery"
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"knead")
        await pilot.pause(1.0)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RelationshipScreen))
        await until(pilot, lambda: app.screen.body is not None)
        assert app.screen.body["name"] == name
        assert table.total >= 120


async def test_the_users_filter_shows_a_colleagues_companies(demo_settings) -> None:  # type: ignore[no-untyped-def]
    from screens.users_filter import UsersFilter

    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(100, 30)) as pilot:
        table = await started(pilot)
        screen = app.screen
        colleague = next(u for u in screen.session.users if u["name"] == "Priya Shah")
        await pilot.press("U")
        await until(pilot, lambda: isinstance(app.screen, UsersFilter))
        options = app.screen.query_one("#users")
        for index in range(options.option_count):
            if options.get_option_at_index(index).id == colleague["id"]:
                options.highlighted = index
        await pilot.press("enter")
        await until(pilot, lambda: screen.criteria.user == colleague["id"])
        await until(pilot, lambda: table.row(0) is not None)
        assert colleague["id"] in table.row(0)["users"]  # type: ignore[index]
        assert "Priya Shah's companies" in text_of(screen.query_one("#title"))


async def test_help_lists_the_keys_where_you_are_remapped_included(demo_settings) -> None:  # type: ignore[no-untyped-def]
    from screens.help import HelpScreen

    app = RelportalApp(
        lambda: embedded_client(demo_settings), keymap={"portal.add_company": "ctrl+n"}
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        # "?" typed into the search box is a question mark, not help.
        await pilot.press("slash", "question_mark")
        assert app.screen.query_one("#search").value == "?"
        await pilot.press("escape", "escape", "escape")
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        shown = "\n".join(text_of(s) for s in app.screen.query("Static"))
        for words in ("Search", "Mine/all", "Users…", "Status back", "Reverse", "Quit"):
            assert words in shown, words
        assert "Add company" in shown and "^n" in shown  # the remapped key
        assert "Deauthorized" in shown  # the status legend
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, PortalScreen) and app.screen.is_mounted)
        # On a company's screen, its own actions.
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RelationshipScreen))
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        shown = "\n".join(text_of(s) for s in app.screen.query("Static"))
        for words in ("Request info", "Resend", "Cancel request", "Unlink", "Copy email"):
            assert words in shown, words
        assert "Mine/all" not in shown
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, RelationshipScreen))


async def open_first_with_status(pilot: Any, status: str) -> RelationshipScreen:
    """Filter the portal to ``status``, open the first company, wait for its detail."""
    app = pilot.app
    table = await started(pilot)
    screen = app.screen
    while screen.criteria.status != status:
        await pilot.press("s")
    await until(pilot, lambda: table.row(0) is not None and table.row(0)["status"] == status)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, RelationshipScreen))
    detail = app.screen
    await until(pilot, lambda: detail.body is not None)
    return detail  # type: ignore[return-value]


async def test_a_completed_request_says_when_it_completed_not_when_its_link_expires(  # type: ignore[no-untyped-def]
    demo_settings,
) -> None:
    """Issue 18, finding 31: a completed request's link expiry means nothing any more."""
    from widgets.status_badge import when

    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(120, 40)) as pilot:
        # Everyone's Uploaded companies: their customers completed the journey.
        await started(pilot)
        await pilot.press("u")
        await until(pilot, lambda: app.screen.criteria.user == "all")
        detail = await open_first_with_status(pilot, "Uploaded")
        request = detail.body["requests"][0]
        assert request["state"] == "Complete"
        shown = " ".join(text_of(detail.query_one("#requests")).split())
        assert f"completed {when(request['completed_at'], with_year=True)}" in shown, shown
        assert "expire" not in shown.casefold(), shown
    # An open request still says when its link expires.
    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(120, 40)) as pilot:
        detail = await open_first_with_status(pilot, "Requested")
        request = detail.body["requests"][0]
        shown = " ".join(text_of(detail.query_one("#requests")).split())
        assert f"expires {when(request['expires_at'], with_year=True)}" in shown, shown


async def test_edit_a_company_and_copy_its_contact(demo_settings) -> None:  # type: ignore[no-untyped-def]
    from screens.company_form import CompanyForm

    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(100, 40)) as pilot:
        await started(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RelationshipScreen))
        detail = app.screen
        await until(pilot, lambda: detail.body is not None)
        await pilot.press("c")
        assert app.clipboard == detail.body["contact_email"]
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, CompanyForm))
        form = app.screen
        assert form.query_one("#name").value == detail.body["name"]  # the form is filled in
        form.query_one("#contact_email").value = "no at sign"
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        assert "email" in text_of(form.query_one("#error")).lower()
        assert isinstance(app.screen, CompanyForm)  # refused: still editing
        form.query_one("#contact_email").value = "new.contact@example.org"
        form.query_one("#description").value = "Now with a garden terrace"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is detail)
        await until(pilot, lambda: "garden terrace" in text_of(detail.query_one("#info")))
        assert "new.contact@example.org" in text_of(detail.query_one("#info"))
        again = await detail.client.get(f"/v1/relationships/{detail.rel_id}")
        assert again["contact_email"] == "new.contact@example.org"


async def test_resend_then_cancel_a_request(demo_settings) -> None:  # type: ignore[no-untyped-def]
    from screens.confirm import Confirm

    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(120, 40)) as pilot:
        detail = await open_first_with_status(pilot, "Requested")
        request = detail.body["requests"][0]
        await pilot.press("s")  # resend: a new link (the demo organization copies links)
        await until(pilot, lambda: "/j/" in (app.clipboard or ""))
        first_link = app.clipboard
        await pilot.press("s")
        await until(pilot, lambda: app.clipboard != first_link)
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await until(pilot, lambda: app.screen is detail)
        await until(pilot, lambda: detail.body["requests"][0]["state"] == "Cancelled")
        assert "Cancelled" in text_of(detail.query_one("#requests"))
        assert detail.body["requests"][0]["id"] == request["id"]
        # Nothing left to cancel: the portal says so instead of asking.
        await pilot.press("x")
        await pilot.pause(0.2)
        assert app.screen is detail


async def test_refresh_data_then_unlink_a_connection(demo_settings) -> None:  # type: ignore[no-untyped-def]
    from screens.confirm import Confirm

    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(120, 40)) as pilot:
        detail = await open_first_with_status(pilot, "Available")
        linked = [
            e
            for e in detail.body["entities"]
            if e["connection"] and e["connection"]["status"] == "Linked"
        ]
        assert linked
        newest_before = [p["id"] for p in linked[0]["connection"]["pulls"][:1]]

        def newest_pull() -> list[str]:
            entity = next(e for e in detail.body["entities"] if e["id"] == linked[0]["id"])
            return [p["id"] for p in entity["connection"]["pulls"][:1]]

        await pilot.press("f")  # refresh data: a new pull, shown on the company
        await until(pilot, lambda: newest_pull() != newest_before)
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        question = app.screen.question
        assert linked[0]["name"] in question
        assert linked[0]["connection"]["platform"]["name"] in question
        await pilot.press("y")
        await until(pilot, lambda: app.screen is detail)
        await until(pilot, lambda: "Unlinked" in text_of(detail.query_one("#entities")))


async def test_sort_reverse_and_jump_to_the_end(demo_settings) -> None:  # type: ignore[no-untyped-def]
    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(120, 40)) as pilot:
        table = await started(pilot)
        screen = app.screen
        names = [table.row(i)["name"].casefold() for i in range(5)]  # type: ignore[index]
        assert names == sorted(names)
        await pilot.press("o")  # by created
        await until(pilot, lambda: screen.criteria.sort == "created" and table.row(0) is not None)
        created = [table.row(i)["created_at"] for i in range(5)]  # type: ignore[index]
        assert created == sorted(created)
        await pilot.press("O")  # newest first
        await until(pilot, lambda: screen.criteria.descending and table.row(0) is not None)
        newest = [table.row(i)["created_at"] for i in range(5)]  # type: ignore[index]
        assert newest == sorted(newest, reverse=True) and newest[0] >= created[-1]
        assert "Created ↓" in text_of(screen.query_one("#title"))
        await pilot.press("end")
        await until(pilot, lambda: table.cursor == table.total - 1)
        await until(pilot, lambda: table.current is not None)
        assert table.current["created_at"] <= created[0]  # the oldest is last
        await pilot.press("home")
        await until(pilot, lambda: table.cursor == 0)
        # With the mouse: a column title sorts by it, a second click reverses.
        x = next(x for x in range(table.size.width) if table.column_at(x) == "company")
        await pilot.click("#columns", offset=(x + 1, 0))
        await until(
            pilot, lambda: (screen.criteria.sort, screen.criteria.descending) == ("name", False)
        )
        assert "Company ↑" in text_of(screen.query_one("#columns"))
        await pilot.click("#columns", offset=(x + 1, 0))
        await until(pilot, lambda: screen.criteria.descending)
        assert "Company ↓" in text_of(screen.query_one("#columns"))


async def test_a_toast_when_one_of_my_companies_links(demo_settings) -> None:  # type: ignore[no-untyped-def]
    """The customer connects (through the customer side of the same service); the RM
    sees the status change and a toast naming the company and the platform."""
    from journey.tokens import link_token_from

    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(120, 40)) as pilot:
        table = await started(pilot)
        client = app.screen.client
        me = app.screen.session.user["id"]
        company = await client.post(
            "/v1/relationships",
            {
                "name": "Abra Kebabra Camden",
                "contact_name": "Ann Lee",
                "contact_email": "ann@abrakebabra.example",
                "users": [me],
            },
        )
        made = await client.post(
            f"/v1/relationships/{company['id']}/requests",
            {"data_types": ["financials"], "delivery": "link"},
        )
        token = link_token_from(made["link"])
        for action, params in (
            ("view_request", {}),
            ("connect", {}),
            ("select_platform", {"platform": "gbol"}),
            ("consent", {}),
            ("authorize", {"username": "demo", "password": "demo"}),
        ):
            await client.post(f"/v1/journeys/{token}/actions", {"action": action, **params})
        await until(
            pilot,
            lambda: any(
                "Abra Kebabra Camden: Linked via Xero" in str(n.message) for n in app._notifications
            ),
            timeout=5,
        )
        await pilot.press("slash", *"abra kebabra")
        await until(pilot, lambda: table.total == 1 and table.row(0) is not None)
        row = table.row(0)
        assert row["platforms"] == [{"key": "gbol", "name": "Xero"}]  # type: ignore[index]
        assert "Xero" in table.render_line(0).text + table.render_line(1).text


async def test_an_open_company_follows_its_customer_live(demo_settings) -> None:  # type: ignore[no-untyped-def]
    """With a company's screen open, each step its customer takes appears in the
    timeline and its status changes, without the RM reloading."""
    from journey.tokens import link_token_from

    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(120, 50)) as pilot:
        await started(pilot)
        client = app.screen.client
        company = await client.post(
            "/v1/relationships",
            {
                "name": "Live Wire Electrics",
                "contact_name": "Lee Wu",
                "contact_email": "lee@lw.example",
            },
        )
        made = await client.post(
            f"/v1/relationships/{company['id']}/requests",
            {"data_types": ["financials"], "delivery": "link"},
        )
        token = link_token_from(made["link"])
        app.push_screen(RelationshipScreen(client, app.screen.session, company["id"]))

        def timeline() -> str:
            found = app.screen.query("#timeline")
            return text_of(found.first()) if found else ""

        await until(pilot, lambda: "Requested" in timeline())
        for action, params, shown in (
            ("view_request", {}, "View request"),
            ("connect", {}, "(Sharing accounting data → Choosing software)"),
            ("select_platform", {"platform": "gbol"}, "(Choosing software → Giving consent)"),
        ):
            await client.post(f"/v1/journeys/{token}/actions", {"action": action, **params})
            try:
                await until(pilot, lambda shown=shown: shown in timeline(), timeout=20)
            except AssertionError:
                seen = timeline()
                raise AssertionError(f"{shown!r} never reached the timeline:\n{seen}") from None
        assert isinstance(app.screen, RelationshipScreen)


async def palette_shows(pilot: Any, query: str) -> str:
    """Open the command palette, type ``query`` and answer the commands it lists."""
    from textual.command import CommandList, CommandPalette

    app = pilot.app
    await pilot.press("ctrl+p")
    await until(pilot, lambda: isinstance(app.screen, CommandPalette))
    await pilot.press(*query)
    results = app.screen.query_one(CommandList)
    await until(pilot, lambda: results.option_count > 0)
    await pilot.pause(0.3)
    return "\n".join(
        str(results.get_option_at_index(i).prompt) for i in range(results.option_count)
    )


async def test_the_palette_acts_on_the_company_on_screen_not_the_row_behind(demo_settings) -> None:  # type: ignore[no-untyped-def]
    """Finding 5: "request information" from a company's screen asks that company,
    although the list underneath highlights another; its own actions are offered."""
    from screens.request_form import RequestForm

    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(120, 40)) as pilot:
        table = await started(pilot)
        await until(pilot, lambda: table.row(1) is not None)
        shown, behind = table.row(0), table.row(1)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RelationshipScreen))
        detail = app.screen
        await until(pilot, lambda: detail.body is not None)
        table.action_move(1)  # the list behind now highlights another company
        assert table.current is not None and table.current["id"] == behind["id"]

        for words in ("edit", "reports"):
            listed = await palette_shows(pilot, words)
            assert f"company: {words}" in listed, listed
            assert shown["name"] in listed  # says which company it acts on
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is detail)

        listed = await palette_shows(pilot, "request information")
        assert "highlighted row" not in listed  # the portal's own command is not offered
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RequestForm))
        assert app.screen.company["id"] == shown["id"]
        assert shown["name"] in text_of(app.screen.query("Static").first())
        assert behind["name"] not in text_of(app.screen.query("Static").first())


def footer_keys(screen: Any) -> list[str]:
    """The keys a screen's footer shows whole, as "key description"."""
    from textual.widgets._footer import FooterKey

    return [
        f"{key.key_display} {key.description}".strip()
        for key in screen.query(FooterKey)
        if key.display and key.region.right <= screen.size.width
    ]


async def test_footers_keep_the_keys_hint_at_80_columns_and_dialogs_show_their_own(
    demo_settings,
) -> None:  # type: ignore[no-untyped-def]
    """Findings 11, 12: `? Keys` stays on the portal's and a company's footer at 80
    columns, with no key cut mid-word; a dialog's footer lists the dialog's keys."""
    from screens.company_form import CompanyForm

    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await pilot.pause(0.2)
        portal = app.screen
        shown = footer_keys(portal)
        assert "? Keys" in shown and "r Request info" in shown, shown
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RelationshipScreen))
        await pilot.pause(0.2)
        shown = footer_keys(app.screen)
        assert "? Keys" in shown and "r Request info" in shown, shown
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is portal)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, CompanyForm))
        await pilot.pause(0.2)
        shown = footer_keys(app.screen)
        assert "^s Save" in shown, shown
        assert not any("Request" in key for key in shown), shown


async def test_hidden_columns_are_signed_and_arrows_scroll_to_them(demo_settings) -> None:  # type: ignore[no-untyped-def]
    """Findings 11, 29: at 80 columns the header says how many columns are hidden and
    ←/→ show them; the title and the sorted column name the same sort."""
    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(80, 24)) as pilot:
        table = await started(pilot)
        screen = app.screen
        header = screen.query_one("#columns")
        await until(pilot, lambda: "+5▸" in text_of(header))
        assert "Entities" not in text_of(header)
        await pilot.press("right")
        await until(pilot, lambda: "◂1" in text_of(header))
        assert "Entities" in text_of(header) and "Status" not in text_of(header)
        row = table.row(table.cursor)
        assert row is not None
        linked = f"{row['entities_linked']}/{row['entities_total']}"
        assert linked in text_of(table).splitlines()[0] or not row["entities_total"]
        for _ in range(8):
            await pilot.press("right")
        assert "+" not in text_of(header).split("◂")[-1]  # the last column reached
        assert "Created" in text_of(header)
        for _ in range(8):
            await pilot.press("left")
        await until(pilot, lambda: "+5▸" in text_of(header) and "◂" not in text_of(header))

        while screen.criteria.sort != "updated":
            await pilot.press("o")
        await until(pilot, lambda: "Status date ↑" in text_of(header))
        assert "Status date ↑" in text_of(screen.query_one("#title"))


async def test_checkboxes_read_without_colour_and_follow_the_last_request(demo_settings) -> None:  # type: ignore[no-untyped-def]
    """Finding 23: ticked reads `[x]`, not ticked `[ ]`; the request dialog ticks what
    the company's last request asked for."""
    from screens.request_form import RequestForm

    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(100, 40)) as pilot:
        table = await started(pilot)
        await pilot.press("u")  # everyone's companies: more requests to choose from
        await until(pilot, lambda: "All companies" in text_of(app.screen.query_one("#title")))
        await pilot.pause(0.5)
        await until(pilot, lambda: table.row(0) is not None)
        # A company whose last request asked for something other than the default.
        index = 0
        while (row := table.row(index)) is None or row["requested"] in ([], ["financials"]):
            index += 1
            assert index < table.total, "no company asked for spend analysis"
            await until(pilot, lambda i=index: table.row(i) is not None)
        table.action_move(index - table.cursor)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RequestForm))
        form = app.screen
        await pilot.pause(0.1)
        assert app.screen.company["id"] == row["id"]
        financials = "[x]" if "financials" in row["requested"] else "[ ]"
        assert text_of(form.query_one("#financials")).startswith(f"{financials} Financials")
        assert text_of(form.query_one("#spend_analysis")).startswith("[x] Spend analysis")


async def test_the_demo_dialog_holds_still_on_focus_and_enter_starts(demo_settings) -> None:  # type: ignore[no-untyped-def]
    """Findings 23, 27: focusing a checkbox does not move the dialog; enter in the
    company name starts the simulation."""
    from screens.simulation import SimulationScreen
    from screens.simulation_setup import SimulationSetup

    app = RelportalApp(lambda: embedded_client(demo_settings))
    async with app.run_test(size=(100, 40)) as pilot:
        await started(pilot)
        app.action_new_simulation()
        await until(pilot, lambda: isinstance(app.screen, SimulationSetup))
        setup = app.screen
        await until(pilot, lambda: bool(setup.query("#company_name")))
        await pilot.pause(0.1)
        name = setup.query_one("#company_name")
        before = name.region
        setup.query_one("#financials").focus()
        await pilot.pause(0.1)
        assert name.region == before
        assert text_of(setup.query_one("#financials")).startswith("[ ] Financials")
        name.focus()
        await pilot.press(*"Enter Key Bakery", "enter")
        await until(pilot, lambda: isinstance(app.screen, SimulationScreen), timeout=15)

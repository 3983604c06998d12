"""The portal screen through Pilot, on the embedded service (a fresh demo per test): the
list, its search, filters, sort and columns, live statuses, keys, the palette and help.

A company (adding, editing, requesting data, its detail screen) is in
``test_portal_company.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import pytest

from screens.portal import PortalScreen, SummaryBar
from screens.relationship import RelationshipScreen
from tests.support.portal import started, text_of, until
from tui.app import RelportalApp
from tui.client import embedded_client
from widgets.relationship_table import RelationshipTable


def not_yet_requested(table: RelationshipTable) -> tuple[int, dict[str, Any]]:
    """The first company on screen whose status a new request would change, and its row."""
    for number in range(20):
        row = table.row(number)
        if row is not None and row["status"] != "Requested":
            return number, row
    raise AssertionError("every company on screen is already Requested")


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

    from journey.core.domain import SEARCH_MAX

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

            async def events(
                after: int, wait: float, scope: Any = "organization", also: Any = ()
            ) -> Any:
                if not failed.is_set():
                    failed.set()
                    raise failure
                return await poll(after, wait, scope, also)

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
    from journey.core.tokens import link_token_from

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

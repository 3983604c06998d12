"""A company in the portal through Pilot, on the embedded service (a fresh demo per test):
adding, editing and deleting it, its detail screen following the customer, requesting
data and what comes after (resend, cancel, refresh, unlink), and the palette and dialogs
acting on it.

The list, its search, filters and keys are in ``test_portal.py``.
"""

from __future__ import annotations

from typing import Any

from screens.portal import PortalScreen
from screens.relationship import RelationshipScreen
from tests.support.portal import open_first_with_status, started, text_of, until
from tui.app import RelportalApp
from tui.client import embedded_client


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

    from journey.core.domain import COMPANY_NAME_MAX, DESCRIPTION_MAX
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


async def test_an_open_company_follows_its_customer_live(demo_settings) -> None:  # type: ignore[no-untyped-def]
    """With a company's screen open, each step its customer takes appears in the
    timeline and its status changes, without the RM reloading."""
    from journey.core.tokens import link_token_from

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

"""The customer simulation through Pilot: every branch of the journey, walked in the
TUI, and after each what the portal side shows."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Input

from journey.settings import ServiceSettings
from screens.portal import PortalScreen
from screens.simulation import SimulationScreen
from tests.support.portal import text_of
from tests.support.simulation import Walk, open_simulation, to_manual_upload
from tui.app import RelportalApp
from tui.client import embedded_client
from tui.simulate import token_of


@pytest.fixture
def sim_settings(tmp_path: Path) -> ServiceSettings:
    return ServiceSettings(
        db_path=tmp_path / "sim.db",
        outbox_dir=tmp_path / "outbox",
        demo_companies=12,
        pull_queue_seconds=0.0,
        pull_fetch_seconds=0.05,
        upload_processing_seconds=0.05,
        worker_interval=0.02,
    )


async def company_of(walk: Walk) -> dict[str, Any]:
    return await walk.app.client.get(f"/v1/relationships/{walk.screen.relationship_id}")  # type: ignore[no-any-return]


async def rm_sees(walk: Walk, status: str) -> dict[str, Any]:
    """Wait until the RM panel (and the service) show ``status`` for the company."""
    from tests.support.portal import text_of

    await walk.until(
        lambda: status in text_of(walk.screen.query_one("#rm")),
        what=f"the RM panel showing {status}",
    )
    company = await company_of(walk)
    assert company["status"] == status
    return company


async def test_financials_only(sim_settings) -> None:  # type: ignore[no-untyped-def]
    app = RelportalApp(lambda: embedded_client(sim_settings))
    async with app.run_test(size=(120, 40)) as pilot:
        walk = await open_simulation(
            pilot, {"data_types": ["financials"], "company_name": "Tea Rex"}
        )
        assert "Securely connect" in walk.text()
        assert "Share accounting data" in str(walk.screen.query_one("#map").render())
        await walk.press("Securely connect")
        await walk.connect("Xero")
        await walk.at("complete")
        assert "Thank you for sharing" in walk.text()
        await walk.press("Close")
        await walk.at("summary")
        table = walk.screen.query_one(DataTable)
        assert str(table.get_row_at(0)[0]) == "Financials"
        company = await rm_sees(walk, "Available")
        assert company["platforms"] == [{"key": "gbol", "name": "Xero"}]
        # Finding 21: on the final summary esc is "Leave" in the footer, and leaves.
        shown = {b.binding.key: b.binding.description for b in app.active_bindings.values()}
        assert shown["escape"] == "Leave"
        await pilot.press("escape")
        await walk.until(lambda: not isinstance(app.screen, SimulationScreen), what="left")


async def test_spend_only_with_a_single_entity(sim_settings) -> None:  # type: ignore[no-untyped-def]
    app = RelportalApp(lambda: embedded_client(sim_settings))
    async with app.run_test(size=(120, 40)) as pilot:
        walk = await open_simulation(
            pilot,
            {"data_types": ["spend_analysis"], "features": ["manual_upload", "multi_entity"]},
        )
        await walk.press("View request")
        await walk.at("choose_method")
        await walk.press("Connect platform")
        await walk.at("entity_count")
        assert "Most common" in walk.text()
        await walk.press("A single legal entity")
        await walk.connect("QuickBooks Online")
        await walk.at("complete")
        company = await rm_sees(walk, "Available")
        assert company["entities_total"] == 1 and company["subsidiaries"] == []


async def test_spend_only_three_entities_on_two_platforms(sim_settings) -> None:  # type: ignore[no-untyped-def]
    app = RelportalApp(lambda: embedded_client(sim_settings))
    async with app.run_test(size=(120, 40)) as pilot:
        walk = await open_simulation(
            pilot,
            {
                "data_types": ["spend_analysis"],
                "features": ["multi_entity"],
                "company_name": "Abra Kebabra",
            },
        )
        await walk.press("View request")
        await walk.at("entity_count")
        await walk.press("Multiple legal entities")
        for number, (place, platform) in enumerate(
            [("Brighton", "Xero"), ("Camden", "QuickBooks Online"), ("Leeds", "Xero")]
        ):
            await walk.at("entity_name")
            assert "Which legal entity of Abra Kebabra" in walk.text()
            name = f"Abra Kebabra {place}"
            await walk.type_into("entity-name", name)
            assert f"{100 - len(name)}/100 characters remaining" in walk.text()
            await walk.pilot.press("enter")
            await walk.connect(platform)
            await walk.at("entities")
            assert walk.text().count("✔") == number + 1
            await walk.press("Add another" if number < 2 else "Finish")
        await walk.at("complete")
        company = await rm_sees(walk, "Available")
        names = sorted(s["name"] for s in company["subsidiaries"])
        assert names == [
            f"Abra Kebabra - Abra Kebabra {p}" for p in ("Brighton", "Camden", "Leeds")
        ]
        shown = {p["name"] for p in company["platforms"]}
        assert shown == {"Xero", "QuickBooks Online"}
        journey_map = str(walk.screen.query_one("#map").render())
        assert "Abra Kebabra Leeds" in journey_map and "another entity" in journey_map


async def test_financials_and_spend(sim_settings) -> None:  # type: ignore[no-untyped-def]
    app = RelportalApp(lambda: embedded_client(sim_settings))
    async with app.run_test(size=(120, 40)) as pilot:
        walk = await open_simulation(
            pilot,
            {
                "data_types": ["financials", "spend_analysis"],
                "features": ["manual_upload", "multi_entity"],
            },
        )
        await walk.press("Securely connect")
        # Both kinds requested: no upload choice and no entity question, whatever the switches.
        await walk.connect("Sage Intacct")
        await walk.at("complete")
        company = await rm_sees(walk, "Available")
        assert sorted(company["requested"]) == ["financials", "spend_analysis"]


async def test_manual_upload_bad_file_then_good(sim_settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = RelportalApp(lambda: embedded_client(sim_settings))
    async with app.run_test(size=(120, 40)) as pilot:
        walk = await to_manual_upload(pilot)
        # The template downloads to a path the user chooses.
        target = tmp_path / "template.xlsx"
        await walk.type_into("template-path", str(target))
        await walk.press("Download template")
        await walk.until(lambda: target.exists(), what="the template saved")
        assert target.read_bytes()[:2] == b"PK"
        # A sample is uploaded straight from memory: pressing it is the upload.
        await walk.press("Sample with errors")
        await walk.until(lambda: walk.screen.refusal is not None, what="the upload refused")
        errors = text_of(walk.screen.query_one("#upload-errors"))
        assert "Problem" in errors and "country" in errors.lower()
        assert walk.screen.journey["step"] == "manual_upload"  # type: ignore[index]
        await walk.press("Sample file")
        await walk.at("complete")
        await rm_sees(walk, "Available")  # uploaded, then processed


async def test_a_refused_upload_keeps_focus_on_its_path_and_a_new_pick_clears_it(  # type: ignore[no-untyped-def]
    sim_settings, tmp_path
) -> None:
    """Finding 22: after a refused upload the path field keeps focus (no Tab back from
    the template's path), and the old error goes once another file is picked."""
    app = RelportalApp(lambda: embedded_client(sim_settings), downloads=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        walk = await to_manual_upload(pilot)
        missing = tmp_path / "missing.xlsx"
        await walk.type_into("upload-path", str(missing))
        await pilot.press("enter")
        await walk.until(lambda: walk.screen.refusal is not None, what="the upload refused")
        await pilot.pause(0.1)
        assert "Cannot read" in walk.text()
        assert app.focused is not None and app.focused.id == "upload-path"
        # Picking another file: the old error goes at once.
        await pilot.press("backspace")
        await pilot.pause(0.1)
        assert walk.screen.refusal is None and "Cannot read" not in walk.text()
        assert app.focused.id == "upload-path"
        # So does pressing a sample after a refusal, before its answer comes.
        await pilot.press("enter")
        await walk.until(lambda: walk.screen.refusal is not None, what="refused again")
        walk.screen.upload_sample(valid=True)
        assert "Cannot read" not in walk.text()
        await walk.at("complete")


async def test_in_a_browser_the_template_goes_to_the_browser(  # type: ignore[no-untyped-def]
    sim_settings, tmp_path, monkeypatch
) -> None:
    """Under `relportal web` the template is delivered to the browser, not saved on the host
    (how a delivery reaches the browser: tests/hosting/test_web.py)."""
    delivered: list[tuple[bytes, dict[str, Any]]] = []
    monkeypatch.setattr(RelportalApp, "is_web", property(lambda self: True))
    monkeypatch.setattr(
        RelportalApp,
        "deliver_binary",
        lambda self, file, **options: delivered.append((file.read(), options)),
    )
    app = RelportalApp(lambda: embedded_client(sim_settings), downloads=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        walk = await to_manual_upload(pilot)
        await walk.press("Download template")
        await walk.until(lambda: bool(delivered), what="the template delivered")
    data, options = delivered[0]
    assert data[:2] == b"PK" and options["save_filename"].endswith(".xlsx")
    assert not list(tmp_path.rglob("*.xlsx"))


async def test_deny_at_the_platform(sim_settings) -> None:  # type: ignore[no-untyped-def]
    app = RelportalApp(lambda: embedded_client(sim_settings))
    async with app.run_test(size=(120, 40)) as pilot:
        walk = await open_simulation(pilot, {"data_types": ["financials"]})
        await walk.press("Securely connect")
        await walk.press("Connect")
        await walk.at("select_platform")
        await walk.type_into("platform-search", "Free")
        await walk.pilot.press("enter")
        await walk.at("consent")
        await walk.press("Next")
        await walk.at("platform_signin")
        await walk.press("Cancel")
        await walk.at("select_platform")
        assert "not granted" in walk.text().lower()
        await rm_sees(walk, "Error")


async def test_wrong_password_then_right(sim_settings) -> None:  # type: ignore[no-untyped-def]
    app = RelportalApp(lambda: embedded_client(sim_settings))
    async with app.run_test(size=(120, 40)) as pilot:
        walk = await open_simulation(pilot, {"data_types": ["financials"]})
        await walk.press("Securely connect")
        await walk.connect("Xero", password="hunter2")
        await walk.until(
            lambda: (walk.screen.journey or {}).get("error") is not None, what="the sign-in error"
        )
        assert walk.screen.journey["step"] == "platform_signin"  # type: ignore[index]
        assert "✖" in walk.text()
        # Finding 20: the simulated platform's page says which sign-in it accepts.
        assert "username demo, password demo" in walk.text()
        await walk.type_into("signin-username", "demo")
        await walk.type_into("signin-password", "demo")
        await walk.press("Allow access")
        await walk.at("complete")
        await rm_sees(walk, "Available")


async def test_close_and_resume_at_the_same_step(sim_settings) -> None:  # type: ignore[no-untyped-def]
    from screens.confirm import Confirm

    app = RelportalApp(lambda: embedded_client(sim_settings))
    async with app.run_test(size=(120, 40)) as pilot:
        walk = await open_simulation(pilot, {"data_types": ["financials"]})
        token = walk.screen.token
        await walk.press("Securely connect")
        await walk.press("Connect")
        await walk.at("select_platform")
        walk.screen.query_one("#platforms").focus()  # off the search box: keys are commands
        await walk.pilot.press("x")
        await walk.until(lambda: isinstance(app.screen, Confirm), what="the exit confirmation")
        assert "Are you sure you want to exit?" in app.screen.question
        await walk.pilot.press("y")
        await walk.until(lambda: (walk.screen.journey or {}).get("closed"), what="closed")
        assert "Resume" in walk.text()
        await rm_sees(walk, "In progress")
        # Later, the customer opens the link again: it resumes where it stopped.
        await walk.pilot.press("q")
        await app.push_screen(
            SimulationScreen(app.client, app.session, token_of(f"http://x/j/{token}"))
        )
        await walk.at("select_platform")
        assert walk.screen.journey["closed"]  # type: ignore[index]
        await walk.press("Resume")
        await walk.until(lambda: not walk.screen.journey["closed"], what="resumed")  # type: ignore[index]
        assert walk.screen.journey["step"] == "select_platform"  # type: ignore[index]


async def test_an_expired_link_shows_what_the_customer_sees(sim_settings) -> None:  # type: ignore[no-untyped-def]
    support = "jordan.blake@larkspurbank.example"
    app = RelportalApp(lambda: embedded_client(sim_settings, support))
    async with app.run_test(size=(120, 40)) as pilot:
        walk = await open_simulation(pilot, {"data_types": ["financials"]})
        await walk.press("Securely connect")
        await walk.at("share_accounting")
        await walk.pilot.press("E")  # support: expire the link now
        await walk.until(lambda: walk.screen.gone is not None, what="the link gone")
        assert "expired" in walk.text().lower()
        assert "Ask your relationship manager" in walk.text()
        await rm_sees(walk, "Expired")
        # A cancelled request's link: what that customer sees.
        await walk.pilot.press("q")
        walk = await open_simulation(pilot, {"data_types": ["financials"]})
        async with embedded_client(sim_settings, "sam.lee@larkspurbank.example") as admin:
            await admin.post(f"/v1/requests/{walk.screen.request_id}/cancel")
        await walk.pilot.press("ctrl+r")
        await walk.until(lambda: walk.screen.gone is not None, what="the link gone")
        assert "no longer active" in walk.text()


@pytest.mark.parametrize(
    ("features", "first_step"),
    [
        (["multi_entity"], "entity_count"),  # manual upload off: no upload choice
        (["manual_upload"], "choose_method"),  # multi-entity off: no entity question
        ([], "share_accounting"),  # both off
    ],
    ids=["manual upload off", "multi-entity off", "both off"],
)
async def test_each_feature_switch_off(sim_settings, features, first_step) -> None:  # type: ignore[no-untyped-def]
    app = RelportalApp(lambda: embedded_client(sim_settings))
    async with app.run_test(size=(120, 40)) as pilot:
        walk = await open_simulation(
            pilot, {"data_types": ["spend_analysis"], "features": features}
        )
        await walk.press("View request")
        await walk.at(first_step)
        if first_step == "choose_method":
            await walk.press("Connect platform")
        if first_step == "entity_count":
            await walk.press("A single legal entity")
        await walk.connect("Xero")
        await walk.at("complete")
        company = await rm_sees(walk, "Available")
        assert company["entities_total"] == 1


async def test_copy_link_off_the_simulation_still_opens(sim_settings) -> None:  # type: ignore[no-untyped-def]
    """Without copy link the RM sends requests by email only; support still simulates
    them (a simulation is its own request, delivered as a link to nobody)."""
    from screens.relationship import RelationshipScreen
    from screens.request_form import RequestForm

    app = RelportalApp(lambda: embedded_client(sim_settings, "sam.lee@larkspurbank.example"))
    async with app.run_test(size=(120, 40)) as pilot:
        walk_pilot = pilot
        deadline = time.monotonic() + 15
        while not isinstance(app.screen, PortalScreen):
            assert time.monotonic() < deadline
            await pilot.pause(0.05)
        org = await app.client.get("/v1/me")
        await app.client.patch(
            "/v1/organization",
            {
                "features": ["manual_upload", "multi_entity"],
                "version": org["organization"]["version"],
            },
        )
        app.session = await app.client.session()
        await pilot.press("u")  # the admin has no companies of their own: everyone's
        await pilot.pause(0.5)
        await pilot.press("enter")
        walk = Walk(walk_pilot)
        await walk.until(lambda: isinstance(app.screen, RelationshipScreen), what="company screen")
        detail = app.screen
        await walk.until(lambda: detail.body is not None, what="company loaded")
        detail.session = app.session
        await pilot.press("r")
        await walk.until(lambda: isinstance(app.screen, RequestForm), what="request form")
        assert not app.screen.query("#copy")  # no Copy link without the switch
        await pilot.press("escape")
        await walk.until(lambda: app.screen is detail, what="back")
        await pilot.press("v")  # simulate as customer
        await walk.at("email")
        assert walk.screen.relationship_id != detail.rel_id  # a copy, not the real one


async def test_transcript_export_import_and_replay(sim_settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A journey with a failure in it: its transcript, exported and imported as JSON,
    replayed on a fresh copy: the replay stops where the original failed, then
    carries on to where the original stopped."""
    import json

    from screens.path_prompt import PathPrompt
    from screens.transcript import TranscriptScreen

    downloads = tmp_path / "Downloads"
    app = RelportalApp(lambda: embedded_client(sim_settings), downloads=downloads)
    async with app.run_test(size=(120, 40)) as pilot:
        walk = await open_simulation(
            pilot, {"data_types": ["financials"], "company_name": "Oh My Cod"}
        )
        original = walk.screen.request_id
        await walk.press("Securely connect")
        await walk.connect("Xero", password="wrong")
        await walk.until(lambda: (walk.screen.journey or {}).get("error"), what="the sign-in error")
        assert walk.screen.query_one("#signin-username", Input).value == "demo"  # kept
        assert walk.screen.query_one("#signin-password", Input).value == ""  # never kept
        await walk.type_into("signin-password", "demo")
        await walk.press("Allow access")
        await walk.at("complete")
        # The transcript, from the simulation (t).
        await pilot.press("t")
        await walk.until(lambda: isinstance(app.screen, TranscriptScreen), what="transcript")
        transcript_screen = app.screen
        table = transcript_screen.query_one(DataTable)
        await walk.until(lambda: table.row_count == 6, what="six customer actions")
        results = [str(table.get_row_at(i)[5]) for i in range(table.row_count)]
        assert results[4].startswith("✖") and results[5] == "→ Complete"
        # Export it.
        target = tmp_path / "cod.json"
        await pilot.press("e")
        await walk.until(
            lambda: isinstance(app.screen, PathPrompt) and app.screen.query(Input),
            what="the path prompt",
        )
        # Findings 17, 18: offered in the downloads folder under a name people read; a
        # name that is not .json is refused in the prompt, which keeps what was typed.
        prompt = app.screen
        field = prompt.query_one(Input)
        day = (await app.client.get(f"/v1/requests/{original}"))["created_at"][:10]
        assert field.value == str(downloads / f"Oh My Cod - transcript {day}.json")
        field.value = str(tmp_path / "cod.txt")
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert app.screen is prompt and field.value == str(tmp_path / "cod.txt")
        assert "End the file name with .json." in str(prompt.query_one("#path-problem").render())
        field.value = str(target)
        await pilot.press("enter")
        await walk.until(lambda: target.exists(), what="the file written")
        exported = json.loads(target.read_text())
        assert exported["request"]["id"] == original and len(exported["steps"]) == 6
        # Replay it on a fresh copy: all at once stops where the original failed.
        await walk.until(lambda: app.screen is transcript_screen, what="back on the transcript")
        await pilot.press("r")
        await walk.until(
            lambda: isinstance(app.screen, SimulationScreen) and app.screen.replay is not None,
            what="the replay",
        )
        replay = app.screen
        assert replay.request_id != original
        await walk.at("email")
        await pilot.press("ctrl+o")
        await walk.until(
            lambda: (
                replay.replay_at == 5
                and (replay.journey or {}).get("step") == "platform_signin"
                and (replay.journey or {}).get("error")
            ),
            what="stopped at the failure, as the original failed",
        )
        assert "failed in the original too" in str(replay.query_one("#replay").render())
        await pilot.press("ctrl+o")
        await walk.until(lambda: replay.replay_at == 6, what="replayed to the end")
        await walk.at("complete")
        assert "done" in str(replay.query_one("#replay").render())
        # Import the exported file and replay that too, one step at a time.
        await pilot.press("q")
        app.action_import_transcript()
        await walk.until(
            lambda: isinstance(app.screen, PathPrompt) and app.screen.query(Input),
            what="the import prompt",
        )
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await walk.until(
            lambda: isinstance(app.screen, TranscriptScreen) and app.screen.source, what="imported"
        )
        assert app.screen.query_one(DataTable).row_count == 6
        await pilot.press("r")
        await walk.until(
            lambda: isinstance(app.screen, SimulationScreen) and app.screen.replay is not None,
            what="the replay of the import",
        )
        imported = app.screen
        await walk.at("email")
        assert imported.journey["request"]["company"] == "Oh My Cod"
        await pilot.press("ctrl+n")
        await walk.at("share_accounting")
        assert imported.replay_at == 1


async def test_a_file_that_is_not_a_transcript_is_refused_readably(sim_settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from screens.path_prompt import PathPrompt

    junk = tmp_path / "junk.json"
    junk.write_text('{"format": "something else"}')
    app = RelportalApp(lambda: embedded_client(sim_settings))
    async with app.run_test(size=(100, 30)) as pilot:
        deadline = time.monotonic() + 15
        while not isinstance(app.screen, PortalScreen):
            assert time.monotonic() < deadline
            await pilot.pause(0.05)
        app.action_import_transcript()
        await pilot.pause(0.2)
        assert isinstance(app.screen, PathPrompt)
        app.screen.query_one(Input).value = str(junk)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert isinstance(app.screen, PortalScreen)
        assert any("Not a transcript" in str(n.message) for n in app._notifications)


async def test_relportal_simulate_opens_on_the_link(sim_settings) -> None:  # type: ignore[no-untyped-def]
    """`relportal simulate LINK`: the app opens on that journey, the portal behind it."""
    async with embedded_client(sim_settings) as client:
        made = await client.post("/v1/simulations", {"data_types": ["financials"]})
    app = RelportalApp(lambda: embedded_client(sim_settings), simulate=made["link"])
    async with app.run_test(size=(100, 30)) as pilot:
        walk = Walk(pilot)
        await walk.at("email")
        assert walk.screen.request_id == made["request_id"]
        await pilot.press("q")
        await walk.until(lambda: isinstance(app.screen, PortalScreen), what="the portal")


@pytest.mark.parametrize("width", [80, 160])
async def test_upload_errors_wrap_so_the_allowed_values_show(sim_settings, width) -> None:  # type: ignore[no-untyped-def]
    """Finding 13: a problem naming the values allowed shows all of them, wrapped, at 80
    and at 160 columns."""
    app = RelportalApp(lambda: embedded_client(sim_settings))
    async with app.run_test(size=(width, 40)) as pilot:
        walk = await to_manual_upload(pilot)
        await walk.press("Sample with errors")
        await walk.until(lambda: walk.screen.refusal is not None, what="the upload refused")
        await pilot.pause(0.2)
        problems = [e["message"] for e in walk.screen.refusal[1]]  # type: ignore[index]
        listing = next(p for p in problems if "use one of" in p)
        shown = " ".join(text_of(walk.screen.query_one("#upload-errors")).split())
        for word in listing.split("use one of", 1)[1].split():
            assert word in shown, (word, shown)


async def test_the_platform_search_looks_like_an_input(sim_settings) -> None:  # type: ignore[no-untyped-def]
    """Finding 35: the search field at "select your software" has a border."""
    app = RelportalApp(lambda: embedded_client(sim_settings))
    async with app.run_test(size=(120, 40)) as pilot:
        walk = await open_simulation(pilot, {"data_types": ["financials"]})
        await walk.press("Securely connect")
        await walk.press("Connect")
        await walk.at("select_platform")
        search = walk.screen.query_one("#platform-search", Input)
        assert search.styles.border_top[0] not in ("", "none") and search.region.height == 3


async def test_the_journey_map_keeps_each_phrase_on_one_line() -> None:
    """Finding 35: in the side panel's width, no stage or note wraps mid-phrase."""
    from textual.app import App

    from widgets.journey_map import JourneyMap

    path = ["email", "entity_count", "entity_name", "share_accounting", "select_platform"]
    path += ["consent", "platform_signin", "entities", "complete", "summary"]
    journey = {
        "request": {"data_types": ["spend_analysis"]},
        "path": path,
        "step": "consent",
        "entities": [
            {"name": "Abra Kebabra Brighton and Hove Holdings Limited", "state": "linked"}
        ],
    }

    class MapApp(App[None]):
        CSS = "JourneyMap { width: 34; }"

        def compose(self):  # type: ignore[no-untyped-def]
            yield JourneyMap()

    app = MapApp()
    async with app.run_test(size=(80, 30)) as pilot:
        shown = app.query_one(JourneyMap)
        shown.show(journey)
        await pilot.pause(0.1)
        lines = [line.strip() for line in text_of(shown).splitlines()]
        assert "↺ another entity:" in lines and "back to create" in lines
        assert any(line.startswith("✔ Abra Kebabra") and line.endswith("…") for line in lines), (
            lines
        )

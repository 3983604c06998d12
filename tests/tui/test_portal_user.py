"""Who the embedded portal signs in as, and `token create` for someone new (issue 18,
finding 2): the user is config's [portal] user, else the demo's relationship manager;
a new user appears only when asked for, and never changes who the portal is."""

from __future__ import annotations

from pathlib import Path

from journey.seed import DEMO_PORTAL_USER
from screens.portal import PortalScreen
from tests.support.cli import portal_in_a_terminal, run
from tests.support.portal import demo_database, text_of, until
from tui.app import RelportalApp
from tui.client import embedded_client


def test_token_create_for_an_unknown_email_asks_for_new_user(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    demo_database(db)
    done = run("--db", str(db), "token", "create", "a@b.example")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        "relportal: a@b.example is not a user of Larkspur Bank; check the spelling, "
        "or add --new-user to create them (role rm)"
    ]
    # Asked for, the user is made, and the command says who and where.
    made = run("--db", str(db), "token", "create", "a@b.example", "--new-user")
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("rp_")
    assert (
        f"relportal: created a new user, A <a@b.example> (rm), in Larkspur Bank ({db})"
        in made.stderr
    )
    # A known user needs no flag, and nothing is said to be created.
    known = run("--db", str(db), "token", "create", DEMO_PORTAL_USER)
    assert known.returncode == 0 and "created" not in known.stderr


def test_token_create_never_makes_an_organization_by_a_typo(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    demo_database(db)
    done = run("--db", str(db), "token", "create", DEMO_PORTAL_USER, "--org", "Larkspur Bnak")
    assert done.returncode == 2
    assert "there is no organization 'Larkspur Bnak'" in done.stderr
    assert len(done.stderr.splitlines()) == 1
    made = run(
        "--db", str(db), "token", "create", "ops@quay.example", "--org", "Quay", "--new-user"
    )
    assert made.returncode == 0, made.stderr
    assert "created a new user, Ops <ops@quay.example> (rm), in a new organization, Quay" in (
        made.stderr
    )


async def test_a_new_user_does_not_change_who_the_portal_signs_in_as(tmp_path: Path) -> None:
    """ "A" sorts before "Alex Morgan": the portal still signs in as Alex Morgan."""
    settings = demo_database(tmp_path / "demo.db")
    made = run("--db", str(settings.db_path), "token", "create", "a@b.example", "--new-user")
    assert made.returncode == 0, made.stderr
    app = RelportalApp(lambda: embedded_client(settings))
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PortalScreen) and app.screen.is_mounted)
        assert app.session is not None and app.session.user["email"] == DEMO_PORTAL_USER
        # Once the title is drawn (on a busy machine, a moment after the screen is up).
        shown = app.screen.query_one("#title")
        await until(pilot, lambda: text_of(shown).strip() != "")
        title = text_of(shown)
        assert title.rstrip().endswith("Alex Morgan"), title


async def test_the_configured_user_is_the_one_signed_in(tmp_path: Path) -> None:
    settings = demo_database(tmp_path / "demo.db")
    app = RelportalApp(lambda: embedded_client(settings, "priya.shah@larkspurbank.example"))
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PortalScreen) and app.screen.is_mounted)
        shown = app.screen.query_one("#title")
        await until(pilot, lambda: text_of(shown).strip() != "")
        assert text_of(shown).rstrip().endswith("Priya Shah")


def test_an_unknown_configured_user_is_one_config_line(tmp_path: Path) -> None:
    settings = demo_database(tmp_path / "demo.db")
    config = tmp_path / "config.toml"
    config.write_text('[portal]\nuser = "nobody@larkspurbank.example"\n')
    code, said = portal_in_a_terminal("--config", str(config), "--db", str(settings.db_path))
    assert code == 2
    expected = (
        f"relportal: {config}: portal.user is nobody@larkspurbank.example, who is not a user "
        f"in {settings.db_path}"
    )
    assert expected in said, said
    assert said.count("relportal: ") == 1 and "Traceback" not in said


async def test_the_title_keeps_who_you_are_at_80_columns(tmp_path: Path) -> None:
    """At 80 columns the other parts of the title give way, never the user's name; a
    wide terminal shows them all."""
    settings = demo_database(tmp_path / "demo.db")
    app = RelportalApp(lambda: embedded_client(settings))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PortalScreen) and app.screen.is_mounted)
        title = app.screen.query_one("#title")
        await until(pilot, lambda: "Alex Morgan" in text_of(title))
        shown = text_of(title).rstrip()
        assert shown.endswith("·  Alex Morgan"), shown
        assert "My companies" in shown and "Company ↑" in shown
        # A search joins the title, and the name still ends it.
        await pilot.press("slash", *"oak", "enter")
        await until(pilot, lambda: "“oak”" in text_of(title))
        assert text_of(title).rstrip().endswith("·  Alex Morgan"), text_of(title)
        await pilot.resize_terminal(160, 30)
        await until(pilot, lambda: "sorted by" in text_of(title))
        shown = text_of(title).rstrip()
        assert shown.lstrip().startswith("Relationships  Larkspur Bank"), shown
        assert shown.endswith("Alex Morgan"), shown

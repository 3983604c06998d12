"""A damaged preferences.toml is set aside and the user is told so, with where the
damaged copy is (issue 18, finding 26)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from journey.settings import ServiceSettings
from screens.portal import PortalScreen
from tests.support.portal import demo_database, until
from tui import preferences
from tui.app import RelportalApp
from tui.client import embedded_client

DAMAGED = b"theme = 'textual-light\nusers = \x00\n"


def demo(tmp_path: Path) -> ServiceSettings:
    return demo_database(tmp_path / "demo.db")


def toasts(app: RelportalApp) -> str:
    """The notifications the portal has shown (as the repository's other TUI tests read them)."""
    return "\n".join(f"{n.title} {n.message}" for n in app._notifications)


def test_a_damaged_file_is_kept_aside_and_a_notice_says_where(tmp_path: Path) -> None:
    path = tmp_path / "preferences.toml"
    path.write_bytes(DAMAGED)
    saved, notice = preferences.read(path)
    assert saved == preferences.Preferences()
    aside = tmp_path / "preferences.toml.damaged"
    assert aside.read_bytes() == DAMAGED and not path.exists()
    assert notice == (
        f"{path} could not be read, so the theme and list choices are back to their "
        f"defaults. The damaged file is kept as {aside}."
    )
    # Read again, there is nothing to say: the defaults are what there is.
    assert preferences.read(path) == (preferences.Preferences(), None)


async def test_the_portal_shows_the_notice_once_it_is_on_screen(tmp_path: Path) -> None:
    settings = demo(tmp_path)
    path = tmp_path / "preferences.toml"
    path.write_bytes(DAMAGED)
    app = RelportalApp(lambda: embedded_client(settings), preferences_path=path)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PortalScreen) and app.screen.is_mounted)
        await until(pilot, lambda: "Preferences reset" in toasts(app))
        assert toasts(app) == (
            f"Preferences reset {path} could not be read, so the theme and list choices are "
            f"back to their defaults. The damaged file is kept as {path}.damaged."
        )
        warning = next(iter(app._notifications))
        assert warning.severity == "warning" and not warning.markup


async def test_no_notice_for_a_sound_file(tmp_path: Path) -> None:
    settings = demo(tmp_path)
    path = tmp_path / "preferences.toml"
    preferences.save(path, preferences.Preferences(theme="textual-light"))
    app = RelportalApp(lambda: embedded_client(settings), preferences_path=path)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PortalScreen) and app.screen.is_mounted)
        await pilot.pause(0.3)
        assert app.theme == "textual-light"
        assert "Preferences reset" not in toasts(app)


def test_relportal_tells_the_user_when_it_set_their_preferences_aside(
    tmp_path: Path, isolated_dirs: Path
) -> None:
    """The command reads the preferences before the app starts (for the first page):
    the notice still reaches the portal."""
    from tests.support.ssh_terminal import ScreenTerminal

    settings = demo(tmp_path)
    folder = isolated_dirs / "xdg_config_home" / "relportal"
    folder.mkdir(parents=True)
    (folder / "preferences.toml").write_bytes(DAMAGED)
    relportal = str(Path(sys.executable).parent / "relportal")
    terminal = ScreenTerminal(
        [relportal, "--db", str(settings.db_path)], dict(os.environ), columns=160, rows=40
    )
    try:
        screen = terminal.wait_for_text("Preferences reset")
        # The toast wraps its lines anywhere: read it without its breaks and border.
        unwrapped = "".join(ch for ch in screen if not ch.isspace() and ch != "▌")
        assert "Thedamagedfileiskeptas" in unwrapped
        assert "relportal/preferences.toml.damaged." in unwrapped
        terminal.type(b"\x11")  # ctrl+q
        assert terminal.wait_exit() == 0
    finally:
        terminal.close()
    assert (folder / "preferences.toml.damaged").read_bytes() == DAMAGED

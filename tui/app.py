"""The Textual application: signs in, then shows the portal. Screens own the rest."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import App
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.widgets import Static

from screens.messages import (
    OpenCompany,
    OpenPortfolio,
    OpenReports,
    OpenSimulation,
    OpenTranscript,
    StartSimulation,
)
from tui import preferences
from tui.client import (
    ServiceClient,
    ServiceProblem,
    ServiceUnavailable,
    Session,
    StartupRefused,
)
from tui.commands import PortalCommands
from tui.file_choices import SaveTarget
from tui.files import FileDesk
from tui.hosting.hosted import Hosting

ClientFactory = Callable[[], AbstractAsyncContextManager[ServiceClient]]


class RelportalApp(App[None]):
    TITLE = "relportal"
    CSS = """
    #starting { content-align: center middle; height: 1fr; color: $text-muted; }
    """
    BINDINGS = [
        Binding("question_mark", "help", "Keys", id="app.help"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit"),
    ]
    COMMANDS = App.COMMANDS | {PortalCommands}

    def __init__(
        self,
        client_factory: ClientFactory,
        *,
        simulate: str | None = None,
        downloads: Path | None = None,
        keymap: dict[str, str] | None = None,
        preferences_path: Path | None = None,
        preferences_notice: str | None = None,
        hosting: Hosting | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.client_factory = client_factory
        self.simulate_link = simulate  # `relportal simulate LINK`: open on that journey
        # Where files the user downloads go unless they pick another folder.
        self.downloads = downloads or Path.home() / "Downloads"
        # Local (the user's own paths) unless a host said this portal is a viewer's
        # session (tui.hosting.hosted); every file the portal saves or opens goes through the desk.
        self.hosting = hosting or Hosting()
        if self.hosting.files is not None:
            self.downloads = self.hosting.files
        self.file_desk = FileDesk(self, self.hosting, self.downloads)
        self.client: ServiceClient | None = None
        self.session: Session | None = None
        # Why the portal closed without starting (printed by the command, one line).
        self.refusal: str | None = None
        self._signed_out = asyncio.Event()
        self.preferences_path = preferences_path
        self.preferences, notice = (
            preferences.read(preferences_path)
            if preferences_path
            else (preferences.Preferences(), None)
        )
        # A damaged preferences file was set aside (here, or by the command before the
        # app started): said once the portal is on screen.
        self.preferences_notice = preferences_notice or notice
        if keymap:
            self.set_keymap(keymap)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification shows its message as plain text: messages carry company
        names and the service's reasons, which must appear as typed, never as markup
        (a ``[@click=…]`` in a name is those characters, not an action)."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static("Starting the Relationship Portal…", id="starting")

    def on_mount(self) -> None:
        if self.preferences.theme in self.available_themes:
            self.theme = self.preferences.theme
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        self.connect()

    def _remember_theme(self, theme: Any) -> None:
        self.preferences.theme = theme.name
        self.save_preferences()

    def save_preferences(self) -> None:
        if self.preferences_path is not None:
            preferences.save(self.preferences_path, self.preferences)

    @work(exclusive=True, group="client", exit_on_error=False)
    async def connect(self) -> None:
        """Hold the service client open for the app's life (entered and left in one task)."""
        from screens.portal import PortalScreen

        try:
            async with self.client_factory() as client:
                self.client = client
                session = await client.session()
                self.session = session
                await self.push_screen(PortalScreen(client, session))
                if self.preferences_notice:
                    self.notify(
                        self.preferences_notice,
                        title="Preferences reset",
                        severity="warning",
                        timeout=30,
                    )
                if self.simulate_link:
                    from screens.simulation import SimulationScreen
                    from tui.simulate import token_of

                    await self.push_screen(
                        SimulationScreen(client, session, token_of(self.simulate_link))
                    )
                await self._signed_out.wait()
        except StartupRefused as exc:
            self.refusal = str(exc)
            self.exit(return_code=2)
        except (ServiceProblem, ServiceUnavailable) as exc:
            self.query_one("#starting", Static).update(Text(f"Cannot start: {exc}"))
            self.notify(str(exc), title="Cannot reach the service", severity="error", timeout=30)

    def deliver_screenshot(
        self,
        filename: str | None = None,
        path: str | None = None,
        time_format: str | None = None,
    ) -> str | None:
        """Textual's "Screenshot" command, through the file desk like every other file:
        neither a hosted viewer nor an action reached from text (``app.screenshot('x',
        '/etc')``) picks where it is written, so ``filename`` and ``path`` are ignored."""
        from datetime import datetime

        name = datetime.now().strftime("relportal %Y-%m-%d %H.%M.%S.svg")
        svg = self.export_screenshot().encode("utf-8")
        self.file_desk.save(SaveTarget(name), svg, what="the screenshot", title="Screenshot")
        return None

    def action_help(self) -> None:
        from screens.help import HelpScreen, keys_of

        if isinstance(self.screen, HelpScreen):
            return
        screen = self.screen
        title = {"PortalScreen": "Relationships", "RelationshipScreen": "Company"}.get(
            type(screen).__name__, screen.title or "relportal"
        )
        self.push_screen(HelpScreen(str(title), keys_of(screen)))

    # Customer simulation (also in the command palette)

    def action_new_simulation(self) -> None:
        from screens.simulation_setup import SimulationSetup
        from tui.simulate import start_simulation

        if self.client is None or self.session is None:
            return
        client, session = self.client, self.session

        def chosen(body: dict[str, Any] | None) -> None:
            if body:
                self.run_worker(start_simulation(self, client, session, body), group="simulate")

        self.push_screen(SimulationSetup(session), chosen)

    def action_open_link(self) -> None:
        from screens.path_prompt import PathPrompt
        from screens.simulation import SimulationScreen
        from tui.simulate import token_of

        if self.client is None:
            return
        client = self.client

        def chosen(link: str | None) -> None:
            if link and token_of(link):
                self.push_screen(SimulationScreen(client, self.session, token_of(link)))

        self.push_screen(
            PathPrompt("A request link (or its token):", ok="Open", paths=False), chosen
        )

    def action_import_transcript(self) -> None:
        from screens.transcript import choose_transcript

        if self.client is not None:
            choose_transcript(self, self.client, self.session)

    # What screens ask for (screens.messages): the app shows the screen, so screens
    # never import one another.

    @on(OpenCompany)
    def _open_company(self, message: OpenCompany) -> None:
        from screens.relationship import RelationshipScreen

        if self.client is not None and self.session is not None:
            self.push_screen(
                RelationshipScreen(self.client, self.session, message.rel_id, message.users)
            )

    @on(OpenPortfolio)
    def _open_portfolio(self, message: OpenPortfolio) -> None:
        from screens.portfolio import PortfolioScreen

        if self.client is not None and self.session is not None:
            self.push_screen(PortfolioScreen(self.client, self.session, message.user))

    @on(OpenReports)
    def _open_reports(self, message: OpenReports) -> None:
        from screens.report import ReportScreen

        if self.client is not None and self.session is not None:
            self.push_screen(ReportScreen(self.client, self.session, message.rel_id, message.name))

    @on(OpenTranscript)
    def _open_transcript(self, message: OpenTranscript) -> None:
        from screens.transcript import TranscriptScreen

        if self.client is not None:
            self.push_screen(TranscriptScreen(self.client, self.session, message.request_id))

    @on(StartSimulation)
    def _start_simulation(self, message: StartSimulation) -> None:
        from tui.simulate import start_simulation

        if self.client is not None:
            self.run_worker(
                start_simulation(self, self.client, self.session, message.body), group="simulate"
            )

    @on(OpenSimulation)
    def _open_simulation(self, message: OpenSimulation) -> None:
        from tui.simulate import simulation_of

        if self.client is not None:
            self.push_screen(simulation_of(self.client, self.session, message.made, message.replay))

    async def action_quit(self) -> None:
        self._signed_out.set()
        self.exit()

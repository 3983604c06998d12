"""The customer simulation: walk a request's journey exactly as the customer does.

It drives the customer side of the API with the request's link and draws whatever
the service answers: the step's title and text, what the step shows, and a control
for each action the service allows now. It holds no journey rules of its own: a
step it does not know still shows its title, text and actions. Beside it, the
journey map (the path the service says this request takes) and what the RM sees
meanwhile, live. In replay mode it also steps through a recorded transcript.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, DataTable, Input, OptionList, Static
from textual.widgets.option_list import Option

from screens._simulation_steps import (
    TEMPLATE_NAME,
    WhereFilesGo,
    counter_text,
    draw_step,
)
from screens.messages import OpenTranscript
from tui.client import (
    Company,
    ReplayStep,
    ServiceClient,
    ServiceProblem,
    ServiceUnavailable,
    Session,
)
from tui.file_choices import Sample, SaveTarget
from tui.files import desk_of, read_local_file
from tui.hosting.session_folder import FileRefused
from widgets.journey_map import JourneyMap
from widgets.keys_footer import KeysFooter
from widgets.rm_panel import RmPanel

MAX_UPLOAD_BYTES = 1_000_000  # the service refuses more


class SimulationScreen(Screen[None]):
    """``token`` is the link's token; ``request_id`` and ``relationship_id``, when known,
    feed the RM panel (the RM side of the same organization)."""

    DEFAULT_CSS = """
    SimulationScreen { layout: vertical; }
    #sim-title { height: 1; padding: 0 1; background: $panel; }
    #sim-body { height: 1fr; }
    #customer-column { width: 1fr; border-right: vkey $panel-lighten-2; }
    #step-title { height: auto; padding: 0 1; text-style: bold; background: $boost; }
    /* The gutter is kept whether or not the step overflows: its width, and so the
       wrapping of what it shows, never changes once drawn (a scroll to the field a
       refusal focuses would otherwise land a line off when the scrollbar arrives). */
    #customer { padding: 0 1; scrollbar-gutter: stable; }
    #customer .para { margin-bottom: 1; }
    #customer .error { color: $error; text-style: bold; margin-bottom: 1; }
    #customer .notice { color: $warning; margin-bottom: 1; }
    #customer .box { border: round $panel-lighten-2; padding: 0 1; margin-bottom: 1; height: auto; }
    #customer Button { margin: 0 2 0 0; min-width: 8; }
    #customer Button.choice { margin-bottom: 1; }
    #customer .actions { height: auto; margin-top: 1; }
    #step-actions { height: auto; padding: 0 1; background: $boost; }
    #step-actions Button { margin: 0 2 0 0; min-width: 8; }
    #customer Input { margin-bottom: 1; }
    #customer OptionList { height: auto; max-height: 10; margin-bottom: 1; }
    #customer DataTable { height: auto; max-height: 10; margin-bottom: 1; }
    #customer .counter { color: $text-muted; text-align: right; }
    #side { width: 34; padding: 0 0; }
    #side.hidden { display: none; }
    #replay { height: auto; padding: 0 1; background: $boost; display: none; }
    #replay.shown { display: block; }
    """

    # The footer shows as many as fit, in this order: the way out comes early.
    BINDINGS = [
        Binding("escape", "back", "Back", id="simulation.back"),
        # Where the journey has no step to go back to (its first step, the final
        # requests summary), esc backs out of the simulation, as the footer says.
        Binding("escape", "back_out", "Leave", id="simulation.back_out"),
        Binding("q", "leave", "Leave", id="simulation.leave"),
        Binding("x", "close", "Close ×", id="simulation.close"),
        Binding("ctrl+r", "reload", "Reload", id="simulation.reload"),
        Binding("m", "toggle_side", "Map", id="simulation.map"),
        Binding("t", "transcript", "Transcript", id="simulation.transcript"),
        # Replay keys work while an input has focus (they are not text keys).
        Binding("ctrl+n", "replay_next", "Replay step", show=False, id="simulation.replay_next"),
        Binding("ctrl+o", "replay_all", "Replay all", show=False, id="simulation.replay_all"),
        Binding("E", "expire", "Expire link", show=False, id="simulation.expire"),
    ]
    PALETTE_PREFIX = "simulation"  # the command palette names these bindings "simulation: …"

    class Showed(Message):
        """A journey answer (or a link that no longer opens) to draw."""

        def __init__(self, journey: dict[str, Any] | None, gone: str | None = None) -> None:
            super().__init__()
            self.journey = journey
            self.gone = gone

    class Refused(Message):
        """The service refused an action: its reason, and row errors for an upload."""

        def __init__(self, detail: str, errors: list[dict[str, Any]]) -> None:
            super().__init__()
            self.detail = detail
            self.errors = errors

    class CompanySeen(Message):
        def __init__(self, company: Company | None, note: str = "") -> None:
            super().__init__()
            self.company = company
            self.note = note

    def __init__(
        self,
        client: ServiceClient,
        session: Session | None,
        token: str,
        *,
        request_id: str | None = None,
        relationship_id: str | None = None,
        replay: list[ReplayStep] | None = None,
    ) -> None:
        super().__init__()
        self.client = client
        self.session = session
        self.token = token
        self.request_id = request_id
        self.relationship_id = relationship_id
        self.journey: dict[str, Any] | None = None
        self.gone: str | None = None
        self.refusal: tuple[str, list[dict[str, Any]]] | None = None
        self._refused_upload = ""  # the upload path a refusal was about
        self.busy = False
        self._action_buttons: list[Button] = []  # the foot's buttons for the step drawn
        # Replay: the planned steps (the service's plan for a transcript) and where we are.
        self.replay = replay
        self.replay_at = 0
        self.replay_note = ""
        # Built into the service and asked for when used: never written to a shared folder.
        self.samples = (
            Sample("suppliers-sample.xlsx", "Sample file", lambda: self._sample_file("valid")),
            Sample(
                "suppliers-with-errors.xlsx",
                "Sample with errors",
                lambda: self._sample_file("invalid"),
            ),
        )

    async def _sample_file(self, kind: str) -> bytes:
        """The template filled in with fictional suppliers: valid, or with errors."""
        return await self.client.download(f"/v1/samples/{kind}")

    def compose(self) -> ComposeResult:
        yield Static(id="sim-title")
        yield Static(id="replay")
        with Horizontal(id="sim-body"):
            with Vertical(id="customer-column"):
                yield Static(id="step-title")
                yield VerticalScroll(id="customer")
                # The step's actions stay at the foot of the panel, as on the customer's
                # page, whatever the step's content scrolls to.
                yield Horizontal(id="step-actions")
            with VerticalScroll(id="side"):
                yield JourneyMap(id="map")
                yield RmPanel(id="rm")
        yield KeysFooter()

    def on_mount(self) -> None:
        title = Text()
        title.append("Customer simulation", style="bold")
        title.append("  ·  what the customer sees", style="dim")
        if self.size.width < 90:
            title.append("  ·  m: journey map", style="dim")
        self.query_one("#sim-title", Static).update(title)
        self.query_one(JourneyMap).show(None)
        self.query_one(RmPanel).show(None)
        if self.size.width < 90:
            self.query_one("#side").add_class("hidden")
        self._show_replay()
        self.load()
        self.follow_company()

    # Talking to the service (customer side)

    @property
    def base(self) -> str:
        return f"/v1/journeys/{self.token}"

    @work(exclusive=True, group="journey", exit_on_error=False)
    async def load(self) -> None:
        try:
            self.post_message(self.Showed(await self.client.get(self.base)))
        except ServiceProblem as exc:
            self.post_message(self.Showed(None, exc.detail))
        except ServiceUnavailable as exc:
            self.notify(str(exc), title="Cannot reach the service", severity="error")

    async def _send(self, action: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """Take one customer action; True when the service accepted it."""
        return await self._answer(
            self.client.post(f"{self.base}/actions", {"action": action, **params})
        )

    async def _upload(self, filename: str, data: bytes) -> dict[str, Any] | None:
        return await self._answer(self.client.upload(f"{self.base}/uploads", filename, data))

    async def _answer(self, call: Awaitable[Any]) -> dict[str, Any] | None:
        """Show what the service answered to a customer's move: the next state, a
        refusal with its reason (and row errors), or a link that stopped working.
        Returns the new state when the move was taken."""
        try:
            answer = await call
        except ServiceProblem as exc:
            if exc.status == 410:
                self.post_message(self.Showed(None, exc.detail))
            else:
                self.post_message(self.Refused(exc.detail, exc.body.get("errors") or []))
            return None
        except ServiceUnavailable as exc:
            self.notify(str(exc), title="Cannot reach the service", severity="error")
            return None
        self.post_message(self.Showed(answer))
        return answer  # type: ignore[no-any-return]

    @work(group="journey-action", exit_on_error=False)
    async def take(self, action: str, params: dict[str, Any]) -> None:
        if self.busy:
            return
        self.busy = True
        try:
            await self._send(action, params)
        finally:
            self.busy = False

    def upload_file(self, path_text: str) -> None:
        """A local user's upload: the file at the path typed, read bounded here (a
        regular file of at most the service's 1 MB), then sent."""
        if not path_text.strip():
            self.post_message(self.Refused("Choose a file to upload first.", []))
            return
        path = Path(os.path.expanduser(path_text.strip()))
        try:
            data = read_local_file(path, MAX_UPLOAD_BYTES)
        except FileRefused as exc:
            self.post_message(self.Refused(str(exc), []))
            return
        except OSError as exc:
            self.post_message(self.Refused(f"Cannot read {path}: {exc.strerror}.", []))
            return
        self.send_upload(path.name, data)

    def choose_upload(self) -> None:
        """A hosted viewer's upload: a file of their session, or a sample, picked by name."""

        def picked(name: str, data: bytes) -> None:
            self.send_upload(name, data)

        desk_of(self.app).choose_to_open(
            "Upload which file? (xlsx, at most 1 MB)",
            picked,
            limit=MAX_UPLOAD_BYTES,
            suffixes=(".xlsx",),
            samples=self.samples,
            ok="Upload",
        )

    def send_upload(self, filename: str, data: bytes) -> None:
        self._clear_refusal()
        self._send_upload(filename, data)

    @work(group="journey-action", exit_on_error=False)
    async def _send_upload(self, filename: str, data: bytes) -> None:
        await self._upload(filename, data)

    def upload_sample(self, valid: bool) -> None:
        self._clear_refusal()
        self._upload_sample(valid)

    @work(group="journey-action", exit_on_error=False)
    async def _upload_sample(self, valid: bool) -> None:
        """A built-in sample (fictional suppliers), made in memory and uploaded as is:
        no file is written anywhere."""
        sample = self.samples[0] if valid else self.samples[1]
        try:
            data = await sample.make()
        except (ServiceProblem, ServiceUnavailable) as exc:
            self.post_message(self.Refused(str(exc), []))
            return
        await self._upload(sample.name, data)

    def save_template(self, path_text: str | None) -> None:
        """Save the template: locally to the path typed (a folder gets the template's
        name); hosted, by its name (to the browser, or into the session's files)."""
        if path_text is None:
            target = SaveTarget(TEMPLATE_NAME)
        else:
            path = Path(os.path.expanduser(path_text.strip()))
            if path.is_dir():
                path = path / TEMPLATE_NAME
            target = SaveTarget(path.name, path=path)
        self.fetch_template(target)

    @work(group="journey-action", exit_on_error=False)
    async def fetch_template(self, target: SaveTarget) -> None:
        try:
            data = await self.client.download(f"{self.base}/template")
        except (ServiceProblem, ServiceUnavailable) as exc:
            self.notify(str(exc), title="No template", severity="error")
            return
        desk_of(self.app).save(target, data, what="the template", title="Template downloaded")

    # Drawing what the service said

    @on(Showed)
    async def _showed(self, message: Showed) -> None:
        before = (self.journey or {}).get("step")
        self.journey, self.gone = message.journey, message.gone
        self.refusal = None
        self.query_one(JourneyMap).show(self.journey, self.gone)
        # Still on the same step (a wrong password, say): what was typed stays.
        await self._draw(keep_inputs=before == (self.journey or {}).get("step"))
        self.refresh_bindings()  # esc is Back or Leave, by what this step allows
        if self.journey is not None and self.request_id is None:
            self.request_id = self.journey["request"]["id"]
            self.follow_company()

    @on(Refused)
    async def _refused(self, message: Refused) -> None:
        self.refusal = (message.detail, message.errors)
        await self._draw(keep_inputs=True, refused=True)

    def _clear_refusal(self) -> None:
        """A new file picked (or typed) for the upload: the last one's refusal no longer
        applies, so it goes, leaving the fields and focus where they are."""
        if self.refusal is None:
            return
        self.refusal = None
        for widget in self.query(".refusal"):
            widget.remove()

    async def _draw(self, keep_inputs: bool = False, refused: bool = False) -> None:
        pane = self.query_one("#customer", VerticalScroll)
        kept = (
            {i.id: i.value for i in pane.query(Input) if i.id and not i.password}
            if keep_inputs
            else {}
        )
        await pane.remove_children()
        self._action_buttons = []
        await pane.mount_all(self._step_widgets())
        foot = self.query_one("#step-actions", Horizontal)
        await foot.remove_children()
        await foot.mount_all(self._action_buttons)
        for input_id, value in kept.items():
            for found in pane.query(f"#{input_id}"):
                if isinstance(found, Input):
                    found.value = value
        if refused and self.query("#upload-path"):
            # A refused upload is fixed in the path field: focus stays there, not on the
            # template's path at the top.
            self._refused_upload = self.query_one("#upload-path", Input).value
            self.call_after_refresh(self._focus_upload_path)
        else:
            self.call_after_refresh(self._focus_first)

    def _focus_upload_path(self) -> None:
        field = self.query_one("#upload-path", Input)
        # Jump, not glide: the refusal is read at once, and a scroll still animating
        # would leave the panel somewhere in between for whoever looks first.
        field.focus(scroll_visible=False)
        self.query_one("#customer", VerticalScroll).scroll_to_center(
            field, animate=False, origin_visible=True
        )
        field.cursor_position = len(field.value)

    def _focus_first(self) -> None:
        """Focus the step's first control, showing the step from its top (what went
        wrong is said there); Tab brings the focused control into view. A step with
        nothing to press (the requests summary) focuses its table, to scroll it."""
        pane = self.query_one("#customer", VerticalScroll)
        pane.scroll_home(animate=False)
        controls = [
            *pane.query("Input, OptionList, Button"),
            *self._action_buttons,
            *pane.query(DataTable),
        ]
        for widget in controls:
            if widget.focusable and widget.display:
                widget.focus(scroll_visible=False)
                return

    def _show_step_title(self) -> None:
        title = Text()
        if self.journey is None:
            title.append("This link does not open anymore" if self.gone else "Loading…")
        else:
            title.append(self.journey["title"])
            if self._allowed("close") and not self.journey.get("closed"):
                title.append("   ×", style="dim not bold")
        self.query_one("#step-title", Static).update(title)

    def _step_widgets(self) -> list[Widget]:
        self._show_step_title()
        if self.journey is None:
            return [Static(Text(self.gone or "Loading…"), classes="para")]
        drawn = draw_step(self.journey, self.refusal, self._where_files_go())
        self._action_buttons = drawn.actions
        return drawn.content

    def _where_files_go(self) -> WhereFilesGo:
        desk = desk_of(self.app)
        return WhereFilesGo(
            hosted=desk.hosted,
            to_browser=desk.to_browser,
            downloads=Path(getattr(self.app, "downloads", Path.cwd())),
        )

    # Controls

    @on(Input.Changed, "#entity-name")
    def _count(self, event: Input.Changed) -> None:
        field = (self.journey or {}).get("view", {}).get("field")
        if field:
            self.query_one("#counter", Static).update(counter_text(field, event.value))

    @on(Input.Changed, "#platform-search")
    def _filter_platforms(self, event: Input.Changed) -> None:
        wanted = event.value.casefold().strip()
        platforms = (self.journey or {}).get("view", {}).get("platforms", [])
        options = self.query_one("#platforms", OptionList)
        options.clear_options()
        options.add_options(
            [
                Option(Text(p["name"]), id=p["key"])
                for p in platforms
                if wanted in p["name"].casefold()
            ]
        )
        if options.option_count:
            options.highlighted = 0

    @on(Input.Submitted, "#platform-search")
    def _search_done(self) -> None:
        self._choose_platform()

    @on(OptionList.OptionSelected, "#platforms")
    def _platform_selected(self) -> None:
        self._choose_platform()

    def _choose_platform(self) -> None:
        options = self.query_one("#platforms", OptionList)
        if options.highlighted is None:
            if not options.option_count:
                return
            options.highlighted = 0
        option = options.get_option_at_index(options.highlighted)
        self.take("select_platform", {"platform": option.id})

    @on(Input.Submitted, "#entity-name")
    def _named(self, event: Input.Submitted) -> None:
        self.take("name_entity", {"name": event.value})

    @on(Input.Submitted, "#signin-password")
    def _signed_in(self) -> None:
        self._press("authorize")

    @on(Input.Submitted, "#upload-path")
    def _upload_submitted(self, event: Input.Submitted) -> None:
        self.upload_file(event.value)

    @on(Input.Changed, "#upload-path")
    def _upload_path_changed(self, event: Input.Changed) -> None:
        if event.value != self._refused_upload:
            self._clear_refusal()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        name = event.button.name or ""
        if ":" in name:  # a choice: action:param:value
            action, param, value = name.split(":", 2)
            self.take(action, {param: value})
        elif name == "download-template":
            paths = self.query("#template-path")
            self.save_template(paths.first(Input).value if paths else None)
        elif name in ("sample-valid", "sample-invalid"):
            self.upload_sample(valid=name == "sample-valid")
        elif name == "choose-file":
            self.choose_upload()
        elif name == "upload":
            self.upload_file(self.query_one("#upload-path", Input).value)
        elif name:
            self._press(name)

    def _press(self, action: str) -> None:
        spec = next(
            (a for a in (self.journey or {}).get("actions", []) if a["action"] == action), None
        )
        if spec is None:
            return
        if spec.get("confirm"):
            from screens.confirm import Confirm

            def answered(yes: bool | None) -> None:
                if yes:
                    self.take(action, {})

            self.app.push_screen(Confirm(spec["confirm"], "Exit"), answered)
            return
        params: dict[str, Any] = {}
        if action == "name_entity":
            params["name"] = self.query_one("#entity-name", Input).value
        elif action == "authorize":
            params["username"] = self.query_one("#signin-username", Input).value
            params["password"] = self.query_one("#signin-password", Input).value
        elif action == "select_platform":
            self._choose_platform()
            return
        self.take(action, params)

    # Keys

    def _allowed(self, action: str) -> bool:
        return any(a["action"] == action for a in (self.journey or {}).get("actions", []))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return self._allowed("back")
        if action == "back_out":
            return not self._allowed("back")
        return True

    def action_back(self) -> None:
        if self._allowed("back"):
            self.take("back", {})

    def action_back_out(self) -> None:
        self.action_leave()

    def action_close(self) -> None:
        if self._allowed("close"):
            self._press("close")

    def action_reload(self) -> None:
        self.load()

    def action_expire(self) -> None:
        """Support: end the link's life now, to see what a customer with an old link sees."""
        if self.request_id is not None:
            self.expire()

    @work(group="journey-action", exit_on_error=False)
    async def expire(self) -> None:
        try:
            await self.client.post(f"/v1/requests/{self.request_id}/expire")
        except (ServiceProblem, ServiceUnavailable) as exc:
            self.notify(str(exc), title="Not expired", severity="error")
            return
        self.load()

    def action_leave(self) -> None:
        self.app.pop_screen()

    def action_toggle_side(self) -> None:
        self.query_one("#side").toggle_class("hidden")

    def action_transcript(self) -> None:
        if self.request_id is None:
            self.notify("This simulation's request is not known yet.", severity="warning")
            return
        self.post_message(OpenTranscript(self.request_id))

    # Replay

    def _show_replay(self) -> None:
        bar = self.query_one("#replay", Static)
        if self.replay is None:
            return
        bar.add_class("shown")
        text = Text()
        text.append("Replay ", style="bold")
        total = len(self.replay)
        if self.replay_at < total:
            nxt = self.replay[self.replay_at]
            text.append(f"step {self.replay_at + 1} of {total}: {nxt['description']}")
            text.append("   ^n next step · ^o all the way", style="dim")
        else:
            text.append(f"done: all {total} steps replayed", style="green")
        if self.replay_note:
            text.append(f"\n{self.replay_note}")
        bar.update(text)

    def action_replay_next(self) -> None:
        if self.replay is not None and self.replay_at < len(self.replay):
            self.run_replay(all_steps=False)

    def action_replay_all(self) -> None:
        if self.replay is not None and self.replay_at < len(self.replay):
            self.run_replay(all_steps=True)

    @work(exclusive=True, group="replay", exit_on_error=False)
    async def run_replay(self, all_steps: bool) -> None:
        assert self.replay is not None
        while self.replay_at < len(self.replay):
            planned = self.replay[self.replay_at]
            if planned["upload"]:
                sample = self.samples[0] if planned["upload"] == "valid" else self.samples[1]
                try:
                    data = await sample.make()
                except (ServiceProblem, ServiceUnavailable) as exc:
                    self.replay_note = f"Stopped at step {planned['number']}: {exc}"
                    self._show_replay()
                    return
                answer = await self._upload(sample.name, data)
            else:
                answer = await self._send(planned["action"], planned["params"])
            self.replay_at += 1
            # Where the replay stands now: the service's answer, or (a refused move)
            # the journey as it is, asked again: never the screen, which may lag.
            now = answer["step"] if answer else await self._current_step()
            if now != planned["expected_to"]:
                self.replay_note = (
                    f"Stopped at step {planned['number']}: the original went to "
                    f"{planned['expected_to']}, the replay is at {now}."
                )
                self.replay_at = len(self.replay)
                self._show_replay()
                return
            failed = planned["expected_error"]
            self.replay_note = (
                f"Step {planned['number']} failed in the original too ({failed})." if failed else ""
            )
            self._show_replay()
            if failed or not all_steps:
                return  # where the original failed, support looks before going on
        self._show_replay()

    async def _current_step(self) -> str:
        try:
            return str((await self.client.get(self.base))["step"])
        except ServiceProblem:
            return "gone"
        except ServiceUnavailable:
            return "unreachable"

    # What the RM sees

    @work(exclusive=True, group="company", exit_on_error=False)
    async def follow_company(self) -> None:
        """Keep the RM panel current: the company again after every event."""
        if self.relationship_id is None and self.request_id is not None:
            try:
                req = await self.client.request(self.request_id)
                self.relationship_id = req["relationship_id"]
            except ServiceProblem:
                self.post_message(self.CompanySeen(None, "Not a request of your organization."))
                return
            except ServiceUnavailable:
                return
        if self.relationship_id is None:
            return
        after: int | None = None
        delay = 0.5
        while True:
            try:
                # The head before the company: a change committed after the company
                # was read is then always in an event still to come.
                if after is None:
                    after = int((await self.client.get("/v1/events/head"))["last_seq"])
                company = await self.client.company(self.relationship_id)
                self.post_message(self.CompanySeen(company))
                body = await self.client.events(after, wait=20)
                after = body["last_seq"]
                delay = 0.5
            except ServiceProblem as exc:
                self.post_message(self.CompanySeen(None, exc.detail))
                return
            except ServiceUnavailable:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 8.0)

    @on(CompanySeen)
    def _company_seen(self, message: CompanySeen) -> None:
        self.query_one(RmPanel).show(message.company, message.note)
